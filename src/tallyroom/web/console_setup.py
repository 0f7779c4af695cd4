"""The console's set-up pages: a draft election built and edited with forms, kept as TOML.

* ``/console/setup/new``: a new draft (the election, its sections, timetable, eligibility,
  how ballots are kept (the verifiable path first, with its trustees; or the sealed path
  with its sealing key) and a first contest), as ``/console/elections`` makes one from a
  file;
* ``/console/e/{slug}/setup``: the draft's forms (the election; each contest to edit or
  remove; a contest to add; a definition file to upload instead), editable while the
  election is a draft;
* ``/console/e/{slug}/definition.toml``: the definition as a file, whatever built it;
* ``/console/e/{slug}/extend``: a close moved later, with a reason (logged);
* ``/console/e/{slug}/delete``: a draft deleted, once "I understand" is ticked.

Every form goes through :mod:`tallyroom.web.setup_forms` to the one TOML reader; a refusal
re-renders the form (422) with each problem beside its field and nothing stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from tallyroom.election.definition import Problem
from tallyroom.election.lifecycle import ElectionState
from tallyroom.election.toml_text import Document, read_document
from tallyroom.errors import InputError
from tallyroom.services import setup, timetable
from tallyroom.services.elections import definition_of, delete_election, get_election
from tallyroom.services.key_files import KEY_NEEDED
from tallyroom.web.booth import key_file
from tallyroom.web.guards import Officer, User, Web, WebContext
from tallyroom.web.pages import render
from tallyroom.web.security import check_csrf
from tallyroom.web.setup_forms import (
    FieldProblems,
    contest_fields,
    contest_table,
    election_fields,
    place,
    rule_choices,
    set_election,
    too_long,
    words,
)

__all__ = ["CONFIRM", "confirmed", "key_warning", "router"]

router = APIRouter(include_in_schema=False)
CONFIRM = "I understand this cannot be undone"
_FLASH = "flash"
_NEW_DEFAULTS = {
    "timezone": "Europe/London",
    "statuses": "active",
    "sections": "members | Members",
    "rule": "stv",
    "seats": "1",
    "section:members": "yes",
    "ballots": "verifiable",  # issue 15: the verifiable path is the default for new elections
    "threshold": "2",
}


def confirmed(form: FormData | dict[str, Any]) -> bool:
    """Whether an irreversible step's form carries the ticked confirmation."""
    return form.get("confirm") == "yes"


def key_warning(web: WebContext, slug: str, state: ElectionState) -> str | None:
    """The red banner's text when the election needs its credential key now and the data
    folder does not have it."""
    if state not in KEY_NEEDED:
        return None
    path = key_file(web, slug)
    if path.is_file():
        return None
    return (
        f"The credential key of this election is missing: expected at {path}. Voters cannot "
        "vote until it is back (the booth tells them so). Restore the file, or start the "
        "server with the data folder that holds it (--data-dir / TALLYROOM_DATA_DIR)."
    )


_FORM_LIMIT = 16 << 20  # a field past it stops the parser; below it, setup_forms names it


async def _form(request: Request) -> FormData:
    """The posted form, its CSRF token checked; one too large to read is refused in words."""
    try:
        form = await request.form(max_part_size=_FORM_LIMIT)
    except HTTPException:
        raise InputError(
            "a field of the form is far too large (over 16 MiB): nothing was stored",
            field="form",
        ) from None
    check_csrf(request, str(form.get("csrf_token", "")))
    return form


def _texts(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _flash(request: Request, message: str, kind: str = "success") -> None:
    request.session[_FLASH] = {"message": message, "kind": kind}


def _sections(doc: Document) -> list[str]:
    return [str(s.get("name", "")) for s in doc.get("sections", []) if s.get("name")]


# -- a new draft ------------------------------------------------------------------------------


@router.get("/console/setup/new", response_class=HTMLResponse)
def new_form(request: Request, user: Officer) -> HTMLResponse:
    return _new_page(request, user, dict(_NEW_DEFAULTS), FieldProblems(), 200)


def _new_page(
    request: Request, user: Any, values: dict[str, str], problems: FieldProblems, status: int
) -> HTMLResponse:
    sections = [
        line.partition("|")[0].strip()
        for line in values.get("sections", "").splitlines()
        if line.strip()
    ]
    return render(
        request,
        "console_setup_new.html",
        status_code=status,
        user=user,
        values=values,
        problems=problems,
        rules=rule_choices(),
        sections=sections,
    )


@router.post("/console/setup/new", response_class=HTMLResponse)
async def create(request: Request, web: Web, user: Officer) -> Response:
    values = _texts(await _form(request))
    values.pop("csrf_token", None)
    passphrase = values.pop("passphrase", "")
    long = too_long(values)
    if long:
        return _new_page(request, user, {}, place(long), 422)
    doc: Document = {}
    set_election(doc, values)
    doc["contests"] = [contest_table(values, _sections(doc))]
    slug = values.get("slug", "").strip()
    done = setup.create_draft(
        web.store,
        doc,
        slug=slug,
        actor=user.username,
        private_key_path=web.settings.private_key_file(slug) if slug else web.settings.data_dir,
        passphrase=passphrase,
        work_dir=web.settings.data_dir,
    )
    if isinstance(done, setup.SetupRefused):
        return _new_page(request, user, values, place(list(done.problems), contest=0), 422)
    if done.ballot_public_key is not None:
        made = f"Its sealing key is in {web.settings.private_key_file(done.slug)}."
    else:
        made = (
            "Ballots take the verifiable path: before the poll opens, its trustees make the "
            "election key in the key ceremony (the Ceremony page)."
        )
    _flash(request, f"Draft election {done.slug} created. {made}")
    return RedirectResponse(f"/console/e/{done.slug}/setup", status_code=303)


# -- editing a draft --------------------------------------------------------------------------


def _draft_page(
    request: Request,
    web: WebContext,
    user: Any,
    slug: str,
    *,
    status: int = 200,
    election_values: dict[str, str] | None = None,
    election_problems: FieldProblems | None = None,
    contest_index: int | None = None,
    contest_values: dict[str, str] | None = None,
    contest_problems: FieldProblems | None = None,
) -> HTMLResponse:
    record = get_election(web.store, slug)
    doc = read_document(record.definition)
    sections = _sections(doc)
    contests = []
    for k, table in enumerate(doc.get("contests", [])):
        mine = contest_index == k
        contests.append(
            {
                "index": k,
                "name": table.get("name", ""),
                "values": contest_values
                if mine and contest_values
                else contest_fields(table, sections),
                "problems": contest_problems if mine and contest_problems else FieldProblems(),
            }
        )
    adding = contest_index is not None and contest_index >= len(contests)
    return render(
        request,
        "console_setup_draft.html",
        status_code=status,
        user=user,
        slug=slug,
        name=definition_of(record).name,
        state=record.state.value,
        editable=record.state is ElectionState.DRAFT,
        election=election_values or election_fields(doc),
        election_problems=election_problems or FieldProblems(),
        contests=contests,
        new_contest=contest_values if adding and contest_values else _new_contest(sections),
        new_problems=contest_problems if adding and contest_problems else FieldProblems(),
        rules=rule_choices(),
        sections=sections,
        flash=request.session.pop(_FLASH, None),
    )


def _new_contest(sections: list[str]) -> dict[str, str]:
    return {"rule": "stv", "seats": "1", **{f"section:{s}": "yes" for s in sections}}


@router.get("/console/e/{slug}/setup", response_class=HTMLResponse)
def draft(request: Request, slug: str, web: Web, user: User) -> HTMLResponse:
    return _draft_page(request, web, user, slug)


async def _posted(request: Request) -> dict[str, str]:
    values = _texts(await _form(request))
    values.pop("csrf_token", None)
    return values


@router.post("/console/e/{slug}/setup/election", response_class=HTMLResponse)
async def change_election(request: Request, slug: str, web: Web, user: Officer) -> Response:
    values = await _posted(request)
    long = too_long(values)
    if long:
        return _draft_page(request, web, user, slug, status=422, election_problems=place(long))
    done = setup.change_draft(
        web.store,
        slug,
        lambda doc: set_election(doc, values),
        actor=user.username,
        reason="console: election, sections, timetable, eligibility",
    )
    if isinstance(done, setup.SetupRefused):
        return _draft_page(
            request,
            web,
            user,
            slug,
            status=422,
            election_values=values,
            election_problems=place(list(done.problems)),
        )
    _flash(request, "The election's details are saved.")
    return RedirectResponse(f"/console/e/{slug}/setup", status_code=303)


def _contest_change(values: dict[str, str], index: int, remove: bool = False) -> Any:
    def change(doc: Document) -> None:
        contests = doc.setdefault("contests", [])
        if remove:
            if 0 <= index < len(contests):
                del contests[index]
            return
        table = contest_table(values, _sections(doc))
        if index < len(contests):
            contests[index] = table
        else:
            contests.append(table)

    return change


async def _save_contest(
    request: Request, slug: str, web: WebContext, user: Any, index: int | None
) -> Response:
    values = await _posted(request)
    count = len(read_document(get_election(web.store, slug).definition).get("contests", []))
    at = count if index is None else index
    if not 0 <= at <= count:
        raise InputError("no such contest", field="contest", value=index)
    long = too_long(values)
    if long:
        return _draft_page(
            request, web, user, slug, status=422, contest_index=at, contest_problems=place(long)
        )
    done = setup.change_draft(
        web.store,
        slug,
        _contest_change(values, at),
        actor=user.username,
        reason=f"console: contest {values.get('contest_name', '')}"[:200],
    )
    if isinstance(done, setup.SetupRefused):
        return _draft_page(
            request,
            web,
            user,
            slug,
            status=422,
            contest_index=at,
            contest_values=values,
            contest_problems=place(list(done.problems), contest=at),
        )
    _flash(request, f"Contest {values.get('contest_name', '')} saved.")
    return RedirectResponse(f"/console/e/{slug}/setup#contests", status_code=303)


@router.post("/console/e/{slug}/setup/contests", response_class=HTMLResponse)
async def add_contest(request: Request, slug: str, web: Web, user: Officer) -> Response:
    return await _save_contest(request, slug, web, user, None)


@router.post("/console/e/{slug}/setup/contests/{index}", response_class=HTMLResponse)
async def edit_contest(
    request: Request, slug: str, index: int, web: Web, user: Officer
) -> Response:
    return await _save_contest(request, slug, web, user, index)


@router.post("/console/e/{slug}/setup/contests/{index}/remove", response_class=HTMLResponse)
async def remove_contest(
    request: Request, slug: str, index: int, web: Web, user: Officer
) -> Response:
    await _posted(request)
    done = setup.change_draft(
        web.store,
        slug,
        _contest_change({}, index, remove=True),
        actor=user.username,
        reason=f"console: contest {index + 1} removed",
    )
    if isinstance(done, setup.SetupRefused):
        text = "; ".join(words(p) for p in done.problems)
        _flash(request, f"The contest was not removed: {text}", "error")
    else:
        _flash(request, "Contest removed.")
    return RedirectResponse(f"/console/e/{slug}/setup#contests", status_code=303)


@router.post("/console/e/{slug}/setup/upload", response_class=HTMLResponse)
async def upload_definition(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    definition: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form()],
) -> Response:
    check_csrf(request, csrf_token)
    raw = await definition.read((1 << 20) + 1)
    problems: list[Problem] = []
    text = ""
    if len(raw) > 1 << 20:
        problems.append(Problem("file", "is too large for a definition (over 1 MiB)"))
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem("file", "is not UTF-8 text"))
    if not problems:
        try:
            done = setup.replace_draft_text(
                web.store, slug, text, actor=user.username, reason="console: definition uploaded"
            )
        except InputError as exc:  # not TOML at all: the line is in the message
            problems.append(Problem("file", str(exc)))
        else:
            if isinstance(done, setup.SetupRefused):
                problems += done.problems
    if problems:
        listed = "; ".join(words(p) for p in problems)
        _flash(request, f"The uploaded definition was not used: {listed}", "error")
    else:
        _flash(request, "The definition was replaced by the uploaded file.")
    return RedirectResponse(f"/console/e/{slug}/setup", status_code=303)


@router.get("/console/e/{slug}/definition.toml")
def download(slug: str, web: Web, user: User) -> Response:
    record = get_election(web.store, slug)
    return Response(
        record.definition,
        media_type="application/toml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{record.slug}.toml"'},
    )


# -- the timetable and deletion ---------------------------------------------------------------


@router.post("/console/e/{slug}/extend")
async def extend(request: Request, slug: str, web: Web, user: Officer) -> Response:
    values = await _posted(request)
    zone = definition_of(get_election(web.store, slug)).timezone
    try:
        moment = timetable.Moment(values.get("what", "ballot_close"))
    except ValueError:
        raise InputError(
            "not a close that can move", field="what", value=values.get("what")
        ) from None
    done = timetable.extend(
        web.store,
        slug,
        moment,
        timetable.instant_in(values.get("until", ""), zone),
        reason=values.get("reason", ""),
        actor=user.username,
    )
    _flash(request, f"Extended: {done.render()}.")
    return RedirectResponse(f"/console/e/{slug}", status_code=303)


@router.post("/console/e/{slug}/delete")
async def delete(request: Request, slug: str, web: Web, user: Officer) -> Response:
    form = await _form(request)
    if not confirmed(form):
        _flash(request, f"Nothing deleted: tick “{CONFIRM}” to delete the draft.", "error")
        return RedirectResponse(f"/console/e/{slug}/setup", status_code=303)
    done = delete_election(web.store, slug, actor=user.username)
    _flash(request, done.render())
    return RedirectResponse("/console", status_code=303)
