"""Counting the prepared ballots of a Meek count for given keep factors (one pass per iteration).

Rankings without equal preferences are walked all at once with numpy; rankings with equal
preferences rank by rank, either by Droop.py's descent or "equalized" (the average over every
order of the equal candidates), in fixed point or exactly. See :mod:`tallyroom.count.rules.meek`
for the walk and its roundings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import SKIP
from tallyroom.count.numbers import pow10
from tallyroom.count.rules.meek_arithmetic import FixedPoint, Num
from tallyroom.count.rules.meek_ballots import PreparedBallots, Ranking
from tallyroom.count.rules.meek_options import (
    Arithmetic,
    EqualRanking,
    KeepRule,
    MeekOptions,
    TransferRounding,
)
from tallyroom.errors import CountError

__all__ = ["MeekTally", "RankEffect"]


@dataclass(frozen=True, slots=True)
class RankEffect:
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


class MeekTally:
    """Counts the prepared ballots for given keep factors (one pass per iteration)."""

    def __init__(self, ballots: PreparedBallots, n: int, opts: MeekOptions) -> None:
        self.n = n
        self.exact = opts.arithmetic is Arithmetic.RATIONAL
        # [Droop guarded] "round is ignored if guard > 0": every product rounded down
        named = not self.exact and opts.unit_places == opts.places
        self.up = opts.transfer_rounding is TransferRounding.UP and named
        # [PRF Meek B.2.a] the kept part rounded up, the ballot keeps the rest exactly
        self.hill = opts.transfer_rounding is TransferRounding.HILL and named
        self.warren = opts.keep is KeepRule.WARREN  # keeps min(k, value)
        self.droop = opts.equal_ranking is EqualRanking.DROOP
        self.step = pow10(opts.unit_places)
        self.fixed = FixedPoint(self.step, up=self.up)
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
            if self.warren:
                for c, share in enumerate(self._warren_tied([Fraction(k) for k in kf])):
                    totals[c] += share
                return list(totals)
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
            if self.warren:
                # [Warren] the keep factor is an amount, in units of 1/step: min(k, value)
                kept = np.minimum(k * (self.strict_unit // step), value)
                passed = value - kept
            elif self.hill:
                kept = -((-(value * k)) // step)
                passed = value - kept
            else:
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
        ranks: dict[tuple[int, ...], RankEffect] = {}
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
                    kept, rest = self._split(share, kf[c])
                    sums[c] += kept * times
                    if rest:
                        onward[rest] = onward.get(rest, 0) + times
            if not onward:
                return
            reaching = onward

    def _split(self, share: int, k: int) -> tuple[int, int]:
        """What a candidate with keep factor ``k`` keeps of ``share``, and what passes on."""
        if self.warren:
            kept = min(k, share)
            return kept, share - kept
        if self.hill:
            kept = -((-share * k) // self.step)
            return kept, share - kept
        return self.fixed.take(share, k), self.fixed.take(share, self.step - k)

    def _warren_tied(self, kf: Sequence[Fraction]) -> list[Fraction]:
        """Exact Warren over rankings with equal preferences, by Droop.py's descent: the value
        reaching a rank is split evenly among its candidates still standing; each keeps
        ``min(k, share)`` and passes the rest on separately."""
        sums = [Fraction(0)] * self.n
        for ranking, weight in self.tied:
            reaching: dict[Fraction, int] = {Fraction(1): weight}
            for rank in ranking:
                live = [c for c in rank if kf[c] != 0]
                if not live:
                    break  # [Droop] a rank of defeated candidates stops the ballot
                onward: dict[Fraction, int] = {}
                for value, times in reaching.items():
                    share = value / len(live)
                    for c in live:
                        kept = min(kf[c], share)
                        sums[c] += kept * times
                        if share > kept:
                            onward[share - kept] = onward.get(share - kept, 0) + times
                if not onward:
                    break
                reaching = onward
        return sums

    def _fixed_equalized(self, members: tuple[int, ...], kf: Sequence[int]) -> RankEffect:
        """A rank of ``k`` equal candidates as the average of its ``k!`` orders (stv-rs's
        order of operations, each product and quotient rounded toward zero)."""
        u = self.fixed
        one = self.step
        if len(members) == 1:
            c = members[0]
            return RankEffect(1, ((c, kf[c], 0),), one - kf[c])
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
        return RankEffect(1, tuple(parts), rest)

    # -- rankings with equal preferences: exact -------------------------------------------------
    def _exact_tied(self, kf: Sequence[int]) -> dict[int, list[int]]:
        """Sums in units of ``1/unit`` for each unit met: a walk's unit is the product of the
        scales of the ranks it passed, so values stay as small as their ballot needs."""
        by_unit: dict[int, list[int]] = {}
        ranks: dict[tuple[int, ...], RankEffect | None] = {}
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

    def _exact_rank(self, members: tuple[int, ...], kf: Sequence[int]) -> RankEffect | None:
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
            return RankEffect(step * math.lcm(*range(1, size + 1)), parts, 0)
        if size == 1:
            c = members[0]
            return RankEffect(step, ((c, kf[c], 0),), step - kf[c])
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
        return RankEffect(scale, tuple(shares), poly[size] * size * common)


def _on_grid(k: Num, step: int) -> int:
    """A keep factor as a whole number of ``1/step``."""
    scaled = Fraction(k) * step
    if scaled.denominator != 1:
        raise CountError(f"keep factor {k} is not a multiple of 1/{step}")
    return scaled.numerator


def _pascal(size: int) -> list[list[int]]:
    """Rows ``0 .. size-1`` of Pascal's triangle: ``rows[n][j] = C(n, j)``."""
    return [[math.comb(n, j) for j in range(n + 1)] for n in range(size)]
