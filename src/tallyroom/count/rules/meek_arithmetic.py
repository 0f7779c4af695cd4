"""The arithmetic of a Meek count on :data:`Num` values, every rounding named.

``FIXED``: integers in units of ``10**-places``, products and quotients rounded toward zero
except where named; ``RATIONAL``: exact fractions, keep factors rounded up to ``places``.
``GUARDED`` (Droop's guarded arithmetic): integers in units of ``10**-(places + guard)``, every
product and quotient rounded down (no rounding is named: "round is ignored if guard > 0"),
and two values equal when they differ by less than half a unit of ``10**-places``; with no
guard digits it is ``FIXED``.
"""

from __future__ import annotations

from fractions import Fraction

from tallyroom.count.numbers import pow10
from tallyroom.count.rules.meek_options import Arithmetic, MeekOptions
from tallyroom.errors import CountError

__all__ = ["FixedPoint", "MeekArithmetic", "Num"]

Num = int | Fraction  # a vote value: fixed-point units, or an exact fraction of a vote


class MeekArithmetic:
    """The rule's arithmetic on :data:`Num` values, every rounding named."""

    def __init__(self, options: MeekOptions) -> None:
        self.exact = options.arithmetic is Arithmetic.RATIONAL
        self.guarded = options.arithmetic is Arithmetic.GUARDED and options.guard > 0
        self.places = options.unit_places
        self.f = pow10(self.places)
        self.one: Num = Fraction(1) if self.exact else self.f
        self.zero: Num = Fraction(0) if self.exact else 0
        self.epsilon: Num = Fraction(0) if self.exact else 0 if self.guarded else 1
        # [Droop guarded] "numbers that differ by less than half a unit of precision ... are
        # considered to be equal": half of 10**guard units (at least one)
        self.tolerance = max(pow10(options.guard) // 2, 1) if self.guarded else 0

    def gt(self, a: Num, b: Num) -> bool:
        return a - b >= self.tolerance if self.tolerance else a > b

    def ge(self, a: Num, b: Num) -> bool:
        return b - a < self.tolerance if self.tolerance else a >= b

    def lt(self, a: Num, b: Num) -> bool:
        return self.gt(b, a)

    def le(self, a: Num, b: Num) -> bool:
        return self.ge(b, a)

    def elected(self, votes: Num, quota: Num) -> bool:
        """[Droop D.4] ``votes > quota`` in exact and guarded arithmetic (no epsilon in the
        quota), ``votes >= quota`` in fixed point."""
        return self.gt(votes, quota) if self.exact or self.guarded else votes >= quota

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
        if self.guarded:
            return (kf * quota // self.f) * self.f // votes  # [Droop guarded] rounded down
        product = -((-kf * quota) // self.f)
        return -((-product * self.f) // votes)


class FixedPoint:
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
