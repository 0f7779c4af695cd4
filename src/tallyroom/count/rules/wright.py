"""Wright STV: a Gregory count that starts again from the first preferences after each exclusion.

Source: A. van der Craats, "The Wright system" (submission to the Australian Parliament's
Joint Standing Committee on Electoral Matters, inquiry into the 2007 federal election), as
summarised in its public description:

* [Wright P1] "If a candidate is excluded from the count, all ballots are treated as if that
  candidate had never stood." [Wright reset] "On every exclusion of a candidate from the
  count the counting of the ballot is reset and all valid votes are redistributed to
  candidates remaining in the count initially at full value."
* [Wright TV] "Total Vote (TV) is the total number of ballot papers that express a valid
  preference allocated to candidates remaining in the count."
* [Wright Q] the Droop quota, "the integer value of the total number of votes divided by one
  more than the number of vacant positions plus one" (the author would rather use
  ``TV / (seats + 1)``: :attr:`WrightQuota.EXACT`).
* [Wright Sv] "Surplus Value (Sv) means the value calculated by subtracting the Quota (Q) from
  the Candidate's Total Value of votes (Sv = Ctvv - Q)"; [Wright Stv] "Surplus Transfer Value
  ... (Stv = Sv/Ctvv) * Vv" for each ballot paper, which passes to "the next non-excluded
  continuing candidate"; [Wright P2] unlike Meek, surpluses are "not transferred to
  already-elected candidates".

A count, as done here. Each *iteration* (one per exclusion, plus the first):

1. [Wright reset] [Wright P1] every ballot counts at value 1 for its first preference among
   the candidates not excluded; [Wright TV] the ballots that name none are outside the total
   vote; [Wright Q] the quota is computed from the total vote.
2. Every candidate at or over the quota is elected. While seats are unfilled, the largest
   untransferred surplus (ties: the tie policy) is transferred: [Wright Stv] each of the
   elected candidate's ballots passes on ``value * Sv / Ctvv``, rounded down to the
   declared places, to its next preference neither excluded nor elected [Wright P2];
   the candidate keeps the quota; what the rounding drops is the *residual surplus*.
3. All seats filled: the count ends. As many candidates left as seats: they are elected.
   Otherwise the candidate with the fewest votes (ties: the tie policy, recorded) is
   excluded and the count starts again at 1.

Elections before the last iteration are provisional (a restart may undo them), so only the
last iteration's are recorded as decisions; earlier ones show in the round labels.
Arithmetic: integers in units of ``10**-places`` votes. Ballots are prepared as for Meek
(:func:`~tallyroom.count.rules.meek.prepare_ballots`): withdrawn candidates struck, skipped
ranks closed up. Deviation: a ballot stops at an equal preference (``a=b``), which the
source does not provide for.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.numbers import Scale
from tallyroom.count.record import (
    Count,
    Decision,
    DecisionKind,
    InactiveReason,
    Round,
    TieBreak,
)
from tallyroom.count.rules.meek import Lot, TieOrder, TiePolicy, break_tie, prepare_ballots
from tallyroom.count.rules.params import RuleParams
from tallyroom.errors import ConfigError, CountError

__all__ = ["WrightOptions", "WrightQuota", "count_wright"]


class WrightQuota(enum.Enum):
    DROOP = "droop"  # floor(TV / (seats + 1)) + 1
    EXACT = "exact"  # TV / (seats + 1) rounded down to the places, + 10**-places


_CANDIDATE_ORDER = TieOrder()


@dataclass(frozen=True, slots=True)
class WrightOptions:
    """How a Wright count runs: fixed point at ``places``, the quota, the tie policy."""

    places: int = 9
    quota: WrightQuota = WrightQuota.DROOP
    tie: TiePolicy = _CANDIDATE_ORDER

    def __post_init__(self) -> None:
        if not 0 <= self.places <= 30:
            raise ConfigError(
                "decimal places must be in [0..30]", field="places", value=self.places
            )


def count_wright(
    store: BallotStore,
    candidates: CandidateTable,
    seats: int,
    options: WrightOptions | None = None,
) -> Count:
    """Count ``store`` by the Wright system and return the round-by-round record."""
    if seats < 1:
        raise ConfigError("there must be at least one seat", field="seats", value=seats)
    return _WrightCount(store, candidates, seats, options or WrightOptions()).run()


@dataclass(slots=True)
class _Stage:
    """A stage before it becomes a :class:`Round` (decisions are settled at the end)."""

    iteration: int
    label: str
    threshold: int
    tally: dict[int, int]
    exhausted: int
    residual: int
    elected: tuple[int, ...] = ()
    excluded: int | None = None
    tie: TieBreak | None = None


class _WrightCount:
    """One count's working state (mutable); :meth:`run` returns the frozen record."""

    def __init__(
        self, store: BallotStore, candidates: CandidateTable, seats: int, opts: WrightOptions
    ) -> None:
        self.cands = candidates
        self.names = candidates.names
        self.seats = seats
        self.opts = opts
        self.scale = Scale(opts.places)
        self.one = self.scale.one
        prepared = prepare_ballots(store, candidates)
        self.counted = prepared.counted
        self.total = prepared.counted + prepared.dropped
        rankings: list[tuple[int, ...]] = [
            tuple(int(c) for c in row if c >= 0) for row in prepared.strict.tolist()
        ]
        weights = list(prepared.strict_weights)
        for ranking, weight in prepared.tied:
            head: list[int] = []
            for rank in ranking:
                if len(rank) > 1:
                    break  # [tallyroom] an equal preference ends the ballot
                head.append(rank[0])
            rankings.append(tuple(head))
            weights.append(weight)
        self.rankings = rankings
        self.weights = weights
        self.excluded: list[int] = []
        self.standing = [c for c in range(len(candidates)) if c not in candidates.excluded]
        self.rng = opts.tie.drawer() if isinstance(opts.tie, Lot) else None
        self.stages: list[_Stage] = []

    def run(self) -> Count:
        iteration = 0
        while True:
            iteration += 1
            elected = self.iterate(iteration)
            hopeful = [c for c in self.continuing() if c not in elected]
            if len(elected) >= self.seats or not hopeful:
                break
            tally = self.stages[-1].tally
            low = min(tally[c] for c in hopeful)
            tied = [c for c in hopeful if tally[c] == low]
            loser, tie = self.choose(tied, iteration, DecisionKind.ELIMINATED)
            last = self.stages[-1]
            self.stages.append(
                _Stage(
                    iteration,
                    f"iteration {iteration}: exclude {self.names[loser]}; the count restarts",
                    last.threshold,
                    dict(last.tally),
                    last.exhausted,
                    last.residual,
                    excluded=loser,
                    tie=tie,
                )
            )
            self.excluded.append(loser)
        return self.record(iteration, elected)

    def continuing(self) -> list[int]:
        return [c for c in self.standing if c not in self.excluded]

    def choose(
        self, tied: list[int], iteration: int, purpose: DecisionKind
    ) -> tuple[int, TieBreak | None]:
        if len(tied) == 1:
            return tied[0], None
        pick, method, why = break_tie(self.opts.tie, tied, self.rng)
        tie = TieBreak(
            round=0,  # set to the round's number when the record is made
            purpose=purpose,
            tied=tuple(self.names[c] for c in tied),
            chosen=self.names[pick],
            method=method,
            explanation=f"iteration {iteration}: {why}",
        )
        return pick, tie

    def iterate(self, iteration: int) -> list[int]:
        """One iteration from the first preferences; returns who it elected, in order."""
        continuing = self.continuing()
        live = set(continuing)
        one = self.one
        weights = self.weights
        # [Wright reset] [Wright P1] every ballot at full value to its first continuing choice
        position = [_next(r, 0, live) for r in self.rankings]
        value = [one] * len(self.rankings)
        piles: dict[int, list[int]] = {c: [] for c in continuing}
        tally = dict.fromkeys(continuing, 0)
        total_vote = 0
        for b, pos in enumerate(position):
            if pos < 0:
                continue
            c = self.rankings[b][pos]
            piles[c].append(b)
            tally[c] += one * weights[b]
            total_vote += weights[b]
        exhausted = (self.counted - total_vote) * one  # [Wright TV] outside the total vote
        quota = self.quota(total_vote)
        residual = 0
        elected: list[int] = []
        done: set[int] = set()  # elected candidates whose surplus has been transferred
        label = f"iteration {iteration}: first preferences"
        tie: TieBreak | None = None
        while True:
            reached = [c for c in continuing if c not in elected and tally[c] >= quota]
            reached.sort(key=lambda c: -tally[c])  # highest first; equal: candidate order
            elected += reached
            if reached:
                label += "; quota reached by " + ", ".join(self.names[c] for c in reached)
            hopeful = [c for c in continuing if c not in elected]
            if len(elected) < self.seats and len(elected) + len(hopeful) <= self.seats:
                label += "; elected to the seats left: " + ", ".join(self.names[c] for c in hopeful)
                reached += hopeful
                elected += hopeful
            self.stages.append(
                _Stage(
                    iteration,
                    label,
                    quota,
                    dict(tally),
                    exhausted,
                    residual,
                    tuple(reached),
                    tie=tie,
                )
            )
            if len(elected) > self.seats:
                raise CountError(
                    f"iteration {iteration}: {len(elected)} candidates reached the quota "
                    f"for {self.seats} seats"
                )
            surplus = [c for c in elected if c not in done and tally[c] > quota]
            if len(elected) == self.seats or not surplus:
                return elected
            top = max(tally[c] for c in surplus)
            tied = [c for c in surplus if tally[c] == top]
            giver, tie = self.choose(tied, iteration, DecisionKind.ELECTED)
            done.add(giver)
            # [Wright Sv] [Wright Stv] each ballot passes on value * Sv / Ctvv, rounded down
            sv, ctvv = tally[giver] - quota, tally[giver]
            moved = 0
            open_to = live - set(elected)  # [Wright P2] nothing passes to the elected
            for b in piles.pop(giver):
                new = value[b] * sv // ctvv
                value[b] = new
                moved += new * weights[b]
                pos = _next(self.rankings[b], position[b] + 1, open_to) if new else -1
                if pos < 0:
                    exhausted += new * weights[b]
                    continue
                position[b] = pos
                c = self.rankings[b][pos]
                piles[c].append(b)
                tally[c] += new * weights[b]
            residual += sv - moved  # what the rounding down dropped
            tally[giver] = quota
            label = f"iteration {iteration}: surplus of {self.names[giver]}"

    def quota(self, total_vote: int) -> int:
        # [Wright Q]
        if self.opts.quota is WrightQuota.DROOP:
            return (total_vote // (self.seats + 1) + 1) * self.one
        return (total_vote * self.one) // (self.seats + 1) + 1

    def record(self, iteration: int, elected: list[int]) -> Count:
        rounds: list[Round] = []
        for number, st in enumerate(self.stages, start=1):
            decisions: list[Decision] = []
            if st.iteration == iteration:
                decisions += [Decision(DecisionKind.ELECTED, self.names[c]) for c in st.elected]
            if st.excluded is not None:
                decisions.append(Decision(DecisionKind.ELIMINATED, self.names[st.excluded]))
            ties: tuple[TieBreak, ...] = ()
            if st.tie is not None:
                t = st.tie
                ties = (TieBreak(number, t.purpose, t.tied, t.chosen, t.method, t.explanation),)
            rounds.append(
                Round(
                    number=number,
                    threshold=st.threshold,
                    tally=tuple((self.names[c], v) for c, v in sorted(st.tally.items())),
                    decisions=tuple(decisions),
                    inactive=((InactiveReason.EXHAUSTED_CHOICES, st.exhausted),),
                    residual_surplus=st.residual,
                    ties=ties,
                    label=st.label,
                )
            )
        opts = self.opts
        return Count(
            rule="wright",
            candidates=self.names,
            seats=self.seats,
            scale=self.scale,
            rounds=tuple(rounds),
            winners=tuple(self.names[c] for c in elected),
            total_ballots=self.total,
            undervotes=self.total - self.counted,
            options={
                "places": opts.places,
                "quota": opts.quota.value,
                "tie": "lot" if isinstance(opts.tie, Lot) else "tie order",
                "excluded": tuple(self.names[c] for c in self.excluded),
            },
        )


def _next(ranking: tuple[int, ...], start: int, allowed: set[int]) -> int:
    """The position of the first candidate in ``allowed`` from ``start`` on, else -1."""
    for pos in range(start, len(ranking)):
        if ranking[pos] in allowed:
            return pos
    return -1


def wright_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: :func:`count_wright` with its defaults."""
    return count_wright(store, candidates, params.seats)
