"""Ballots counted by unit: a motion decided in each unit of the register (a branch, an
affiliate), then across the units by a declared share (Labour's trigger ballots).

Sources. The Labour Party's 2018 conference replaced the old trigger ballot with two: a
sitting MP who wishes to stand again faces a full, open selection if **a third of the CLP's
branches, or a third of its affiliates** (trade union branches, socialist societies, the
co-operative party), vote for one; each branch decides by a simple majority of its members
voting, each affiliate has one vote (Labour Party Rule Book 2018, Chapter 5, Clause IV, as
summarised in contemporary guidance to CLPs; "For example: a CLP has 10 branches and 10
affiliates. To start a full selection process, EITHER 4 branches OR 4 affiliates have to
vote"; the rule book's own wording is ASSUMED, not taken from a stored copy). The same
guidance reports a General Secretary's note that "the third of branches is calculated based
only on the branches that do cast a vote": which units a share is of is therefore declared
(:class:`UnitBase`), not assumed.

The rule, clause by clause:

1. **Each unit decides by the contest's motion rule** (:mod:`.motion`) over its own ballots
   and its own electorate (a quorum or a share of the electorate is the unit's): the unit
   *votes yes* when its motion is carried. A unit that cast no ballot did not vote yes.
2. **Each group of units** (:class:`UnitGroup`: the units of the voters of some sections,
   "branches" for members, "affiliates" for affiliated supporters) reaches its share when
   at least ``share`` of its units voted yes, "at least" as for every fraction in
   tallyroom: a third of 12 branches is 4. The share is of every unit of the group
   (:attr:`UnitBase.ALL`: every unit with an elector on the register) or of the units that
   cast a ballot (:attr:`UnitBase.VOTING`).
3. **Across the groups** (:class:`Combine`): the contest is carried when *any* group
   reaches its share (Labour's "branches OR affiliates") or only when *all* do.

Arithmetic is exact: integers and :class:`~fractions.Fraction` shares compared as integers.
Units are taken in name order within their group, so that the result and its record never
depend on the order of the ballots or of the register.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from tallyroom.count.rules.motion import MotionDecision, MotionRule, MotionTally, Threshold, decide
from tallyroom.errors import ConfigError, CountError

__all__ = [
    "Combine",
    "GroupOutcome",
    "UnitBase",
    "UnitGroup",
    "UnitOutcome",
    "UnitsDecision",
    "UnitsRule",
    "decide_units",
]


class UnitBase(enum.Enum):
    """Which units a group's share is of."""

    ALL = "all"  # every unit of the group with an elector on the register
    VOTING = "voting"  # only the units that cast at least one ballot


class Combine(enum.Enum):
    """How the groups' outcomes make the contest's."""

    ANY = "any"  # carried when one group reaches its share (Labour: branches OR affiliates)
    ALL = "all"  # carried only when every group does


@dataclass(frozen=True, slots=True)
class UnitGroup:
    """The units of the voters in ``sections``, and the share of them that must vote yes."""

    name: str
    label: str
    sections: tuple[str, ...]
    share: Fraction
    base: UnitBase = UnitBase.ALL

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigError("a unit group needs a name", field="name", value=self.name)
        if not self.sections:
            raise ConfigError("a unit group needs its sections", field="sections", value=[])
        if not 0 < self.share <= 1:
            raise ConfigError(
                "a share of units is above 0 and at most 1", field="share", value=str(self.share)
            )

    def describe(self) -> str:
        of = "of its units" if self.base is UnitBase.ALL else "of its units that voted"
        return f"{self.label}: {Threshold(self.share).describe()} {of} vote yes"


@dataclass(frozen=True, slots=True)
class UnitsRule:
    """The unit groups (at least one, each section in at most one) and how they combine."""

    groups: tuple[UnitGroup, ...]
    combine: Combine = Combine.ANY

    def __post_init__(self) -> None:
        if not self.groups:
            raise ConfigError("at least one unit group is needed", field="groups", value=[])
        seen: list[str] = []
        for g in self.groups:
            twice = [s for s in g.sections if s in seen]
            if twice:
                raise ConfigError(
                    "a section's units belong to one group", field="groups", value=twice
                )
            seen += g.sections

    def group_of(self, section: str) -> UnitGroup | None:
        for g in self.groups:
            if section in g.sections:
                return g
        return None

    def describe(self) -> str:
        joined = " or " if self.combine is Combine.ANY else " and "
        return joined.join(g.describe() for g in self.groups)


@dataclass(frozen=True, slots=True)
class UnitOutcome:
    """One unit's motion: ``decision`` is ``None`` when it cast no ballot (not yes)."""

    group: str
    unit: str
    electorate: int
    decision: MotionDecision | None

    @property
    def ballots(self) -> int:
        return 0 if self.decision is None else self.decision.tally.returned

    @property
    def voted_yes(self) -> bool:
        return self.decision is not None and self.decision.carried


@dataclass(frozen=True, slots=True)
class GroupOutcome:
    """A group's units: how many, how many voted, how many voted yes, how many were needed."""

    group: UnitGroup
    units: int
    voting: int
    yes: int
    base: int
    required: int

    @property
    def reached(self) -> bool:
        return self.base > 0 and self.yes >= self.required

    def describe(self) -> str:
        of = "units" if self.group.base is UnitBase.ALL else "units that voted"
        verdict = "reached" if self.reached else "not reached"
        return (
            f"{self.group.label}: {self.yes} of {self.base} {of} voted yes; "
            f"{self.required} needed ({Threshold(self.group.share).describe()}): {verdict}"
        )


@dataclass(frozen=True, slots=True)
class UnitsDecision:
    """The contest decided across its units."""

    carried: bool
    groups: tuple[GroupOutcome, ...]
    units: tuple[UnitOutcome, ...]
    reason: str

    @property
    def outcome(self) -> str:
        return "CARRIED" if self.carried else "NOT CARRIED"


def decide_units(
    rule: UnitsRule,
    motion: MotionRule,
    electorates: Mapping[tuple[str, str], int],
    tallies: Mapping[tuple[str, str], MotionTally],
) -> UnitsDecision:
    """Each unit's motion, each group's share, the contest's outcome (module docstring).

    ``electorates`` maps (section, unit) to the unit's electors in that section, every unit
    on the register; ``tallies`` (section, unit) to the figures of the ballots cast there.
    A unit spread over two sections of one group is one unit of that group.
    """
    strays = sorted(k for k in tallies if k not in electorates)
    if strays:
        raise CountError(f"ballots from units with no elector on the register: {strays}")
    outcomes: list[UnitOutcome] = []
    groups: list[GroupOutcome] = []
    for group in rule.groups:
        names = sorted({u for (s, u) in electorates if s in group.sections})
        yes = voting = 0
        for unit in names:
            keys = [(s, unit) for s in group.sections]
            electorate = sum(electorates.get(k, 0) for k in keys)
            parts = [tallies[k] for k in keys if k in tallies]
            decision = None
            if parts and sum(p.returned for p in parts):
                merged = MotionTally(
                    sum(p.votes_for for p in parts),
                    sum(p.against for p in parts),
                    sum(p.abstain for p in parts),
                    sum(p.spoilt for p in parts),
                    electorate,
                )
                decision = decide(merged, motion)
                voting += 1
                yes += decision.carried
            outcomes.append(UnitOutcome(group.name, unit, electorate, decision))
        base = len(names) if group.base is UnitBase.ALL else voting
        required = Threshold(group.share).required(base)
        groups.append(GroupOutcome(group, len(names), voting, yes, base, required))
    reached = [g.reached for g in groups]
    carried = any(reached) if rule.combine is Combine.ANY else all(reached)
    joined = "; ".join(g.describe() for g in groups)
    need = "any group" if rule.combine is Combine.ANY else "every group"
    verdict = "carried" if carried else "not carried"
    reason = f"{joined}; {need} must reach its share: {verdict}"
    return UnitsDecision(carried, tuple(groups), tuple(outcomes), reason)
