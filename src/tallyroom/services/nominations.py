"""The nominations service: papers received, standings, and closing (which fixes the ballot).

Papers are stored as received (:mod:`tallyroom.store.nominations`) and judged by the pure
nomination book of :mod:`tallyroom.election.nominations`, replayed in the order received: a
late paper, a nominator over their allowance or a nomination for a withdrawn candidate is
kept with its problem, and shown, never silently dropped. A withdrawal that cannot be made
(unknown candidate, already withdrawn, outside the period) is refused and nothing is stored.

:func:`close_nominations` (``register_frozen -> nominations_closed``) fixes each contest's
ballot paper: under a nomination rule, the incumbent when the rule puts them on
automatically and every candidate at or above the threshold, less withdrawals; without a
rule, every declared candidate less withdrawals. The audit event records each contest's
candidates and each candidate's count of valid nominations.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from tallyroom.audit.events import JsonValue
from tallyroom.election.definition import Contest, ElectionDefinition
from tallyroom.election.nominations import (
    Ballot,
    CandidateStanding,
    Nomination,
    NominationBook,
    NominatorId,
    RejectedNomination,
    Standing,
    nominate,
    standings,
    withdraw,
)
from tallyroom.election.nominations import close_nominations as close_book
from tallyroom.election.reader import parse_definition
from tallyroom.errors import InputError
from tallyroom.services.elections import get_election
from tallyroom.store import elections, nominations
from tallyroom.store.engine import Store
from tallyroom.store.schema import ElectionState, NominationKind

__all__ = [
    "ContestNominations",
    "close_nominations",
    "nomination_standings",
    "record_nomination",
    "record_withdrawal",
]


class ContestNominations:
    """A contest's nominations so far: each candidate's standing, and the papers refused.

    ``refused``: from :func:`record_nomination`, the paper just recorded when it does not
    count (kept, with its problem); ``None`` when it counts, and in every other answer.
    """

    __slots__ = ("contest", "refused", "rejected", "standings", "threshold")

    def __init__(
        self,
        contest: str,
        table: tuple[CandidateStanding, ...],
        threshold: int | None,
        rejected: tuple[RejectedNomination, ...],
        refused: RejectedNomination | None = None,
    ) -> None:
        self.contest = contest
        self.standings = table
        self.threshold = threshold
        self.rejected = rejected
        self.refused = refused


def _now() -> datetime:
    return datetime.now(UTC)


def _book(
    conn: Connection, election_id: int, definition: ElectionDefinition, contest: Contest
) -> NominationBook | None:
    """The contest's book replayed from its papers; ``None`` when it has no nomination rule."""
    if contest.nominations is None:
        return None
    book = definition.open_nominations(contest.name)
    for paper in nominations.papers(conn, election_id, contest.name):
        if paper.kind is NominationKind.WITHDRAWAL:
            book = withdraw(book, paper.candidate, paper.received_at)
        else:
            assert paper.nominator is not None
            book = nominate(
                book, Nomination(NominatorId(paper.nominator), paper.candidate, paper.received_at)
            )
    return book


def _withdrawn(conn: Connection, election_id: int, contest: str) -> set[str]:
    return {
        p.candidate
        for p in nominations.papers(conn, election_id, contest)
        if p.kind is NominationKind.WITHDRAWAL
    }


def _contest(definition: ElectionDefinition, name: str) -> Contest:
    for c in definition.contests:
        if c.name == name:
            return c
    raise InputError("no such contest in this election", field="contest", value=name)


def record_nomination(
    store: Store,
    slug: str,
    contest: str,
    candidate: str,
    nominator: str,
    *,
    actor: str,
    at: datetime | None = None,
) -> ContestNominations:
    """Record a nomination paper (kept even if it does not count); the contest's standings,
    with ``refused`` set when this paper does not count."""
    election = get_election(store, slug)
    definition = parse_definition(election.definition)
    c = _contest(definition, contest)
    if c.nominations is None:
        raise InputError("this contest takes no nominations", field="contest", value=contest)
    received = at or _now()
    with store.begin() as conn:
        book = _book(conn, election.id, definition, c)
        assert book is not None
        judged = nominate(book, Nomination(NominatorId(nominator), candidate, received))
        nominations.add_paper(
            conn,
            election.id,
            contest,
            NominationKind.NOMINATION,
            candidate,
            nominator=nominator,
            received_at=received,
            actor=actor,
        )
        table = _standings(conn, election.id, definition, c)
    if len(judged.rejected) > len(book.rejected):
        table.refused = judged.rejected[-1]
    return table


def record_withdrawal(
    store: Store,
    slug: str,
    contest: str,
    candidate: str,
    *,
    actor: str,
    at: datetime | None = None,
) -> ContestNominations:
    """Record a candidate's withdrawal (refused, and nothing stored, if it cannot be made)."""
    election = get_election(store, slug)
    definition = parse_definition(election.definition)
    c = _contest(definition, contest)
    received = at or _now()
    with store.begin() as conn:
        book = _book(conn, election.id, definition, c)
        if book is not None:
            withdraw(book, candidate, received)  # raises InputError if it cannot be made
        elif candidate not in c.candidate_names:
            raise InputError("no such candidate", field="candidate", value=candidate)
        elif candidate in _withdrawn(conn, election.id, contest):
            raise InputError(
                "the candidate has already withdrawn", field="candidate", value=candidate
            )
        nominations.add_paper(
            conn,
            election.id,
            contest,
            NominationKind.WITHDRAWAL,
            candidate,
            nominator=None,
            received_at=received,
            actor=actor,
        )
        return _standings(conn, election.id, definition, c)


def _standings(
    conn: Connection, election_id: int, definition: ElectionDefinition, contest: Contest
) -> ContestNominations:
    book = _book(conn, election_id, definition, contest)
    if book is None:
        gone = _withdrawn(conn, election_id, contest.name)
        table = tuple(
            CandidateStanding(name, (), Standing.WITHDRAWN if name in gone else Standing.DECLARED)
            for name in contest.candidate_names
        )
        return ContestNominations(contest.name, table, None, ())
    return ContestNominations(contest.name, standings(book), book.threshold, book.rejected)


def nomination_standings(store: Store, slug: str) -> dict[str, ContestNominations]:
    """Every contest's standings (in definition order), from the papers received so far."""
    election = get_election(store, slug)
    definition = parse_definition(election.definition)
    with store.read() as conn:
        return {c.name: _standings(conn, election.id, definition, c) for c in definition.contests}


def close_nominations(
    store: Store, slug: str, *, actor: str, at: datetime | None = None
) -> dict[str, tuple[str, ...]]:
    """Close nominations and fix every contest's ballot paper; the candidates per contest.

    Refused (nothing changes) if a contest would have no candidate at all.
    """
    election = get_election(store, slug)
    definition = parse_definition(election.definition)
    when = at or _now()
    with store.begin() as conn:
        fixed: dict[str, tuple[str, ...]] = {}
        facts: dict[str, JsonValue] = {}
        for c in definition.contests:
            book = _book(conn, election.id, definition, c)
            if book is None:
                gone = _withdrawn(conn, election.id, c.name)
                names = tuple(n for n in c.candidate_names if n not in gone)
                counts: Mapping[str, int] = {}
                threshold: int | None = None
            else:
                ballot: Ballot = close_book(book, when)
                names = ballot.candidates
                counts = {s.candidate: s.count for s in ballot.standings}
                threshold = ballot.threshold
            if not names:
                raise InputError(
                    "no candidate would be on the ballot", field="contest", value=c.name
                )
            fixed[c.name] = names
            facts[c.name] = {
                "candidates": list(names),
                "nominations": dict(counts),
                "threshold": threshold,
            }
        nominations.fix_ballots(conn, election.id, fixed)
        elections.advance(
            conn,
            election.id,
            ElectionState.NOMINATIONS_CLOSED,
            actor=actor,
            payload={"contests": facts},
        )
    return fixed
