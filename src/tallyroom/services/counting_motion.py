"""Counting a motion, and a contest counted by unit, for :mod:`.counting`: the rule's
parameters from the definition and the register, each unit's ballots gathered as they are
opened, and the declaration's motion record (:mod:`tallyroom.report.motion_declaration`).

No transaction of its own: :func:`tallyroom.services.counting.count_election` reads the box
and the register and calls these in its one.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping

from tallyroom.count.record import Decision, DecisionKind
from tallyroom.count.rules.motion import MotionTally, count_decision
from tallyroom.count.rules.params import RuleParams
from tallyroom.count.rules.units import decide_units
from tallyroom.election.definition import Contest, ElectionDefinition
from tallyroom.errors import CountError
from tallyroom.report.declaration import ContestDeclaration
from tallyroom.report.motion_declaration import motion_result

__all__ = ["UnitBallots", "motion_declaration", "motion_params"]


class UnitBallots:
    """Each unit's figures, (section, unit) -> for, against, abstain, spoilt, as the ballots
    of a contest counted by unit are opened (a ballot's answer code: 0 for, 1 against, 2
    abstain; a spoilt ballot is text)."""

    def __init__(self) -> None:
        self.figures: dict[tuple[str, str], list[int]] = {}

    def add(self, section: str | None, unit: str | None, ballot: tuple[int, ...] | str) -> None:
        if section is None or unit is None:
            raise CountError(
                "the count stopped: a ballot of a contest counted by unit carries no unit"
                f" (section {section!r}); nothing was counted"
            )
        row = self.figures.setdefault((section, unit), [0, 0, 0, 0])
        row[3 if isinstance(ballot, str) else ballot[0]] += 1

    def tallies(
        self, electorates: Mapping[tuple[str, str], int]
    ) -> dict[tuple[str, str], MotionTally]:
        return {
            key: MotionTally(f, a, ab, sp, electorates.get(key))
            for key, (f, a, ab, sp) in self.figures.items()
        }


def motion_params(
    contest: Contest, params: RuleParams, electorate_by_section: Counter[str], spoilt: int
) -> RuleParams:
    """``params`` with, for a motion contest, its rule, its electorate (the eligible entries of
    its sections) and the papers spoilt outside the box; as they are for any other contest."""
    if contest.motion is None:
        return params
    return dataclasses.replace(
        params,
        motion=contest.motion.rule,
        electorate=sum(electorate_by_section[s] for s in contest.sections),
        spoilt=spoilt,
    )


def motion_declaration(
    definition: ElectionDefinition,
    contest: Contest,
    declared: ContestDeclaration,
    units: UnitBallots,
    unit_electorate: Mapping[tuple[str, str], int] | None,
) -> ContestDeclaration:
    """``declared`` with its motion record: the motion decided over every ballot or, counted
    by unit, unit by unit and across the groups (its winners then the units' outcome)."""
    motion = contest.motion
    assert motion is not None
    decision = count_decision(declared.count, motion.rule, declared.electorate, declared.spoilt)
    if motion.units is None or unit_electorate is None:
        result = motion_result(motion.question, motion.describe(), decision, motion.answers)
        return dataclasses.replace(declared, motion=result)
    across = decide_units(
        motion.units, motion.rule, unit_electorate, units.tallies(unit_electorate)
    )
    sizes = {
        g.name: max(definition.section(s).min_published_size for s in g.sections)
        for g in motion.units.groups
    }
    result = motion_result(
        motion.question, motion.describe(), decision, motion.answers, across, sizes
    )
    # the contest's count records the units' decision, not the pooled one: the published
    # report and the declaration say the same thing
    winners = (motion.answers[0],) if across.carried else ()
    first = declared.count.rounds[0]
    count = dataclasses.replace(
        declared.count,
        winners=winners,
        rounds=(
            dataclasses.replace(
                first,
                threshold=None,
                decisions=tuple(Decision(DecisionKind.ELECTED, w) for w in winners),
                label=across.reason,
            ),
        ),
    )
    return dataclasses.replace(declared, motion=result, winners=winners, count=count)
