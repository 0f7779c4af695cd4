"""Public pages: the list of elections, each election's page, the receipts and the results.

Results exist for nobody before the declaration: :func:`tallyroom.services.declaring.
published_declaration` returns ``None`` until then and the page says so. The receipts list
is public from the opening of the poll (receipts say nothing about the votes).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from markupsafe import Markup
from starlette.concurrency import iterate_in_threadpool

from tallyroom.election.lifecycle import ElectionState
from tallyroom.errors import InputError, NotFound
from tallyroom.services import declaring, polling
from tallyroom.services.elections import definition_of, get_election, list_elections
from tallyroom.services.record_publishing import published_record, record_tar
from tallyroom.web import i18n
from tallyroom.web.ballot_form import requirement_bounds
from tallyroom.web.charts import ChartText, rounds_figure, transfers_figure
from tallyroom.web.guards import MaybeUser, Web
from tallyroom.web.i18n import N_
from tallyroom.web.i18n import gettext as _
from tallyroom.web.pages import render
from tallyroom.web.results_view import declared_when, exhausted_by_round, quota_of, rule_facts
from tallyroom.web.timetable_view import poll_status, timetable_steps

__all__ = ["STATE_TEXT", "router", "script_json"]

router = APIRouter(include_in_schema=False)

STATE_TEXT = {
    ElectionState.DRAFT: N_("Being prepared: the register is not final yet."),
    ElectionState.REGISTER_FROZEN: N_("The register is final; nominations are open."),
    ElectionState.NOMINATIONS_CLOSED: N_("Nominations have closed; credentials come next."),
    ElectionState.CREDENTIALS_ISSUED: N_("Credentials have been sent; voting opens soon."),
    ElectionState.OPEN: N_("Voting is open."),
    ElectionState.CLOSED: N_("Voting has closed; the count comes next."),
    ElectionState.COUNTED: N_("The votes have been counted; the result will be declared soon."),
    ElectionState.DECLARED: N_("The result has been declared."),
}
RECEIPTS_FROM = (
    ElectionState.OPEN,
    ElectionState.CLOSED,
    ElectionState.COUNTED,
    ElectionState.DECLARED,
)


def script_json(value: object) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` can close it)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, web: Web, user: MaybeUser) -> HTMLResponse:
    records = list_elections(web.store)
    listed = [
        {
            "slug": r.slug,
            "name": definition_of(r).name,
            "state_text": STATE_TEXT[r.state],
        }
        for r in records
    ]
    return render(request, "home.html", user=user, elections=listed)


@router.get("/e/{slug}", response_class=HTMLResponse)
def election_page(request: Request, slug: str, web: Web, user: MaybeUser) -> HTMLResponse:
    record = get_election(web.store, slug)
    # the definition as voted on: the contests with the candidates nominations fixed
    definition = polling.election_ballot(web.store, slug)
    language = i18n.current()
    return render(
        request,
        "election.html",
        user=user,
        slug=slug,
        name=definition.name,
        timezone=definition.timezone,
        timetable=timetable_steps(definition, language),
        poll=poll_status(definition, record.state, language),
        # what each contest elects, under which constraints, and a college's weights
        contests=[
            {
                "title": c.title,
                "seats": c.seats,
                "requirements": c.requirements,
                "bounds": requirement_bounds(c),
                "rule": rule_facts(c.rule),
                # the candidates on the ballot paper (fixed when nominations closed)
                "candidates": [{"name": k.name, "groups": k.groups} for k in c.candidates],
                "college": [(definition.section(s).label, str(w)) for s, w in c.college.weights]
                if c.college is not None
                else [],
                "question": c.question,
                "decided_by": c.decided_by,
            }
            for c in definition.contests
        ],
        state=record.state.value,
        state_text=STATE_TEXT[record.state],
        receipts_public=record.state in RECEIPTS_FROM,
        # the timetable as it stands (an extension shows at once), on the election's clock
        voting=(
            _on_clock(definition.timetable.ballot_open, definition.timezone),
            _on_clock(definition.timetable.ballot_close, definition.timezone),
            definition.timezone,
        ),
    )


def _on_clock(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d %B %Y, %H:%M")


@router.get("/e/{slug}/receipts", response_class=HTMLResponse)
def receipts_page(
    request: Request,
    slug: str,
    web: Web,
    user: MaybeUser,
    code: str | None = None,
    after: str | None = None,
) -> HTMLResponse:
    """A look-up (``?code=``) answers alone; otherwise one page of the list (``?after=`` the
    last code of the page before), with the whole list as a download."""
    record = get_election(web.store, slug)
    public = record.state in RECEIPTS_FROM
    found: str | None = None
    problem: str | None = None
    page: polling.ReceiptPage | None = None
    if code:
        try:
            found = polling.find_receipt(web.store, slug, code)
        except InputError as exc:
            problem = exc.problem
    elif public:
        try:
            page = polling.receipt_page(web.store, slug, after=after)
        except InputError as exc:
            problem = exc.problem
    return render(
        request,
        "receipts.html",
        user=user,
        slug=slug,
        name=definition_of(record).name,
        public=public,
        page=page,
        after=after,
        code=code,
        found=found,
        lookup_problem=problem,
        status_code=422 if problem and not code else 200,
    )


@router.get("/e/{slug}/receipts.csv")
def receipts_download(slug: str, web: Web) -> StreamingResponse:
    """Every receipt, as CSV, streamed page by page (never built in memory)."""
    if get_election(web.store, slug).state not in RECEIPTS_FROM:
        raise NotFound("no receipts are public yet", election=slug)
    return StreamingResponse(
        iterate_in_threadpool(polling.receipt_lines(web.store, slug)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}-receipts.csv"'},
    )


def _chart_text() -> ChartText:
    return ChartText(
        round=_("Round {n}"),
        votes=_("votes"),
        first_round=_("First round"),
        last_round=_("Last round counted"),
        exhausted=_("exhausted"),
    )


def _contest_view(contest: dict[str, Any]) -> dict[str, Any]:
    report = contest.get("report") or {}
    exhausted = exhausted_by_round(report)
    names = [c["name"] for c in contest.get("candidates", [])]
    rounds = list(report.get("results", []))
    in_rounds = [n for n in names if any(n in r.get("tally", {}) for r in rounds)]
    extra = sorted({n for r in rounds for n in r.get("tally", {})} - set(in_rounds))
    order = in_rounds + extra
    if contest.get("motion"):  # a motion's one round is its answers' votes: no round table
        rounds = []
    return {
        **contest,
        "motion": contest.get("motion"),
        # documents declared before constraints and colleges were published lack these keys
        "constraints": contest.get("constraints") or [],
        "constraint_rounds": contest.get("constraint_rounds") or [],
        "college": contest.get("college"),
        "round_rows": [
            {
                "name": name,
                "votes": [r.get("tally", {}).get(name) for r in rounds],
            }
            for name in order
        ],
        "round_numbers": [r["round"] for r in rounds],
        # what observers look for: the rule, the quota and the ballots that count for nobody
        "rule_facts": rule_facts(str(contest.get("rule", ""))),
        "quota": quota_of(str(contest.get("rule", "")), int(contest.get("seats", 1)), report),
        "thresholds": [str(r.get("threshold", "")) for r in rounds],
        "exhausted": exhausted,
        "exhausted_total": exhausted[-1] if exhausted else "0",
        "round_events": [
            [
                {
                    "what": "elected" if "elected" in t else "eliminated",
                    "who": t.get("elected") or t.get("eliminated"),
                }
                for t in r.get("tallyResults", [])
            ]
            for r in rounds
        ],
        "rounds_chart": script_json(rounds_figure(report, order, _chart_text()))
        if rounds
        else None,
        "transfers_chart": script_json(transfers_figure(report, order, _chart_text()))
        if len(rounds) > 1
        else None,
    }


@router.get("/e/{slug}/results", response_class=HTMLResponse)
def results_page(request: Request, slug: str, web: Web, user: MaybeUser) -> HTMLResponse:
    record = get_election(web.store, slug)
    doc = declaring.published_declaration(web.store, slug)
    definition = definition_of(record)
    name = definition.name
    if doc is None:
        return render(
            request,
            "results.html",
            user=user,
            slug=slug,
            name=name,
            declared=False,
            state_text=STATE_TEXT[record.state],
            status_code=404,
        )
    return render(
        request,
        "results.html",
        user=user,
        slug=slug,
        name=name,
        declared=True,
        doc=doc,
        declared_when=declared_when(str(doc["declared_at"]), definition, i18n.current()),
        contests=[_contest_view(c) for c in doc.get("contests", [])],
        files=declaring.declaration_files(web.store, slug),
        record=published_record(web.settings.records_dir, slug),
    )


@router.get("/e/{slug}/record.tar")
def election_record(slug: str, web: Web) -> Response:
    """The published election record (a verifiable election's, once the officer has
    published it): one tar for ``tallyroom verify``."""
    get_election(web.store, slug)  # 404 for no such election
    if published_record(web.settings.records_dir, slug) is None:
        raise NotFound("no election record is published", election=slug)
    return FileResponse(
        record_tar(web.settings.records_dir, slug),
        media_type="application/x-tar",
        filename=f"{slug}-record.tar",
    )


@router.get("/e/{slug}/results/files/{name}")
def download(slug: str, name: str, web: Web) -> Response:
    found = declaring.declaration_file(web.store, slug, name)
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.name}"'},
    )
