"""A motion's declaration: carried or not carried and why, and, for a contest counted by unit,
each unit's outcome (withheld below the small-unit size) and each group's share.

Built from the count's decisions (:func:`tallyroom.count.rules.motion.decide`,
:func:`tallyroom.count.rules.units.decide_units`). What is published for a unit follows the
sections' rule (:func:`~tallyroom.report.declaration.withheld_sections`, applied to the units
of each group): a unit with fewer ballots than the ``min_published_size`` of its section is
**suppressed** (its ballots and outcome are not shown, but it is counted), and so, while the
suppressed units of a group could be told apart by subtraction, is the smallest published
one. A group's count of units that voted yes is always published (it is the decision), so the
number of suppressed units that voted yes can be worked out as a sum, never one unit's alone.
A unit that cast no ballot is shown as such: it did not vote yes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tallyroom.count.rules.motion import MotionDecision
from tallyroom.count.rules.units import UnitsDecision
from tallyroom.report.suppression import percent, withheld_sections

__all__ = ["Answer", "MotionResult", "UnitResult", "motion_json", "motion_result", "motion_text"]

NO_BALLOTS = "no ballots: did not vote yes"
SUPPRESSED = "suppressed"


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer's votes in a unit, and its share of the unit's votes."""

    name: str
    votes: int
    percent: Decimal


@dataclass(frozen=True, slots=True)
class UnitResult:
    """One unit as published: ``published`` false means suppressed (no figures shown)."""

    group: str
    unit: str
    published: bool
    ballots: int | None
    answers: tuple[Answer, ...]
    outcome: str  # "voted yes", "did not vote yes", NO_BALLOTS or SUPPRESSED


@dataclass(frozen=True, slots=True)
class MotionResult:
    """A motion's outcome and the reason, and (counted by unit) its units and groups."""

    question: str
    rule: str
    carried: bool
    reason: str
    units: tuple[UnitResult, ...] = ()
    groups: tuple[str, ...] = ()  # each group's share, in words

    @property
    def outcome(self) -> str:
        return "CARRIED" if self.carried else "NOT CARRIED"


def _answers(decision: MotionDecision, names: Sequence[str]) -> tuple[Answer, ...]:
    t = decision.tally
    votes = (t.votes_for, t.against, t.abstain)[: len(names)]
    total = sum(votes)
    return tuple(Answer(n, v, percent(v, total)) for n, v in zip(names, votes, strict=True))


def motion_result(
    question: str,
    rule: str,
    decision: MotionDecision,
    answers: Sequence[str],
    units: UnitsDecision | None = None,
    min_published: Mapping[str, int] | None = None,
) -> MotionResult:
    """The published record; ``min_published`` maps each unit group to its small-unit size."""
    if units is None:
        return MotionResult(question, rule, decision.carried, decision.reason)
    shown: list[UnitResult] = []
    for group in units.groups:
        own = [u for u in units.units if u.group == group.group.name]
        size = (min_published or {}).get(group.group.name, 0)
        hidden = withheld_sections([u.ballots for u in own], [size] * len(own))
        for u, withheld in zip(own, hidden, strict=True):
            if u.decision is None:
                shown.append(UnitResult(u.group, u.unit, True, 0, (), NO_BALLOTS))
            elif withheld:
                shown.append(UnitResult(u.group, u.unit, False, None, (), SUPPRESSED))
            else:
                said = "voted yes" if u.voted_yes else "did not vote yes"
                shown.append(
                    UnitResult(
                        u.group, u.unit, True, u.ballots, _answers(u.decision, answers), said
                    )
                )
    return MotionResult(
        question,
        rule,
        units.carried,
        units.reason,
        tuple(shown),
        tuple(g.describe() for g in units.groups),
    )


def motion_json(m: MotionResult) -> dict[str, Any]:
    return {
        "question": m.question,
        "rule": m.rule,
        "outcome": m.outcome,
        "carried": m.carried,
        "reason": m.reason,
        "groups": list(m.groups),
        "units": [
            {
                "group": u.group,
                "unit": u.unit,
                "published": u.published,
                "ballots": u.ballots,
                "answers": [
                    {"name": a.name, "votes": a.votes, "percent": str(a.percent)} for a in u.answers
                ],
                "outcome": u.outcome,
            }
            for u in m.units
        ],
    }


def motion_text(m: MotionResult) -> list[str]:
    """The lines a returning officer reads out for a motion."""
    lines = [f"  Question: {m.question}", f"  Rule: {m.rule}", f"  {m.outcome}: {m.reason}"]
    if m.units:
        width = max(len(f"{u.group}: {u.unit}") for u in m.units)
        lines.append("")
        for u in m.units:
            where = f"{u.group}: {u.unit}"
            if not u.published or not u.answers:
                lines.append(f"  {where:<{width}}  {u.outcome}")
                continue
            figures = ", ".join(f"{a.name} {a.votes:,}" for a in u.answers)
            lines.append(f"  {where:<{width}}  {u.ballots:,} ballots ({figures}): {u.outcome}")
    return lines
