"""A contest that is a motion: its question, the answers offered and how it is decided, and
optionally how it is counted by unit (a branch, an affiliate).

A motion contest (``rule = "motion"`` with a ``[contests.motion]`` table) has no declared
candidates: its "candidates" are the answers of its
:class:`~tallyroom.count.rules.motion_options.ChoiceSet` (``Yes``, ``No`` or ``For``,
``Against``, ``Abstain``), the answer for first, so
that casting, the ballot box and the published ballot files treat an answer as they treat a
candidate. The decision is :mod:`tallyroom.count.rules.motion`'s and, with
``[contests.units]``, :mod:`tallyroom.count.rules.units`'.
"""

from __future__ import annotations

from dataclasses import dataclass

from tallyroom.count.rules.motion import ChoiceSet, MotionRule
from tallyroom.count.rules.units import UnitGroup, UnitsRule
from tallyroom.errors import ConfigError

__all__ = ["Motion", "motion_problems"]


@dataclass(frozen=True, slots=True)
class Motion:
    """The question as the ballot paper puts it, the answers, the rule that decides it, and
    (``units``) the unit groups it is decided across, if it is counted by unit."""

    question: str
    choices: ChoiceSet
    rule: MotionRule
    units: UnitsRule | None = None

    def __post_init__(self) -> None:
        if not self.question.strip():
            raise ConfigError("a motion needs its question", field="question", value="")

    @property
    def answers(self) -> tuple[str, ...]:
        return self.choices.names

    def units_groups(self) -> tuple[UnitGroup, ...]:
        """The unit groups it is decided across (none: it is not counted by unit)."""
        return () if self.units is None else self.units.groups

    def describe(self) -> str:
        """How the motion is decided, in words (the ballot paper and the declaration)."""
        text = self.rule.describe()
        if self.units is not None:
            text = f"in each unit {text}; then {self.units.describe()}"
        return text


def motion_problems(
    motion: Motion | None,
    rule: str,
    candidates: tuple[str, ...],
    sections: tuple[str, ...],
    *,
    others: tuple[str, ...],
) -> list[tuple[str, str, object]]:
    """(key, problem, value) for a contest whose ``rule`` and ``motion`` disagree, whose
    candidates are not the motion's answers, whose unit groups name sections that do not
    vote in it, or that gives a motion what a motion cannot take (``others``: the keys of
    constraints, ballot rules, a college or nominations it was given)."""
    out: list[tuple[str, str, object]] = []
    if rule == "motion" and motion is None:
        out.append(("motion", 'rule "motion" needs a [contests.motion] table', None))
    if motion is None:
        return out
    if rule != "motion":
        out.append(("rule", 'a contest with [contests.motion] is counted by rule "motion"', rule))
    if candidates != motion.answers:
        out.append(("candidates", f"a motion's answers are {list(motion.answers)}", candidates))
    out += [(key, "a motion takes none", key) for key in others]
    if motion.units is not None:
        for k, group in enumerate(motion.units.groups):
            strangers = [s for s in group.sections if s not in sections]
            if strangers:
                out.append(
                    (f"units.groups[{k}].sections", "names sections not voting here", strangers)
                )
    return out
