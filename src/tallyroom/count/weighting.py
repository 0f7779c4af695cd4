"""Weighted votes: each ballot counts its voter's weight, exactly.

A weight is an exact decimal with at most ``places`` decimal places (``1``, ``2.5``,
``0.333``), declared by the election (``[weights] decimal_places``). A count of weighted
ballots is the rule's own count of *scaled* ballots: a ballot of weight ``w`` counts as
``w * 10**places`` identical ballots, a whole number, so every rule's arithmetic stays the
integer arithmetic it already does, and nothing is rounded that the rule would not round.
The record is then read back in votes by moving the decimal point: a value of ``u`` units of
``10**-p`` scaled votes is ``u`` units of ``10**-(p + places)`` votes
(:func:`weighted_count` replaces the record's :class:`~tallyroom.count.numbers.Scale`;
no figure is divided or rounded).

Which rules this is exact for is a fact of the rule (:class:`WeightSupport`, in the
registry):

* :attr:`WeightSupport.DECIMAL`: the rule's result does not change when every ballot is
  multiplied by the same whole number, because it only adds ballots and compares sums
  (plurality, the block vote, IRV: "more than half" of the scaled votes is more than half of
  the votes), or its only whole-vote step is the Droop quota's ``+ 1``, which becomes ``+ 1``
  unit of the weights' last place (RCTab STV; see ``docs/rules/weighted.md``);
* :attr:`WeightSupport.WHOLE`: whole-number weights only (``places = 0``): a statute that
  fixes its own decimal places, rounds to whole votes or draws whole papers (Scottish STV,
  ERS97, the Irish Dáil, Meek's tolerance, ...) would count differently on scaled ballots.
  A whole weight ``n`` is exactly ``n`` identical ballots, which every rule counts as such.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tallyroom.count.ballots import SKIP, BallotStore
from tallyroom.count.numbers import Scale
from tallyroom.count.record import Count

if TYPE_CHECKING:  # parse_weight imports it: the registry loads this module for every count
    from decimal import Decimal

__all__ = [
    "MAX_WEIGHT_PLACES",
    "WeightSupport",
    "parse_weight",
    "weight_text",
    "weight_units",
    "weighted_count",
    "weighted_store",
]

MAX_WEIGHT_PLACES = 6
# A weight above this (in whole votes) is refused: a typo such as 1000000000 for 1000.
MAX_WEIGHT = 10**12


class WeightSupport(enum.Enum):
    """How a rule takes weighted ballots (see the module docstring)."""

    DECIMAL = "decimal"  # any declared places: counted on ballots scaled to whole numbers
    WHOLE = "whole"  # whole-number weights only


def parse_weight(text: str, places: int) -> Decimal:
    """A weight written as text, checked: a plain decimal (no exponent, no sign, no
    thousands separator), greater than zero, at most ``places`` decimal places and at most
    :data:`MAX_WEIGHT`. Raises :class:`ValueError` saying what is wrong."""
    if places < 0 or places > MAX_WEIGHT_PLACES:
        raise ValueError(f"weight places must be 0 to {MAX_WEIGHT_PLACES} ({places})")
    body = text.strip()
    if body.startswith("-") and body[1:].replace(".", "", 1).isdigit():
        raise ValueError("is negative: a weight must be greater than zero")
    whole, dot, fraction = body.partition(".")
    if not body or not (whole or fraction) or not (whole + fraction).isascii():
        raise ValueError("not a decimal number such as 1, 2.5 or 0.333")
    if not (whole.isdigit() or whole == "") or not (fraction.isdigit() or (not dot)):
        raise ValueError("not a decimal number such as 1, 2.5 or 0.333")
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(body)
    except InvalidOperation:
        raise ValueError("not a decimal number such as 1, 2.5 or 0.333") from None
    if len(fraction.rstrip("0")) > places:
        raise ValueError(
            f"has more than {places} decimal place(s), the most the election's [weights] allow"
        )
    if value <= 0:
        raise ValueError(
            "must be greater than zero (a voter with no weight is not on the register)"
        )
    if value > MAX_WEIGHT:
        raise ValueError(f"is more than {MAX_WEIGHT:,}")
    return value


def weight_units(weight: Decimal, places: int) -> int:
    """``weight`` in units of ``10**-places`` (exact: :func:`parse_weight` checked the places)."""
    units = weight.scaleb(places)
    if units != units.to_integral_value():
        raise ValueError(f"{weight} has more than {places} decimal places")
    return int(units)


def weighted_store(rankings: Sequence[Sequence[int]], units: Sequence[int]) -> BallotStore:
    """The ballots grouped by ranking, each group carrying the sum of its ballots' weights in
    units (what :func:`weighted_count` reads back)."""
    if len(rankings) != len(units):
        raise ValueError("one weight per ballot")
    if any(u <= 0 for u in units):
        raise ValueError("a weight is greater than zero")
    totals: dict[tuple[int, ...], int] = {}
    for ranking, u in zip(rankings, units, strict=True):
        key = tuple(ranking)
        totals[key] = totals.get(key, 0) + u
    keys = sorted(totals)  # deterministic, whatever the ballots' order
    width = max((len(k) for k in keys), default=0) or 1
    rows = np.full((len(keys), width), SKIP, dtype=np.int32)
    for g, key in enumerate(keys):
        rows[g, : len(key)] = key
    weights = np.asarray([totals[k] for k in keys], dtype=np.int64)
    return BallotStore(rows=rows, weights=weights)


def weighted_count(count: Count, places: int, ballots: int) -> Count:
    """The rule's record of a count of scaled ballots, read in votes: every vote value moves
    ``places`` decimal places (the scale grows by ``places``); ``total_ballots`` becomes the
    number of ballots (people), and the weight places are recorded in the options."""
    if places == 0:
        return dataclasses.replace(
            count, total_ballots=ballots, options={**count.options, "weight_places": 0}
        )
    return dataclasses.replace(
        count,
        scale=Scale(count.scale.places + places),
        total_ballots=ballots,
        options={**count.options, "weight_places": places},
    )


def weight_text(units: int, places: int) -> str:
    """Units of ``10**-places`` as plain decimal text (trailing zeros kept: ``12.500``)."""
    return Scale(places).format(units)
