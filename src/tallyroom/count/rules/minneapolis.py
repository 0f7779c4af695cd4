"""Minneapolis multiple-seat STV: Code of Ordinances, Title 8.5, Chapter 167 (as amended 2013-2015).

Source: Minneapolis Code of Ordinances, Title 8.5, ch. 167, "Ranked-choice voting"; s.167.20
(definitions), s.167.70 ("Tabulation of votes, multiple-seat elections": the "multiple-seat
single transferable vote" method) and s.167.75 (ties by lot), as amended by 2013-Or-055 and
2015-Or-065; read as Droop's ``mpls`` rule reads them (its reference counts are the tests).
Each step below and in the code is tagged with its clause.

* [167.20 "Threshold"] "the total votes counted in the first round after removing partially
  defective ballots, divided by the sum of one (1) plus the number of offices to be filled,
  then adding one (1), disregarding any fractions": ``floor(V / (S + 1)) + 1``.
* [167.20 "Surplus fraction of a vote"] "(Surplus of an elected candidate)/(Total votes cast
  for elected candidate), calculated to four (4) decimal places, ignoring any remainder";
  [167.20 "Transfer value"] "multiplying the surplus fraction by its current value, calculated
  to four (4) decimal places, ignoring any remainder"; a defeated candidate's vote moves at
  its current value.
* [167.20 "Mathematically impossible to be elected"] "(1) The candidate could never win because
  his or her current vote total plus all votes that could possibly be transferred to him or her
  in future rounds (from candidates with fewer votes, tied candidates, surplus votes, and from
  undeclared write-in candidates) would not be enough to equal or surpass the candidate with
  the next higher current vote total; or (2) The candidate has a lower current vote total than
  a candidate who is described by (1)."
* [167.70(b)] the first ranked choice tabulation: those at the *maximum possible threshold*
  (the threshold counted on every ballot cast) are elected when they fill the seats. With no
  partially defective ballot read from a file, it is the threshold, and (b) is (c)(1)a's
  first test.
* [167.70(c)(1)a] NEW ROUND: count; if the candidates (other than undeclared write-ins) at or
  over the threshold fill the seats, they are elected and the tabulation is complete.
* [167.70(c)(1)b] CALCULATE SURPLUS of every candidate at or over the threshold.
* [167.70(c)(1)c] DEFEAT CERTAIN LOSERS: in the second round, every undeclared write-in
  candidate, and in every round all candidates for whom it is mathematically impossible to be
  elected, defeated simultaneously; their votes transferred; back to a.
* [167.70(c)(1)d] ELECT HIGHEST SURPLUS: the candidate with the largest surplus is elected and
  their surplus transferred ("A tie ... must be resolved by lot"); back to a.
* [167.70(c)(1)e] DEFEAT LOWEST CANDIDATE (ties by lot); its votes transferred at their
  transfer value, "except votes for candidates defeated in the final round are not transferred
  if, by their defeat, the number of continuing candidates is reduced to the number of seats
  yet to be filled".
* [167.70(c)(1)f] FINISH when the seats are filled or "the number of continuing candidates is
  equal to the number of seats yet to be filled": those are elected (read, as Droop does, as
  "less than or equal to").
* [167.70(c)(2)] "When a skipped ranking, overvote or repeat candidate ranking is encountered
  on a ballot, that ballot shall count towards the highest continuing ranking that is not a
  skipped ranking, an overvote or repeat candidate ranking": all three are passed over (the
  rankings are closed up before the count); a ballot left with no continuing candidate is
  exhausted, and one that marks no candidate at all counts for nobody (an undervote).
* [167.75] ties by lot: drawn with ``java.util.Random(seed)`` or asked of a decider; given a
  tie order (a BLT file's ``[tie ...]``, Droop's stand-in for the lot), by that order.

A candidate at the threshold stays continuing (and receives transfers) until elected at d. A
*certain loser* set is found as Droop finds it: the continuing candidates sorted by votes (then
candidate order); the longest run of the lowest, leaving at least as many continuing
candidates as seats to fill, whose votes plus all current surpluses (plus, in round two, the
undeclared write-ins' votes) are below the vote of the next candidate up.

Arithmetic: integers in units of 10**-4 votes; the only roundings are the two truncations to
four places named above.

Known deviations: partially defective ballots are not distinguished (the maximum possible
threshold is the threshold). Droop transfers each surplus
ballot at ``floor4(floor4(value x surplus) / total)``; tallyroom follows the ordinance's
``floor4(value x floor4(surplus / total))``; they agree whenever a ballot's value is one, as
on every reference file.
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
from tallyroom.count.rules.params import RuleParams
from tallyroom.errors import ConfigError

__all__ = ["RULE_NAME", "MinneapolisOptions", "count_minneapolis"]

RULE_NAME = "minneapolis"
_NO_LOT = Lot()  # a tie left to lot stops the count (no seed, no decider)
PLACES = 4  # [167.20 "Surplus fraction", "Transfer value"] "four (4) decimal places"


@dataclass(frozen=True, slots=True)
class MinneapolisOptions:
    """Seats, the undeclared write-in candidates (codes), and how ties by lot are decided."""

    seats: int = 1
    undeclared: tuple[int, ...] = ()  # [167.20 "Undeclared write-in candidate"]
    lot: Lot = _NO_LOT  # [167.75]
    tie_order: tuple[int, ...] | None = None  # given: ties go by it instead of a lot

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise ConfigError("at least one seat is needed", field="seats", value=self.seats)


def count_minneapolis(
    store: BallotStore, candidates: CandidateTable, options: MinneapolisOptions
) -> Count:
    """Count ``store`` under ch. 167; the complete round-by-round record."""
    return _Minneapolis(store, candidates, options).run()


class _Minneapolis:
    """One count's working state (mutable); :meth:`run` returns the frozen record."""

    def __init__(
        self, store: BallotStore, candidates: CandidateTable, options: MinneapolisOptions
    ) -> None:
        self.opt = options
        self.scale = Scale(PLACES)
        self.one = self.scale.one
        self.names = candidates.names
        self.n = len(candidates)
        for code in options.undeclared:
            if not 0 <= code < self.n:
                raise ConfigError("no such candidate", field="undeclared", value=code)
        # [167.70(c)(2)] skipped rankings, overvotes and repeats passed over
        self.papers = Papers(closed_up(store, overvotes=True), candidates, self.one)
        self.hopeful = np.ones(self.n, dtype=bool)  # "continuing candidate" [167.20]
        for c in candidates.excluded:
            self.hopeful[c] = False
        self.votes = [0] * self.n
        self.exhausted = 0
        self.residual = 0
        self.ties = Ties(self.names, PriorStages.MOST_RECENT, options.lot, options.tie_order)
        papers = self.papers
        self.blank = papers.count_of(papers.blank)
        invalid = papers.count_of(~papers.valid & ~papers.blank)
        self.stages = Stages(candidates, self.scale, invalid * self.one)
        self.total = int(store.weights.sum())
        # [167.20 "Threshold"] floor(V / (S + 1)) + 1, "disregarding any fractions"
        # a ballot ranking only withdrawn candidates counts for nobody in the first round: an
        # undervote, outside "the total votes counted in the first round"
        self.first = papers.first_preferences(self.hopeful)
        nobody = self.first.exhausted // self.one
        self.blank += nobody
        counted = papers.count_of(papers.valid) - nobody
        self.quota = (counted // (options.seats + 1) + 1) * self.one

    @property
    def continuing(self) -> list[int]:
        return [c for c in range(self.n) if self.hopeful[c]]

    @property
    def seats_left(self) -> int:
        return self.opt.seats - len(self.stages.winners)

    def surplus(self, c: int) -> int:
        return max(self.votes[c] - self.quota, 0)

    def run(self) -> Count:
        self.votes = list(self.first.to)
        self._stage("first preferences")
        round_number = 1
        while True:
            # [167.70(b), (c)(1)a] those at the threshold (undeclared write-ins aside) elected
            # when, with those elected, they fill the seats
            reached = [
                c
                for c in self.continuing
                if c not in self.opt.undeclared and self.votes[c] >= self.quota
            ]
            if len(self.stages.winners) + len(reached) >= self.opt.seats:
                for c in sorted(reached, key=lambda c: (-self.votes[c], c))[: self.seats_left]:
                    self._elect(c)
                break
            round_number += 1
            # [167.70(c)(1)b] the surplus of every candidate at or over the threshold
            surplus = sum(self.surplus(c) for c in self.continuing)
            # [167.70(c)(1)c] undeclared write-ins (second round only) and certain losers
            defeat: list[int] = []
            write_in_votes = 0
            if round_number == 2:
                defeat = [c for c in self.continuing if c in self.opt.undeclared]
                write_in_votes = sum(self.votes[c] for c in defeat)
            defeat += [c for c in self._certain_losers(surplus + write_in_votes) if c not in defeat]
            if defeat:
                self._defeat(sorted(defeat), "defeat certain losers", [])
                continue
            # [167.70(c)(1)d] elect the highest surplus and transfer it
            over = [c for c in self.continuing if self.votes[c] >= self.quota]
            ties: list[TieBreak] = []
            if over:
                top = max(self.votes[c] for c in over)
                tied = [c for c in over if self.votes[c] == top]
                chosen = self._break(tied, DecisionKind.ELECTED, ties, most=True)
                self._transfer_surplus(chosen, ties)
                continue
            # [167.70(c)(1)e] defeat the lowest candidate
            if len(self.continuing) > self.seats_left:
                low = min(self.votes[c] for c in self.continuing)
                tied = [c for c in self.continuing if self.votes[c] == low]
                chosen = self._break(tied, DecisionKind.ELIMINATED, ties, most=False)
                if len(self.continuing) - 1 > self.seats_left:
                    self._defeat([chosen], "defeat", ties)
                else:
                    # "not transferred if, by their defeat, the number of continuing
                    # candidates is reduced to the number of seats yet to be filled"
                    self.hopeful[chosen] = False
                    self._stage(f"defeat {self.names[chosen]} (votes not transferred)", ties)
                    self.stages.book(DecisionKind.ELIMINATED, chosen, [])
            if len(self.continuing) <= self.seats_left:
                break
        # [167.70(c)(1)f] the continuing candidates fill the seats left
        if len(self.continuing) <= self.seats_left:
            for c in sorted(self.continuing, key=lambda c: (-self.votes[c], c)):
                self._elect(c)
        return self.stages.finish(
            RULE_NAME,
            self.opt.seats,
            self.total,
            self.blank,
            {"options": self.opt, "seed": self.opt.lot.seed, "quota": self.quota},
        )

    # -- steps -----------------------------------------------------------------------------------
    def _certain_losers(self, surplus: int) -> list[int]:
        """[167.20 "Mathematically impossible to be elected"] the longest run of the lowest
        continuing candidates whose votes plus ``surplus`` stay below the next one's vote,
        leaving at least as many continuing candidates as seats to fill."""
        ranked = sorted(self.continuing, key=lambda c: (self.votes[c], c))
        most = len(ranked) - self.seats_left
        total, losers = 0, 0
        for i in range(min(most, len(ranked) - 1)):
            total += self.votes[ranked[i]]  # (1) own votes plus all from those below
            if total + surplus < self.votes[ranked[i + 1]]:
                losers = i + 1  # (2) everyone lower is a loser too
        return ranked[:losers]

    def _break(
        self, tied: list[int], purpose: DecisionKind, ties: list[TieBreak], *, most: bool
    ) -> int:
        if len(tied) == 1:
            return tied[0]
        # [167.70(c)(1)d, e; 167.75] "resolved by lot by the chief election official"
        chosen, record = self.ties.choose(self.stages.number + 1, tied, purpose, most=most)
        ties.append(record)
        return chosen

    def _elect(self, c: int) -> None:
        self.hopeful[c] = False
        self.stages.elect(c)

    def _stage(self, label: str, ties: list[TieBreak] | None = None) -> None:
        self.stages.add(label, self.votes, self.quota, self.exhausted, self.residual, ties or [])

    def _transfer_surplus(self, c: int, ties: list[TieBreak]) -> None:
        papers = self.papers
        total = self.votes[c]
        surplus = total - self.quota
        self.hopeful[c] = False
        # [167.20 "Surplus fraction of a vote"] surplus / total, to 4 places, remainder ignored
        fraction = surplus * self.one // total
        groups = papers.held_by(c)
        # [167.20 "Transfer value"] fraction x current value, to 4 places, remainder ignored
        values = papers.value[groups] * fraction // self.one
        recipient, column = papers.walk(groups, papers.pos[groups] + 1, self.hopeful)
        # [167.70(c)(1)d] "to the next continuing candidate on that ballot"
        moved = papers.move(groups, recipient, column, value=values)
        sent = Transfers.of(self.n, None, recipient, moved, papers.dtype)
        for to, v in enumerate(sent.to):
            self.votes[to] += v
        lost = surplus - sum(sent.to) - sent.exhausted
        self.exhausted += sent.exhausted
        self.residual += lost
        self.votes[c] = self.quota
        self._stage(f"surplus of {self.names[c]}", ties)
        self.stages.elect(c)
        self.stages.book(DecisionKind.ELECTED, c, sent.to, exhausted=sent.exhausted, residual=lost)

    def _defeat(self, batch: list[int], label: str, ties: list[TieBreak]) -> None:
        papers = self.papers
        for c in batch:
            self.hopeful[c] = False
        groups = papers.held_by_any(batch)
        source = papers.holder[groups].copy()
        recipient, column = papers.walk(groups, papers.pos[groups] + 1, self.hopeful)
        # [167.20 "Transfer value"] a defeated candidate's vote moves at its current value
        moved = papers.move(groups, recipient, column)
        sent = Transfers.of(self.n, source, recipient, moved, papers.dtype)
        for to, v in enumerate(sent.to):
            self.votes[to] += v
        for c in batch:
            self.votes[c] = 0
        self.exhausted += sent.exhausted
        self._stage(f"{label} {', '.join(self.names[c] for c in batch)}", ties)
        for c in batch:
            row = sent.by_source.get(c, [0] * (self.n + 1))
            self.stages.book(DecisionKind.ELIMINATED, c, row[: self.n], exhausted=row[self.n])


def minneapolis_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: ch. 167 for ``params.seats``; ties by the ballot file's tie
    order when it gives one, else by lot with ``params.seed``."""
    opts = MinneapolisOptions(
        seats=params.seats, lot=Lot(seed=params.seed), tie_order=params.tie_order or None
    )
    return count_minneapolis(store, candidates, opts)
