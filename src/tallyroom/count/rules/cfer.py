"""CfER STV: the Californians for Electoral Reform model ranked-voting statute ("choice voting").

Source: Californians for Electoral Reform (CfER), model bill adding Chapter 2 "Ranked voting"
(s.10050 ff.) to Division 10 of the California Elections Code, draft v4c "for technical
review", as Droop implements it (rules ``cfer`` and ``cfer-batch``); s.10059 is the
multiple-winner count ("choice voting"). Each step is tagged with its clause.

* [10053(b)] a *continuing candidate* has been neither elected nor defeated; [10053(h)] a
  ballot counts for its highest ranked continuing candidate unless an overvote ranking comes
  first; [10057(a)] a ranking with no candidate is passed over; [10057(c)] a ballot with no
  highest ranked continuing candidate is an undervote, an overvote or exhausted.
* [10053(i)] a *defeat set* is a continuing candidate and every continuing candidate with fewer
  or equal votes.
* [10059(a)(1)] first round: each ballot to its highest ranked continuing candidate at transfer
  value 1.00000. [10059(a)(2)] the threshold: "the total number of ballots cast ..., excluding
  undervotes, ... divided by the sum of one plus the number of offices to be filled, plus one,
  disregarding any fraction" (:attr:`QuotaRule.DROOP`); Droop's counter computes
  ``V / (S + 1) + 0.00001`` instead (:attr:`QuotaRule.DROOP_FRACTIONAL`, the default here, so
  that counts match the reference counter; see ``docs/rules/cfer.md``).
* [10059(b)] a candidate's votes are the sum of the transfer values of the ballots counting for
  them.
* [10059(c)] in the first round, if the continuing candidates are no more than the offices,
  all are elected.
* [10059(d)] each continuing candidate at or over the threshold is elected; the surplus is the
  excess. [10059(e)] when the elected fill the offices, the rest are defeated: complete.
* [10059(f), (k)] optionally (``DefeatBatch.SAFE``: Droop's ``cfer-batch``), the largest defeat
  set such that (1) the continuing candidates outside it plus the elected are at least the
  offices; (2) its votes plus the total surplus are less than the fewest votes outside it; and
  (3) (A) one office is left, or (B) those outside it plus the elected exactly fill the
  offices, or (C) its votes plus the total surplus are less than the threshold minus the most
  votes of any continuing candidate, or (D) the total surplus is zero and its votes minus its
  highest vote are less than that difference - is defeated.
* [10059(g)] otherwise every elected candidate's surplus is transferred (one stage each, in
  candidate order, all in the same round): each ballot at "the
  previous transfer value, multiplied by the elected candidate's surplus, divided by the votes
  for the elected candidate, truncated to five decimal places"; the candidate's votes then
  equal the threshold.
* [10059(h)] otherwise the continuing candidate with the fewest votes is defeated; [10057(b),
  10059(h)(2)] a tie for fewest is chosen by lot (here: the ballot file's ``[tie ...]`` order,
  as in Droop, else ``java.util.Random(seed)``).
* [10059(i)] after a defeat: (1) if the continuing plus the elected are the offices, all
  continuing are elected and the count is complete (the defeated candidates' ballots are not
  moved); (2) else each ballot of a defeated candidate moves at its previous transfer value.
* [10059(j)] a new round.

Arithmetic: integers in units of 10**-5 votes; the transfer value is truncated once per ballot
(``floor5(value x surplus / votes)``). Droop truncates the product and the quotient each (they
agree while a ballot's value is 1, as on every reference file).
"""

from __future__ import annotations

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
    closed_up,
)
from tallyroom.count.rules.params import DefeatBatch, QuotaRule, RuleParams
from tallyroom.errors import ConfigError

__all__ = ["RULE_NAME", "CferOptions", "count_cfer"]

RULE_NAME = "cfer"
PLACES = 5  # [10059(g)(2)] "truncated to five decimal places"
_NO_LOT = Lot()


@dataclass(frozen=True, slots=True)
class CferOptions:
    """Seats, the threshold's reading, batch defeats and how a tie for fewest is decided."""

    seats: int = 1
    quota: QuotaRule = QuotaRule.DROOP_FRACTIONAL
    defeat_batch: DefeatBatch = DefeatBatch.NONE
    lot: Lot = _NO_LOT  # [10057(b)]
    tie_order: tuple[int, ...] | None = None  # given: ties go by it instead of a lot

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise ConfigError("at least one seat is needed", field="seats", value=self.seats)
        if self.quota is QuotaRule.HARE:
            raise ConfigError(
                "the CfER threshold is a Droop quota", field="quota", value=self.quota.value
            )


def count_cfer(store: BallotStore, candidates: CandidateTable, options: CferOptions) -> Count:
    """Count ``store`` under s.10059; the complete round-by-round record."""
    return _Cfer(store, candidates, options).run()


class _Cfer:
    """One count's working state (mutable); :meth:`run` returns the frozen record."""

    def __init__(self, store: BallotStore, candidates: CandidateTable, options: CferOptions):
        self.opt = options
        self.scale = Scale(PLACES)
        self.one = one = self.scale.one
        self.names = candidates.names
        self.n = len(candidates)
        # [10057(a)] rankings with no candidate passed over; overvotes stop a ballot [10053(h)]
        self.papers = papers = Papers(closed_up(store, overvotes=False), candidates, one)
        self.hopeful = np.ones(self.n, dtype=bool)
        for c in candidates.excluded:
            self.hopeful[c] = False
        self.pending: list[int] = []  # elected, surplus not yet transferred
        self.votes = [0] * self.n
        self.exhausted = 0
        self.residual = 0
        self.ties = Ties(self.names, PriorStages.MOST_RECENT, options.lot, options.tie_order)
        self.blank = papers.count_of(papers.blank)
        invalid = papers.count_of(~papers.valid & ~papers.blank)
        self.stages = Stages(candidates, self.scale, invalid * one)
        self.total = int(store.weights.sum())
        # a ballot ranking only withdrawn candidates ranks no qualified candidate [10056(b)]:
        # an undervote [10057(c)], outside the threshold and the count
        first = papers.first_preferences(self.hopeful)
        nobody = first.exhausted // one
        self.first = Transfers(first.to, 0)
        self.blank += nobody
        valid = papers.count_of(papers.valid) - nobody  # [10059(a)(2)] "excluding undervotes"
        seats = options.seats
        if options.quota is QuotaRule.DROOP:
            # [10059(a)(2)] V / (S + 1) + 1, "disregarding any fraction"
            self.quota = (valid // (seats + 1) + 1) * one
        else:
            self.quota = valid * one // (seats + 1) + 1  # Droop: V / (S + 1) + 0.00001

    @property
    def continuing(self) -> list[int]:
        return [c for c in range(self.n) if self.hopeful[c]]

    @property
    def elected(self) -> int:
        return len(self.stages.winners)

    def run(self) -> Count:
        seats = self.opt.seats
        # [10059(a)(1)] every ballot to its highest ranked continuing candidate, value 1.00000
        self.votes = list(self.first.to)
        self._stage("first preferences", [])
        if len(self.continuing) <= seats:  # [10059(c)]
            self._elect_all(self.continuing)
            return self._finish()
        while True:
            # [10059(d)] elect every continuing candidate at or over the threshold
            for c in sorted(self.continuing, key=lambda c: (-self.votes[c], c)):
                if self.votes[c] >= self.quota:
                    self._elect(c)
                    if self.votes[c] > self.quota:
                        self.pending.append(c)
            if self.elected >= seats:  # [10059(e)] the rest are defeated: complete
                break
            ties: list[TieBreak] = []
            defeats = self._defeat_set()  # [10059(f), (k)]
            if not defeats and self.pending:
                self._transfer_surpluses()  # [10059(g)]
                continue
            if not defeats:
                # [10059(h)] the fewest votes; a tie by lot [10059(h)(2)]
                low = min(self.votes[c] for c in self.continuing)
                tied = [c for c in self.continuing if self.votes[c] == low]
                defeats = [tied[0]]
                if len(tied) > 1:
                    chosen, record = self.ties.choose(
                        self.stages.number + 1, tied, DecisionKind.ELIMINATED, most=False
                    )
                    defeats, ties = [chosen], [record]
            for c in defeats:
                self.hopeful[c] = False
            if len(self.continuing) + self.elected <= seats:
                # [10059(i)(1)] the continuing candidates are elected; nothing more moves
                label = ", ".join(self.names[c] for c in defeats)
                self._stage(f"defeat {label} (votes not transferred)", ties)
                for c in defeats:
                    self.stages.book(DecisionKind.ELIMINATED, c, [])
                self._elect_all(self.continuing)
                break
            self._transfer_defeated(defeats, ties)  # [10059(i)(2)]
        return self._finish()

    def _finish(self) -> Count:
        opt = self.opt
        return self.stages.finish(
            RULE_NAME,
            opt.seats,
            self.total,
            self.blank,
            {"options": opt, "seed": opt.lot.seed, "quota": self.quota},
        )

    # -- steps -----------------------------------------------------------------------------------
    def _defeat_set(self) -> list[int]:
        """[10059(k)] the largest defeat set meeting (1)-(3), lowest candidates first."""
        if self.opt.defeat_batch is DefeatBatch.NONE:
            return []
        seats, elected = self.opt.seats, self.elected
        surplus = sum(self.votes[c] - self.quota for c in self.pending)  # "total surplus"
        cands = sorted(self.continuing, key=lambda c: (self.votes[c], c))
        gap = self.quota - self.votes[cands[-1]]  # threshold minus the most votes
        best: list[int] = []
        for t in range(len(cands) - 1):
            trial, outside = cands[: t + 1], len(cands) - t - 1
            if outside + elected < seats:  # (1)
                break
            votes = sum(self.votes[c] for c in trial)
            if votes + surplus >= self.votes[cands[t + 1]]:  # (2)
                continue
            if (
                elected + 1 == seats  # (3)(A)
                or outside + elected == seats  # (3)(B)
                or votes + surplus < gap  # (3)(C)
                or (surplus == 0 and votes - self.votes[cands[t]] < gap)  # (3)(D)
            ):
                best = trial
        return sorted(best)

    def _elect(self, c: int) -> None:
        self.hopeful[c] = False
        self.stages.elect(c)

    def _elect_all(self, cands: list[int]) -> None:
        for c in sorted(cands, key=lambda c: (-self.votes[c], c)):
            self._elect(c)

    def _stage(self, label: str, ties: list[TieBreak]) -> None:
        self.stages.add(label, self.votes, self.quota, self.exhausted, self.residual, ties)

    def _transfer_surpluses(self) -> None:
        """[10059(g)] every pending surplus, one stage each (transfers go to continuing
        candidates only, so the order does not change what moves: candidate order)."""
        papers = self.papers
        for c in sorted(self.pending):
            total = self.votes[c]
            surplus = total - self.quota
            groups = papers.held_by(c)
            # [10059(g)(2)] value x surplus / votes, truncated to five places
            values = papers.value[groups] * surplus // total
            recipient, column = papers.walk(groups, papers.pos[groups] + 1, self.hopeful)
            moved = papers.move(groups, recipient, column, value=values)  # [10059(g)(1)]
            sent = Transfers.of(self.n, None, recipient, moved, papers.dtype)
            for to, v in enumerate(sent.to):
                self.votes[to] += v
            lost = surplus - sum(sent.to) - sent.exhausted
            self.exhausted += sent.exhausted
            self.residual += lost
            self.votes[c] = self.quota  # [10059(g)(3)] "set equal to the threshold"
            self._stage(f"surplus of {self.names[c]}", [])
            self.stages.book(
                DecisionKind.ELECTED, c, sent.to, exhausted=sent.exhausted, residual=lost
            )
        self.pending = []

    def _transfer_defeated(self, defeats: list[int], ties: list[TieBreak]) -> None:
        papers = self.papers
        groups = papers.held_by_any(defeats)
        source = papers.holder[groups].copy()
        recipient, column = papers.walk(groups, papers.pos[groups] + 1, self.hopeful)
        moved = papers.move(groups, recipient, column)  # "using the previous transfer value"
        sent = Transfers.of(self.n, source, recipient, moved, papers.dtype)
        for to, v in enumerate(sent.to):
            self.votes[to] += v
        for c in defeats:
            self.votes[c] = 0
        self.exhausted += sent.exhausted
        self._stage(f"defeat {', '.join(self.names[c] for c in defeats)}", ties)
        for c in defeats:
            row = sent.by_source.get(c, [0] * (self.n + 1))
            self.stages.book(DecisionKind.ELIMINATED, c, row[: self.n], exhausted=row[self.n])


def cfer_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: s.10059 with ``params.quota`` (default Droop's fractional
    threshold) and ``params.defeat_batch``; ties by the ballot file's tie order, else by lot
    with ``params.seed``."""
    opts = CferOptions(
        seats=params.seats,
        quota=params.quota or QuotaRule.DROOP_FRACTIONAL,
        defeat_batch=params.defeat_batch or DefeatBatch.NONE,
        lot=Lot(seed=params.seed),
        tie_order=params.tie_order or None,
    )
    return count_cfer(store, candidates, opts)
