"""The register import with a column mapping: upload, preview, map, check, import.

``POST /console/e/{slug}/register/preview`` keeps the uploaded file in the data folder's
private ``uploads/`` (a random name) and shows its header, its first rows, the mapping
guessed from the column names and every problem of the whole file under that mapping.
``POST /console/e/{slug}/register/mapping`` either checks again with the mapping the officer
chose, or imports with it as a job with progress (the same job as the plain import).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tallyroom.errors import InputError, TallyroomError
from tallyroom.services import register as register_service
from tallyroom.services.elections import definition_of, get_election
from tallyroom.services.register_preview import (
    FIELDS,
    REQUIRED,
    RegisterPreview,
    mapping_of,
    preview_register,
)
from tallyroom.web.console import _save_upload
from tallyroom.web.guards import Officer, WebContext
from tallyroom.web.guards import Web as WebDep
from tallyroom.web.jobs import start_job
from tallyroom.web.pages import render
from tallyroom.web.security import check_csrf

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_UPLOAD = re.compile(r"^[0-9a-f]{16}-[^/\\]{1,255}$")
_LABELS = {
    "person": "Person id (one person across sections and files)",
    "section": "Section",
    "number": "Membership number",
    "status": "Membership status",
    "joined": "Date joined",
    "registered": "Date registered (supporters)",
    "name": "Name (for letters and mail)",
    "email": "Email",
    "address": "Postal address",
    "channel": "Delivery channel (email or post)",
    "unit": "Unit (a branch or affiliate, for a contest counted by unit)",
}


def uploads_folder(web: WebContext) -> Path:
    """The data folder's private folder for uploads being read (made if missing)."""
    folder = web.settings.data_dir / "uploads"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _shown(upload: str) -> str:
    """The name the officer gave the file (the random prefix dropped)."""
    return f"the uploaded file {upload.partition('-')[2]}"


def _page(
    request: Request, user: Any, slug: str, upload: str, found: RegisterPreview, status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "console_setup_register.html",
        status_code=status,
        user=user,
        slug=slug,
        upload=upload,
        filename=upload.partition("-")[2],
        preview=found,
        fields=[{"name": f, "label": _LABELS[f], "required": f in REQUIRED} for f in FIELDS],
    )


@router.post("/console/e/{slug}/register/preview", response_class=HTMLResponse)
async def preview(
    request: Request,
    slug: str,
    web: WebDep,
    user: Officer,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form()],
) -> Response:
    check_csrf(request, csrf_token)
    definition = definition_of(get_election(web.store, slug))
    path = await _save_upload(file, uploads_folder(web), web.settings.upload_limit)
    try:
        found = preview_register(path, definition, shown_as=_shown(path.name))
    except TallyroomError:
        path.unlink(missing_ok=True)
        raise
    return _page(request, user, slug, path.name, found)


@router.post("/console/e/{slug}/register/mapping", response_class=HTMLResponse)
async def mapped(request: Request, slug: str, web: WebDep, user: Officer) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token", "")))
    upload = str(form.get("upload", ""))
    path = uploads_folder(web) / upload
    if not _UPLOAD.fullmatch(upload) or not path.is_file():
        raise InputError(
            "the uploaded file is no longer on the server: upload it again", field="upload"
        )
    chosen: dict[str, str | None] = {f: str(form.get(f"map:{f}", "")) or None for f in FIELDS}
    definition = definition_of(get_election(web.store, slug))
    found = preview_register(path, definition, chosen, shown_as=_shown(upload))
    if form.get("action") != "import" or not found.ready:
        return _page(request, user, slug, upload, found, 200 if found.ready else 422)
    mapping = mapping_of(chosen)
    store = web.store
    reason = str(form.get("reason", ""))
    replace = form.get("replace") == "yes"

    def work(progress: Any) -> dict[str, Any]:
        try:
            result = register_service.import_register(
                store,
                slug,
                path,
                actor=user.username,
                mapping=mapping,
                progress=progress,
                reason=reason,
                replace=replace,
            )
        except InputError as exc:
            raise (exc.shown_as(_shown(upload)) if exc.path == str(path) else exc) from None
        finally:
            path.unlink(missing_ok=True)
        return {"stored": result.stored, "eligible": result.eligible}

    job = start_job(web.settings.data_dir, "register import", slug, work)
    return RedirectResponse(f"/console/e/{slug}/jobs/{job}", status_code=303)
