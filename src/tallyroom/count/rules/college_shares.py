"""Shares of an electoral college: shown as percentages, and combined from published section
figures when no ballots exist ([share] in :mod:`tallyroom.count.rules.college`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from tallyroom.count.numbers import pow10
from tallyroom.errors import ConfigError

__all__ = ["SectionShares", "combine_shares", "display_percent"]


def display_percent(share: Fraction, places: int) -> Decimal:
    """``share`` (a fraction of 1) as a percentage to ``places`` places, halves rounded up."""
    scaled = share * 100 * pow10(places)
    units = math.floor(scaled + Fraction(1, 2))
    return Decimal(units).scaleb(-places)


@dataclass(frozen=True, slots=True)
class SectionShares:
    """A section's shares (fractions of 1) of the votes for continuing candidates."""

    name: str
    weight: Fraction
    shares: tuple[tuple[str, Fraction], ...]

    @staticmethod
    def from_votes(
        name: str, weight: Fraction, votes: Mapping[str, int], continuing: int
    ) -> SectionShares:
        """Shares from votes and the section's total votes for continuing candidates."""
        if continuing <= 0:
            raise ConfigError("a section needs votes for continuing candidates", value=continuing)
        return SectionShares(
            name, weight, tuple((c, Fraction(v, continuing)) for c, v in votes.items())
        )

    @staticmethod
    def from_percentages(
        name: str, weight: Fraction, percentages: Mapping[str, Decimal]
    ) -> SectionShares:
        """Shares from published percentages, taken exactly as printed."""
        return SectionShares(
            name, weight, tuple((c, Fraction(p) / 100) for c, p in percentages.items())
        )


def combine_shares(sections: Sequence[SectionShares]) -> dict[str, Fraction]:
    """[share] The college share of every candidate named by every section, exactly."""
    if not sections:
        return {}
    named = [dict(s.shares) for s in sections]
    common = [c for c in named[0] if all(c in n for n in named[1:])]
    return {
        c: sum((s.weight * n[c] for s, n in zip(sections, named, strict=True)), Fraction(0))
        for c in common
    }
