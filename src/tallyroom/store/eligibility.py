"""The register's eligibility decisions as one digest, logged at the freeze and the close.

A module of its own because both the lifecycle (:mod:`tallyroom.store.elections`, at the
freeze) and the register's repository read it, and neither may import the other both ways.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.store.schema import register_entries

__all__ = ["eligibility_digest"]

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def eligibility_digest(conn: Connection, election_id: int, *, batch: int = 10_000) -> str:
    """SHA-256 of every entry's eligibility decision and section, in id order: one line
    ``canonical_json([entry id, person id, section, eligible])`` per entry (``eligible`` is
    ``true``, ``false`` or ``null``). Logged at the freeze and at the close, recomputed by
    ``tallyroom audit verify``: an eligibility flipped or a section changed in the database
    without its register change shows."""
    c = register_entries.c
    query = (
        sa.select(c.id, c.person_id, c.section, c.eligible)
        .where(c.election_id == election_id)
        .order_by(c.id)
    )
    digest = hashlib.sha256(b"tallyroom eligibility v1\n")
    text = _ENCODER.encode
    for entry_id, person, section, eligible in conn.execute(
        query.execution_options(yield_per=batch)
    ):
        line = f"[{int(entry_id)},{text(person)},{text(section)},{text(eligible)}]\n"
        digest.update(line.encode("utf-8"))
    return digest.hexdigest()
