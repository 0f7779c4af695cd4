"""Weighted votes in an election definition: ``[weights]`` and each contest's ``weighted``.

``[weights]`` says that the register gives each voter a weight (``column``, default
``weight``) written with at most ``decimal_places`` decimal places (default 0: whole
numbers). Every contest then counts its ballots by their voters' weights, unless it says
``weighted = false`` (a one-member-one-vote contest in the same poll). A contest may say
``weighted = true`` only when the election declares ``[weights]``.

Checked here, when the definition is read (so when the election is created), never at the
count:

* a weighted contest's rule must count the declared weights exactly: decimal weights only
  under a rule the registry marks :attr:`~tallyroom.count.weighting.WeightSupport.DECIMAL`
  (``plurality``, ``block``, ``irv``, ``stv``); any rule takes whole-number weights;
* an electoral college (``[contests.college]``) is not weighted: it weighs its sections
  already, and a ballot's share of its section would need a second weighing rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tallyroom.count.rules.registry import RULES
from tallyroom.count.weighting import MAX_WEIGHT_PLACES, WeightSupport
from tallyroom.errors import ConfigError


class _Weighable(Protocol):
    """What the check reads of a contest (a :class:`~.definition.Contest`)."""

    @property
    def name(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def weighted(self) -> bool | None: ...
    @property
    def college(self) -> object | None: ...
    @property
    def motion(self) -> object | None: ...


__all__ = ["Weights", "weight_problems", "weighted_rules"]


@dataclass(frozen=True, slots=True)
class Weights:
    """The election's ``[weights]``: the register column and the most decimal places."""

    column: str = "weight"
    decimal_places: int = 0

    def __post_init__(self) -> None:
        if not self.column.strip():
            raise ConfigError("must not be empty", field="column", value=self.column)
        if not 0 <= self.decimal_places <= MAX_WEIGHT_PLACES:
            raise ConfigError(
                f"must be 0 to {MAX_WEIGHT_PLACES}",
                field="decimal_places",
                value=self.decimal_places,
            )


def weighted_rules() -> str:
    """The rules that take decimal weights, for messages."""
    return ", ".join(r.name for r in RULES.values() if r.weights is WeightSupport.DECIMAL)


def weight_problems(
    weights: Weights | None, contests: Sequence[_Weighable]
) -> list[tuple[str, str, object]]:
    """What is wrong with the contests' weighting under ``weights`` (see the module doc), as
    (key, problem, value)."""
    out: list[tuple[str, str, object]] = []
    for k, c in enumerate(contests):
        if weights is None:
            if c.weighted:
                out.append(
                    (
                        f"contests[{k}].weighted",
                        "the election declares no [weights] (the register column of weights)",
                        True,
                    )
                )
            continue
        if c.weighted is False:
            continue
        if c.college is not None:
            out.append(
                (
                    f"contests[{k}].college",
                    "an electoral college weighs its sections, not its voters: "
                    "say weighted = false for this contest",
                    c.name,
                )
            )
        if c.motion is not None:
            out.append(
                (
                    f"contests[{k}].motion",
                    "a motion's quorum and threshold count papers, and weighted motions (card "
                    "votes) are not supported yet: say weighted = false for this contest",
                    c.name,
                )
            )
        rule = RULES.get(c.rule)
        if (
            rule is not None
            and weights.decimal_places > 0
            and rule.weights is not WeightSupport.DECIMAL
        ):
            out.append(
                (
                    f"contests[{k}].rule",
                    f"rule {c.rule!r} counts whole-number weights only, and [weights] "
                    f"allows {weights.decimal_places} decimal place(s) (rules that take "
                    f"decimal weights: {weighted_rules()}; or say decimal_places = 0)",
                    c.rule,
                )
            )
    return out
