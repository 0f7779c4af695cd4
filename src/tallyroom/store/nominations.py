"""Nomination papers as received, and the ballot papers fixed when nominations close.

Papers are appended, never changed: the nomination book (:mod:`tallyroom.election.nominations`)
is rebuilt from them in the order received, so a paper that does not count is kept with its
problem. Papers are accepted only while the election is ``register_frozen`` (the register
fixes who may nominate where a section nominates; nominations close before credentials are
issued). :func:`fix_ballots` writes each contest's candidate list once, in the same transaction
that moves the election to ``nominations_closed``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.errors import InputError
from tallyroom.store.elections import require_state
from tallyroom.store.schema import (
    CONTEST_MAX,
    NAME_MAX,
    ElectionState,
    NominationKind,
    ballot_papers,
    nomination_papers,
)

__all__ = ["NominationPaper", "add_paper", "ballot_candidates", "fix_ballots", "papers"]


@dataclass(frozen=True, slots=True)
class NominationPaper:
    contest: str
    kind: NominationKind
    candidate: str
    nominator: str | None
    received_at: datetime
    actor: str


def _text(value: str, field: str, limit: int) -> str:
    text = value.strip()
    if not text or len(text) > limit:
        raise InputError(f"must be 1 to {limit} characters", field=field, value=value)
    return text


def add_paper(
    conn: Connection,
    election_id: int,
    contest: str,
    kind: NominationKind,
    candidate: str,
    *,
    nominator: str | None,
    received_at: datetime,
    actor: str,
) -> NominationPaper:
    """Append a nomination (with its nominator) or a withdrawal (without one)."""
    require_state(
        conn, election_id, ElectionState.REGISTER_FROZEN, doing="receive nomination papers"
    )
    if received_at.utcoffset() is None:
        raise InputError("a paper's time needs a time zone", field="at", value=str(received_at))
    if (kind is NominationKind.NOMINATION) != (nominator is not None):
        raise InputError("a nomination names its nominator; a withdrawal does not", field="kind")
    paper = NominationPaper(
        contest=_text(contest, "contest", CONTEST_MAX),
        kind=kind,
        candidate=_text(candidate, "candidate", NAME_MAX),
        nominator=None if nominator is None else _text(nominator, "nominator", NAME_MAX),
        received_at=received_at,
        actor=_text(actor, "actor", NAME_MAX),
    )
    conn.execute(
        nomination_papers.insert().values(
            election_id=election_id,
            contest=paper.contest,
            kind=paper.kind,
            candidate=paper.candidate,
            nominator=paper.nominator,
            received_at=received_at.isoformat(),
            actor=paper.actor,
        )
    )
    return paper


def papers(conn: Connection, election_id: int, contest: str) -> Iterator[NominationPaper]:
    """The contest's papers in the order they were received (ties: the order recorded)."""
    query = (
        sa.select(nomination_papers)
        .where(nomination_papers.c.election_id == election_id)
        .where(nomination_papers.c.contest == contest)
        .order_by(nomination_papers.c.id)
    )
    for row in conn.execute(query):
        yield NominationPaper(
            contest=row.contest,
            kind=row.kind,
            candidate=row.candidate,
            nominator=row.nominator,
            received_at=datetime.fromisoformat(row.received_at),
            actor=row.actor,
        )


def fix_ballots(conn: Connection, election_id: int, ballots: Mapping[str, Sequence[str]]) -> None:
    """Record each contest's candidates, in ballot order (once: the primary key refuses more)."""
    require_state(conn, election_id, ElectionState.REGISTER_FROZEN, doing="fix the ballot papers")
    for contest, names in ballots.items():
        conn.execute(
            ballot_papers.insert().values(
                election_id=election_id, contest=contest, candidates=json.dumps(list(names))
            )
        )


def ballot_candidates(conn: Connection, election_id: int) -> dict[str, tuple[str, ...]]:
    """Each contest's candidates as fixed at the close of nominations (empty before)."""
    rows = conn.execute(
        sa.select(ballot_papers.c.contest, ballot_papers.c.candidates).where(
            ballot_papers.c.election_id == election_id
        )
    )
    return {contest: tuple(json.loads(text)) for contest, text in rows}
