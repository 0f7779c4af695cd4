"""QPQ: Quota Preferential by Quotient (D.R. Woodall, 2003).

Source: D.R. Woodall, "QPQ, a quota-preferential STV-like election rule", *Voting matters* 17
(2003), section 2 (the rule), as Droop implements it (rule ``qpq``, whose reference counts
``tests/count/test_qpq.py`` reproduces). Each step is tagged with Woodall's paragraph.

* [2.1] every candidate is hopeful; [2.2] every ballot has elected 0 candidates.
* [2.3] "At the start of each stage, the quotients of all the hopeful candidates are
  calculated ... The ballots contributing to a particular hopeful candidate c are those ballots
  on which c is the topmost hopeful candidate. The quotient assigned to c is defined to be
  qc = vc/(1+tc), where vc is the number of ballots contributing to c, and tc is the sum of all
  the fractional numbers of candidates that those ballots have so far elected."
* [2.4] "A ballot is active if it includes the name of a hopeful candidate (and is a valid
  ballot), and inactive otherwise. The quota is defined to be va/(1 + s - tx), where va is the
  number of active ballots, s is the total number of seats to be filled, and tx is the sum of
  the fractional numbers of candidates that are deemed to have been elected by all the
  inactive ballots."
* [2.5a] "If c is the candidate with the highest quotient, and that quotient is greater than
  the quota, then c is declared elected. In this case each of the vc ballots contributing to c
  is now deemed to have elected 1/qc candidates in total (regardless of how many candidates it
  had elected before c's election)".
* [2.5b] "If no candidate has a quotient greater than the quota, then the candidate with the
  smallest quotient is declared excluded." Then, as Droop counts it, the count restarts from
  the beginning without the excluded candidates: every election is undone and every ballot
  has elected 0 candidates again.
* [2.5a, 2.5b] the count ends when the seats are filled, or when the hopefuls are no more than
  the seats left (they are then elected).
* Ties (highest or smallest quotient) are decided by lot: ``java.util.Random(seed)``, or the
  ballot file's ``[tie ...]`` order (Droop's stand-in).

Arithmetic is exact (fractions): quotients and the quota are compared exactly. The record shows
them truncated to 9 places (Droop's guarded arithmetic shows 9; the tests compare to within
10**-9). ``Count.rounds[k].tally`` holds each candidate's quotient (the last one computed, for
a candidate no longer hopeful), not votes: QPQ has no vote totals to conserve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.lot import Lot
from tallyroom.count.numbers import Scale
from tallyroom.count.record import Count, Decision, DecisionKind, InactiveReason, Round, TieBreak
from tallyroom.count.rules.gregory import PriorStages, Ties, closed_up
from tallyroom.count.rules.params import RuleParams
from tallyroom.errors import ConfigError

__all__ = ["RULE_NAME", "QpqOptions", "count_qpq"]

RULE_NAME = "qpq"
SHOWN = 9  # places of the figures in the record
_NO_LOT = Lot()


@dataclass(frozen=True, slots=True)
class QpqOptions:
    """Seats and how ties are decided."""

    seats: int = 1
    lot: Lot = _NO_LOT
    tie_order: tuple[int, ...] | None = None  # given: ties go by it instead of a lot

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise ConfigError("at least one seat is needed", field="seats", value=self.seats)


def count_qpq(store: BallotStore, candidates: CandidateTable, options: QpqOptions) -> Count:
    """Count ``store`` by QPQ; the complete stage-by-stage record."""
    return _Qpq(store, candidates, options).run()


class _Qpq:
    """One count's working state (mutable); :meth:`run` returns the frozen record."""

    def __init__(self, store: BallotStore, candidates: CandidateTable, options: QpqOptions):
        self.opt = options
        self.names = candidates.names
        self.n = n = len(candidates)
        self.scale = Scale(SHOWN)
        rows = closed_up(store, overvotes=False).rows
        # a ranking stops at its first overvote (no candidate named there)
        self.rankings: list[tuple[int, ...]] = []
        for row in rows:
            marks: list[int] = []
            for code in (int(x) for x in row):
                if code < 0:
                    break
                marks.append(code)
            self.rankings.append(tuple(marks))
        self.times = [int(w) for w in store.weights]
        self.blank = sum(t for r, t in zip(self.rankings, self.times, strict=True) if not r)
        self.total = int(store.weights.sum())
        self.hopeful = np.ones(n, dtype=bool)
        for c in candidates.excluded:
            self.hopeful[c] = False
        self.excluded_codes = frozenset(candidates.excluded)
        self.elected: list[int] = []
        self.quotient = [Fraction(0)] * n
        self.ties = Ties(self.names, PriorStages.MOST_RECENT, options.lot, options.tie_order)
        self.rounds: list[Round] = []
        # per distinct ballot: rank of its topmost hopeful candidate (None: inactive), and
        # the fractional number of candidates it has elected
        self.top: list[int | None] = []
        self.share: list[Fraction] = []

    def restart(self) -> None:
        """[2.2] every ballot has elected 0 candidates; the elections are undone."""
        for c in self.elected:
            self.hopeful[c] = True
        self.elected = []
        self.share = [Fraction(0)] * len(self.rankings)
        self.top = [self.advance(r, 0) for r in self.rankings]

    def advance(self, ranking: Sequence[int], start: int) -> int | None:
        for i in range(start, len(ranking)):
            if self.hopeful[ranking[i]]:
                return i
        return None

    def run(self) -> Count:
        seats = self.opt.seats
        self.restart()
        while True:
            hopeful = [c for c in range(self.n) if self.hopeful[c]]
            left = seats - len(self.elected)
            if left <= 0 or len(hopeful) <= left:
                break
            v = [0] * self.n
            t = [Fraction(0)] * self.n
            tx, va = Fraction(0), 0
            for i, ranking in enumerate(self.rankings):
                times, top = self.times[i], self.top[i]
                if not ranking:
                    continue  # blank: no ballot at all
                if top is None:
                    tx += self.share[i] * times  # [2.4] elected by inactive ballots
                    continue
                va += times  # [2.4] active
                c = ranking[top]
                v[c] += times  # [2.3] vc
                t[c] += self.share[i] * times  # [2.3] tc
            for c in hopeful:
                self.quotient[c] = v[c] / (1 + t[c])  # [2.3] qc = vc / (1 + tc)
            quota = Fraction(va) / (1 + seats - tx)  # [2.4] va / (1 + s - tx)
            stage = len(self.rounds) + 1
            ties: list[TieBreak] = []
            high = max(self.quotient[c] for c in hopeful)
            if high > quota:
                # [2.5a] the highest quotient over the quota is elected
                tied = [c for c in hopeful if self.quotient[c] == high]
                c = self._break(stage, tied, DecisionKind.ELECTED, ties, most=True)
                self.hopeful[c] = False
                self.elected.append(c)
                for i, ranking in enumerate(self.rankings):
                    top = self.top[i]
                    if top is not None and ranking[top] == c:
                        self.share[i] = 1 / self.quotient[c]  # "1/qc candidates in total"
                        self.top[i] = self.advance(ranking, top + 1)
                self._round(quota, f"elect {self.names[c]}", [(DecisionKind.ELECTED, c)], ties)
                continue
            # [2.5b] no quotient over the quota: the smallest is excluded; the count restarts
            low = min(self.quotient[c] for c in hopeful)
            tied = [c for c in hopeful if self.quotient[c] == low]
            c = self._break(stage, tied, DecisionKind.ELIMINATED, ties, most=False)
            self.hopeful[c] = False
            self._round(quota, f"exclude {self.names[c]}", [(DecisionKind.ELIMINATED, c)], ties)
            self.restart()
        # the hopefuls fill the seats left [2.5b]; any others are not elected
        hopeful = [c for c in range(self.n) if self.hopeful[c]]
        if hopeful and len(hopeful) <= seats - len(self.elected):
            self.elected.extend(hopeful)
            decisions = [(DecisionKind.ELECTED, c) for c in hopeful]
            if self.rounds:
                last = self.rounds.pop()
                extra = tuple(Decision(k, self.names[c]) for k, c in decisions)
                self.rounds.append(
                    Round(
                        number=last.number,
                        threshold=last.threshold,
                        tally=last.tally,
                        decisions=last.decisions + extra,
                        inactive=last.inactive,
                        ties=last.ties,
                        label=last.label + "; elect remaining",
                    )
                )
            else:
                self._round(Fraction(0), "elect remaining", decisions, [])
        return Count(
            rule=RULE_NAME,
            candidates=self.names,
            seats=seats,
            scale=self.scale,
            rounds=tuple(self.rounds),
            winners=tuple(self.names[c] for c in self.elected),
            total_ballots=self.total,
            undervotes=self.blank,
            options={"options": self.opt, "seed": self.opt.lot.seed},
        )

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
        chosen, record = self.ties.choose(stage, tied, purpose, most=most)  # by lot
        ties.append(record)
        return chosen

    def _round(
        self,
        quota: Fraction,
        label: str,
        decisions: list[tuple[DecisionKind, int]],
        ties: list[TieBreak],
    ) -> None:
        unit = self.scale.one

        def shown(x: Fraction) -> int:
            return (x.numerator * unit) // x.denominator  # truncated to the shown places

        inactive = sum(
            t
            for r, t, top in zip(self.rankings, self.times, self.top, strict=True)
            if r and top is None
        )
        self.rounds.append(
            Round(
                number=len(self.rounds) + 1,
                threshold=shown(quota),
                tally=tuple(
                    (self.names[c], shown(self.quotient[c]))
                    for c in range(self.n)
                    if c not in self.excluded_codes
                ),
                decisions=tuple(Decision(k, self.names[c]) for k, c in decisions),
                inactive=((InactiveReason.EXHAUSTED_CHOICES, inactive * unit),),
                ties=tuple(ties),
                label=label,
            )
        )


def qpq_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: QPQ for ``params.seats``; ties by the ballot file's tie order
    when it gives one, else by lot with ``params.seed``."""
    opts = QpqOptions(
        seats=params.seats, lot=Lot(seed=params.seed), tie_order=params.tie_order or None
    )
    return count_qpq(store, candidates, opts)
