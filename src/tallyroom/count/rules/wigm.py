"""Weighted inclusive Gregory method (WIGM) STV, with declared precision and quota.

WIGM is the Gregory method in which a surplus is passed on by transferring *all* the papers of
the elected candidate, each at a value reduced in proportion to the surplus. Its best-known
statutory text is the Scottish local government rules (SSI 2007/42, Schedule 1, rules 45-52,
re-made as rules 46-53 of SSI 2011/399), quoted in :mod:`~tallyroom.count.rules.scottish_stv`;
Scottish STV *is* this module with the statutory parameters. The steps below are tagged with
those rules (2007 numbering, ``[r.N]``).

1. **First stage** [r.45]: each valid paper (a first preference given) counts one vote for its
   first preference, passing over withdrawn candidates.
2. **Quota** [r.46], from the ``V`` valid papers and ``S`` seats, at ``d`` decimal places:
   ``DROOP`` ``floor(V / (S + 1)) + 1`` (the statute); ``DROOP_FRACTIONAL``
   ``floor_d(V / (S + 1)) + 10**-d`` (the PR Foundation's reference WIGM [PRF A.1], see
   :mod:`.wigm_prf`); ``HARE`` ``ceil_d(V / S)`` (at least ``10**-d``).
3. **Election** [r.47]: after every stage each continuing candidate with votes at or over the
   quota is elected (listed by votes, highest first).
4. **Surplus** [r.48, r.49]: while vacancies remain, the largest untransferred surplus is
   transferred, one candidate per stage. Every paper the candidate holds moves to its next
   available preference at the transfer value ``surplus x value / total``, truncated to ``d``
   places (``PER_PAPER``, the statute's "A divided by B"); or, with ``FRACTION``, at
   ``floor_d(value x floor_d(surplus / total))``; or, with ``STEPWISE`` [PRF D.4], at
   ``floor_d(floor_d(value x surplus) / total)``. Papers with no next preference are
   non-transferable at that value. The candidate keeps the quota; what truncation loses is the
   *residual surplus*. A surplus of zero makes no stage.
5. **Exclusion** [r.50]: with no surplus to transfer, the continuing candidate with the fewest
   votes is excluded, one per stage, and all their papers move at their current value.
   **Sure losers** [PRF B.2], with ``DefeatBatch.SAFE`` only, before any surplus: the largest
   set of lowest continuing candidates (whole groups, each candidate joining the group below
   when within the untransferred surpluses of its lowest vote) that leaves at least as many
   continuing candidates as vacancies and whose votes plus every untransferred surplus are
   below the lowest vote outside it, are excluded together in one stage.
6. **Ties** [r.49(2)-(3), r.51]: equal surpluses, or equal lowest votes, are decided by the
   votes at the most recent preceding stage at which the candidates differed (the statute;
   ``PriorStages.EARLIEST`` looks from the first stage forward instead), then by lot. Given a
   ``tie_order`` (a BLT file's ``[tie ...]``; [PRF D.1] "a predetermined random tiebreaking
   order"), the tied candidate listed first in it instead, with no look-back.
7. **End** [r.52]: when every seat is filled, or when the continuing candidates are no more than
   the vacancies (they are then all elected at that stage), nothing more is transferred.

The record (see :class:`~tallyroom.count.record.Count`): one round per stage, labelled
``first preferences``, ``surplus of NAME`` or ``exclusion of NAME``. ``tally`` is every
candidate's vote after that stage's transfer (withdrawn candidates omitted): an elected
candidate at their full vote until the surplus stage, then at the quota; an excluded candidate
at 0. ``inactive`` holds the cumulative non-transferable votes (``EXHAUSTED_CHOICES``) and the
papers with no first preference (``INVALID``, one vote each); ``residual_surplus`` the
cumulative truncation loss, so that ``tally + non-transferable + residual = valid papers`` at
every stage. The ELECTED decision is on the stage a candidate is elected; the stage that moves
their surplus carries a second ELECTED decision for them with its transfers (candidates,
``exhausted``, ``residual surplus``). An exclusion's ELIMINATED decision carries its transfers.
Blank papers are ``Count.undervotes``.

Arithmetic is exact: votes are integers in units of ``10**-d``; the only rounding is the named
truncation of the transfer value (and of a fractional quota). ``Arithmetic.GUARDED`` is Droop's
guarded arithmetic: units of ``10**-(d + g)``, values within half of ``10**-d`` equal, the
fractional quota without its added unit and a candidate elected only when over it.
``Arithmetic.RATIONAL`` is exact: integers over a common denominator that grows as surpluses
move, the quota exact and a candidate elected only when over it. Known deviations: see
``docs/rules/wigm.md``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.lot import Lot
from tallyroom.count.numbers import Scale
from tallyroom.count.record import Count, DecisionKind, TieBreak
from tallyroom.count.rules.gregory import (
    Papers,
    PriorStages,
    Stages,
    Ties,
    Transfers,
    Units,
)
from tallyroom.count.rules.params import Arithmetic, DefeatBatch, QuotaRule, RuleParams
from tallyroom.errors import ConfigError, CountError

__all__ = ["DefeatBatch", "QuotaRule", "TransferRounding", "WigmOptions", "count_wigm"]

_NO_LOT = Lot()  # a tie left to lot stops the count (no seed, no decider)


class TransferRounding(enum.Enum):
    """Where a surplus transfer value is truncated to the declared places."""

    PER_PAPER = "per-paper"  # floor_d(surplus x value / total): SSI 2007/42 r.48(3)
    FRACTION = "fraction"  # floor_d(value x floor_d(surplus / total))
    STEPWISE = "stepwise"  # floor_d(floor_d(value x surplus) / total): PRF WIGM D.4


@dataclass(frozen=True, slots=True)
class WigmOptions:
    """The parameters of a WIGM count (Scottish STV: the defaults, with its seats)."""

    seats: int = 1
    places: int = 5
    quota: QuotaRule = QuotaRule.DROOP
    transfer: TransferRounding = TransferRounding.PER_PAPER
    prior_stages: PriorStages = PriorStages.MOST_RECENT
    lot: Lot = _NO_LOT
    tie_order: tuple[int, ...] | None = None  # given: ties go by it, no look-back, no lot
    defeat_batch: DefeatBatch = DefeatBatch.NONE
    arithmetic: Arithmetic = Arithmetic.FIXED  # FIXED or GUARDED (with ``guard`` digits)
    guard: int = 0

    @property
    def unit_places(self) -> int:
        """The places of the integer units every value is held in."""
        return self.places + (self.guard if self.arithmetic is Arithmetic.GUARDED else 0)

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise ConfigError("at least one seat is needed", field="seats", value=self.seats)
        if not 0 <= self.places <= 18:
            raise ConfigError(
                "decimal places must be in [0..18]", field="places", value=self.places
            )
        if not 0 <= self.guard <= 18:
            raise ConfigError("guard digits must be in [0..18]", field="guard", value=self.guard)


def count_wigm(
    store: BallotStore,
    candidates: CandidateTable,
    options: WigmOptions,
    *,
    rule: str = "wigm",
) -> Count:
    """Count ``store`` by WIGM under ``options``; the complete stage-by-stage record."""
    return _Wigm(store, candidates, options, rule).run()


class _Wigm:
    """One WIGM count (mutable working state; the result is a frozen Count)."""

    def __init__(
        self, store: BallotStore, candidates: CandidateTable, options: WigmOptions, rule: str
    ) -> None:
        self.opt = options
        self.rule = rule
        self.scale = Scale(options.unit_places)
        self.one = self.scale.one
        # RATIONAL: exact; values are integers in units of 1/one, where one (the common
        # denominator) starts at S(S+1), so that every quota is whole, and is multiplied by a
        # candidate's total before their surplus moves, so that every transfer value is whole.
        # The record shows each value truncated to ``places``.
        self.rational = options.arithmetic is Arithmetic.RATIONAL
        if self.rational:
            self.one = options.seats * (options.seats + 1)
        # [Droop guarded] values within half a unit of 10**-places are equal; the quota has no
        # added unit and a candidate is elected over it, as in exact arithmetic
        self.guarded = options.arithmetic is Arithmetic.GUARDED and options.guard > 0
        self.tolerance = max(10**options.guard // 2, 1) if self.guarded else 0
        self.names = candidates.names
        self.n = len(candidates)
        self.papers = Papers(store, candidates, self.one)
        if self.rational:  # denominators grow without bound: Python integers
            papers = self.papers
            papers.dtype = object
            papers.papers = papers.papers.astype(object)
            papers.value = papers.value.astype(object)
        self.continuing = np.ones(self.n, dtype=bool)
        for c in candidates.excluded:
            self.continuing[c] = False  # withdrawn: never in the count
        self.votes = [0] * self.n
        self.exhausted = 0
        self.residual = 0
        self.quota = 0
        self.pending: list[int] = []  # elected, surplus not yet transferred
        self.ties = Ties(self.names, options.prior_stages, options.lot, options.tie_order)
        papers = self.papers
        self.blank = papers.count_of(papers.blank)
        invalid = papers.count_of(~papers.valid & ~papers.blank)
        self.stages = Stages(candidates, self.scale, invalid * self.scale.one)
        self.total = int(store.weights.sum())

    # -- the count ------------------------------------------------------------------------------
    def run(self) -> Count:
        papers = self.papers
        # [r.45] sort the valid papers by first preference; one vote each
        first = papers.first_preferences(self.continuing)
        self.votes = list(first.to)
        self.exhausted = first.exhausted
        self.quota = self._quota(papers.count_of(papers.valid))
        self._add("first preferences", [])
        self.ties.remember("stage 1", self.votes)
        self._elect_reached()
        while self._stage():
            pass
        opt = self.opt
        return self.stages.finish(
            self.rule,
            opt.seats,
            self.total,
            self.blank,
            {"options": opt, "seed": opt.lot.seed, "quota": self._shown(self.quota)},
        )

    # -- the record: values as the scale shows them ---------------------------------------------
    def _shown(self, units: int) -> int:
        """``units`` of 1/one in the record's units (RATIONAL: truncated to ``places``)."""
        return units * self.scale.one // self.one if self.rational else units

    def _add(self, label: str, ties: list[TieBreak]) -> None:
        s = self._shown
        votes = [s(v) for v in self.votes]
        self.stages.add(label, votes, s(self.quota), s(self.exhausted), s(self.residual), ties)

    def _book(
        self,
        kind: DecisionKind,
        candidate: int,
        moved: list[int],
        *,
        exhausted: int = 0,
        residual: int = 0,
    ) -> None:
        s = self._shown
        self.stages.book(
            kind, candidate, [s(v) for v in moved], exhausted=s(exhausted), residual=s(residual)
        )

    def _rescale(self, factor: int) -> None:
        """RATIONAL: every value in units ``factor`` times smaller (exactly)."""
        papers = self.papers
        papers.value = papers.value * factor
        self.votes = [v * factor for v in self.votes]
        self.exhausted *= factor
        self.residual *= factor
        self.quota *= factor
        self.one *= factor

    def _quota(self, valid: int) -> int:
        one, seats = self.one, self.opt.seats
        rule = self.opt.quota
        if rule is QuotaRule.DROOP:
            # [r.46(1)-(2)] valid / (seats + 1), "ignoring any decimal places", increased by one
            return (valid // (seats + 1) + 1) * one
        if self.rational:
            # exact: V / (S + 1) or V / S, no added unit [Droop: "if V.exact"]
            return valid * one // (seats + 1 if rule is QuotaRule.DROOP_FRACTIONAL else seats)
        if rule is QuotaRule.DROOP_FRACTIONAL:
            if self.guarded:
                return (valid * one) // (seats + 1)  # [Droop guarded] V / (S + 1), no epsilon
            return (valid * one) // (seats + 1) + 1  # truncated to d places, plus 10**-d
        return max(-((-valid * one) // seats), 1)  # rounded up to d places

    def _stage(self) -> bool:
        """Run the next stage; False when the count is over."""
        vacancies = self.opt.seats - len(self.stages.winners)
        if vacancies <= 0:
            return False  # [r.48(1)] transfers only while vacancies remain
        continuing = [c for c in range(self.n) if self.continuing[c]]
        if len(continuing) <= vacancies:
            # [r.52(1)-(2)] the continuing candidates fill the last vacancies; no more transfers
            for c in sorted(continuing, key=lambda c: (-self.votes[c], c)):
                self.continuing[c] = False
                self.stages.elect(c)
            return False
        stage = self.stages.number + 1
        ties: list[TieBreak] = []
        batch = self._sure_losers(continuing, vacancies)
        if batch:
            self._exclude_batch(batch)
        elif self.pending:
            # [r.49(1)] the largest surplus first; equal surpluses [r.49(2)-(3)]
            top = max(self.votes[c] for c in self.pending)
            tied = [c for c in self.pending if self._eq(self.votes[c], top)]
            chosen = self._break(stage, tied, DecisionKind.ELECTED, ties, most=True)
            self._transfer_surplus(chosen, ties)
        else:
            # [r.50(1)] exclude the continuing candidate with the then lowest votes [r.51]
            low = min(self.votes[c] for c in continuing)
            tied = [c for c in continuing if self._eq(self.votes[c], low)]
            chosen = self._break(stage, tied, DecisionKind.ELIMINATED, ties, most=False)
            self._exclude(chosen, ties)
        self.ties.remember(f"stage {stage}", self.votes)
        self._elect_reached()
        return True

    def _sure_losers(self, continuing: list[int], vacancies: int) -> list[int]:
        """[PRF WIGM B.2] With ``DefeatBatch.SAFE``: the largest set of hopefuls that (a) leaves
        at least ``vacancies`` hopefuls, (b) holds, with each member, every hopeful within the
        untransferred surplus of its group's lowest vote ("the same vote or lower"), and (c)
        whose votes plus every untransferred surplus are below the lowest vote outside it."""
        if self.opt.defeat_batch is DefeatBatch.NONE:
            return []
        votes = self.votes
        surplus = sum(votes[c] - self.quota for c in self.pending)
        groups: list[list[int]] = []
        for c in sorted(continuing, key=lambda c: (votes[c], c)):
            if groups and self._ge(votes[groups[-1][0]] + surplus, votes[c]):
                groups[-1].append(c)  # within the surplus of the group's lowest: tied with it
            else:
                groups.append([c])
        most = len(continuing) - vacancies  # [B.2.a]
        taken, total, best = 0, 0, -1
        for g in range(len(groups) - 1):  # never the last group: that would be everyone
            taken += len(groups[g])
            if taken > most:
                break
            total += sum(votes[c] for c in groups[g])
            if self._lt(total + surplus, votes[groups[g + 1][0]]):  # [B.2.c]
                best = g
        return [c for group in groups[: best + 1] for c in group]  # [B.2.b] whole groups

    # -- comparisons: exact in fixed point; within the tolerance in guarded arithmetic --------
    def _eq(self, a: int, b: int) -> bool:
        return abs(a - b) < self.tolerance if self.guarded else a == b

    def _ge(self, a: int, b: int) -> bool:
        return b - a < self.tolerance if self.guarded else a >= b

    def _lt(self, a: int, b: int) -> bool:
        return not self._ge(a, b)

    def _reached(self, votes: int) -> bool:
        """[r.47(1)] at or over the quota; guarded: over it, by at least the tolerance;
        rational: over it."""
        if self.guarded:
            return votes - self.quota >= self.tolerance
        return votes > self.quota if self.rational else votes >= self.quota

    def _break(
        self,
        stage: int,
        tied: list[int],
        purpose: DecisionKind,
        ties: list[TieBreak],
        *,
        most: bool,
    ) -> int:
        if len(tied) == 1:
            return tied[0]
        chosen, record = self.ties.choose(stage, tied, purpose, most=most)
        ties.append(record)
        return chosen

    def _elect_reached(self) -> None:
        # [r.47(1)] votes equal to or over the quota: deemed elected at this stage
        reached = [c for c in range(self.n) if self.continuing[c] and self._reached(self.votes[c])]
        vacancies = self.opt.seats - len(self.stages.winners)
        if len(reached) > vacancies:
            raise CountError(f"{len(reached)} candidates reached the quota for {vacancies} seats")
        for c in sorted(reached, key=lambda c: (-self.votes[c], c)):
            self.continuing[c] = False
            self.stages.elect(c)
            if self.votes[c] > self.quota:
                self.pending.append(c)  # a zero surplus makes no stage

    # -- transfers ------------------------------------------------------------------------------
    def _transfer_surplus(self, candidate: int, ties: list[TieBreak]) -> None:
        papers = self.papers
        if self.rational:
            self._rescale(self.votes[candidate])  # every v x surplus / total now whole
        total = self.votes[candidate]
        surplus = total - self.quota
        # [r.48(1)] all the papers received by the candidate, by next available preference
        groups = papers.held_by(candidate)
        values, where = np.unique(papers.value[groups], return_inverse=True)
        # [r.48(3)-(4)] each paper's value: surplus x its value when received / total votes
        tvs: Units = np.array(
            [self._transfer_value(surplus, int(v), total) for v in values], dtype=papers.dtype
        )
        recipient, column = papers.walk(groups, papers.pos[groups] + 1, self.continuing)
        moved = papers.move(groups, recipient, column, value=tvs[where.reshape(-1)])
        # [r.48(2)] continuing candidates are credited; [r.48(1)(b)] the rest non-transferable
        sent = Transfers.of(self.n, None, recipient, moved, papers.dtype)
        for c, v in enumerate(sent.to):
            self.votes[c] += v
        lost = surplus - sum(sent.to) - sent.exhausted  # "any remainder being ignored"
        self.exhausted += sent.exhausted
        self.residual += lost
        self.votes[candidate] = self.quota
        self.pending.remove(candidate)
        name = self.names[candidate]
        self._add(f"surplus of {name}", ties)
        self._book(
            DecisionKind.ELECTED, candidate, sent.to, exhausted=sent.exhausted, residual=lost
        )

    def _transfer_value(self, surplus: int, value: int, total: int) -> int:
        if self.rational or self.opt.transfer is TransferRounding.PER_PAPER:
            # [r.48(3)] A = surplus x value, B = total; "to five decimal places (any remainder
            # being ignored)": units of both sides cancel but one, so floor(s * v / T)
            return (surplus * value) // total
        if self.opt.transfer is TransferRounding.STEPWISE:
            # [PRF WIGM B.3, D.4] weight x surplus, then / total vote, each truncated to d places
            return ((value * surplus) // self.one * self.one) // total
        fraction = (surplus * self.one) // total  # floor_d(surplus / total)
        return (value * fraction) // self.one  # floor_d(value x fraction)

    def _exclude_batch(self, batch: list[int]) -> None:
        """[PRF WIGM B.2] Defeat every sure loser at once; their papers move in one stage."""
        papers = self.papers
        for c in batch:
            self.continuing[c] = False
        groups = papers.held_by_any(batch)
        source = papers.holder[groups].copy()
        recipient, column = papers.walk(groups, papers.pos[groups] + 1, self.continuing)
        moved = papers.move(groups, recipient, column)  # [D.2] at their current weight
        sent = Transfers.of(self.n, source, recipient, moved, papers.dtype)
        for c, v in enumerate(sent.to):
            self.votes[c] += v
        for c in batch:
            self.votes[c] = 0
        self.exhausted += sent.exhausted
        label = "exclusion of sure losers " + ", ".join(self.names[c] for c in batch)
        self._add(label, [])
        for c in batch:
            row = sent.by_source.get(c, [0] * (self.n + 1))
            self._book(DecisionKind.ELIMINATED, c, row[: self.n], exhausted=row[self.n])

    def _exclude(self, candidate: int, ties: list[TieBreak]) -> None:
        papers = self.papers
        self.continuing[candidate] = False
        # [r.50(2)-(3)] all the excluded candidate's papers, by next available preference
        groups = papers.held_by(candidate)
        recipient, column = papers.walk(groups, papers.pos[groups] + 1, self.continuing)
        # [r.50(4)] each at the value it had when transferred to the excluded candidate
        moved = papers.move(groups, recipient, column)
        sent = Transfers.of(self.n, None, recipient, moved, papers.dtype)
        for c, v in enumerate(sent.to):
            self.votes[c] += v
        self.votes[candidate] -= sum(sent.to) + sent.exhausted
        if self.votes[candidate] != 0:
            raise CountError(f"{self.names[candidate]}: votes and papers disagree")
        self.exhausted += sent.exhausted
        name = self.names[candidate]
        self._add(f"exclusion of {name}", ties)
        self._book(DecisionKind.ELIMINATED, candidate, sent.to, exhausted=sent.exhausted)


def wigm_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: WIGM at ``params.decimal_places`` with ``params.quota`` (default
    the whole-vote Droop quota) and ``params.defeat_batch``; ties by the ballot file's tie order
    when it gives one, else by look-back and lots drawn with ``params.seed``."""
    guarded = params.arithmetic is Arithmetic.GUARDED
    opts = WigmOptions(
        seats=params.seats,
        # Droop's guarded: 18 + 9 places; rational: exact, shown at --decimals
        places=18 if guarded else params.places(),
        quota=params.quota or QuotaRule.DROOP,
        lot=Lot(seed=params.seed),
        tie_order=params.tie_order or None,
        defeat_batch=params.defeat_batch or DefeatBatch.NONE,
        arithmetic=params.arithmetic or Arithmetic.FIXED,
        guard=9 if guarded else 0,
    )
    return count_wigm(store, candidates, opts)
