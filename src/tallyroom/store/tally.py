"""A verifiable election's tally parts (mix stages, decryption shares), in the caller's
transaction; what they are and how they are checked is :mod:`tallyroom.services.tally`."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.store.schema import tally_parts

__all__ = ["PartKind", "TallyPart", "add", "digests", "parts"]


class PartKind(enum.Enum):
    MIX = "mix"  # number: the mixer's position
    DECRYPTION = "decryption"  # number: the trustee


@dataclass(frozen=True, slots=True)
class TallyPart:
    contest: str
    section: str
    kind: PartKind
    number: int
    body: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def add(conn: Connection, election_id: int, part: TallyPart) -> None:
    """Store ``part`` (the primary key refuses a second part of the same place)."""
    conn.execute(
        tally_parts.insert().values(
            election_id=election_id,
            contest=part.contest,
            section=part.section,
            kind=part.kind.value,
            number=part.number,
            body=part.body,
            sha256=part.sha256,
        )
    )


def parts(
    conn: Connection,
    election_id: int,
    *,
    contest: str | None = None,
    section: str | None = None,
    kind: PartKind | None = None,
) -> Iterator[TallyPart]:
    """The stored parts (of one group and kind when given), by contest, section, kind, number."""
    query = sa.select(
        tally_parts.c.contest,
        tally_parts.c.section,
        tally_parts.c.kind,
        tally_parts.c.number,
        tally_parts.c.body,
    ).where(tally_parts.c.election_id == election_id)
    if contest is not None:
        query = query.where(tally_parts.c.contest == contest)
    if section is not None:
        query = query.where(tally_parts.c.section == section)
    if kind is not None:
        query = query.where(tally_parts.c.kind == kind.value)
    query = query.order_by(
        tally_parts.c.contest, tally_parts.c.section, tally_parts.c.kind, tally_parts.c.number
    )
    for c, s, k, n, body in conn.execute(query):
        yield TallyPart(str(c), str(s), PartKind(k), int(n), bytes(body))


def digests(conn: Connection, election_id: int) -> dict[str, str]:
    """``contest/section/kind/number`` -> SHA-256 of the body as stored now (recomputed)."""
    return {
        f"{p.contest}/{p.section}/{p.kind.value}/{p.number}": p.sha256
        for p in parts(conn, election_id)
    }
