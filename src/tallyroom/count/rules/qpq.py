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
        rows = np.asarray(closed_up(store, overvotes=False).rows, dtype=np.int64)
        if rows.ndim != 2 or rows.shape[1] == 0:
            rows = np.full((rows.shape[0], 1), -1, dtype=np.int64)
        # a ranking stops at its first overvote (no candidate named there): -1 from there on
        stopped = np.maximum.accumulate(rows < 0, axis=1)
        self.ranks = np.where(stopped, -1, rows)
        self.width = self.ranks.shape[1]
        self.times = np.asarray(store.weights, dtype=np.int64)
        self.nonblank = self.ranks[:, 0] >= 0
        self.blank = int(self.times[~self.nonblank].sum())
        self.total = int(self.times.sum())
        self.hopeful = np.ones(n, dtype=bool)
        for c in candidates.excluded:
            self.hopeful[c] = False
        self.excluded_codes = frozenset(candidates.excluded)
        self.elected: list[int] = []
        self.quotient = [Fraction(0)] * n
        self.ties = Ties(self.names, PriorStages.MOST_RECENT, options.lot, options.tie_order)
        self.rounds: list[Round] = []
        # per distinct ballot: the rank of its topmost hopeful candidate (-1: inactive or
        # blank) and which of ``shares`` (the fractional numbers of candidates elected) it
        # has; ballots are summed per (candidate, share) as integers and each sum multiplied
        # by its share once, so the fractions are exact and few
        self.top = np.full(len(self.ranks), -1, dtype=np.int64)
        self.share_of = np.zeros(len(self.ranks), dtype=np.int64)
        self.shares: list[Fraction] = [Fraction(0)]

    def restart(self) -> None:
        """[2.2] every ballot has elected 0 candidates; the elections are undone."""
        for c in self.elected:
            self.hopeful[c] = True
        self.elected = []
        self.shares = [Fraction(0)]
        self.share_of[:] = 0
        self.top = self.advance(np.arange(len(self.ranks)), np.zeros(len(self.ranks), np.int64))

    def advance(self, rows: np.ndarray, start: np.ndarray) -> np.ndarray:
        """For each of ``rows``, the first rank at or after ``start`` naming a hopeful
        candidate (-1 if none)."""
        hopeful = np.append(self.hopeful, False)  # a rank of -1 names nobody
        marks = hopeful[self.ranks[rows]] & (np.arange(self.width) >= start[:, None])
        return np.where(marks.any(axis=1), marks.argmax(axis=1), -1)

    def _sum_by(self, mask: np.ndarray, cands: np.ndarray | None) -> np.ndarray:
        """Integer sums of ballots under ``mask`` per (candidate, share), or per share."""
        shares = len(self.shares)
        out = np.zeros((self.n if cands is not None else 1) * shares, dtype=np.int64)
        key = self.share_of[mask] if cands is None else cands * shares + self.share_of[mask]
        np.add.at(out, key, self.times[mask])
        return out.reshape(-1, shares)

    def _fractional(self, sums: np.ndarray) -> Fraction:
        return sum(
            (share * int(w) for share, w in zip(self.shares, sums, strict=True) if w),
            Fraction(0),
        )

    def run(self) -> Count:
        seats = self.opt.seats
        self.restart()
        while True:
            hopeful = [c for c in range(self.n) if self.hopeful[c]]
            left = seats - len(self.elected)
            if left <= 0 or len(hopeful) <= left:
                break
            active = self.top >= 0
            rows = np.flatnonzero(active)
            cands = self.ranks[rows, self.top[rows]]
            by_share = self._sum_by(active, cands)  # [2.3] vc and tc per candidate
            v = by_share.sum(axis=1)
            va = int(v.sum())  # [2.4] active
            tx = self._fractional(self._sum_by(self.nonblank & ~active, None)[0])  # [2.4]
            for c in hopeful:
                tc = self._fractional(by_share[c])
                self.quotient[c] = Fraction(int(v[c])) / (1 + tc)  # [2.3] qc = vc / (1 + tc)
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
                mine = rows[cands == c]
                self.shares.append(1 / self.quotient[c])  # "1/qc candidates in total"
                self.share_of[mine] = len(self.shares) - 1
                self.top[mine] = self.advance(mine, self.top[mine] + 1)
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

        inactive = int(self.times[self.nonblank & (self.top < 0)].sum())
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
