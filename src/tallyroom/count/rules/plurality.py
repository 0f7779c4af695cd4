"""Plurality (first past the post) and the block vote, in one round.

Both read each ballot as a set of *marks*, after removing the candidates excluded before the
count (as if they were not on the ballot paper):

* **Plurality** (:func:`count_plurality`): a ballot marks the candidate at its first marked
  rank; a ranked ballot's later preferences are ignored. A first marked rank holding two or
  more candidates (an overvote) makes the ballot invalid. With ``seats`` above one, the
  ``seats`` candidates with most marks win (the single non-transferable vote).
* **Block vote** (:func:`count_block`): a ballot marks every candidate in it, whatever the
  rank; marking one candidate twice is one mark. A ballot may mark up to ``max_marks``
  candidates (default: one per seat); one with more is invalid and counts for nobody. Each
  mark is one vote; the ``seats`` candidates with most votes win.

A ballot with no marks is blank (:attr:`InactiveReason.NO_RANKINGS`); an overvote whose
candidates the source does not name makes a ballot invalid (:attr:`InactiveReason.INVALID`).
The undeclared write-in and excluded candidates can never win; the tally lists every
candidate. Ties for the last seats are broken by a recorded rule, one :class:`TieBreak` per
seat filled from the tie:

* :attr:`TieMethod.LOT`: a draw by :class:`~tallyroom.count.lot.Lot` (``java.util.Random(seed)``)
  over the tied candidates in candidate order, one generator for the count; the seed is
  recorded in :attr:`Count.options`;
* :attr:`TieMethod.CANDIDATE_ORDER`: the tied candidate listed first wins.

Arithmetic is exact: whole votes (``Scale(0)``), integer sums over grouped ballots.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import OVERVOTE, BallotStore, CandidateTable
from tallyroom.count.lot import Lot, LotDrawer
from tallyroom.count.numbers import Scale
from tallyroom.count.record import (
    Count,
    Decision,
    DecisionKind,
    InactiveReason,
    Round,
    TieBreak,
)
from tallyroom.count.rules.params import RuleParams
from tallyroom.errors import CountError

__all__ = ["MarkReading", "TieMethod", "count_block", "count_plurality"]


class TieMethod(enum.Enum):
    LOT = "lot"
    CANDIDATE_ORDER = "candidate order"


class MarkReading(enum.Enum):
    """Which of a ballot's marks count."""

    FIRST_PREFERENCE = "first preference"  # plurality: the first marked rank only
    ALL_MARKS = "all marks"  # block vote: every candidate marked, at any rank


@dataclass(frozen=True, slots=True)
class _Marks:
    """Each group's marks (groups x candidates), and which groups are blank or invalid."""

    marked: npt.NDArray[np.bool_]
    blank: npt.NDArray[np.bool_]
    invalid: npt.NDArray[np.bool_]


def count_plurality(
    store: BallotStore,
    candidates: CandidateTable,
    *,
    seats: int = 1,
    seed: int | None = None,
    tiebreak: TieMethod | None = None,
) -> Count:
    """First past the post: the ``seats`` candidates with most first preferences win."""
    return _count(
        "plurality", store, candidates, seats, MarkReading.FIRST_PREFERENCE, 1, seed, tiebreak
    )


def count_block(
    store: BallotStore,
    candidates: CandidateTable,
    *,
    seats: int,
    seed: int | None = None,
    tiebreak: TieMethod | None = None,
    max_marks: int | None = None,
) -> Count:
    """Block vote: up to ``max_marks`` (default ``seats``) marks; the most-marked win."""
    limit = seats if max_marks is None else max_marks
    if limit < 1:
        raise CountError(f"a ballot must be allowed at least one mark (max_marks={limit})")
    return _count("block", store, candidates, seats, MarkReading.ALL_MARKS, limit, seed, tiebreak)


def _count(
    rule: str,
    store: BallotStore,
    candidates: CandidateTable,
    seats: int,
    reading: MarkReading,
    max_marks: int,
    seed: int | None,
    tiebreak: TieMethod | None,
) -> Count:
    if seats < 1:
        raise CountError(f"there must be at least one seat (seats={seats})")
    method = tiebreak or (TieMethod.LOT if seed is not None else TieMethod.CANDIDATE_ORDER)
    if method is TieMethod.LOT and seed is None:
        raise CountError("a tie broken by lot needs a random seed")
    marks = _marks(store, candidates, reading, max_marks)
    weights = store.weights.astype(np.int64)
    valid = ~(marks.blank | marks.invalid)
    # exact: an integer matrix product over the grouped ballots, no floats
    votes = weights[valid] @ marks.marked[valid].astype(np.int64)
    blank = int(weights[marks.blank].sum())
    invalid = int(weights[marks.invalid].sum())
    names = candidates.names
    eligible = [
        c
        for c in range(len(names))
        if c not in candidates.excluded and c != candidates.undeclared_write_in
    ]
    winners, ties = _winners(
        [int(v) for v in votes.tolist()],
        eligible,
        seats,
        names,
        method,
        Lot(seed=seed).drawer() if seed is not None else None,
    )
    round_one = Round(
        number=1,
        threshold=None,
        tally=tuple((name, int(votes[c])) for c, name in enumerate(names)),
        decisions=tuple(Decision(DecisionKind.ELECTED, names[c]) for c in winners),
        inactive=((InactiveReason.NO_RANKINGS, blank), (InactiveReason.INVALID, invalid)),
        ties=tuple(ties),
    )
    return Count(
        rule=rule,
        candidates=names,
        seats=seats,
        scale=Scale(0),
        rounds=(round_one,),
        winners=tuple(names[c] for c in winners),
        total_ballots=store.total,
        undervotes=blank,
        options={
            "seats": seats,
            "reading": reading.value,
            "max_marks": max_marks,
            "tiebreak": method.value,
            "seed": seed,
        },
    )


def _marks(
    store: BallotStore, candidates: CandidateTable, reading: MarkReading, max_marks: int
) -> _Marks:
    """Read every group of ballots for its marks (see the module docstring)."""
    n = len(candidates)
    rows = store.rows
    groups = rows.shape[0]
    standing = np.ones(n + 1, dtype=bool)  # the last slot stands for "no candidate"
    standing[list(candidates.excluded)] = False
    standing[n] = False
    # Per cell: how many standing candidates it marks, and which one when it is one.
    sets = store.overvote_sets
    set_members = [[c for c in s if standing[c]] for s in sets]
    count_of_set = np.array([len(m) for m in set_members] + [0], dtype=np.int64)
    single_of_set = np.array([m[0] if len(m) == 1 else n for m in set_members] + [n])
    is_candidate = rows >= 0
    set_index = np.where(rows <= -3, -3 - rows, len(sets))
    cand = np.where(is_candidate, rows, n)
    counts = np.where(is_candidate, standing[cand].astype(np.int64), count_of_set[set_index])
    single = np.where(is_candidate & standing[cand], cand, single_of_set[set_index])
    unknown = rows == OVERVOTE
    counts = np.where(unknown, 2, counts)  # more than one candidate, none known
    marked = np.zeros((groups, n + 1), dtype=bool)
    if reading is MarkReading.FIRST_PREFERENCE:
        has_mark = counts > 0
        blank: npt.NDArray[np.bool_] = ~np.any(has_mark, axis=1)
        first = np.argmax(has_mark, axis=1)
        at_first = np.arange(groups)
        invalid = ~blank & (counts[at_first, first] > 1)
        take = ~blank & ~invalid
        marked[at_first[take], single[at_first[take], first[take]]] = True
        return _Marks(marked[:, :n], blank, invalid)
    rr, kk = np.nonzero(is_candidate)
    marked[rr, rows[rr, kk]] = True
    for k, members in enumerate(set_members):
        hit = np.flatnonzero(np.any(rows == -3 - k, axis=1))
        for c in members:
            marked[hit, c] = True
    marked[:, list(candidates.excluded)] = False
    marked = marked[:, :n]
    nmarks = marked.sum(axis=1)
    has_unknown = unknown.any(axis=1)
    blank = (nmarks == 0) & ~has_unknown
    invalid = has_unknown | (nmarks > max_marks)
    return _Marks(marked, blank, invalid)


def _winners(
    votes: list[int],
    eligible: list[int],
    seats: int,
    names: tuple[str, ...],
    method: TieMethod,
    lots: LotDrawer | None,
) -> tuple[list[int], list[TieBreak]]:
    """The winners, most votes first, and the ties broken for the last seats."""
    winners: list[int] = []
    ties: list[TieBreak] = []
    remaining = list(eligible)
    while remaining and len(winners) < seats:
        top = max(votes[c] for c in remaining)
        level = [c for c in remaining if votes[c] == top]  # candidate order
        free = seats - len(winners)
        if len(level) <= free:
            winners.extend(level)
        else:
            contest = list(level)
            for left in range(free, 0, -1):
                if method is TieMethod.LOT:
                    assert lots is not None
                    pick = lots.draw(contest)
                    how = "drawn by lot"
                else:
                    pick = contest[0]
                    how = "listed first among the tied candidates"
                ties.append(
                    TieBreak(
                        round=1,
                        purpose=DecisionKind.ELECTED,
                        tied=tuple(names[c] for c in contest),
                        chosen=names[pick],
                        method=method.value,
                        explanation=f"{len(contest)} tied on {top} votes for {left} seat(s); {how}",
                    )
                )
                winners.append(pick)
                contest.remove(pick)
        remaining = [c for c in remaining if c not in level]
    return winners, ties


def plurality_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: :func:`count_plurality` for ``params.seats``, lots by its seed."""
    return count_plurality(store, candidates, seats=params.seats, seed=params.seed)
