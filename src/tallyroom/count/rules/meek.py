"""Meek STV: New Zealand's Schedule 1A, Hill-Wichmann-Woodall (1987) and Droop's Meek Parametric.

Sources, quoted where the text was available to check:

* Local Electoral Regulations 2001 (NZ), Schedule 1A "New Zealand method of counting single
  transferable votes". cl.2: "*exhausted*, in relation to a voting document, means the point
  at which no further votes from that voting document can be redistributed"; "*non-transferable
  votes* means the votes remaining untransferred when a voting document becomes exhausted".
  cl.3: "Counting is complete when the number of successful candidates is equal to the number
  of vacancies ... Counting is also complete when the number of successful candidates and
  hopeful candidates is equal to the number of vacancies. In this case, the hopeful candidates
  become successful candidates." cl.5 (Step 1): "q = (v - vnt) / (n + 1) + 0.000 000 001 ...
  and q is truncated to 9 decimal digits after the point with no rounding."
* I.D. Hill, B.A. Wichmann, D.R. Woodall, "Algorithm 123: Single Transferable Vote by Meek's
  method", Computer Journal 30(3), 1987 (also Voting matters 1): every candidate has a keep
  factor, 1 while hopeful, 0 once excluded; a ballot gives each candidate it reaches the
  keep factor times what reaches it and passes the rest on; the quota is recomputed from the
  votes not exhausted; an elected candidate's keep factor becomes ``kf * quota / votes``
  until the total surplus is small; then the lowest hopeful is excluded.
* Droop.py (J. Lundell), rule ``meek`` ("Meek Parametric (omega = 1/10^k)"), whose steps are
  tagged here as Droop tags them: [Droop B] next round, [Droop C] iterate, [Droop D] defeat,
  [Droop D.3] update the quota, [Droop D.4] find winners, [Droop D.6] total surplus, [Droop
  D.7] test the iteration, [Droop D.8] update keep factors. Its comment on rounding: "kf *
  quota rounded up / vote rounded up: Hill & NZ Calculator & NZ Schedule 1A"; transfers "NZ
  Schedule 1A: kv = w*kf rounded up ... w = w*(1-kf) rounded up"; its own (OpenSTV) transfers
  round both down.
* The stv-rs transcripts (``../shared/conformance/meek``), which reproduce Droop.py's output
  byte for byte; what they add is tagged [stv-rs].

The count, as done here:

1. [Droop B] A round: [Droop C] iterate: count every ballot with the current keep factors;
   [NZ 1A cl.5] [Droop D.3] ``quota = (ballots - residual) / (seats + 1) + epsilon`` (epsilon
   one unit of the last place in fixed point, 0 in exact arithmetic); [Droop D.4] elect each
   hopeful with ``votes >= quota`` (``>`` in exact arithmetic); [Droop D.6] ``surplus = sum
   over elected (votes - quota)`` (with ``force_positive_surplus``, negative terms count 0);
   [Droop D.7] stop when someone was elected, when ``surplus <= omega``, or when the surplus
   did not decrease ("stable"), or (``DefeatBatch.SAFE``, Droop's ``defeat_batch=safe``)
   when there are sure losers; else [Droop D.8] ``kf := kf * quota / votes``, both steps
   rounded up, and iterate again.
2. [Droop D] Not elected in this round: defeat the hopeful with the fewest votes; every
   hopeful within ``surplus`` of the lowest counts as tied, and the tie is broken by the tie
   policy (Droop's ``[tie]`` order, else the candidate order; or a seeded lot), recorded.
   One defeat per round; its keep factor becomes 0 and the ballots are counted again.
   [Droop D.7 case 4] Sure losers (``DefeatBatch.SAFE``): hopefuls are sorted by votes and
   grouped, a candidate joining the group below when within the surplus of that group's
   lowest; the largest run of lowest whole groups that leaves at least as many hopefuls as
   seats left, and whose votes plus the surplus are below the lowest vote of the next group,
   is defeated at once ("Defeat certain loser"), each recounted for the record.
3. [NZ 1A cl.3] Complete when every seat is filled or the hopefuls are no more than the seats
   left; hopefuls are then elected (or, seats full, defeated) in candidate order.

A ballot's walk [HWW 1987]: the value 1 reaches its first preference; a candidate with keep
factor ``k`` keeps ``value * k`` and passes ``value * (1 - k)`` on; both products are rounded
down (Droop's default) or up (:attr:`TransferRounding.UP`, NZ Schedule 1A), each computed from
the value (never ``value - kept``). Equal preferences (``a=b``) are counted either as Droop.py
does (:attr:`EqualRanking.DROOP`: the value is split evenly among those of the rank not yet
defeated, each share walks on separately; a rank holding only defeated candidates stops the
ballot) or "equalized" (:attr:`EqualRanking.EQUALIZE`: the average over every order of the
tied candidates). Withdrawn candidates (``CandidateTable.excluded``) are struck from the
ballots before counting; a ballot left with nobody is not counted (Droop.py's choice), and
is reported as an undervote.

Arithmetic (:class:`Arithmetic`; ``GUARDED`` is described in :mod:`.meek_arithmetic`):
``FIXED``, integers in units of ``10**-places`` with every
product and quotient rounded toward zero except the two named above; Python integers, so no
total overflows. ``RATIONAL``, exact fractions except the keep factors, rounded up to
``places`` decimals. ``TransferRounding.HILL`` (the PR Foundation's reference rule,
:mod:`.meek_prf`): the kept part rounded up and the value reduced by it; ``KeepRule.WARREN``
(:mod:`.warren`): a candidate keeps ``min(kf, value)``. Known deviations: an
overvote of unknown candidates ends a ballot there; a candidate repeated on a ballot counts
at its first mark only (Droop.py and stv-rs refuse such a ballot).

Modules: this one holds the count (:func:`run_meek`); :mod:`.meek_options` the options, states
and tie policies; :mod:`.meek_arithmetic` the rounding; :mod:`.meek_ballots` the prepared
ballots; :mod:`.meek_tally` one pass over them; :mod:`.meek_record` the transcript record.
Every public name is importable from here.
"""

from __future__ import annotations

from typing import Any

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.numbers import pow10
from tallyroom.count.record import Count, DecisionKind, TieBreak
from tallyroom.count.rules.meek_arithmetic import MeekArithmetic, Num
from tallyroom.count.rules.meek_ballots import PreparedBallots, Ranking, prepare_ballots
from tallyroom.count.rules.meek_options import (
    Action,
    Arithmetic,
    DefeatBatch,
    EqualRanking,
    IterationEnd,
    KeepRule,
    Lot,
    MeekOptions,
    Status,
    TieOrder,
    TiePolicy,
    TransferRounding,
    break_tie,
)
from tallyroom.count.rules.meek_record import MeekRecord, MeekStage
from tallyroom.count.rules.meek_tally import MeekTally
from tallyroom.count.rules.params import RuleParams
from tallyroom.errors import ConfigError, CountError

__all__ = [
    "Action",
    "Arithmetic",
    "DefeatBatch",
    "EqualRanking",
    "IterationEnd",
    "KeepRule",
    "Lot",
    "MeekOptions",
    "MeekRecord",
    "MeekStage",
    "Num",
    "PreparedBallots",
    "Ranking",
    "Status",
    "TieOrder",
    "TiePolicy",
    "TransferRounding",
    "break_tie",
    "count_meek",
    "meek_options",
    "prepare_ballots",
    "run_meek",
]


def count_meek(
    store: BallotStore,
    candidates: CandidateTable,
    seats: int,
    options: MeekOptions | None = None,
) -> Count:
    """Count ``store`` by Meek's method and return the round-by-round record."""
    return run_meek(store, candidates, seats, options).to_count()


def run_meek(
    store: BallotStore,
    candidates: CandidateTable,
    seats: int,
    options: MeekOptions | None = None,
) -> MeekRecord:
    """Count ``store`` by Meek's method; the record is exact in the rule's arithmetic."""
    opts = options or MeekOptions()
    if seats < 1:
        raise ConfigError("there must be at least one seat", field="seats", value=seats)
    return _MeekCount(store, candidates, seats, opts).run()


class _MeekCount:
    """One count's working state (mutable); :meth:`run` returns the frozen record."""

    def __init__(
        self, store: BallotStore, candidates: CandidateTable, seats: int, opts: MeekOptions
    ) -> None:
        self.cands = candidates
        self.seats = seats
        self.opts = opts
        self.n = n = len(candidates)
        self.arith = arith = MeekArithmetic(opts)
        self.ballots = prepare_ballots(store, candidates)
        self.total_ballots = self.ballots.counted + self.ballots.dropped
        self.tally = MeekTally(self.ballots, n, opts)
        self.status = [
            Status.WITHDRAWN if c in candidates.excluded else Status.HOPEFUL for c in range(n)
        ]
        self.kf: list[Num] = [arith.one] * n
        self.elected: list[int] = []
        self.stages: list[MeekStage] = []
        self.round = 0
        self.votes: list[Num] = [arith.zero] * n
        self.exhausted: Num = arith.zero
        self.threshold = self.quota(arith.zero)
        self.surplus: Num = arith.zero
        self.omega = arith.div_int(arith.one, pow10(opts.omega_places))
        self.batch: list[int] = []  # sure losers found by the last iteration
        self.rng = opts.tie.drawer() if isinstance(opts.tie, Lot) else None
        for code in opts.tie.order if isinstance(opts.tie, TieOrder) else ():
            if not 0 <= code < n:
                raise ConfigError("a tie order names no candidate", field="tie", value=code)

    def quota(self, exhausted: Num) -> Num:
        # [NZ 1A cl.5] [Droop D.3] (v - vnt) / (n + 1) rounded down, + 0.000000001
        a = self.arith
        return a.div_int(a.whole(self.ballots.counted) - exhausted, self.seats + 1) + a.epsilon

    def recount(self) -> None:
        self.votes = self.tally.count(self.kf)
        self.exhausted = self.arith.whole(self.ballots.counted) - sum(self.votes, self.arith.zero)

    def log(self, action: Action, candidate: int | None = None, **extra: Any) -> None:
        self.stages.append(
            MeekStage(
                round=self.round,
                action=action,
                candidate=candidate,
                end=extra.get("end"),
                statuses=tuple(self.status),
                votes=tuple(self.votes),
                exhausted=self.exhausted,
                threshold=self.threshold,
                surplus=self.surplus,
                keep=tuple(self.kf),
                tied=extra.get("tied", ()),
                tie=extra.get("tie"),
            )
        )

    def run(self) -> MeekRecord:
        initial = self.threshold
        self.recount()
        self.log(Action.BEGIN)
        while not self.complete():
            self.round += 1  # [Droop B]
            end = self.iterate()  # [Droop C]
            self.log(Action.ITERATE, end=end)
            if end is IterationEnd.BATCH:
                self.defeat_batch()  # [Droop D] defeat certain losers
            elif end is not IterationEnd.ELECTED:
                self.defeat(end)  # [Droop D]
        for c in range(self.n):  # [NZ 1A cl.3] hopefuls fill the seats left, or are defeated
            if self.status[c] is not Status.HOPEFUL:
                continue
            if len(self.elected) < self.seats:
                self.elect(c)
                self.log(Action.ELECT_REMAINING, c)
            else:
                self.status[c] = Status.DEFEATED
                self.log(Action.DEFEAT_REMAINING, c)
                self.kf[c] = self.arith.zero
            self.recount()
        self.log(Action.COMPLETE)
        return MeekRecord(
            candidates=self.cands,
            seats=self.seats,
            options=self.opts,
            counted=self.ballots.counted,
            total_ballots=self.total_ballots,
            initial_threshold=initial,
            omega=self.omega,
            stages=tuple(self.stages),
            winners=tuple(self.elected),
        )

    def complete(self) -> bool:
        # [NZ 1A cl.3] every seat filled, or no more hopefuls than seats left
        hopeful = sum(1 for s in self.status if s is Status.HOPEFUL)
        left = self.seats - len(self.elected)
        return left <= 0 or hopeful <= left

    def elect(self, c: int) -> None:
        if len(self.elected) >= self.seats:
            names = self.cands.names
            raise CountError(
                f"round {self.round}: {names[c]} reached the quota but all {self.seats} seats "
                f"are filled ({', '.join(names[e] for e in self.elected)})"
            )
        self.status[c] = Status.ELECTED
        self.elected.append(c)

    def iterate(self) -> IterationEnd:
        a = self.arith
        last = a.whole(self.ballots.counted)
        while True:
            self.recount()
            self.threshold = self.quota(self.exhausted)  # [Droop D.3]
            elected = False
            for c in range(self.n):  # [Droop D.4] in candidate order
                if self.status[c] is not Status.HOPEFUL:
                    continue
                if a.elected(self.votes[c], self.threshold):
                    self.elect(c)
                    self.log(Action.ELECT, c)  # [stv-rs] shows the surplus of the last pass
                    elected = True
            # [Droop D.6] the elected candidates' surplus (negative terms kept, unless forced)
            terms = (self.votes[e] - self.threshold for e in self.elected)
            if self.opts.force_positive_surplus:
                terms = (t if t > 0 else a.zero for t in terms)
            self.surplus = sum(terms, a.zero)
            # [Droop D.7]
            if elected:
                return IterationEnd.ELECTED
            inclusive = self.opts.omega_inclusive
            if (a.le if inclusive else a.lt)(self.surplus, self.omega):
                return IterationEnd.OMEGA
            if a.ge(self.surplus, last):
                return IterationEnd.STABLE
            self.batch = self.sure_losers()
            if self.batch:
                return IterationEnd.BATCH
            last = self.surplus
            for c in range(self.n):  # [Droop D.8]
                if self.status[c] is Status.ELECTED:
                    self.kf[c] = a.keep_factor(self.kf[c], self.threshold, self.votes[c])

    def sure_losers(self) -> list[int]:
        """[Droop D.7 case 4] With ``DefeatBatch.SAFE``: the largest set of lowest hopefuls,
        whole groups of candidates within the surplus of each other, leaving enough hopefuls
        for the seats left, whose votes plus the surplus stay below the next hopeful's."""
        if self.opts.defeat_batch is DefeatBatch.NONE:
            return []
        votes, surplus = self.votes, self.surplus
        hopeful = [c for c in range(self.n) if self.status[c] is Status.HOPEFUL]
        groups: list[list[int]] = []
        for c in sorted(hopeful, key=lambda c: (votes[c], c)):
            if groups and self.arith.ge(votes[groups[-1][0]] + surplus, votes[c]):
                groups[-1].append(c)  # within the surplus of the group's lowest: tied
            else:
                groups.append([c])
        most = len(hopeful) - (self.seats - len(self.elected))
        taken, total, best = 0, self.arith.zero, -1
        for g in range(len(groups) - 1):  # never the last group: that would be everyone
            taken += len(groups[g])
            if taken > most:
                break
            total += sum((votes[c] for c in groups[g]), self.arith.zero)
            if self.arith.lt(total + surplus, votes[groups[g + 1][0]]):
                best = g
        return sorted(c for group in groups[: best + 1] for c in group)

    def defeat_batch(self) -> None:
        for c in self.batch:  # in candidate order, each recounted for the record
            self.status[c] = Status.DEFEATED
            self.log(Action.DEFEAT, c, end=IterationEnd.BATCH)
            self.kf[c] = self.arith.zero
            self.recount()
        self.batch = []

    def defeat(self, end: IterationEnd) -> None:
        hopeful = [c for c in range(self.n) if self.status[c] is Status.HOPEFUL]
        low = min(self.votes[c] for c in hopeful)
        tied = tuple(c for c in hopeful if self.arith.le(self.votes[c], low + self.surplus))
        if not tied:
            # [Droop D] a negative surplus leaves nobody within it of the lowest: Droop.py
            # fails here; stv-rs's --force-positive-surplus counts negative terms as 0
            raise CountError(
                f"round {self.round}: the total surplus is negative ({self.surplus}): elected "
                "candidates hold less than the quota and no defeat is defined; count with "
                "force_positive_surplus"
            )
        loser = tied[0]
        if len(tied) > 1:
            loser, method, why = break_tie(self.opts.tie, tied, self.rng)
            names = self.cands.names
            record = TieBreak(
                round=self.round,
                purpose=DecisionKind.ELIMINATED,
                tied=tuple(names[c] for c in tied),
                chosen=names[loser],
                method=method,
                explanation=why,
            )
            self.log(Action.BREAK_TIE, loser, tied=tied, tie=record)
        self.status[loser] = Status.DEFEATED
        self.log(Action.DEFEAT, loser, end=end)
        self.kf[loser] = self.arith.zero
        self.recount()


def meek_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: :func:`count_meek` with Droop.py's defaults, but the arithmetic
    and batch defeats ``params`` choose, and ties by the ballot file's tie order (Droop's
    ``[tie ...]``) when it gives one, else by a lot drawn with ``params.seed`` when given,
    else by candidate order."""
    return count_meek(store, candidates, params.seats, meek_options(params))


def meek_options(params: RuleParams) -> MeekOptions:
    """The :class:`MeekOptions` a :class:`RuleParams` asks for, with Droop.py's defaults for
    the arithmetic: ``fixed`` 9 places, omega 10**-6; ``guarded`` 18 places + 9 guard digits,
    omega 10**-9; ``rational`` exact (keep factors rounded up at 30 places), omega 10**-10."""
    tie: TiePolicy = TieOrder()
    if params.tie_order:
        tie = TieOrder(params.tie_order)
    elif params.seed is not None:
        tie = Lot(seed=params.seed)
    arithmetic = params.arithmetic or Arithmetic.FIXED
    places, guard, omega = {
        Arithmetic.FIXED: (9, 0, 6),
        Arithmetic.GUARDED: (18, 9, 9),
        Arithmetic.RATIONAL: (30, 0, 10),
    }[arithmetic]
    return MeekOptions(
        arithmetic=arithmetic,
        places=places,
        guard=guard,
        omega_places=omega,
        tie=tie,
        defeat_batch=params.defeat_batch or DefeatBatch.NONE,
    )
