"""Percentages as published, and which parts of a result are withheld so that a small part
cannot reveal how someone voted: sections of the electorate (:mod:`.declaration`) and the
units of a contest counted by unit (:mod:`.motion_declaration`) alike."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

__all__ = ["percent", "withheld_sections"]


def percent(part: int, whole: int, places: int = 1) -> Decimal:
    """``part / whole`` as a percentage, exact, then rounded half up to ``places``."""
    if whole == 0:
        return Decimal(0).quantize(Decimal(1).scaleb(-places))
    f = Fraction(part * 100, whole)
    exact = Decimal(f.numerator) / Decimal(f.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def withheld_sections(ballots: Sequence[int], minimums: Sequence[int]) -> tuple[bool, ...]:
    """Which sections' figures are withheld, given each section's ballots and its
    ``min_published_size`` (in the same order); ``True`` means withheld.

    The contest's own figures are always published, so the withheld sections' figures, added
    together, are the contest's less the published sections': whatever is withheld is
    recoverable as a sum. So:

    1. a section with fewer ballots than its ``min_published_size`` is withheld (primary);
    2. while the withheld sections, together, are one section with ballots, or fewer ballots
       than the largest ``min_published_size`` among them, the published section with the
       fewest ballots (the first declared, on a tie) is withheld too (complementary);
    3. at worst every section is withheld: the contest's totals only.

    Sections with no ballots reveal nothing and are left aside in step 2's "one section".
    After this, the one figure subtraction gives is the sum over at least two sections with
    ballots and at least as many ballots as any of them needed alone.
    """
    if len(ballots) != len(minimums):
        raise ValueError("one minimum per section")
    withheld = [b < m for b, m in zip(ballots, minimums, strict=True)]

    def exposed() -> bool:
        held = [k for k, w in enumerate(withheld) if w]
        total = sum(ballots[k] for k in held)
        if not held or total == 0:
            return False
        voiced = sum(1 for k in held if ballots[k] > 0)
        return voiced == 1 or total < max(minimums[k] for k in held)

    while exposed() and not all(withheld):
        published = [k for k, w in enumerate(withheld) if not w]
        withheld[min(published, key=lambda k: (ballots[k], k))] = True
    return tuple(withheld)
