"""Counting by unit: each unit decides by the motion's rule, a group reaches its share when
at least that share of its units voted yes (a third of 10 branches is 4), a unit with no
ballots did not vote yes, the share may be of the units that voted, and the groups combine
by "any" (Labour's branches OR affiliates) or "all". The result never depends on the order in
which the units or their ballots come."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.count.rules.motion import MotionRule, MotionTally, Quorum, Threshold
from tallyroom.count.rules.units import Combine, UnitBase, UnitGroup, UnitsRule, decide_units
from tallyroom.errors import ConfigError, CountError

MAJORITY = MotionRule(Threshold.majority())
THIRD = Fraction(1, 3)


def _rule(combine: Combine = Combine.ANY, base: UnitBase = UnitBase.ALL) -> UnitsRule:
    return UnitsRule(
        (
            UnitGroup("branches", "Branches", ("members",), THIRD, base),
            UnitGroup("affiliates", "Affiliates", ("affiliates",), THIRD, base),
        ),
        combine,
    )


def _branches(yes: int, no: int, silent: int = 0) -> tuple[dict, dict]:
    electorates = {}
    tallies = {}
    for k in range(yes + no + silent):
        key = ("members", f"Branch {k:02d}")
        electorates[key] = 20
        if k < yes:
            tallies[key] = MotionTally(8, 3, electorate=20)
        elif k < yes + no:
            tallies[key] = MotionTally(3, 8, electorate=20)
    return electorates, tallies


def test_a_third_of_ten_branches_is_four() -> None:
    electorates, tallies = _branches(4, 6)
    decision = decide_units(_rule(), MAJORITY, electorates, tallies)
    (branches, affiliates) = decision.groups
    assert (branches.units, branches.yes, branches.required) == (10, 4, 4)
    assert branches.reached and decision.carried
    assert not affiliates.reached  # no affiliates at all: a share of nothing is not reached
    electorates, tallies = _branches(3, 7)
    assert not decide_units(_rule(), MAJORITY, electorates, tallies).carried
    assert "Branches: 3 of 10 units voted yes; 4 needed (at least one third)" in (
        decide_units(_rule(), MAJORITY, electorates, tallies).reason
    )


def test_a_unit_tied_or_silent_did_not_vote_yes() -> None:
    electorates = {("members", "A"): 10, ("members", "B"): 10, ("members", "C"): 10}
    tallies = {("members", "A"): MotionTally(4, 4, electorate=10)}
    decision = decide_units(_rule(), MAJORITY, electorates, tallies)
    by_name = {u.unit: u for u in decision.units}
    assert not by_name["A"].voted_yes  # a tie is not more than half
    assert by_name["B"].decision is None and not by_name["B"].voted_yes
    assert decision.groups[0].yes == 0 and decision.groups[0].voting == 1


def test_a_share_of_the_units_that_voted() -> None:
    electorates, tallies = _branches(2, 2, silent=6)
    assert not decide_units(_rule(), MAJORITY, electorates, tallies).groups[0].reached
    voting = decide_units(_rule(base=UnitBase.VOTING), MAJORITY, electorates, tallies)
    group = voting.groups[0]
    assert (group.base, group.yes, group.required, group.reached) == (4, 2, 2, True)


def test_groups_combine_by_any_or_all() -> None:
    electorates, tallies = _branches(4, 6)
    electorates[("affiliates", "UNISON")] = 5
    tallies[("affiliates", "UNISON")] = MotionTally(1, 4, electorate=5)
    assert decide_units(_rule(Combine.ANY), MAJORITY, electorates, tallies).carried
    assert not decide_units(_rule(Combine.ALL), MAJORITY, electorates, tallies).carried
    tallies[("affiliates", "UNISON")] = MotionTally(4, 1, electorate=5)
    assert decide_units(_rule(Combine.ALL), MAJORITY, electorates, tallies).carried


def test_a_unit_decides_by_its_own_quorum() -> None:
    rule = MotionRule(Threshold.majority(), quorum=Quorum(share=Fraction(1, 2)))
    electorates = {("members", "A"): 20, ("members", "B"): 20}
    tallies = {
        ("members", "A"): MotionTally(9, 0, electorate=20),  # 45% turnout
        ("members", "B"): MotionTally(6, 4, electorate=20),  # 50%
    }
    units = {u.unit: u for u in decide_units(_rule(), rule, electorates, tallies).units}
    assert not units["A"].voted_yes and units["B"].voted_yes


def test_ballots_from_a_unit_not_on_the_register_stop_the_count() -> None:
    with pytest.raises(CountError, match="no elector on the register"):
        decide_units(_rule(), MAJORITY, {}, {("members", "Ghost"): MotionTally(1, 0)})


def test_a_section_in_two_groups_is_refused() -> None:
    with pytest.raises(ConfigError, match="one group"):
        UnitsRule(
            (
                UnitGroup("a", "A", ("members",), THIRD),
                UnitGroup("b", "B", ("members",), THIRD),
            )
        )


@settings(max_examples=50, deadline=None)
@given(
    figures=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 2)), min_size=1, max_size=9
    ),
    seed=st.integers(0, 2**32),
)
def test_the_order_of_the_units_never_matters(
    figures: list[tuple[int, int, int]], seed: int
) -> None:
    electorates = {("members", f"U{k}"): 20 for k in range(len(figures))}
    items = [
        (("members", f"U{k}"), MotionTally(f, a, ab, electorate=20))
        for k, (f, a, ab) in enumerate(figures)
    ]
    first = decide_units(_rule(), MAJORITY, electorates, dict(items))
    random.Random(seed).shuffle(items)
    keys = list(electorates.items())
    random.Random(seed + 1).shuffle(keys)
    again = decide_units(_rule(), MAJORITY, dict(keys), dict(items))
    assert first == again
    yes = sum(1 for f, a, _ in figures if f > a)
    assert first.groups[0].yes == yes
    assert first.carried == (3 * yes >= len(figures))
