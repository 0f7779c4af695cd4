"""Counting and declaring by slug, and reading the published declaration.

:func:`count` and :func:`declare` are the returning officer's steps at the count (they need
the private key file and its passphrase); :func:`published_declaration` and the download
functions are what anyone may read once the result is declared, and nothing before.

The SHA-256 shown with the document and with each download is the one the declaration's audit
event recorded (``document_sha256``, ``files``), not a column stored beside the bytes: what the
page shows is what the log holds, and a download whose bytes were edited in the database
shows a digest its ``sha256sum`` does not match (``tallyroom audit verify`` names it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from tallyroom.audit.events import Action
from tallyroom.errors import NotFound
from tallyroom.report.declaration import Declaration
from tallyroom.services import counting
from tallyroom.services.elections import get_election
from tallyroom.store import audit, declarations
from tallyroom.store.declarations import DeclarationFile
from tallyroom.store.engine import Store

__all__ = [
    "count",
    "declaration_file",
    "declaration_files",
    "declare",
    "published_declaration",
]


def count(
    store: Store, slug: str, *, private_key_file: Path, passphrase: str, actor: str
) -> Declaration:
    """Open and count the ballots (the poll must be closed); repeatable, figures identical."""
    election = get_election(store, slug)
    return counting.count_election(
        store, election.id, Path(private_key_file), passphrase, actor=actor
    )


def declare(
    store: Store, slug: str, *, private_key_file: Path, passphrase: str, actor: str
) -> Declaration:
    """Count (again, if counted before: the same figures) and declare the result; all or
    nothing: if the declaration cannot be built, the election stays as it was."""
    election = get_election(store, slug)
    # counted without a state change: counting.declare moves closed -> counted -> declared
    # in one transaction once the files are built, or leaves the election as it was
    decl = counting.count_election(
        store, election.id, Path(private_key_file), passphrase, actor=actor, advance=False
    )
    counting.declare(store, decl.election_id, decl, actor=actor)
    return decl


def _logged_hashes(conn: Connection, election_id: int) -> tuple[str | None, dict[str, str]]:
    """The results document's and each download's SHA-256 as the declaration event logged
    them (the last declaration event; ``None`` and nothing for a log without them)."""
    document: str | None = None
    files: dict[str, str] = {}
    for chained in audit.events(conn, election_id):
        if chained.event.action is not Action.DECLARATION:
            continue
        data = json.loads(chained.event.payload)
        if isinstance(data, dict) and "document_sha256" in data:
            document = str(data["document_sha256"])
            raw = data.get("files")
            files = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return document, files


def published_declaration(store: Store, slug: str) -> dict[str, Any] | None:
    """The declared result (see :func:`~tallyroom.report.declaration.declaration_document`),
    or ``None`` before the declaration."""
    election = get_election(store, slug)
    with store.read() as conn:
        stored = declarations.get(conn, election.id)
        logged, _files = _logged_hashes(conn, election.id)
    if stored is None:
        return None
    doc: dict[str, Any] = json.loads(stored.document)
    doc["sha256"] = logged if logged is not None else stored.sha256
    doc["declared_at"] = stored.declared_at
    return doc


def declaration_files(store: Store, slug: str) -> list[tuple[str, str, int, str]]:
    """(name, media type, size, SHA-256 as the declaration logged it) of each published
    download; empty before."""
    election = get_election(store, slug)
    with store.read() as conn:
        listed = declarations.list_files(conn, election.id)
        _document, logged = _logged_hashes(conn, election.id)
    return [(name, media, size, logged.get(name, digest)) for name, media, size, digest in listed]


def declaration_file(store: Store, slug: str, name: str) -> DeclarationFile:
    """One published download, or :class:`NotFound`."""
    election = get_election(store, slug)
    with store.read() as conn:
        found = declarations.get_file(conn, election.id, name)
    if found is None:
        raise NotFound("no such download", election=slug, field="name", value=name)
    return found
