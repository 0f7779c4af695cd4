"""The voters' booth: credential -> ballot -> review -> cast -> receipt.

Every step is a plain form post, so the booth works without JavaScript. The credential
travels in a hidden field from step to step (pages are ``no-store``) and is checked again at
each one, exactly as casting checks it, so an error is shown where it happens: a mistyped,
revoked or already used credential, or a poll that has closed in the meantime. Failed
credentials count against the client's attempt limit.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.errors import (
    AlreadyCast,
    CredentialRejected,
    ElectionKeyMissing,
    InputError,
    KeyMissing,
    LifecycleError,
)
from tallyroom.services import polling
from tallyroom.services.elections import definition_of, get_election
from tallyroom.services.key_files import KEY_NEEDED, find_credential_key
from tallyroom.services.voting import CastRequest, ballot_rule_broken
from tallyroom.web.attempts import browser_id
from tallyroom.web.ballot_form import ContestForm, FormProblem, contest_forms, read_ballot
from tallyroom.web.guards import Web, WebContext
from tallyroom.web.i18n import gettext as _
from tallyroom.web.pages import render
from tallyroom.web.security import check_csrf

__all__ = ["credential_key", "key_file", "router"]

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]
log = logging.getLogger("tallyroom.web")


@dataclass(frozen=True, slots=True)
class _Refusal:
    title: str
    message: str
    status: int


def key_file(web: WebContext, slug: str) -> Path:
    """Where ``slug``'s credential key is (:func:`find_credential_key`): the data folder's
    file, else the one recorded when the credentials were issued."""
    return find_credential_key(
        web.store, web.settings.keys, slug, web.settings.credential_key_files
    )


def credential_key(web: WebContext, slug: str) -> CredentialKey:
    """The election's credential key, held in memory and read again when its file changes:
    the data folder's file (one stat, no query, on the busy path), else the file recorded
    when the credentials were issued (:func:`key_file`). Missing while the election needs
    it: :class:`KeyMissing` (a 503 and an error in the server's log), never "closed"."""
    recent = web.polls.recent_key(slug)  # found within the last second: no path, no stat
    if recent is not None:
        return recent
    try:
        return web.polls.credential_key(web.settings.credential_key_file(slug), slug)
    except LifecycleError:
        pass  # not in the data folder: perhaps where it was written at issue
    path = key_file(web, slug)
    if path.exists():
        return web.polls.credential_key(path, slug)
    if get_election(web.store, slug).state in KEY_NEEDED:
        # the officer's mistake, not the voter's: a 503 and an error in the server's log
        log.error("election %s: the credential key is missing (expected at %s)", slug, path)
        raise KeyMissing("the credential key is missing", election=slug, path=str(path))
    raise LifecycleError("voting has not started: no credentials exist yet", election=slug)


def _refusal(exc: Exception) -> _Refusal:
    if isinstance(exc, CredentialRejected):
        return _Refusal(
            _("This credential is not valid"),
            _(
                "We do not recognise this credential. It may be mistyped, or it may have been "
                "replaced by a new one (a replaced credential no longer works). Check it "
                "against your ballot letter, or ask the returning officer for a new one."
            ),
            403,
        )
    if isinstance(exc, AlreadyCast):
        return _Refusal(
            _("This credential has already been used"),
            _(
                "A ballot has already been cast with this credential, so it cannot vote "
                "again. If you did not cast it, contact the returning officer."
            ),
            409,
        )
    if isinstance(exc, (KeyMissing, ElectionKeyMissing)):
        return _Refusal(
            _("This ballot cannot take votes now"),
            _(
                "This ballot cannot take votes now: the returning officer has been told. "
                "Please try again later; your credential is still good."
            ),
            503,
        )
    if isinstance(exc, LifecycleError):
        return _Refusal(
            _("The ballot is closed"),
            _("Voting is not open: ballots are accepted only while the poll is open."),
            409,
        )
    return _Refusal(_("Please check your credential"), str(exc), 422)


def _name(web: WebContext, slug: str) -> str:
    return definition_of(get_election(web.store, slug)).name


def _credential_page(
    request: Request, web: WebContext, slug: str, credential: str, exc: Exception
) -> HTMLResponse:
    refusal = _refusal(exc)
    return render(
        request,
        "booth_credential.html",
        status_code=refusal.status,
        slug=slug,
        name=_name(web, slug),
        credential=credential if isinstance(exc, InputError) else "",
        problem_title=refusal.title,
        problem=refusal.message,
    )


def _voter(
    request: Request, web: WebContext, slug: str, credential: str
) -> polling.VoterBallot | HTMLResponse:
    """The voter's ballot, or the credential page saying why there is none."""
    try:
        with web.attempts.credential(request):  # a wrong or malformed credential counts
            ballot = polling.voter_ballot(
                web.store, slug, credential, credential_key=credential_key(web, slug)
            )
        held = web.polls.poll(slug)
        if held.verifiable and held.election_key is None:  # before the voter fills it in
            web.polls.forget(slug)
            raise ElectionKeyMissing(
                "this verifiable election has no election key yet: it cannot take ballots",
                election=slug,
            )
    except (CredentialRejected, InputError, LifecycleError, KeyMissing) as exc:
        return _credential_page(request, web, slug, credential, exc)
    if not ballot.contests:
        return _credential_page(request, web, slug, "", AlreadyCast("already voted", election=slug))
    return ballot


def _ballot_page(
    request: Request,
    slug: str,
    web: WebContext,
    credential: str,
    voter: polling.VoterBallot,
    chosen: dict[str, list[str]],
    problems: list[FormProblem],
) -> HTMLResponse:
    return render(
        request,
        "booth_ballot.html",
        status_code=422 if problems else 200,
        slug=slug,
        name=_name(web, slug),
        credential=credential,
        forms=contest_forms(voter.contests),
        voted=voter.voted,
        chosen=chosen,
        problems=problems,
        weight=voter.weight,
        weighted=[c.title or c.name for c in voter.contests if c.name in voter.weighted],
    )


@router.get("/e/{slug}/vote")
def credential_form(request: Request, slug: str, web: Web) -> HTMLResponse:
    browser_id(request)  # this browser's own attempt budget starts with its first page
    return render(request, "booth_credential.html", slug=slug, name=_name(web, slug), problem=None)


@router.post("/e/{slug}/vote")
def enter_credential(
    request: Request, slug: str, web: Web, credential: Text, csrf_token: Text
) -> Response:
    check_csrf(request, csrf_token)
    voter = _voter(request, web, slug, credential)
    if isinstance(voter, HTMLResponse):
        return voter
    return _ballot_page(request, slug, web, credential, voter, {}, [])


def _form_lists(form: FormData) -> dict[str, list[str]]:
    return {key: [str(v) for v in form.getlist(key)] for key in form}


@router.post("/e/{slug}/vote/review")
async def review(request: Request, slug: str, web: Web) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token", "")))
    credential = str(form.get("credential", ""))
    voter = _voter(request, web, slug, credential)
    if isinstance(voter, HTMLResponse):
        return voter
    forms = contest_forms(voter.contests)
    ballot, problems = read_ballot(forms, _form_lists(form))
    # a contest's ballot rules ("a valid ballot marks at least 6 women"), before the review,
    # so that the voter mends the ballot rather than have casting refuse it
    for contest in voter.contests:
        marked = ballot.get(contest.name)
        if marked:
            codes = [contest.candidate_names.index(n) for n in marked]
            broken = ballot_rule_broken(contest, codes)
            if broken is not None:
                invalid = _("the ballot is not valid: {rule}").format(rule=broken)
                problems.append(FormProblem(contest.title, invalid))
    if problems:
        return _ballot_page(request, slug, web, credential, voter, ballot, problems)
    return render(
        request,
        "booth_review.html",
        slug=slug,
        name=_name(web, slug),
        credential=credential,
        forms=forms,
        ballot=ballot,
        ballot_json=json.dumps(ballot, ensure_ascii=False),
    )


def _posted_ballot(forms: list[ContestForm], text: str) -> dict[str, list[str]]:
    try:
        doc = json.loads(text)
    except ValueError:
        raise InputError("the ballot could not be read; please fill it in again") from None
    names = {f.name for f in forms}
    if not isinstance(doc, dict) or not all(
        k in names and isinstance(v, list) and all(isinstance(x, str) for x in v)
        for k, v in doc.items()
    ):
        raise InputError("the ballot could not be read; please fill it in again")
    return doc


@router.post("/e/{slug}/vote/change")
def change(
    request: Request, slug: str, web: Web, credential: Text, ballot: Text, csrf_token: Text
) -> Response:
    check_csrf(request, csrf_token)
    voter = _voter(request, web, slug, credential)
    if isinstance(voter, HTMLResponse):
        return voter
    chosen = _posted_ballot(contest_forms(voter.contests), ballot)
    return _ballot_page(request, slug, web, credential, voter, chosen, [])


@router.post("/e/{slug}/vote/cast")
def cast(
    request: Request, slug: str, web: Web, credential: Text, ballot: Text, csrf_token: Text
) -> Response:
    check_csrf(request, csrf_token)
    voter = _voter(request, web, slug, credential)
    if isinstance(voter, HTMLResponse):
        return voter
    forms = contest_forms(voter.contests)
    choices = _posted_ballot(forms, ballot)
    try:
        held = web.polls.poll(slug)
        receipts = web.casting.cast(
            held.id,
            CastRequest(credential, choices),
            credential_key=credential_key(web, slug),
            election_key=held.election_key,
        )
    except (CredentialRejected, AlreadyCast, LifecycleError, KeyMissing) as exc:
        if isinstance(exc, LifecycleError):
            web.polls.forget(slug)  # read the election afresh next time (as the JSON cast)
        return _credential_page(request, web, slug, "", exc)
    titles = {f.name: f.title for f in forms}
    return render(
        request,
        "booth_receipt.html",
        slug=slug,
        name=_name(web, slug),
        receipts=[
            {"title": titles.get(r.contest, r.contest), "code": r.code, "hex": r.digest.hex()}
            for r in receipts
        ],
        verifiable=held.election_key is not None,
    )
