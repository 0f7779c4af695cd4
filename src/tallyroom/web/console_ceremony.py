"""The console's key ceremony page: a verifiable election's trustees' key ceremony and key
drill, the officer's side of ``tallyroom ceremony`` (services/ceremony.py, docs/trustees.md).

Anyone signed in reads the page (everything on it is public: fingerprints, who has dealt,
complaints, the key, the drill) and downloads the ceremony's public files as one zip for the
trustees. Only the returning officer acts, by forms guarded like the console's others
(:data:`~tallyroom.web.guards.Officer` and the CSRF token): uploading trustees' files (each
checked, all or none, a refusal naming the file as uploaded and the check), finishing the
ceremony (with the ticked confirmation: the key cannot be changed), starting and finishing
the key drill. The trustees' own steps stay on their machines (``tallyroom trustee``).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tallyroom.errors import InputError, ProofRejected
from tallyroom.services import ceremony
from tallyroom.services.elections import definition_of, get_election
from tallyroom.web.console_setup import CONFIRM
from tallyroom.web.guards import Officer, User, Web
from tallyroom.web.pages import render
from tallyroom.web.security import check_csrf

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
_FLASH = "flash"  # the console's message slot (console.py shows the same)
_FILE_MAX = 1 << 20  # a ceremony message is a few kilobytes; a drill share 300 bytes
_FILES_MAX = 1000


def _flash(request: Request, message: str, kind: str = "success") -> None:
    request.session[_FLASH] = {"message": message, "kind": kind}


def _page(slug: str) -> RedirectResponse:
    return RedirectResponse(f"/console/e/{slug}/ceremony", status_code=303)


@router.get("/console/e/{slug}/ceremony", response_class=HTMLResponse)
def ceremony_page(request: Request, slug: str, web: Web, user: User) -> HTMLResponse:
    record = get_election(web.store, slug)
    definition = definition_of(record)
    status = ceremony.status(web.store, slug) if definition.verifiable is not None else None
    return render(
        request,
        "console_ceremony.html",
        user=user,
        flash=request.session.pop(_FLASH, None),
        slug=slug,
        name=definition.name,
        status=status,
        confirm_text=CONFIRM,
    )


@router.get("/console/e/{slug}/ceremony/files.zip")
def ceremony_files(slug: str, web: Web, user: User) -> Response:
    """Every public file of the ceremony so far, as ``tallyroom ceremony export`` writes them."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder:
        written = ceremony.export(web.store, slug, Path(folder))
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in written:
                archive.write(path, f"{slug}-ceremony/{path.name}")
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{slug}-ceremony.zip"'},
    )


@router.post("/console/e/{slug}/ceremony/add")
async def add_files(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    csrf_token: Text,
    files: Annotated[list[UploadFile], File()],
) -> Response:
    check_csrf(request, csrf_token)
    try:
        if len(files) > _FILES_MAX:
            raise InputError("too many files at once", field="files", value=len(files))
        data = []
        for upload in files:
            name = Path(upload.filename or "upload").name or "upload"
            body = await upload.read(_FILE_MAX + 1)
            if len(body) > _FILE_MAX:
                raise InputError("the file is too large for a ceremony message", path=name)
            data.append((name, body))
        added = ceremony.add_messages(web.store, slug, data, actor=user.username)
    except (InputError, ProofRejected) as exc:
        _flash(request, f"Nothing stored: {exc}", "error")
        return _page(slug)
    parts = [f"Stored {len(added.stored)} file(s)"]
    if added.already:
        parts.append(f"{len(added.already)} already stored")
    _flash(request, "; ".join(parts) + ".")
    return _page(slug)


@router.post("/console/e/{slug}/ceremony/finish")
def finish(
    request: Request, slug: str, web: Web, user: Officer, csrf_token: Text, confirm: Text = ""
) -> Response:
    check_csrf(request, csrf_token)
    if confirm != "yes":
        _flash(request, f"The key was not stored: tick “{CONFIRM}” to go ahead.", "error")
        return _page(slug)
    try:
        key = ceremony.finish(web.store, slug, actor=user.username)
    except (InputError, ProofRejected) as exc:
        _flash(request, f"The ceremony is not finished: {exc}", "error")
        return _page(slug)
    _flash(request, f"Election key stored: {bytes(key.public_key).hex()}.")
    return _page(slug)


@router.post("/console/e/{slug}/ceremony/drill-start")
def drill_start(request: Request, slug: str, web: Web, user: Officer, csrf_token: Text) -> Response:
    check_csrf(request, csrf_token)
    ceremony.start_drill(web.store, slug, actor=user.username)
    _flash(request, "Key drill started: give the trustees the public files.")
    return _page(slug)


@router.post("/console/e/{slug}/ceremony/drill-finish")
def drill_finish(
    request: Request, slug: str, web: Web, user: Officer, csrf_token: Text
) -> Response:
    check_csrf(request, csrf_token)
    try:
        drill = ceremony.finish_drill(web.store, slug, actor=user.username)
    except (InputError, ProofRejected) as exc:
        _flash(request, f"The drill has not passed: {exc}", "error")
        return _page(slug)
    who = ", ".join(str(s.trustee) for s in drill.shares)
    _flash(request, f"Key drill passed: trustees {who} decrypted the test message.")
    return _page(slug)
