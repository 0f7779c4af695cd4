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
   did not decrease ("stable"); else [Droop D.8] ``kf := kf * quota / votes``, both steps
   rounded up, and iterate again.
2. [Droop D] Not elected in this round: defeat the hopeful with the fewest votes; every
   hopeful within ``surplus`` of the lowest counts as tied, and the tie is broken by the tie
   policy (Droop's ``[tie]`` order, else the candidate order; or a seeded lot), recorded.
   One defeat per round; its keep factor becomes 0 and the ballots are counted again.
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

Arithmetic (:class:`Arithmetic`): ``FIXED``, integers in units of ``10**-places`` with every
product and quotient rounded toward zero except the two named above; Python integers, so no
total overflows. ``RATIONAL``, exact fractions except the keep factors, rounded up to
``places`` decimals. Known deviations: no batch defeats (Droop's ``defeat_batch=safe``); an
overvote of unknown candidates ends a ballot there; a candidate repeated on a ballot counts
at its first mark only (Droop.py and stv-rs refuse such a ballot).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import OVERVOTE_SET_BASE, SKIP, BallotStore, CandidateTable
from tallyroom.count.javarandom import JavaRandom
from tallyroom.count.numbers import Scale, pow10
from tallyroom.count.record import (
    Count,
    Decision,
    DecisionKind,
    InactiveReason,
    Round,
    TieBreak,
)
from tallyroom.errors import ConfigError, CountError

__all__ = [
    "Action",
    "Arithmetic",
    "EqualRanking",
    "IterationEnd",
    "Lot",
    "MeekOptions",
    "MeekRecord",
    "MeekStage",
    "Num",
    "PreparedBallots",
    "Status",
    "TieOrder",
    "TiePolicy",
    "TransferRounding",
    "break_tie",
    "count_meek",
    "prepare_ballots",
    "run_meek",
]

Num = int | Fraction  # a vote value: fixed-point units, or an exact fraction of a vote


class Arithmetic(enum.Enum):
    FIXED = "fixed"  # integers in units of 10**-places
    RATIONAL = "rational"  # exact fractions; keep factors rounded up to `places` decimals


class TransferRounding(enum.Enum):
    DOWN = "down"  # Droop.py / OpenSTV: kept and passed-on parts both rounded down
    UP = "up"  # NZ Schedule 1A: both rounded up


class EqualRanking(enum.Enum):
    DROOP = "droop"  # Droop.py's recursive descent
    EQUALIZE = "equalize"  # the average over every order of the equally ranked candidates


class Status(enum.Enum):
    HOPEFUL = "hopeful"
    ELECTED = "elected"
    DEFEATED = "defeated"
    WITHDRAWN = "withdrawn"


class Action(enum.Enum):
    BEGIN = "begin count"
    ELECT = "elect"
    ITERATE = "iterate"
    BREAK_TIE = "break tie"
    DEFEAT = "defeat"
    ELECT_REMAINING = "elect remaining"
    DEFEAT_REMAINING = "defeat remaining"
    COMPLETE = "count complete"


class IterationEnd(enum.Enum):
    ELECTED = "elected"
    OMEGA = "omega"
    STABLE = "stable"


@dataclass(frozen=True, slots=True)
class TieOrder:
    """Ties go to the tied candidate listed first in ``order`` (codes); unlisted candidates
    follow in candidate order. Empty: the candidate order (Droop.py's default)."""

    order: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Lot:
    """Ties drawn by lot: ``java.util.Random(seed)``, one generator for the whole count."""

    seed: int


TiePolicy = TieOrder | Lot


@dataclass(frozen=True, slots=True)
class MeekOptions:
    """How a Meek count runs. The defaults are Droop.py's ``meek fixed precision=9 omega=6
    defeat_batch=none``, which the stv-rs transcripts reproduce."""

    arithmetic: Arithmetic = Arithmetic.FIXED
    places: int = 9  # FIXED: places of every value; RATIONAL: places of the keep factors
    omega_places: int = 6  # omega = 10**-omega_places
    transfer_rounding: TransferRounding = TransferRounding.DOWN
    equal_ranking: EqualRanking = EqualRanking.DROOP
    force_positive_surplus: bool = False
    tie: TiePolicy = TieOrder()

    def __post_init__(self) -> None:
        if not 0 <= self.places <= 30:
            raise ConfigError(
                "decimal places must be in [0..30]", field="places", value=self.places
            )
        if not 0 <= self.omega_places <= 30:
            raise ConfigError(
                "omega's decimal places must be in [0..30]",
                field="omega_places",
                value=self.omega_places,
            )


@dataclass(frozen=True, slots=True)
class MeekStage:
    """One action of the count, with the state it left (as a transcript prints it).

    ``round`` is the Meek round (0 before the first); ``votes`` and ``keep`` (the keep
    factors the votes were counted with, or set since) have one entry per candidate (withdrawn
    ones 0 and 1); ``surplus`` is the total surplus as last computed; ``tied`` lists the tied
    candidates of a tie broken here, ``tie`` how it was broken.
    """

    round: int
    action: Action
    candidate: int | None
    end: IterationEnd | None
    statuses: tuple[Status, ...]
    votes: tuple[Num, ...]
    exhausted: Num
    threshold: Num
    surplus: Num
    keep: tuple[Num, ...] = ()
    tied: tuple[int, ...] = ()
    tie: TieBreak | None = None


@dataclass(frozen=True, slots=True)
class MeekRecord:
    """The complete record of a Meek count, exact in its own arithmetic."""

    candidates: CandidateTable
    seats: int
    options: MeekOptions
    counted: int  # ballots counted (naming a candidate still standing)
    total_ballots: int
    initial_threshold: Num
    omega: Num
    stages: tuple[MeekStage, ...]
    winners: tuple[int, ...]

    @property
    def ties(self) -> tuple[TieBreak, ...]:
        return tuple(s.tie for s in self.stages if s.tie is not None)

    def to_count(self) -> Count:
        """The record as a :class:`Count`. FIXED values are exact; RATIONAL values are shown
        in units of ``10**-places`` (the keep factors' places), each rounded down."""
        scale = Scale(self.options.places)
        one = scale.one
        names = self.candidates.names

        def units(x: Num) -> int:
            if isinstance(x, int):
                return x
            return (x.numerator * one) // x.denominator  # rounded down (toward -inf)

        rounds: list[Round] = []
        for i, st in enumerate(self.stages, start=1):
            decisions: tuple[Decision, ...] = ()
            if st.candidate is not None and st.action in _DECIDES:
                decisions = (Decision(_DECIDES[st.action], names[st.candidate]),)
            tie = st.tie
            if tie is not None:
                tie = TieBreak(i, tie.purpose, tie.tied, tie.chosen, tie.method, tie.explanation)
            rounds.append(
                Round(
                    number=i,
                    threshold=units(st.threshold),
                    tally=tuple(
                        (names[c], units(st.votes[c]))
                        for c in range(len(names))
                        if st.statuses[c] is not Status.WITHDRAWN
                    ),
                    decisions=decisions,
                    inactive=((InactiveReason.EXHAUSTED_CHOICES, units(st.exhausted)),),
                    ties=() if tie is None else (tie,),
                    label=_label(st, names),
                )
            )
        opts = self.options
        return Count(
            rule="meek",
            candidates=names,
            seats=self.seats,
            scale=scale,
            rounds=tuple(rounds),
            winners=tuple(names[c] for c in self.winners),
            total_ballots=self.total_ballots,
            undervotes=self.total_ballots - self.counted,
            options={
                "arithmetic": opts.arithmetic.value,
                "places": opts.places,
                "omega": f"1/10^{opts.omega_places}",
                "transfer_rounding": opts.transfer_rounding.value,
                "equal_ranking": opts.equal_ranking.value,
                "force_positive_surplus": opts.force_positive_surplus,
                "tie": _tie_text(opts.tie),
            },
        )


_DECIDES = {
    Action.ELECT: DecisionKind.ELECTED,
    Action.ELECT_REMAINING: DecisionKind.ELECTED,
    Action.DEFEAT: DecisionKind.ELIMINATED,
    Action.DEFEAT_REMAINING: DecisionKind.ELIMINATED,
}


def _label(st: MeekStage, names: Sequence[str]) -> str:
    """The stage's action in words: "elect Ann", "iterate (omega)", "defeat Bo (stable)"."""
    who = "" if st.candidate is None else names[st.candidate]
    if st.action is Action.ITERATE and st.end is not None:
        return f"iterate ({st.end.value})"
    if st.action is Action.BREAK_TIE:
        return f"break tie: {', '.join(names[c] for c in st.tied)} -> {who}"
    if st.action is Action.DEFEAT and st.end is not None:
        why = "surplus below omega" if st.end is IterationEnd.OMEGA else "stable surplus"
        return f"defeat {who} ({why})"
    return f"{st.action.value} {who}".rstrip()


def _tie_text(tie: TiePolicy) -> str:
    if isinstance(tie, Lot):
        return f"lot (seed {tie.seed})"
    return "tie order" if tie.order else "candidate order"


# -- ballots ------------------------------------------------------------------------------------
Ranking = tuple[tuple[int, ...], ...]  # ranks best first; each rank one or more candidates


@dataclass(frozen=True, slots=True)
class PreparedBallots:
    """Ballots as the count walks them: withdrawn candidates struck, skipped ranks closed up.

    ``strict`` holds the rankings without equal preferences as a matrix of candidate codes
    (``-1`` after the last), ``strict_weights`` their weights; ``tied`` the others. ``counted``
    is the total weight of both; ``dropped`` the weight of ballots naming nobody standing.
    """

    strict: npt.NDArray[np.int32]
    strict_weights: tuple[int, ...]
    tied: tuple[tuple[Ranking, int], ...]
    counted: int
    dropped: int


def prepare_ballots(store: BallotStore, candidates: CandidateTable) -> PreparedBallots:
    """Rankings for an iterative count (see the module docstring for what is struck)."""
    n = len(candidates)
    rows = np.asarray(store.rows, dtype=np.int32)
    weights = np.asarray(store.weights)
    width = rows.shape[1] if rows.ndim == 2 else 0
    if rows.shape[0] == 0 or width == 0:
        return PreparedBallots(np.full((0, 1), -1, np.int32), (), (), 0, int(weights.sum()))
    cells = rows.copy()
    if candidates.excluded:
        gone = np.isin(cells, sorted(candidates.excluded))
        cells[gone] = SKIP
    # Plain rows (candidate codes and skips only, no repeats) are closed up with numpy.
    plain = ~np.any(cells < SKIP, axis=1)
    order = np.argsort(cells == SKIP, axis=1, kind="stable")
    packed = np.take_along_axis(cells, order, axis=1)
    ordered = np.sort(np.where(packed == SKIP, n + np.arange(width), packed), axis=1)
    plain &= ~np.any(ordered[:, 1:] == ordered[:, :-1], axis=1)
    plain &= weights > 0
    nonempty = packed[:, 0] != SKIP
    dropped = int(weights[plain & ~nonempty].sum())
    take = plain & nonempty
    strict_rows: list[npt.NDArray[np.int32]] = [packed[take]]
    strict_w: list[int] = [int(w) for w in weights[take].tolist()]
    tied: list[tuple[Ranking, int]] = []
    for i in np.flatnonzero(~plain & (weights > 0)).tolist():
        ranking = _ranking(cells[i].tolist(), store.overvote_sets, candidates.excluded)
        weight = int(weights[i])
        if not ranking:
            dropped += weight
        elif all(len(r) == 1 for r in ranking):
            row = np.full((1, width), SKIP, dtype=np.int32)
            row[0, : len(ranking)] = [r[0] for r in ranking]
            strict_rows.append(row)
            strict_w.append(weight)
        else:
            tied.append((ranking, weight))
    strict = np.concatenate(strict_rows, axis=0) if strict_rows else packed[:0]
    used = int(np.max(np.sum(strict != SKIP, axis=1))) if strict.shape[0] else 1
    strict = np.ascontiguousarray(strict[:, : max(used, 1)])
    counted = sum(strict_w) + sum(w for _, w in tied)
    return PreparedBallots(strict, tuple(strict_w), tuple(tied), counted, dropped)


def _ranking(
    cells: list[int], sets: tuple[tuple[int, ...], ...], withdrawn: frozenset[int]
) -> Ranking:
    """One row's ranks: equal preferences expanded, withdrawn and repeated candidates struck."""
    seen: set[int] = set(withdrawn)
    ranks: list[tuple[int, ...]] = []
    for code in cells:
        if code == SKIP:
            continue
        if code >= 0:
            members: tuple[int, ...] = (code,)
        elif code <= OVERVOTE_SET_BASE:
            members = sets[OVERVOTE_SET_BASE - code]
        else:
            break  # [tallyroom] an overvote of unknown candidates: the ballot ends here
        kept = tuple(c for c in members if c not in seen)
        seen.update(members)
        if kept:
            ranks.append(kept)
    return tuple(ranks)


def break_tie(
    policy: TiePolicy, tied: Sequence[int], rng: JavaRandom | None
) -> tuple[int, str, str]:
    """The candidate chosen among ``tied`` (in candidate order), the method and why."""
    if isinstance(policy, Lot):
        assert rng is not None
        return tied[rng.next_index(len(tied))], "lot", f"drawn by lot (seed {policy.seed})"
    rank = {c: i for i, c in enumerate(policy.order)}
    pick = min(tied, key=lambda c: (rank.get(c, len(rank)), c))
    where = "the tie order" if policy.order else "candidate order"
    return pick, "tie order", f"listed first in {where}"


# -- arithmetic ---------------------------------------------------------------------------------
class _Arith:
    """The rule's arithmetic on :data:`Num` values, every rounding named."""

    def __init__(self, options: MeekOptions) -> None:
        self.exact = options.arithmetic is Arithmetic.RATIONAL
        self.places = options.places
        self.f = pow10(options.places)
        self.one: Num = Fraction(1) if self.exact else self.f
        self.zero: Num = Fraction(0) if self.exact else 0
        self.epsilon: Num = Fraction(0) if self.exact else 1

    def whole(self, n: int) -> Num:
        return Fraction(n) if self.exact else n * self.f

    def div_int(self, a: Num, n: int) -> Num:
        """``a / n`` for a whole ``n``, rounded toward zero."""
        if self.exact:
            return Fraction(a) / n
        assert isinstance(a, int)
        return a // n if a >= 0 else -((-a) // n)

    def keep_factor(self, kf: Num, quota: Num, votes: Num) -> Num:
        """[Droop D.8] ``kf * quota / votes``: product and quotient rounded up."""
        if votes <= 0:
            raise CountError(
                f"an elected candidate has no votes to compute a keep factor ({votes})"
            )
        if self.exact:
            q = Fraction(kf) * quota / votes * self.f
            return Fraction(-((-q.numerator) // q.denominator), self.f)
        assert isinstance(kf, int) and isinstance(quota, int) and isinstance(votes, int)
        product = -((-kf * quota) // self.f)
        return -((-product * self.f) // votes)


# -- counting the ballots -----------------------------------------------------------------------
class _Fixed:
    """Fixed-point walk arithmetic in units of ``10**-places``: products and quotients rounded
    toward zero; the transfer products (kept, passed on) as :class:`TransferRounding` says."""

    def __init__(self, unit: int, *, up: bool) -> None:
        self.unit = unit
        self.up = up

    def mul(self, a: int, b: int) -> int:
        p = a * b
        return p // self.unit if p >= 0 else -((-p) // self.unit)

    def take(self, a: int, b: int) -> int:
        if self.up:
            return -((-a * b) // self.unit)  # rounded up
        return self.mul(a, b)

    @staticmethod
    def div_int(a: int, n: int) -> int:
        return a // n if a >= 0 else -((-a) // n)


@dataclass(frozen=True, slots=True)
class _Rank:
    """What one rank of a ballot does to the value reaching it, for the current keep factors.

    Exact: the value ``v`` (in units of ``1/u``) gives candidate ``c`` ``v * kept`` and passes
    on ``v * passed`` (both in units of ``1/(u * scale)``, whole numbers by the choice of
    ``scale``). Fixed: ``kept``/``passed`` are the rounded shares in units of ``10**-places``.
    ``parts`` lists ``(candidate, kept, passed)``; Droop's descent walks each part's passed
    value on separately, the equalized walk passes ``rest`` on once.
    """

    scale: int
    parts: tuple[tuple[int, int, int], ...]
    rest: int


class _Tally:
    """Counts the prepared ballots for given keep factors (one pass per iteration)."""

    def __init__(self, ballots: PreparedBallots, n: int, opts: MeekOptions) -> None:
        self.n = n
        self.exact = opts.arithmetic is Arithmetic.RATIONAL
        self.up = opts.transfer_rounding is TransferRounding.UP and not self.exact
        self.droop = opts.equal_ranking is EqualRanking.DROOP
        self.step = pow10(opts.places)
        self.fixed = _Fixed(self.step, up=self.up)
        self.tied = ballots.tied
        strict = ballots.strict
        self.matrix = np.where(strict == SKIP, n, strict).astype(np.intp)
        self.width = int(self.matrix.shape[1])
        # Exact: keep factors are 0, 1 or multiples of 10**-places, so in units of
        # 10**-(places * width) every product of a strict walk is an exact integer division.
        self.strict_unit = self.step**self.width if self.exact else self.step
        total = ballots.counted
        # int64 is exact while values and products stay below 2**63; else Python integers
        small = not self.exact and self.step**2 < 2**62 and total * self.step < 2**62
        self.dtype: Any = np.int64 if small else object
        self.weights = np.array(ballots.strict_weights, dtype=self.dtype)
        widest = max((len(r) for rk, _ in self.tied for r in rk), default=1)
        self.pascal = _pascal(widest)

    def count(self, kf: Sequence[Num]) -> list[Num]:
        if self.exact:
            grid = [_on_grid(k, self.step) for k in kf]
            strict = self._strict(grid)
            totals = [Fraction(v, self.strict_unit) for v in strict]
            for unit, sums in self._exact_tied(grid).items():
                for c, v in enumerate(sums):
                    if v:
                        totals[c] += Fraction(v, unit)
            return list(totals)
        fixed = [int(k) for k in kf]
        out: list[Num] = [*self._strict(fixed)]
        sums = self._fixed_tied(fixed)
        return [a + b for a, b in zip(out, sums, strict=True)]

    # -- strict rankings: numpy over the ballots ------------------------------------------------
    def _strict(self, kf: Sequence[int]) -> list[int]:
        """Rankings without equal preferences, all at once. ``kf`` are keep factors in units
        of ``10**-places``; values are in units of ``1/strict_unit``."""
        dtype = object if self.exact else self.dtype
        step = self.step
        factors = np.array([*kf, 0], dtype=dtype)
        signed = any(k < 0 or k > step for k in kf)
        sums = np.zeros(self.n + 1, dtype=dtype)
        rows = np.arange(self.matrix.shape[0])
        value = np.full(rows.size, self.strict_unit, dtype=dtype)
        for j in range(self.width):
            if rows.size == 0:
                break
            cand = self.matrix[rows, j]
            k = factors[cand]
            kept = self._divide(value * k, signed)
            passed = self._divide(value * (step - k), signed)
            np.add.at(sums, cand, kept * self.weights[rows])
            going = passed != 0
            rows = rows[going]
            value = passed[going]
        return [int(v) for v in sums[: self.n]]

    def _divide(self, p: npt.NDArray[Any], signed: bool) -> npt.NDArray[Any]:
        d = self.step
        if self.exact:
            return p // d  # exact: a value at column j is a multiple of step**(width - j)
        if self.up:
            return -((-p) // d)  # rounded up
        if not signed:
            return p // d  # rounded down (nothing negative)
        q = abs(p) // d  # rounded toward zero
        return np.where(p < 0, -q, q)

    # -- rankings with equal preferences: fixed point -------------------------------------------
    def _fixed_tied(self, kf: Sequence[int]) -> list[int]:
        sums = [0] * self.n
        ranks: dict[tuple[int, ...], _Rank] = {}
        for ranking, weight in self.tied:
            if self.droop:
                self._droop_descent(ranking, weight, kf, sums)
                continue
            value = self.step
            for members in ranking:
                rank = ranks.get(members)
                if rank is None:
                    rank = ranks[members] = self._fixed_equalized(members, kf)
                for c, kept, _ in rank.parts:
                    sums[c] += self.fixed.take(value, kept) * weight
                value = self.fixed.take(value, rank.rest)
                if not value:
                    break
        return sums

    def _droop_descent(
        self, ranking: Ranking, weight: int, kf: Sequence[int], sums: list[int]
    ) -> None:
        """Droop.py's recursive descent, a rank at a time: the shares reaching a rank are
        grouped by value (equal shares walk on identically), so the work stays polynomial."""
        u = self.fixed
        one = self.step
        reaching: dict[int, int] = {one: weight}
        for rank in ranking:
            live = [c for c in rank if kf[c] != 0]
            if not live:
                return  # [Droop] a rank of defeated candidates stops the ballot
            onward: dict[int, int] = {}
            for value, times in reaching.items():
                share = u.div_int(value, len(live))
                for c in live:
                    sums[c] += u.take(share, kf[c]) * times
                    rest = u.take(share, one - kf[c])
                    if rest:
                        onward[rest] = onward.get(rest, 0) + times
            if not onward:
                return
            reaching = onward

    def _fixed_equalized(self, members: tuple[int, ...], kf: Sequence[int]) -> _Rank:
        """A rank of ``k`` equal candidates as the average of its ``k!`` orders (stv-rs's
        order of operations, each product and quotient rounded toward zero)."""
        u = self.fixed
        one = self.step
        if len(members) == 1:
            c = members[0]
            return _Rank(1, ((c, kf[c], 0),), one - kf[c])
        keeps = [kf[c] for c in members]
        unused = [one - k for k in keeps]
        row = self.pascal[len(members) - 1]
        size = len(members) - 1
        plain = all(a >= 0 for a in unused)  # then every product below is >= 0: floor = trunc
        parts = []
        for i, c in enumerate(members):
            if not keeps[i]:
                continue  # a defeated candidate keeps nothing, whatever reaches them
            # the coefficients of prod over j != i of (X + unused_j), highest power first,
            # multiplied in stv-rs's order; a factor of exactly one multiplies exactly
            poly = [one] + [0] * size
            top = 0  # poly[d] is 0 for d > top
            for j, a in enumerate(unused):
                if j == i or not a:
                    continue
                top += 1
                for d in range(top, 0, -1):
                    if a == one:
                        poly[d] += poly[d - 1]
                    elif plain:
                        poly[d] += poly[d - 1] * a // one
                    else:
                        poly[d] += u.mul(poly[d - 1], a)
            weight = sum(u.div_int(poly[d], row[d]) for d in range(top + 1))
            parts.append((c, u.div_int(u.mul(weight, keeps[i]), len(members)), 0))
        rest = one
        for x in unused:
            rest = u.mul(rest, x)
        return _Rank(1, tuple(parts), rest)

    # -- rankings with equal preferences: exact -------------------------------------------------
    def _exact_tied(self, kf: Sequence[int]) -> dict[int, list[int]]:
        """Sums in units of ``1/unit`` for each unit met: a walk's unit is the product of the
        scales of the ranks it passed, so values stay as small as their ballot needs."""
        by_unit: dict[int, list[int]] = {}
        ranks: dict[tuple[int, ...], _Rank | None] = {}
        for ranking, weight in self.tied:
            unit = 1
            reaching: dict[int, int] = {1: weight}
            for members in ranking:
                if members not in ranks:
                    ranks[members] = self._exact_rank(members, kf)
                rank = ranks[members]
                if rank is None:
                    break  # [Droop] a rank of defeated candidates stops the ballot
                unit *= rank.scale
                sums = by_unit.get(unit)
                if sums is None:
                    sums = by_unit[unit] = [0] * self.n
                onward: dict[int, int] = {}
                for value, times in reaching.items():
                    for c, kept, passed in rank.parts:
                        sums[c] += value * kept * times
                        if self.droop and passed:
                            nxt = value * passed
                            onward[nxt] = onward.get(nxt, 0) + times
                    if not self.droop and rank.rest:
                        nxt = value * rank.rest
                        onward[nxt] = onward.get(nxt, 0) + times
                if not onward:
                    break
                reaching = onward
        return by_unit

    def _exact_rank(self, members: tuple[int, ...], kf: Sequence[int]) -> _Rank | None:
        """The rank's exact effect; ``kf`` are keep factors in whole units of ``1/step``."""
        step = self.step
        size = len(members)
        if self.droop:
            live = [c for c in members if kf[c] != 0]
            if not live:
                return None
            # a share v/m, kept v*k/m, passed on v*(1-k)/m; scale step*lcm(1..size)
            spread = math.lcm(*range(1, size + 1)) // len(live)
            parts = tuple((c, kf[c] * spread, (step - kf[c]) * spread) for c in live)
            return _Rank(step * math.lcm(*range(1, size + 1)), parts, 0)
        if size == 1:
            c = members[0]
            return _Rank(step, ((c, kf[c], 0),), step - kf[c])
        # Unused factors u_i = b_i / step. With P(X) = prod (X + b_j) and Q_i = P / (X + b_i),
        # candidate i keeps k_i / size * sum_d Q_i[d] / (step**d * C(size-1, d)) and
        # prod u_i passes on; in units of 1/scale every term is a whole number.
        binomials = [math.comb(size - 1, d) for d in range(size)]
        common = math.lcm(*binomials)
        scale = step**size * size * common
        unused = [step - kf[c] for c in members]
        poly = [1]
        for b in unused:
            poly = [*poly, 0]
            for d in range(len(poly) - 1, 0, -1):
                poly[d] += poly[d - 1] * b
        shares: list[tuple[int, int, int]] = []
        for i, c in enumerate(members):
            if not kf[c]:
                continue
            quotient = [poly[0]]
            for d in range(1, size):
                quotient.append(poly[d] - unused[i] * quotient[-1])
            total = sum(
                quotient[d] * step ** (size - 1 - d) * (common // binomials[d]) for d in range(size)
            )
            shares.append((c, total * kf[c], 0))
        return _Rank(scale, tuple(shares), poly[size] * size * common)


def _on_grid(k: Num, step: int) -> int:
    """A keep factor as a whole number of ``1/step``."""
    scaled = Fraction(k) * step
    if scaled.denominator != 1:
        raise CountError(f"keep factor {k} is not a multiple of 1/{step}")
    return scaled.numerator


def _pascal(size: int) -> list[list[int]]:
    """Rows ``0 .. size-1`` of Pascal's triangle: ``rows[n][j] = C(n, j)``."""
    return [[math.comb(n, j) for j in range(n + 1)] for n in range(size)]


# -- the count ----------------------------------------------------------------------------------
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
        self.arith = arith = _Arith(opts)
        self.ballots = prepare_ballots(store, candidates)
        self.total_ballots = self.ballots.counted + self.ballots.dropped
        self.tally = _Tally(self.ballots, n, opts)
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
        self.rng = JavaRandom(opts.tie.seed) if isinstance(opts.tie, Lot) else None
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
            if end is not IterationEnd.ELECTED:
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
                v = self.votes[c]
                if (v > self.threshold) if a.exact else (v >= self.threshold):
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
            if self.surplus <= self.omega:
                return IterationEnd.OMEGA
            if self.surplus >= last:
                return IterationEnd.STABLE
            last = self.surplus
            for c in range(self.n):  # [Droop D.8]
                if self.status[c] is Status.ELECTED:
                    self.kf[c] = a.keep_factor(self.kf[c], self.threshold, self.votes[c])

    def defeat(self, end: IterationEnd) -> None:
        hopeful = [c for c in range(self.n) if self.status[c] is Status.HOPEFUL]
        low = min(self.votes[c] for c in hopeful)
        tied = tuple(c for c in hopeful if self.votes[c] <= low + self.surplus)
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
