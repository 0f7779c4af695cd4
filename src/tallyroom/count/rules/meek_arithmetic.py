"""The arithmetic of a Meek count on :data:`Num` values, every rounding named.

``FIXED``: integers in units of ``10**-places``, products and quotients rounded toward zero
except where named; ``RATIONAL``: exact fractions, keep factors rounded up to ``places``.
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
