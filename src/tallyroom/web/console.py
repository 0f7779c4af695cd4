"""The officers' console: sign-in, then each election's page and the returning officer's steps.

Anyone signed in (returning officer, scrutineer, observer) reads: the register summary by
section and reason, the nominations, live turnout (counts of ballots cast, never their
contents, and no result before the declaration), the audit log. Only the returning officer
acts: every action is a form post guarded by :data:`~tallyroom.web.guards.Officer` and the
CSRF token, makes one service call, and redirects back with a message (post/redirect/get).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tallyroom.election.lifecycle import ElectionState
from tallyroom.election.slug import check_slug
from tallyroom.errors import InputError, TallyroomError
from tallyroom.services import audit_log as audit_log_service
from tallyroom.services import declaring, nominations, polling, users
from tallyroom.services import register as register_service
from tallyroom.services.credentials import issue_credentials, reissue_credential, revoke_credential
from tallyroom.services.elections import (
    create_election,
    definition_of,
    get_election,
    list_elections,
)
from tallyroom.services.key_files import remember_credential_key
from tallyroom.services.timetable import instant_in
from tallyroom.web.booth import key_file
from tallyroom.web.console_setup import CONFIRM, key_warning
from tallyroom.web.guards import (
    SESSION_TOKEN,
    MaybeUser,
    Officer,
    User,
    Web,
    WebContext,
    sign_out_session,
)
from tallyroom.web.jobs import read_job, start_job
from tallyroom.web.pages import render
from tallyroom.web.public import STATE_TEXT
from tallyroom.web.security import check_csrf

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
OptionalText = Annotated[str, Form()]
Upload = Annotated[UploadFile, File()]
Confirm = Annotated[str, Form()]
_FLASH = "flash"


def _flash(request: Request, message: str, kind: str = "success") -> None:
    request.session[_FLASH] = {"message": message, "kind": kind}


def _unconfirmed(request: Request, slug: str, what: str, anchor: str) -> RedirectResponse:
    """An irreversible step posted without its ticked confirmation: nothing done."""
    _flash(request, f"{what}: tick “{CONFIRM}” to go ahead.", "error")
    return _back(slug, anchor)


def _back(slug: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/console/e/{slug}{'#' + anchor if anchor else ''}", status_code=303)


def _as_uploaded(exc: TallyroomError, saved: Path, upload: UploadFile | None) -> TallyroomError:
    """``exc`` naming the file as the user uploaded it, not the private file it was saved to
    (whose random name means nothing to them and says where the server keeps its files)."""
    if isinstance(exc, InputError) and exc.path == str(saved):
        name = Path(upload.filename).name if upload is not None and upload.filename else "upload"
        return exc.shown_as(f"the uploaded file {name}")
    return exc


async def _save_upload(upload: UploadFile, folder: Path, limit: int) -> Path:
    """The upload written to a private file under ``folder`` (refused past ``limit`` bytes)."""
    name = Path(upload.filename or "upload").name or "upload"
    target = folder / f"{secrets.token_hex(8)}-{name}"
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise InputError("the file is too large", field="file", value=name)
            out.write(chunk)
    target.chmod(0o600)
    return target


# -- signing in -------------------------------------------------------------------------------


@router.get("/console/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, user: MaybeUser, next: str = "/console") -> Response:
    if user is not None:
        return RedirectResponse("/console", status_code=303)
    return render(request, "console_sign_in.html", next=_safe_next(next), problem=None)


def _safe_next(target: str) -> str:
    return target if target.startswith("/console") and "//" not in target else "/console"


@router.post("/console/sign-in")
async def sign_in(
    request: Request,
    web: Web,
    username: Text,
    password: Text,
    csrf_token: Text,
    next: Annotated[str, Form()] = "/console",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        user = await web.attempts.sign_in(request, username, password)
    except users.SignInRefused as exc:
        return render(
            request,
            "console_sign_in.html",
            status_code=401,
            next=_safe_next(next),
            problem=exc.problem,
            username=username,
        )
    token = await run_in_threadpool(
        users.start_session, web.store, user, web.settings.session_max_age
    )
    request.session.clear()  # a new session at sign-in: no fixation
    request.session[SESSION_TOKEN] = token
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/console/sign-out")
def sign_out(request: Request, web: Web, csrf_token: Text) -> Response:
    check_csrf(request, csrf_token)
    sign_out_session(request, web)
    return RedirectResponse("/", status_code=303)


# -- the elections ----------------------------------------------------------------------------


@router.get("/console", response_class=HTMLResponse)
def console_home(request: Request, web: Web, user: User) -> HTMLResponse:
    listed = [
        {"slug": r.slug, "name": definition_of(r).name, "state": r.state.value}
        for r in list_elections(web.store)
    ]
    return render(
        request,
        "console_home.html",
        user=user,
        elections=listed,
        flash=request.session.pop(_FLASH, None),
    )


@router.post("/console/elections")
async def create(
    request: Request,
    web: Web,
    user: Officer,
    definition: Upload,
    slug: Text,
    csrf_token: Text,
    passphrase: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    slug = check_slug(slug)
    web.settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=web.settings.data_dir) as folder:
        path = await _save_upload(definition, Path(folder), web.settings.upload_limit)
        toml = Path(folder) / f"{slug}.toml"
        shutil.move(path, toml)
        try:
            create_election(
                web.store,
                toml,
                actor=user.username,
                private_key_path=web.settings.private_key_file(slug) if passphrase else None,
                passphrase=passphrase or None,
                slug=slug,
            )
        except TallyroomError as exc:
            raise _as_uploaded(exc, toml, definition) from None
    if passphrase:
        made = f"Its sealing key is in {web.settings.private_key_file(slug)}."
    else:
        made = "Ballots take the verifiable path: its trustees make the key (Key ceremony)."
    _flash(request, f"Election {slug} created. {made}")
    return _back(slug)


def _election_view(web: WebContext, slug: str) -> dict[str, Any]:
    record = get_election(web.store, slug)
    definition = definition_of(record)
    state = record.state
    order = list(ElectionState)
    view: dict[str, Any] = {
        "slug": slug,
        "name": definition.name,
        "state": state.value,
        "state_text": STATE_TEXT[state],
        "contests": [c.name for c in definition.contests],
        # each contest as the ballot paper has it: what is elected, or a motion's question
        "contest_rows": [
            {
                "title": c.title,
                "what": f"a motion: {c.question} Decided by {c.decided_by}."
                if c.motion is not None
                else f"elect {c.seats} by {c.rule}",
            }
            for c in definition.contests
        ],
        "summary": register_service.register_summary(web.store, slug),
        "standings": nominations.nomination_standings(web.store, slug),
        "turnout": polling.turnout(web.store, slug)
        if order.index(state) >= order.index(ElectionState.OPEN)
        else None,
        "declared": state is ElectionState.DECLARED,
        "verifiable": definition.verifiable is not None,
        "sections": {s.name: s.label for s in definition.sections},
        "key_warning": key_warning(web, slug, state),
        "now_local": datetime.now(ZoneInfo(definition.timezone)).strftime("%Y-%m-%dT%H:%M"),
        "nominations_over": datetime.now(UTC) > definition.timetable.nominations_close,
        "timetable": definition.timetable,
        "timezone": definition.timezone,
        "confirm_text": CONFIRM,
    }
    return view


@router.get("/console/e/{slug}", response_class=HTMLResponse)
def election_console(request: Request, slug: str, web: Web, user: User) -> HTMLResponse:
    return render(
        request,
        "console_election.html",
        user=user,
        flash=request.session.pop(_FLASH, None),
        **_election_view(web, slug),
    )


# -- the register -----------------------------------------------------------------------------


@router.post("/console/e/{slug}/register")
async def import_register(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    file: Upload,
    csrf_token: Text,
    reason: Annotated[str, Form()] = "",
    replace: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    get_election(web.store, slug)
    uploads = web.settings.data_dir / "uploads"
    uploads.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = await _save_upload(file, uploads, web.settings.upload_limit)
    store = web.store

    def work(progress: Any) -> dict[str, Any]:
        try:
            result = register_service.import_register(
                store,
                slug,
                path,
                actor=user.username,
                progress=progress,
                reason=reason,
                replace=replace == "yes",
            )
        except TallyroomError as exc:
            raise _as_uploaded(exc, path, file) from None
        finally:
            path.unlink(missing_ok=True)
        return {"stored": result.stored, "eligible": result.eligible}

    job = start_job(web.settings.data_dir, "register import", slug, work)
    return RedirectResponse(f"/console/e/{slug}/jobs/{job}", status_code=303)


@router.get("/console/e/{slug}/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, slug: str, job_id: str, web: Web, user: User) -> HTMLResponse:
    job = read_job(web.settings.data_dir, slug, job_id)
    return render(request, "console_job.html", user=user, slug=slug, job=job)


@router.post("/console/e/{slug}/eligibility")
def change_eligibility(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    who: Text,
    eligible: Text,
    reason: Text,
    csrf_token: Text,
) -> Response:
    check_csrf(request, csrf_token)
    entry = register_service.change_eligibility(
        web.store, slug, who.strip(), eligible == "yes", actor=user.username, reason=reason
    )
    _flash(request, f"{entry.person_id} is now {'eligible' if entry.eligible else 'not eligible'}.")
    return _back(slug, "register")


@router.post("/console/e/{slug}/freeze")
def freeze(
    request: Request, slug: str, web: Web, user: Officer, csrf_token: Text, confirm: Confirm = ""
) -> Response:
    check_csrf(request, csrf_token)
    if confirm != "yes":
        return _unconfirmed(request, slug, "The register was not frozen", "register")
    fingerprint = register_service.freeze_register(web.store, slug, actor=user.username)
    _flash(request, f"Register frozen; its SHA-256 is {fingerprint}.")
    return _back(slug, "register")


# -- nominations ------------------------------------------------------------------------------


@router.post("/console/e/{slug}/nominations")
def nominate(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    contest: Text,
    candidate: Text,
    nominator: Text,
    csrf_token: Text,
    received_at: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    # the time the paper was received, on the election's clock (default: now)
    zone = definition_of(get_election(web.store, slug)).timezone
    at = instant_in(received_at, zone, field="received_at") if received_at.strip() else None
    table = nominations.record_nomination(
        web.store, slug, contest, candidate.strip(), nominator.strip(), actor=user.username, at=at
    )
    if table.refused is not None:
        _flash(
            request,
            f"Nomination of {candidate} by {nominator} kept but refused: "
            f"{table.refused.problem.value}.",
        )
    else:
        _flash(request, f"Nomination of {candidate} by {nominator} recorded.")
    return _back(slug, "nominations")


@router.post("/console/e/{slug}/withdrawals")
def withdraw(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    contest: Text,
    candidate: Text,
    csrf_token: Text,
) -> Response:
    check_csrf(request, csrf_token)
    nominations.record_withdrawal(web.store, slug, contest, candidate.strip(), actor=user.username)
    _flash(request, f"Withdrawal of {candidate} recorded.")
    return _back(slug, "nominations")


@router.post("/console/e/{slug}/nominations/close")
def close_nominations(
    request: Request, slug: str, web: Web, user: Officer, csrf_token: Text
) -> Response:
    check_csrf(request, csrf_token)
    fixed = nominations.close_nominations(web.store, slug, actor=user.username)
    listed = "; ".join(f"{c}: {', '.join(names)}" for c, names in fixed.items())
    _flash(request, f"Nominations closed. On the ballot: {listed}.")
    return _back(slug, "nominations")


# -- credentials and the poll -----------------------------------------------------------------


@router.post("/console/e/{slug}/credentials/issue")
def issue(request: Request, slug: str, web: Web, user: Officer, csrf_token: Text) -> Response:
    check_csrf(request, csrf_token)
    web.settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # no plain-text export from the web: the credentials are derived again to be sent
    # (tallyroom credentials send | letters) until delivery ends
    key_path = key_file(web, slug)
    count = issue_credentials(web.store, slug, key_path=key_path, actor=user.username)
    remember_credential_key(web.store, slug, key_path)
    _flash(
        request,
        f"{count:,} credentials issued, kept only as keyed hashes: deliver them from the "
        "Delivery page (or with 'tallyroom credentials send' and 'credentials letters').",
    )
    return _back(slug, "credentials")


@router.post("/console/e/{slug}/credentials/revoke")
def revoke(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    credential: Text,
    reason: Text,
    csrf_token: Text,
) -> Response:
    check_csrf(request, csrf_token)
    revoke_credential(
        web.store,
        slug,
        credential,
        key_path=key_file(web, slug),
        actor=user.username,
        reason=reason,
    )
    _flash(request, "Credential revoked: it casts nothing more.")
    return _back(slug, "credentials")


@router.post("/console/e/{slug}/credentials/reissue", response_class=HTMLResponse)
def reissue(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    who: Text,
    reason: Text,
    csrf_token: Text,
) -> Response:
    check_csrf(request, csrf_token)
    new = reissue_credential(
        web.store,
        slug,
        who.strip(),
        key_path=key_file(web, slug),
        actor=user.username,
        reason=reason,
    )
    return render(request, "console_reissued.html", user=user, slug=slug, issued=new)


@router.post("/console/e/{slug}/open")
def open_poll(request: Request, slug: str, web: Web, user: Officer, csrf_token: Text) -> Response:
    check_csrf(request, csrf_token)
    polling.open_voting(web.store, slug, actor=user.username)
    _flash(request, "The poll is open.")
    return _back(slug)


@router.post("/console/e/{slug}/close")
def close_poll(
    request: Request, slug: str, web: Web, user: Officer, csrf_token: Text, confirm: Confirm = ""
) -> Response:
    check_csrf(request, csrf_token)
    if confirm != "yes":
        return _unconfirmed(request, slug, "The poll was not closed", "credentials")
    polling.close_voting(web.store, slug, actor=user.username)
    _flash(request, "The poll is closed.")
    return _back(slug)


# -- the count --------------------------------------------------------------------------------


async def _key_file(web: WebContext, slug: str, upload: UploadFile | None, folder: Path) -> Path:
    if upload is not None and upload.filename:
        return await _save_upload(upload, folder, 1 << 20)
    return web.settings.private_key_file(slug)


@router.post("/console/e/{slug}/count")
async def run_count(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    passphrase: Text,
    csrf_token: Text,
    declare: Annotated[str, Form()] = "",
    key_file: Annotated[UploadFile | None, File()] = None,
    confirm: Confirm = "",
) -> Response:
    check_csrf(request, csrf_token)
    if declare == "yes" and confirm != "yes":
        return _unconfirmed(request, slug, "Nothing was counted or declared", "count")
    web.settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=web.settings.data_dir) as folder:
        key = await _key_file(web, slug, key_file, Path(folder))
        step = declaring.declare if declare == "yes" else declaring.count
        try:
            step(web.store, slug, private_key_file=key, passphrase=passphrase, actor=user.username)
        except TallyroomError as exc:
            shown = _as_uploaded(exc, key, key_file)
            _flash(request, f"The count did not run: {shown}", "error")
            return _back(slug, "count")
    if declare == "yes":
        _flash(request, "The result is declared and published.")
    else:
        _flash(request, "The ballots are counted. Declare the result to publish it.")
    return _back(slug, "count")


# -- the audit log ----------------------------------------------------------------------------


@router.get("/console/e/{slug}/audit", response_class=HTMLResponse)
def audit_log(request: Request, slug: str, web: Web, user: User) -> HTMLResponse:
    record = get_election(web.store, slug)
    events = [c.event for c in audit_log_service.audit_events(web.store, slug)]
    result = audit_log_service.verify_log(web.store, slug)
    return render(
        request,
        "console_audit.html",
        user=user,
        slug=slug,
        name=definition_of(record).name,
        events=events,
        verified=result.ok,
        head=result.head,
    )
