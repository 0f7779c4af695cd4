"""A verifiable election's tally parts (mix stages, decryption shares), in the caller's
transaction; what they are and how they are checked is :mod:`tallyroom.services.tally`."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.audit.record import tally_part_name
from tallyroom.store.schema import tally_parts

__all__ = ["PartKind", "TallyPart", "add", "digests", "parts"]


class PartKind(enum.Enum):
    MIX = "mix"  # number: the mixer's position
    DECRYPTION = "decryption"  # number: the trustee


@dataclass(frozen=True, slots=True)
class TallyPart:
    """A part of one board group (contest, section, weight, unit: each empty for none)."""

    contest: str
    section: str
    kind: PartKind
    number: int
    body: bytes
    weight: str = ""
    unit: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def name(self) -> str:
        """The part's name in the audit log (audit/record.py ``tally_part_name``)."""
        return tally_part_name(
            self.contest,
            self.section,
            self.kind.value,
            self.number,
            self.weight or None,
            self.unit or None,
        )


def add(conn: Connection, election_id: int, part: TallyPart) -> None:
    """Store ``part`` (the primary key refuses a second part of the same place)."""
    conn.execute(
        tally_parts.insert().values(
            election_id=election_id,
            contest=part.contest,
            section=part.section,
            weight=part.weight,
            unit=part.unit,
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
    weight: str | None = None,
    unit: str | None = None,
) -> Iterator[TallyPart]:
    """The stored parts (of one group and kind when given: contest, section, weight and unit
    together name a group, ``""`` for none), by contest, section, weight, unit, kind, number."""
    c = tally_parts.c
    query = sa.select(c.contest, c.section, c.weight, c.unit, c.kind, c.number, c.body).where(
        c.election_id == election_id
    )
    for column, value in (
        (c.contest, contest),
        (c.section, section),
        (c.weight, weight),
        (c.unit, unit),
        (c.kind, None if kind is None else kind.value),
    ):
        if value is not None:
            query = query.where(column == value)
    query = query.order_by(c.contest, c.section, c.weight, c.unit, c.kind, c.number)
    for con, sec, w, u, k, n, body in conn.execute(query):
        yield TallyPart(str(con), str(sec), PartKind(k), int(n), bytes(body), str(w), str(u))


def digests(conn: Connection, election_id: int) -> dict[str, str]:
    """Each part's name (:attr:`TallyPart.name`) -> SHA-256 of the body as stored now."""
    return {p.name: p.sha256 for p in parts(conn, election_id)}
