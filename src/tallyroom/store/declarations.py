"""The declared result and its downloads, stored once, public from then on.

:func:`publish` writes the declaration's canonical JSON and its files in the transaction that
moves the election to ``declared``; the primary keys make it once only. Readers get nothing
before that: there is no row to read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.audit.events import timestamp
from tallyroom.store.elections import require_state
from tallyroom.store.schema import ElectionState, declaration_files, declarations

__all__ = [
    "DeclarationFile",
    "StoredDeclaration",
    "get",
    "get_file",
    "iter_files",
    "list_files",
    "publish",
]


@dataclass(frozen=True, slots=True)
class DeclarationFile:
    name: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class StoredDeclaration:
    document: str
    sha256: str
    declared_at: str


def publish(
    conn: Connection, election_id: int, document: str, files: Sequence[DeclarationFile]
) -> StoredDeclaration:
    """Store the declaration (canonical JSON text) and its files; the election must be
    ``declared`` in this transaction already."""
    require_state(conn, election_id, ElectionState.DECLARED, doing="publish the declaration")
    stored = StoredDeclaration(
        document, hashlib.sha256(document.encode("utf-8")).hexdigest(), timestamp()
    )
    conn.execute(
        declarations.insert().values(
            election_id=election_id,
            document=stored.document,
            sha256=stored.sha256,
            declared_at=stored.declared_at,
        )
    )
    if files:
        conn.execute(
            declaration_files.insert(),
            [
                {
                    "election_id": election_id,
                    "name": f.name,
                    "media_type": f.media_type,
                    "content": f.content,
                    "sha256": hashlib.sha256(f.content).hexdigest(),
                }
                for f in files
            ],
        )
    return stored


def get(conn: Connection, election_id: int) -> StoredDeclaration | None:
    row = conn.execute(
        sa.select(declarations.c.document, declarations.c.sha256, declarations.c.declared_at).where(
            declarations.c.election_id == election_id
        )
    ).one_or_none()
    return None if row is None else StoredDeclaration(row.document, row.sha256, row.declared_at)


def list_files(conn: Connection, election_id: int) -> list[tuple[str, str, int, str]]:
    """(name, media type, size in bytes, SHA-256) of each file, by name."""
    rows = conn.execute(
        sa.select(
            declaration_files.c.name,
            declaration_files.c.media_type,
            sa.func.length(declaration_files.c.content),
            declaration_files.c.sha256,
        )
        .where(declaration_files.c.election_id == election_id)
        .order_by(declaration_files.c.name)
    )
    return [(str(n), str(m), int(size), str(h)) for n, m, size, h in rows]


def get_file(conn: Connection, election_id: int, name: str) -> DeclarationFile | None:
    row = conn.execute(
        sa.select(declaration_files.c.media_type, declaration_files.c.content)
        .where(declaration_files.c.election_id == election_id)
        .where(declaration_files.c.name == name)
    ).one_or_none()
    return None if row is None else DeclarationFile(name, row.media_type, bytes(row.content))


def iter_files(conn: Connection, election_id: int) -> Iterator[DeclarationFile]:
    """Every stored download with its exact stored bytes, by name (for the verifier)."""
    rows = conn.execute(
        sa.select(
            declaration_files.c.name, declaration_files.c.media_type, declaration_files.c.content
        )
        .where(declaration_files.c.election_id == election_id)
        .order_by(declaration_files.c.name)
    )
    for name, media_type, content in rows:
        yield DeclarationFile(str(name), str(media_type), bytes(content))
