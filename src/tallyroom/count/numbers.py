"""Exact fixed-point vote arithmetic.

A vote value is an ``int`` counting units of ``10**-places`` votes: with four decimal places one
ballot is worth ``10_000`` units. Every operation that can lose digits names its rounding, so a
rule module reads like its statute (``div_down``: "any fraction ignored"). Nothing here, nor in
any rule, ever uses a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by the two conversions that use it: a count does not
    from decimal import Decimal

__all__ = ["Scale", "pow10"]


def pow10(k: int) -> int:
    """``10**k`` for ``k >= 0``, typed as the integer it is."""
    if k < 0:
        raise ValueError("negative power of ten")
    return int("1" + "0" * k)


@dataclass(frozen=True, slots=True)
class Scale:
    """Fixed-point numbers with ``places`` decimal places."""

    places: int

    def __post_init__(self) -> None:
        if not 0 <= self.places <= 30:
            raise ValueError(f"decimal places must be in [0..30] ({self.places!r})")

    @property
    def one(self) -> int:
        """One vote, in units."""
        return pow10(self.places)

    def votes(self, n: int) -> int:
        """``n`` whole votes, in units."""
        return n * self.one

    # -- divisions and products, each with its rounding named ---------------------------------
    def div_down(self, a: int, b: int) -> int:
        """``a / b`` of two unit values as a unit value, rounded toward zero."""
        if b == 0:
            raise ZeroDivisionError("division of votes by zero")
        q = (abs(a) * self.one) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q

    def div_up(self, a: int, b: int) -> int:
        """``a / b`` of two unit values as a unit value, rounded away from zero."""
        if b == 0:
            raise ZeroDivisionError("division of votes by zero")
        q = -((-abs(a) * self.one) // abs(b))
        return q if (a >= 0) == (b >= 0) else -q

    def div_int_down(self, a: int, n: int, places: int | None = None) -> int:
        """``a / n`` (``n`` a plain integer) rounded down to ``places`` (default: all)."""
        return self.truncate(a // n if a >= 0 else -((-a) // n), places) if n else _zero_div()

    def mul_down(self, a: int, b: int) -> int:
        """``a * b`` of two unit values as a unit value, rounded toward zero."""
        p = abs(a * b) // self.one
        return p if (a >= 0) == (b >= 0) else -p

    def truncate(self, a: int, places: int | None = None) -> int:
        """``a`` with digits beyond ``places`` decimal places dropped (toward zero)."""
        if places is None or places >= self.places:
            return a
        step = pow10(self.places - places)
        return (a // step) * step if a >= 0 else -((-a // step) * step)

    def ceil(self, a: int, places: int) -> int:
        """``a`` rounded up (away from zero for positives) to ``places`` decimal places."""
        if places >= self.places:
            return a
        step = pow10(self.places - places)
        return -((-a) // step) * step

    # -- conversions ---------------------------------------------------------------------------
    def to_decimal(self, a: int) -> Decimal:
        from decimal import Decimal

        return Decimal(a).scaleb(-self.places)

    def from_decimal(self, d: Decimal) -> int:
        """A decimal as units; more digits than the scale holds is an error, not a rounding."""
        units = d.scaleb(self.places)
        if units != units.to_integral_value():
            raise ValueError(f"{d} has more than {self.places} decimal places")
        return int(units)

    def format(self, a: int, *, places: int | None = None) -> str:
        """Plain decimal text; ``places`` fixes the digits shown (padding with zeros)."""
        shown = self.places if places is None else places
        if shown < self.places:
            a = self.truncate(a, shown) // pow10(self.places - shown)
        elif shown > self.places:
            a = a * pow10(shown - self.places)
        sign = "-" if a < 0 else ""
        digits = str(abs(a)).rjust(shown + 1, "0")
        if shown == 0:
            return sign + digits
        return f"{sign}{digits[:-shown]}.{digits[-shown:]}"

    def format_plain(self, a: int) -> str:
        """Decimal text with trailing zeros (and a bare point) removed."""
        text = self.format(a)
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text


def _zero_div() -> int:
    raise ZeroDivisionError("division of votes by zero")
