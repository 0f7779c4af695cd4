"""The machinery shared by the Gregory-method STV rule sets: papers, walks, ties and stages.

In a Gregory count every ballot paper carries a *value* (one vote at first, less once it has
been passed on as part of a surplus) and moves, whole, from candidate to candidate. The rule
sets built on this module (:mod:`~tallyroom.count.rules.wigm`,
:mod:`~tallyroom.count.rules.scottish_stv`, :mod:`~tallyroom.count.rules.ers97`) differ in
*which* papers move and at *what* value; what a paper is, how it finds its next preference, how
a tie is broken and how a stage is written down are the same, and live here.

**Papers.** Papers with the same ranking are always treated alike by these rules (they sit in
the same parcel, move together and get the same value), so a distinct ranking of the
:class:`~tallyroom.count.ballots.BallotStore` is the unit: :class:`Papers` keeps, per distinct
ranking, the number of papers, the candidate holding them, the rank they are at, their value
(fixed-point units, see :mod:`tallyroom.count.numbers`) and the batch they arrived in.

**Next available preference.** From its current rank a paper passes over candidates who are not
continuing (elected, excluded, withdrawn) and stops at the first continuing one. A rank that
names no candidate - an overvote or equal preference (void for uncertainty), or a skipped rank
(preferences must run on consecutively) - ends the paper: from there it is non-transferable.
A paper whose first rank names no candidate has no first preference and is invalid. Rule sets
whose ballots pass over skipped rankings (or overvotes) close them up first (:func:`closed_up`).

**Ties.** :class:`Ties` applies a rule set's look-back ("the most recent preceding stage" or
"the earliest point" at which the tied candidates had unequal votes), then a lot drawn from
``java.util.Random(seed)`` (the generator RCTab uses, see :mod:`tallyroom.count.javarandom`) or
asked of a caller's decider; or, given a *tie order* (Droop's ``[tie ...]``, the PR
Foundation reference rules' "predetermined random tiebreaking order"), the tied candidate
listed first in it, without look-back. Every tie met, however resolved, is recorded as a
:class:`~tallyroom.count.record.TieBreak` in the round of the stage it decides.

**Stages.** :class:`Stages` writes the record: one :class:`~tallyroom.count.record.Round` per
stage, its ``label`` the stage's action as a count sheet names it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import SKIP, BallotStore, CandidateTable
from tallyroom.count.lot import Lot, LotDrawer
from tallyroom.count.numbers import Scale
from tallyroom.count.record import (
    EXHAUSTED,
    RESIDUAL_SURPLUS,
    Count,
    Decision,
    DecisionKind,
    InactiveReason,
    Round,
    TieBreak,
)

__all__ = [
    "EXHAUSTED_HOLDER",
    "INVALID_HOLDER",
    "Papers",
    "PriorStages",
    "Stages",
    "Ties",
    "Transfers",
    "Units",
    "closed_up",
]

Units = npt.NDArray[Any]  # int64, or Python ints (dtype object) when int64 could overflow
Index = npt.NDArray[np.intp]

EXHAUSTED_HOLDER = -1  # a paper with no next available preference (non-transferable)
INVALID_HOLDER = -2  # a paper with no first preference: never counted


class PriorStages(enum.Enum):
    """Which earlier tallies break a tie between candidates with equal votes."""

    MOST_RECENT = "most recent preceding stage"  # e.g. SSI 2007/42 r.49(2), r.51(2)
    EARLIEST = "earliest point"  # e.g. ERS97 5.2.3, 5.2.5, 5.6.2


# -- papers -----------------------------------------------------------------------------------
def closed_up(store: BallotStore, *, overvotes: bool) -> BallotStore:
    """``store`` with skipped rankings (and, if ``overvotes``, overvotes and repeated
    candidates) closed up, for rule sets whose ballots pass over them instead of ending there.
    A candidate repeated counts at its first ranking either way."""
    rows = store.rows
    out = np.full(rows.shape, SKIP, dtype=np.int32)
    for i, row in enumerate(rows):
        kept: list[int] = []
        for code in (int(x) for x in row):
            if code == SKIP or (overvotes and (code < 0 or code in kept)):
                continue
            kept.append(code)
        out[i, : len(kept)] = kept
    return BallotStore(rows=out, weights=store.weights, overvote_sets=store.overvote_sets)


class Papers:
    """The ballot papers of a count, one entry per distinct ranking (mutable working state)."""

    def __init__(self, store: BallotStore, candidates: CandidateTable, one: int) -> None:
        rows = np.ascontiguousarray(store.rows, dtype=np.int32)
        if rows.ndim != 2 or rows.shape[1] == 0:
            rows = np.full((rows.shape[0], 1), -1, dtype=np.int32)
        self.rows = rows
        self.n = len(candidates)
        self.one = one
        groups, self.width = rows.shape
        total = int(store.weights.sum()) if groups else 0
        # exact sums of units need int64 headroom; beyond it Python ints (slower, still exact)
        self.dtype: type = np.int64 if (total + 1) * max(one, 1) < (1 << 62) else object
        self.papers: Units = store.weights.astype(self.dtype)
        self.holder = np.full(groups, INVALID_HOLDER, dtype=np.int32)
        self.pos = np.zeros(groups, dtype=np.int32)
        self.value: Units = np.full(groups, one, dtype=self.dtype)
        self.batch = np.zeros(groups, dtype=np.int32)
        self.blank = ~(rows != -1).any(axis=1)
        self.valid = rows[:, 0] >= 0
        self._cols = np.arange(self.width, dtype=np.int32)

    # -- totals ---------------------------------------------------------------------------------
    def count_of(self, mask: npt.NDArray[np.bool_]) -> int:
        """The number of papers in the distinct rankings selected by ``mask``."""
        return int(self.papers[mask].sum())

    def held_by(self, candidate: int) -> Index:
        return np.flatnonzero(self.holder == candidate)

    def held_by_any(self, candidates: Sequence[int]) -> Index:
        return np.flatnonzero(np.isin(self.holder, np.asarray(candidates, dtype=np.int32)))

    # -- the walk -------------------------------------------------------------------------------
    def walk(
        self, groups: Index, start: npt.NDArray[np.int32], continuing: npt.NDArray[np.bool_]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Next available preference of ``groups`` from column ``start`` on.

        Returns the recipient (a candidate code, or :data:`EXHAUSTED_HOLDER`) and its column.
        """
        if groups.size == 0:
            empty = np.empty(0, dtype=np.int32)
            return empty, empty
        sub = self.rows[groups]
        named = sub >= 0
        takes = named & continuing[np.where(named, sub, 0)]
        hit = (takes | ~named) & (self._cols[None, :] >= start[:, None])
        found = hit.any(axis=1)
        col = np.where(found, hit.argmax(axis=1), self.width - 1).astype(np.int32)
        code = sub[np.arange(groups.size), col]
        recipient = np.where(found & (code >= 0), code, EXHAUSTED_HOLDER).astype(np.int32)
        return recipient, np.where(found, col, self.width).astype(np.int32)

    def move(
        self,
        groups: Index,
        recipient: npt.NDArray[np.int32],
        column: npt.NDArray[np.int32],
        *,
        value: Units | None = None,
        batch: int | None = None,
    ) -> Units:
        """Give ``groups`` to ``recipient`` (at ``value`` if given); returns units moved each."""
        self.holder[groups] = recipient
        self.pos[groups] = column
        if value is not None:
            self.value[groups] = value
        if batch is not None:
            self.batch[groups] = batch
        moved: Units = self.papers[groups] * self.value[groups]
        return moved

    def first_preferences(self, continuing: npt.NDArray[np.bool_]) -> Transfers:
        """Stage one: every valid paper to its first preference (passing withdrawn candidates)."""
        groups = np.flatnonzero(self.valid)
        start = np.zeros(groups.size, dtype=np.int32)
        recipient, column = self.walk(groups, start, continuing)
        moved = self.move(groups, recipient, column)
        return Transfers.of(self.n, None, recipient, moved, self.dtype)


@dataclass(slots=True)
class Transfers:
    """Units moved by one transfer: to each candidate, to non-transferable, per source."""

    to: list[int]  # units received, per candidate code
    exhausted: int  # units that found no next available preference
    by_source: dict[int, list[int]] = field(default_factory=dict)  # source -> to (+ exhausted)

    @staticmethod
    def of(
        n: int,
        source: npt.NDArray[np.int32] | None,
        recipient: npt.NDArray[np.int32],
        moved: Units,
        dtype: type,
    ) -> Transfers:
        dest = np.where(recipient >= 0, recipient, n).astype(np.intp)
        if source is None:
            sums: Units = np.zeros(n + 1, dtype=dtype)
            np.add.at(sums, dest, moved)
            totals = [int(v) for v in sums]
            return Transfers(to=totals[:n], exhausted=totals[n])
        table: Units = np.zeros((n, n + 1), dtype=dtype)
        np.add.at(table, (source.astype(np.intp), dest), moved)
        col = table.sum(axis=0)
        by_source = {
            int(s): [int(v) for v in table[s]] for s in np.flatnonzero((table != 0).any(axis=1))
        }
        totals = [int(v) for v in col]
        return Transfers(to=totals[:n], exhausted=totals[n], by_source=by_source)


# -- ties -------------------------------------------------------------------------------------
class Ties:
    """Breaks ties by earlier tallies, then by lot; records each one."""

    def __init__(
        self,
        names: Sequence[str],
        prior: PriorStages,
        lot: Lot,
        order: Sequence[int] | None = None,
    ) -> None:
        self.names = tuple(names)
        self.prior = prior
        self.lot = lot
        self.order = None if order is None else tuple(order)
        self._lots = lot.drawer()
        self.points: list[tuple[str, tuple[int, ...]]] = []  # (where, votes per candidate)

    @property
    def drawer(self) -> LotDrawer:
        """The count's one generator (rules that also draw papers by lot share it)."""
        return self._lots

    def remember(self, where: str, votes: Sequence[int]) -> None:
        """Keep the tallies at a point the rule set's look-back may consult."""
        self.points.append((where, tuple(votes)))

    def look_back(self, tied: Sequence[int], *, most: bool) -> tuple[list[int], str]:
        """Narrow ``tied`` by the remembered tallies, in the rule set's order: keep those with
        the most (``most``) or fewest votes at each point where they differ. Returns those left
        (one when the look-back decides) and the point that decided, if any."""
        contention = sorted(tied)
        order = range(len(self.points))
        seq = reversed(order) if self.prior is PriorStages.MOST_RECENT else iter(order)
        decided = ""
        for i in seq:
            where, votes = self.points[i]
            target = (max if most else min)(votes[c] for c in contention)
            narrowed = [c for c in contention if votes[c] == target]
            if len(narrowed) < len(contention):
                contention, decided = narrowed, where
                if len(contention) == 1:
                    break
        return contention, decided

    def choose(
        self, stage: int, tied: Sequence[int], purpose: DecisionKind, *, most: bool
    ) -> tuple[int, TieBreak]:
        """One of ``tied``: the one with the most (``most``) or fewest votes at the decisive
        earlier point, else by lot."""
        names = tuple(self.names[c] for c in sorted(tied))
        if self.order is not None:
            # the first listed in the tie order; candidates it omits follow in candidate order
            rank = {c: i for i, c in enumerate(self.order)}
            pick = min(tied, key=lambda c: (rank.get(c, len(rank)), c))
            where = "the tie order" if self.order else "candidate order"
            record = TieBreak(stage, purpose, names, self.names[pick], "tie order", where)
            return pick, record
        contention, where = self.look_back(tied, most=most)
        if len(contention) == 1:
            how = f"{'most' if most else 'fewest'} votes at {where}"
            return contention[0], self._record(stage, purpose, names, contention[0], how)
        pick = self._draw(stage, contention, purpose)
        left = ", ".join(self.names[c] for c in contention)
        how = f"{left} equal at every earlier point; decided by lot"
        if not self.points:  # a rule set with no look-back: straight to the lot
            how = "decided by lot"
        if self.lot.decider is None:
            how += f" (java.util.Random seed {self.lot.seed})"
        return pick, self._record(stage, purpose, names, pick, how, lot=True)

    def lowest(
        self,
        stage: int,
        votes: Sequence[int],
        continuing: Sequence[int],
        size: int,
        ties: list[TieBreak],
    ) -> list[int]:
        """The ``size`` candidates of ``continuing`` with the fewest ``votes``, fewest first;
        equal votes at the edge of the group decided as an exclusion tie (:meth:`choose`),
        each decision appended to ``ties``."""
        edge = sorted(votes[c] for c in continuing)[size - 1]
        group = [c for c in continuing if votes[c] < edge]
        block = [c for c in continuing if votes[c] == edge]
        while len(group) < size:
            if len(block) == 1:
                group.append(block.pop())
                continue
            chosen, record = self.choose(stage, block, DecisionKind.ELIMINATED, most=False)
            ties.append(record)
            group.append(chosen)
            block.remove(chosen)
        return sorted(group, key=lambda c: (votes[c], group.index(c)))

    def _draw(self, stage: int, contention: list[int], purpose: DecisionKind) -> int:
        names = [self.names[c] for c in contention]
        what = "election" if purpose is DecisionKind.ELECTED else "exclusion"
        return self._lots.choose(
            contention,
            names,
            stage=stage,
            winner=purpose is DecisionKind.ELECTED,
            what=f"{what} at stage {stage}",
        )

    def _record(
        self,
        stage: int,
        purpose: DecisionKind,
        names: tuple[str, ...],
        pick: int | None,
        how: str,
        *,
        lot: bool = False,
    ) -> TieBreak:
        method = "lot" if lot else self.prior.value
        chosen = self.names[pick] if pick is not None else ""
        return TieBreak(stage, purpose, names, chosen, method, how)

    def undecided(
        self, stage: int, tied: Sequence[int], purpose: DecisionKind, how: str
    ) -> TieBreak:
        """Record a tie the rules leave undecided at this stage (``chosen`` is empty)."""
        names = tuple(self.names[c] for c in sorted(tied))
        return self._record(stage, purpose, names, None, how)


# -- the record -------------------------------------------------------------------------------
@dataclass(slots=True)
class _Stage:
    label: str
    ties: list[TieBreak]
    threshold: int = 0
    tally: tuple[tuple[str, int], ...] = ()
    exhausted: int = 0
    residual: int = 0
    decisions: list[Decision] = field(default_factory=list)


class Stages:
    """Writes a count down stage by stage, then freezes it into a :class:`Count`."""

    def __init__(self, candidates: CandidateTable, scale: Scale, invalid_units: int) -> None:
        self.names = candidates.names
        self.shown = [c for c in range(len(candidates)) if c not in candidates.excluded]
        self.scale = scale
        self.invalid = invalid_units
        self.stages: list[_Stage] = []
        self.winners: list[int] = []

    @property
    def number(self) -> int:
        """The number of the latest stage."""
        return len(self.stages)

    def open(self, label: str, ties: Sequence[TieBreak] = ()) -> None:
        """Start a stage; decisions taken during it go to it until the next one opens."""
        self.stages.append(_Stage(label, list(ties)))

    def close(self, votes: Sequence[int], threshold: int, exhausted: int, residual: int) -> None:
        """The figures at the end of the latest stage."""
        stage = self.stages[-1]
        stage.tally = tuple((self.names[c], votes[c]) for c in self.shown)
        stage.threshold = threshold
        stage.exhausted = exhausted
        stage.residual = residual

    def add(
        self,
        label: str,
        votes: Sequence[int],
        threshold: int,
        exhausted: int,
        residual: int,
        ties: Sequence[TieBreak] = (),
    ) -> None:
        """A whole stage at once."""
        self.open(label, ties)
        self.close(votes, threshold, exhausted, residual)

    def tie(self, record: TieBreak) -> None:
        self.stages[-1].ties.append(record)

    def elect(self, candidate: int) -> None:
        """``candidate`` is elected at the latest stage."""
        self.winners.append(candidate)
        self.stages[-1].decisions.append(Decision(DecisionKind.ELECTED, self.names[candidate]))

    def book(
        self,
        kind: DecisionKind,
        candidate: int,
        moved: Sequence[int],
        *,
        exhausted: int = 0,
        residual: int = 0,
        index: int | None = None,
    ) -> None:
        """Book on the latest stage the transfer of ``candidate``'s papers (a surplus or an
        exclusion); ``moved`` is units received per candidate code. ``index`` places the
        decision among the stage's others (default: last)."""
        transfers = [(self.names[c], v) for c, v in enumerate(moved) if v]
        if exhausted:
            transfers.append((EXHAUSTED, exhausted))
        if residual:
            transfers.append((RESIDUAL_SURPLUS, residual))
        decision = Decision(kind, self.names[candidate], tuple(transfers))
        decisions = self.stages[-1].decisions
        decisions.insert(len(decisions) if index is None else index, decision)

    def finish(
        self,
        rule: str,
        seats: int,
        total_ballots: int,
        undervotes: int,
        options: dict[str, object],
    ) -> Count:
        rounds = tuple(
            Round(
                number=i + 1,
                threshold=s.threshold,
                tally=s.tally,
                decisions=tuple(s.decisions),
                inactive=(
                    (InactiveReason.EXHAUSTED_CHOICES, s.exhausted),
                    (InactiveReason.INVALID, self.invalid),
                ),
                residual_surplus=s.residual,
                ties=tuple(s.ties),
                label=s.label,
            )
            for i, s in enumerate(self.stages)
        )
        return Count(
            rule=rule,
            candidates=self.names,
            seats=seats,
            scale=self.scale,
            rounds=rounds,
            winners=tuple(self.names[c] for c in self.winners),
            total_ballots=total_ballots,
            undervotes=undervotes,
            options=options,
        )
