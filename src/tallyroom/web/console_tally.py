"""The console's tally page: a verifiable election's shuffle, decryption, count and
declaration, the officer's side of ``tallyroom tally`` (services/tally.py,
services/tally_files.py, docs/user-guide.md "Counting a verifiable election").

Anyone signed in reads the page (each group of the board: its ballots, the mixers done, the
trustees who decrypted it) and downloads the next step's inputs as one zip: the board for the
first mixer, each mixer's rows for the next, the last mixer's rows for the trustees. The
mixers and trustees work on their own machines (``tallyroom tally mix`` / ``tally decrypt``)
and send back a folder; only the returning officer uploads it (as a zip of the folder or as
its files), counts, and declares (with the ticked confirmation). Every upload is checked
whole before anything is stored (a refusal names the file and the check); an upload is
unpacked into a private temporary folder, names flattened, its size and number of files
bounded, and removed afterwards. Once declared, the officer publishes the election record
(services/record_publishing.py, written in the background): the public results page links
the tar for anyone's ``tallyroom verify``.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from tallyroom.election.lifecycle import ElectionState
from tallyroom.errors import CountError, InputError, LifecycleError, ProofRejected
from tallyroom.services import tally, tally_files
from tallyroom.services.elections import definition_of, get_election
from tallyroom.services.record_publishing import publish_record, published_record
from tallyroom.web.console_setup import CONFIRM
from tallyroom.web.guards import Officer, User, Web
from tallyroom.web.jobs import start_job
from tallyroom.web.pages import render
from tallyroom.web.register_mapping import uploads_folder
from tallyroom.web.security import check_csrf

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
_FLASH = "flash"  # the console's message slot (console.py shows the same)
_FILES_MAX = 1000  # a folder holds a manifest and a file per group
_COUNTABLE = (ElectionState.CLOSED, ElectionState.COUNTED)
_REFUSED = (InputError, ProofRejected, LifecycleError, CountError)


def _flash(request: Request, message: str, kind: str = "success") -> None:
    request.session[_FLASH] = {"message": message, "kind": kind}


def _page(slug: str) -> RedirectResponse:
    return RedirectResponse(f"/console/e/{slug}/tally", status_code=303)


def _next_step(groups: list[tally.GroupStatus], state: ElectionState) -> str:
    if state is ElectionState.DECLARED:
        return "The result is declared."
    if state not in _COUNTABLE:
        return "The tally starts once the poll has closed."
    if not groups:
        return "The board holds no ballots: count and declare."
    waiting = [g for g in groups if g.mixed < g.mixers]
    if waiting:
        g = min(waiting, key=lambda g: g.mixed)
        return (
            f"Mixer {g.mixed + 1} of {g.mixers}: download the inputs, give them to that mixer "
            "('tallyroom tally mix'), then upload the folder they send back."
        )
    short = [g for g in groups if len(g.decrypted) < g.threshold]
    if short:
        need = max(g.threshold - len(g.decrypted) for g in short)
        return (
            f"Decryption: {need} more trustee(s) needed. Download the inputs, give them to the "
            "trustees ('tallyroom tally decrypt'), then upload each folder they send back."
        )
    return "Every group is shuffled and decrypted: count, then declare."


@router.get("/console/e/{slug}/tally", response_class=HTMLResponse)
def tally_page(request: Request, slug: str, web: Web, user: User) -> HTMLResponse:
    record = get_election(web.store, slug)
    definition = definition_of(record)
    verifiable = definition.verifiable is not None
    started = verifiable and record.state in (*_COUNTABLE, ElectionState.DECLARED)
    groups = tally.tally_status(web.store, slug) if started else []
    return render(
        request,
        "console_tally.html",
        user=user,
        flash=request.session.pop(_FLASH, None),
        slug=slug,
        name=definition.name,
        verifiable=verifiable,
        state=record.state.value,
        countable=record.state in _COUNTABLE,
        groups=groups,
        next_step=_next_step(groups, record.state),
        confirm_text=CONFIRM,
        record=published_record(web.settings.records_dir, slug) if verifiable else None,
    )


@router.get("/console/e/{slug}/tally/inputs.zip")
def tally_inputs(slug: str, web: Web, user: User) -> Response:
    """The next step's inputs, as ``tallyroom tally export`` writes them, zipped (written to a
    private temporary folder, removed once sent)."""
    work = Path(tempfile.mkdtemp(prefix="tally-", dir=uploads_folder(web)))
    try:
        step = tally_files.export_inputs(web.store, slug, work / "inputs")
        archive = work / "inputs.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
            for path in sorted((work / "inputs").iterdir()):
                out.write(path, f"{slug}-{step}-inputs/{path.name}")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=f"{slug}-{step}-inputs.zip",
        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True),
    )


async def _unpack(uploads: list[UploadFile], folder: Path, limit: int) -> None:
    """The uploaded folder into ``folder``: one zip of it, or its files; every name reduced
    to its last part (a name given twice is refused), ``limit`` bytes in all."""
    if len(uploads) > _FILES_MAX:
        raise InputError("too many files at once", field="files", value=len(uploads))
    total = 0
    for k, upload in enumerate(uploads):
        name = Path(upload.filename or "upload").name or "upload"
        target = folder / f".upload-{k}"
        with target.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                total += len(chunk)
                if total > limit:
                    raise InputError("the upload is too large", field="files", value=name)
                out.write(chunk)
        if name.lower().endswith(".zip"):
            if not zipfile.is_zipfile(target):
                raise InputError("not a readable zip file", path=name)
            total += _unzip(target, folder, limit - total, name)
            target.unlink()
        else:
            _place(target, folder, name)


def _place(source: Path, folder: Path, name: str) -> None:
    if name.startswith(".") or (folder / name).exists():
        raise InputError("a file name given twice, or hidden", field="files", value=name)
    source.rename(folder / name)


def _unzip(archive: Path, folder: Path, room: int, label: str) -> int:
    """Each file of the zip into ``folder`` by its last name part; its bytes."""
    written = 0
    try:
        with zipfile.ZipFile(archive) as z:
            members = [m for m in z.infolist() if not m.is_dir()]
            if len(members) > _FILES_MAX:
                raise InputError("too many files in the zip", path=label, value=len(members))
            for member in members:
                name = Path(member.filename).name
                if not name or name.startswith("."):
                    continue  # a hidden file a desktop's archiver adds
                if (folder / name).exists():
                    raise InputError("a file name given twice", path=label, value=name)
                with z.open(member) as src, (folder / name).open("wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > room:  # the declared size is not trusted
                            raise InputError("the upload is too large", path=label)
                        out.write(chunk)
    except (zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
        raise InputError(f"not a readable zip file ({exc})", path=label) from None
    return written


@router.post("/console/e/{slug}/tally/add")
async def add_folder(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    csrf_token: Text,
    files: Annotated[list[UploadFile], File()],
) -> Response:
    check_csrf(request, csrf_token)
    work = Path(tempfile.mkdtemp(prefix="tally-", dir=uploads_folder(web)))
    try:
        await _unpack(files, work, web.settings.upload_limit)
        added = tally_files.add_parts(web.store, slug, work, actor=user.username)
    except _REFUSED as exc:
        _flash(request, f"Nothing stored: {exc}", "error")
        return _page(slug)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    who = "Mixer" if added.part == "mix" else "Trustee"
    _flash(
        request,
        f"{who} {added.number}'s {added.part} of {added.groups} group(s) checked and stored.",
    )
    return _page(slug)


@router.post("/console/e/{slug}/tally/count")
def count(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    csrf_token: Text,
    declare: Text = "",
    confirm: Text = "",
) -> Response:
    check_csrf(request, csrf_token)
    final = declare == "yes"
    if final and confirm != "yes":
        _flash(request, f"Nothing was declared: tick “{CONFIRM}” to declare.", "error")
        return _page(slug)
    try:
        run = tally.declare_tally if final else tally.count_tally
        decl = run(web.store, slug, actor=user.username)
    except _REFUSED as exc:
        _flash(request, f"Not counted: {exc}", "error")
        return _page(slug)
    if final:
        _flash(request, "The result is declared and published.")
        return RedirectResponse(f"/e/{slug}/results", status_code=303)
    figures = "; ".join(
        f"{c.contest}: " + ", ".join(f"{r.name} {r.votes:,}" for r in c.candidates)
        for c in decl.contests
    )
    _flash(request, f"Counted (not declared): {figures}.")
    return _page(slug)


@router.post("/console/e/{slug}/tally/publish")
def publish(request: Request, slug: str, web: Web, user: Officer, csrf_token: Text) -> Response:
    """Write and publish the declared election's record in the background (a job): at the
    2016 ballot's size the trustees' shares take minutes to combine again."""
    check_csrf(request, csrf_token)
    record = get_election(web.store, slug)
    if record.state is not ElectionState.DECLARED or definition_of(record).verifiable is None:
        _flash(request, "Only a declared verifiable election has a record to publish.", "error")
        return _page(slug)
    store, root = web.store, web.settings.records_dir

    def work(progress: object) -> dict[str, object]:
        done = publish_record(store, slug, root)
        return {"name": done.name, "size": done.size, "sha256": done.sha256}

    start_job(web.settings.data_dir, "election record", slug, work)
    _flash(
        request,
        "The election record is being written; once it is, this page and the public results "
        "page link it (reload to see).",
    )
    return _page(slug)
