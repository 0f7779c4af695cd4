"""The JSON API: every action of the booth, the console and the results, under ``/api``.

Described by the OpenAPI document at ``/openapi.json``. Errors are
``{"error": <class>, "message": <one line>}`` with the status of
:func:`tallyroom.web.app.status_of`.

Authentication: the booth's calls carry the voter's credential in the body (and count
against the credential attempt limit). The console's calls use the session cookie that
``POST /api/session`` sets; every one that changes something must send the session's CSRF
token, returned by that call, in the ``X-CSRF-Token`` header. Results exist only after the
declaration (404 before).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tallyroom.errors import LifecycleError, NotFound
from tallyroom.services import audit_log as audit_log_service
from tallyroom.services import declaring, nominations, polling, users
from tallyroom.services import register as register_service
from tallyroom.services.audit_log import event_json, format_head
from tallyroom.services.casting_queue import receipts_of
from tallyroom.services.credentials import reissue_credential, revoke_credential
from tallyroom.services.elections import definition_of, get_election, list_elections
from tallyroom.services.voting import CastRequest, Receipt
from tallyroom.web.booth import credential_key, key_file
from tallyroom.web.guards import SESSION_TOKEN, Officer, User, Web, WebContext, sign_out_session
from tallyroom.web.jobs import read_job
from tallyroom.web.public import RECEIPTS_FROM
from tallyroom.web.security import CSRF_HEADER, check_csrf, csrf_token

__all__ = ["CastIn", "ReceiptOut", "cast_voter", "router"]

router = APIRouter(prefix="/api", tags=["api"])
CsrfHeader = Annotated[str | None, Header(alias=CSRF_HEADER)]


class ElectionSummary(BaseModel):
    slug: str
    name: str
    state: str


class SignIn(BaseModel):
    username: str
    password: str


class Session(BaseModel):
    username: str
    role: str
    csrf_token: str = Field(description=f"Send it in the {CSRF_HEADER} header.")


class Credential(BaseModel):
    credential: str


class SeatConstraintOut(BaseModel):
    """At least ``minimum`` and at most ``maximum`` of the seats to the candidates of
    ``group`` (named in ``members``)."""

    group: str
    minimum: int
    maximum: int | None
    members: list[str]


class BallotRuleOut(BaseModel):
    """A ballot is valid only if it marks at least ``at_least`` and at most ``at_most`` of
    the candidates of ``group``."""

    group: str
    at_least: int
    at_most: int | None
    members: list[str]


class MotionOut(BaseModel):
    """A motion as its ballot paper puts it."""

    question: str
    choices: list[str]
    decided_by: str


class ContestBallot(BaseModel):
    name: str
    title: str
    rule: str
    seats: int
    candidates: list[str]
    constraints: list[SeatConstraintOut] = Field(
        default_factory=list, description="Who may be elected: the contest's seat constraints."
    )
    ballot_rules: list[BallotRuleOut] = Field(
        default_factory=list, description="What a valid ballot must mark."
    )
    requirements: list[str] = Field(
        default_factory=list,
        description='Both, in words, as the ballot paper states them ("at least 2 must be women").',
    )
    weighted: bool = Field(
        default=False, description="Whether the contest counts each ballot by its voter's weight."
    )
    motion: MotionOut | None = Field(
        default=None,
        description="A motion's question, its answers (cast exactly one, by name) and how it "
        "is decided; null for any other contest.",
    )


class VoterBallotOut(BaseModel):
    section: str
    contests: list[ContestBallot]
    voted: list[str]
    weight: str | None = Field(
        default=None,
        description="The voter's weight (exact decimal text) in a weighted election, else null.",
    )


class CastIn(BaseModel):
    credential: str
    choices: dict[str, list[str]] = Field(
        description="Contest name -> candidate names, best first (one name for plurality; "
        'one answer for a motion: ["Yes"]).',
    )


class ReceiptOut(BaseModel):
    contest: str
    code: str


class ReceiptPageOut(BaseModel):
    receipts: list[ReceiptOut]
    next: str | None = Field(description="The next page's URL; null on the last page.")
    total: int = Field(description="Ballots in the box.")


class ReceiptLookup(BaseModel):
    code: str
    found: bool
    contest: str | None


class Reasoned(BaseModel):
    reason: str


class RevokeIn(BaseModel):
    credential: str
    reason: str


class ReissueIn(BaseModel):
    who: str
    reason: str


class ReissueOut(BaseModel):
    person_id: str
    section: str
    credential: str
    issue_number: int


class EligibilityIn(BaseModel):
    who: str
    eligible: bool
    reason: str


class NominationIn(BaseModel):
    contest: str
    candidate: str
    nominator: str


class WithdrawalIn(BaseModel):
    contest: str
    candidate: str


class CountIn(BaseModel):
    passphrase: str
    declare: bool = False


def _summary(slug: str, web: Any) -> ElectionSummary:
    record = get_election(web.store, slug)
    return ElectionSummary(slug=slug, name=definition_of(record).name, state=record.state.value)


# -- public -----------------------------------------------------------------------------------


@router.get("/elections", response_model=list[ElectionSummary])
def elections_list(web: Web) -> list[ElectionSummary]:
    """Every election and its lifecycle state."""
    return [
        ElectionSummary(slug=r.slug, name=definition_of(r).name, state=r.state.value)
        for r in list_elections(web.store)
    ]


@router.get("/elections/{slug}", response_model=ElectionSummary)
def election(slug: str, web: Web) -> ElectionSummary:
    return _summary(slug, web)


@router.get("/elections/{slug}/receipts", response_model=ReceiptPageOut)
def receipts(
    slug: str,
    web: Web,
    after: Annotated[
        str | None, Query(description="The last code of the page before (none: the first).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5_000)] = polling.RECEIPTS_PER_PAGE,
) -> ReceiptPageOut:
    """One page of the receipts of the ballots in the box, in code order (public from the
    opening of the poll); follow ``next`` for the next page. The whole list is one CSV at
    ``/e/{slug}/receipts.csv``."""
    if get_election(web.store, slug).state not in RECEIPTS_FROM:
        return ReceiptPageOut(receipts=[], next=None, total=0)
    page = polling.receipt_page(web.store, slug, after=after, limit=limit)
    following = None
    if page.next_after is not None:
        following = f"/api/elections/{slug}/receipts?after={page.next_after}&limit={limit}"
    return ReceiptPageOut(
        receipts=[ReceiptOut(contest=r.contest, code=r.code) for r in page.receipts],
        next=following,
        total=page.total,
    )


@router.get("/elections/{slug}/receipts/{code}", response_model=ReceiptLookup)
def receipt(slug: str, code: str, web: Web) -> ReceiptLookup:
    found = polling.find_receipt(web.store, slug, code)
    return ReceiptLookup(code=code, found=found is not None, contest=found)


@router.get("/elections/{slug}/results")
def results(slug: str, web: Web) -> dict[str, Any]:
    """The declaration (per-candidate totals, sections, turnout, each round); 404 before."""
    doc = declaring.published_declaration(web.store, slug)
    if doc is None:
        raise NotFound("no result has been declared", election=slug)
    return doc


@router.get("/elections/{slug}/results/files")
def result_files(slug: str, web: Web) -> list[dict[str, Any]]:
    return [
        {"name": n, "media_type": t, "size": s, "sha256": h, "url": f"/e/{slug}/results/files/{n}"}
        for n, t, s, h in declaring.declaration_files(web.store, slug)
    ]


# -- the booth --------------------------------------------------------------------------------


@router.post("/elections/{slug}/ballot", response_model=VoterBallotOut)
def voter_ballot(slug: str, body: Credential, request: Request, web: Web) -> VoterBallotOut:
    """The contests this credential may still vote in, with their candidates."""
    with web.attempts.credential(request):
        found = polling.voter_ballot(
            web.store, slug, body.credential, credential_key=credential_key(web, slug)
        )
    return VoterBallotOut(
        section=found.section,
        contests=[
            ContestBallot(
                name=c.name,
                title=c.title or c.name,
                rule=c.rule,
                seats=c.seats,
                candidates=list(c.candidate_names),
                constraints=[
                    SeatConstraintOut(
                        group=k.group,
                        minimum=k.minimum,
                        maximum=k.maximum,
                        members=[m.name for m in c.candidates if k.group in m.groups],
                    )
                    for k in c.constraints
                ],
                ballot_rules=[
                    BallotRuleOut(
                        group=r.group,
                        at_least=r.at_least,
                        at_most=r.at_most,
                        members=[m.name for m in c.candidates if r.group in m.groups],
                    )
                    for r in c.ballot_rules
                ],
                requirements=list(c.requirements),
                weighted=c.name in found.weighted,
                motion=None
                if c.motion is None
                else MotionOut(
                    question=c.motion.question,
                    choices=list(c.motion.answers),
                    decided_by=c.motion.describe(),
                ),
            )
            for c in found.contests
        ],
        voted=list(found.voted),
        weight=found.weight,
    )


@router.post("/elections/{slug}/cast", response_model=list[ReceiptOut])
async def cast(slug: str, body: CastIn, request: Request, web: Web) -> list[ReceiptOut]:
    """Cast the voter's ballots, all or none; the receipts once they are stored."""
    receipts = await cast_voter(web, slug, body, request)
    return [ReceiptOut(contest=r.contest, code=r.code) for r in receipts]


async def cast_voter(web: WebContext, slug: str, body: CastIn, request: Request) -> list[Receipt]:
    """The JSON cast itself, for this route and for :mod:`tallyroom.web.fast_cast` (the same
    route served without FastAPI's layers): the voter's receipts, or the error raised."""
    # On the event loop, no thread per request: the election's id, its election key (the
    # verifiable path) and the credential key are held in memory (web.polls), and the voter
    # waits on the casting queue's future while the queue's writer casts everybody waiting in
    # one durable commit, taking and giving back the attempt budgets' places for the whole
    # batch.
    held = web.polls.known(slug)
    if held is None:
        held = await run_in_threadpool(web.polls.poll, slug)
    key = credential_key(web, slug)
    future = web.casting.submit(
        held.id,
        CastRequest(body.credential, body.choices),
        credential_key=key,
        claims=web.attempts.credential_claims(request),
        election_key=held.election_key,
    )
    try:
        outcome = await asyncio.wrap_future(future)
    except (LifecycleError, NotFound):
        web.polls.forget(slug)  # the poll closed or the election went: read it afresh next time
        raise
    return receipts_of(outcome)


# -- the console ------------------------------------------------------------------------------


@router.post("/session", response_model=Session)
async def sign_in(body: SignIn, request: Request, web: Web) -> Session:
    """Sign in to the console (sets the session cookie); the CSRF token for later calls."""
    user = await web.attempts.sign_in(request, body.username, body.password)
    token = await run_in_threadpool(
        users.start_session, web.store, user, web.settings.session_max_age
    )
    request.session.clear()  # a new session at sign-in: no fixation
    request.session[SESSION_TOKEN] = token
    return Session(username=user.username, role=user.role.value, csrf_token=csrf_token(request))


@router.delete("/session", status_code=204)
def sign_out(request: Request, web: Web, token: CsrfHeader = None) -> Response:
    """Sign out: the session ends on the server too, so a copy of the cookie opens nothing."""
    check_csrf(request, token)
    sign_out_session(request, web)
    return Response(status_code=204)


@router.get("/elections/{slug}/register/summary")
def register_summary(slug: str, web: Web, user: User) -> dict[str, Any]:
    """Register entries by section and eligibility outcome."""
    summary = register_service.register_summary(web.store, slug)
    return {
        "sections": list(summary.sections),
        "outcomes": list(summary.outcomes),
        "counts": {s: {o: summary.count(s, o) for o in summary.outcomes} for s in summary.sections},
    }


@router.get("/elections/{slug}/jobs/{job_id}")
def job(slug: str, job_id: str, web: Web, user: User) -> dict[str, Any]:
    """A console job's progress (a register import)."""
    return read_job(web.settings.data_dir, slug, job_id)


@router.post("/elections/{slug}/register/eligibility")
def change_eligibility(
    slug: str,
    body: EligibilityIn,
    request: Request,
    web: Web,
    user: Officer,
    token: CsrfHeader = None,
) -> dict[str, Any]:
    check_csrf(request, token)
    entry = register_service.change_eligibility(
        web.store, slug, body.who, body.eligible, actor=user.username, reason=body.reason
    )
    return {"person_id": entry.person_id, "eligible": entry.eligible}


@router.post("/elections/{slug}/register/freeze")
def freeze(
    slug: str, request: Request, web: Web, user: Officer, token: CsrfHeader = None
) -> dict[str, str]:
    check_csrf(request, token)
    return {"sha256": register_service.freeze_register(web.store, slug, actor=user.username)}


def _standings(table: nominations.ContestNominations) -> dict[str, Any]:
    return {
        "threshold": table.threshold,
        "candidates": [
            {"name": s.candidate, "nominations": s.count, "standing": s.standing.name.lower()}
            for s in table.standings
        ],
        "rejected": len(table.rejected),
        "refused": None if table.refused is None else table.refused.problem.value,
    }


@router.get("/elections/{slug}/nominations")
def nomination_standings(slug: str, web: Web, user: User) -> dict[str, Any]:
    found = nominations.nomination_standings(web.store, slug)
    return {contest: _standings(table) for contest, table in found.items()}


@router.post("/elections/{slug}/nominations")
def nominate(
    slug: str,
    body: NominationIn,
    request: Request,
    web: Web,
    user: Officer,
    token: CsrfHeader = None,
) -> dict[str, Any]:
    check_csrf(request, token)
    table = nominations.record_nomination(
        web.store, slug, body.contest, body.candidate, body.nominator, actor=user.username
    )
    return _standings(table)


@router.post("/elections/{slug}/withdrawals")
def withdraw(
    slug: str,
    body: WithdrawalIn,
    request: Request,
    web: Web,
    user: Officer,
    token: CsrfHeader = None,
) -> dict[str, Any]:
    check_csrf(request, token)
    table = nominations.record_withdrawal(
        web.store, slug, body.contest, body.candidate, actor=user.username
    )
    return _standings(table)


@router.post("/elections/{slug}/nominations/close")
def close_nominations(
    slug: str, request: Request, web: Web, user: Officer, token: CsrfHeader = None
) -> dict[str, list[str]]:
    check_csrf(request, token)
    fixed = nominations.close_nominations(web.store, slug, actor=user.username)
    return {contest: list(names) for contest, names in fixed.items()}


@router.post("/elections/{slug}/credentials/revoke")
def revoke(
    slug: str, body: RevokeIn, request: Request, web: Web, user: Officer, token: CsrfHeader = None
) -> dict[str, str]:
    check_csrf(request, token)
    revoke_credential(
        web.store,
        slug,
        body.credential,
        key_path=key_file(web, slug),
        actor=user.username,
        reason=body.reason,
    )
    return {"status": "revoked"}


@router.post("/elections/{slug}/credentials/reissue", response_model=ReissueOut)
def reissue(
    slug: str, body: ReissueIn, request: Request, web: Web, user: Officer, token: CsrfHeader = None
) -> ReissueOut:
    check_csrf(request, token)
    new = reissue_credential(
        web.store,
        slug,
        body.who,
        key_path=key_file(web, slug),
        actor=user.username,
        reason=body.reason,
    )
    return ReissueOut(
        person_id=new.person_id,
        section=new.section,
        credential=new.credential,
        issue_number=new.issue_number,
    )


@router.post("/elections/{slug}/open", response_model=ElectionSummary)
def open_poll(
    slug: str, request: Request, web: Web, user: Officer, token: CsrfHeader = None
) -> ElectionSummary:
    check_csrf(request, token)
    polling.open_voting(web.store, slug, actor=user.username)
    return _summary(slug, web)


@router.post("/elections/{slug}/close", response_model=ElectionSummary)
def close_poll(
    slug: str, request: Request, web: Web, user: Officer, token: CsrfHeader = None
) -> ElectionSummary:
    check_csrf(request, token)
    polling.close_voting(web.store, slug, actor=user.username)
    return _summary(slug, web)


@router.get("/elections/{slug}/turnout")
def turnout(slug: str, web: Web, user: User) -> list[dict[str, Any]]:
    """Ballots cast per contest and section, against the electorate (never any votes)."""
    return [
        {"contest": t.contest, "cast": t.cast, "electorate": t.electorate}
        for t in polling.turnout(web.store, slug)
    ]


@router.post("/elections/{slug}/count", response_model=ElectionSummary)
def count(
    slug: str, body: CountIn, request: Request, web: Web, user: Officer, token: CsrfHeader = None
) -> ElectionSummary:
    """Count with the sealing key kept on the server (and declare, if asked)."""
    check_csrf(request, token)
    step = declaring.declare if body.declare else declaring.count
    step(
        web.store,
        slug,
        private_key_file=web.settings.private_key_file(slug),
        passphrase=body.passphrase,
        actor=user.username,
    )
    return _summary(slug, web)


@router.get("/elections/{slug}/audit")
def audit_log(slug: str, web: Web, user: User) -> dict[str, Any]:
    """The audit log (each event's hashed fields and chain hash), and whether it verifies."""
    events = [event_json(c) for c in audit_log_service.audit_events(web.store, slug)]
    result = audit_log_service.verify_log(web.store, slug)
    return {"verified": result.ok, "head": format_head(result.head), "events": events}
