"""The register's eligibility decisions as one digest, logged at the freeze and the close.

A module of its own because both the lifecycle (:mod:`tallyroom.store.elections`, at the
freeze) and the register's repository read it, and neither may import the other both ways.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from tallyroom.store.schema import register_entries

__all__ = ["eligibility_digest", "entry_weight"]

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_weight(conn: Connection) -> sa.ColumnElement[str]:
    """The register entry's ``weight`` field (``NULL`` in an unweighted election): the
    voter's weight, which casting stores with their ballot as it stores their section."""
    fields = register_entries.c.fields
    if conn.dialect.name == "postgresql":
        return sa.func.json_extract_path_text(sa.cast(fields, postgresql.JSON), "weight")
    return sa.func.json_extract(fields, "$.weight")


def eligibility_digest(conn: Connection, election_id: int, *, batch: int = 10_000) -> str:
    """SHA-256 of every entry's eligibility decision and section, in id order: one line
    ``canonical_json([entry id, person id, section, eligible])`` per entry (``eligible`` is
    ``true``, ``false`` or ``null``), with the entry's weight appended when it has one
    (``[..., eligible, "2.5"]``: a weighted election; an unweighted one hashes as before).
    Logged at the freeze and at the close, recomputed by ``tallyroom audit verify``: an
    eligibility flipped, a section or a weight changed in the database without its register
    change shows."""
    c = register_entries.c
    # Every entry of a weighted election has a weight and no entry of another has one (the
    # import and amendments see to it), so the first entry says which: the weight is read
    # only where there is one (reading it costs a second or so over 660,000 entries).
    first = conn.execute(
        sa.select(c.fields).where(c.election_id == election_id).order_by(c.id).limit(1)
    ).scalar_one_or_none()
    weighted = first is not None and '"weight":' in str(first)
    weight = entry_weight(conn) if weighted else sa.null()
    query = (
        sa.select(c.id, c.person_id, c.section, c.eligible, weight)
        .where(c.election_id == election_id)
        .order_by(c.id)
    )
    digest = hashlib.sha256(b"tallyroom eligibility v1\n")
    text = _ENCODER.encode
    for entry_id, person, section, eligible, weight in conn.execute(
        query.execution_options(yield_per=batch)
    ):
        tail = "" if weight is None else f",{text(str(weight))}"
        line = f"[{int(entry_id)},{text(person)},{text(section)},{text(eligible)}{tail}]\n"
        digest.update(line.encode("utf-8"))
    return digest.hexdigest()
