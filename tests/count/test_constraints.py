"""Seat constraints and ballot rules: the plan, the constrained block vote, constrained STV."""

from __future__ import annotations

import dataclasses
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import OVERVOTE, SKIP, BallotStore, CandidateTable, overvote_set_code
from tallyroom.count.constraints import (
    BallotRule,
    Group,
    SeatConstraint,
    SeatPlan,
    marked_candidates,
    screen_ballots,
)
from tallyroom.count.options import RctabOptions, TiebreakMode, WinnerMode
from tallyroom.count.record import Count, DecisionKind, InactiveReason
from tallyroom.count.rules.constrained_block import count_constrained_block, select_constrained
from tallyroom.count.rules.constrained_stv import count_constrained_stv
from tallyroom.count.rules.plurality import TieMethod, count_block
from tallyroom.count.rules.rctab import tabulate
from tallyroom.errors import ConfigError

MW = CandidateTable(("M1", "M2", "M3", "M4", "W1", "W2", "W3"))
WOMEN = Group.of("Women", ["W1", "W2", "W3"])
MEN = Group.of("Men", ["M1", "M2", "M3", "M4"])
STV = WinnerMode.MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND


def store(rows: list[list[int]], weights: list[int]) -> BallotStore:
    width = max((len(r) for r in rows), default=1) or 1
    matrix = np.full((len(rows), width), SKIP, dtype=np.int32)
    for i, r in enumerate(rows):
        matrix[i, : len(r)] = r
    return BallotStore(rows=matrix, weights=np.array(weights, dtype=np.int64))


def women_in(names: tuple[str, ...]) -> int:
    return sum(1 for n in names if n in WOMEN.members)


# -- the values and the plan -----------------------------------------------------------------


def test_constraint_values_are_checked_on_construction() -> None:
    with pytest.raises(ConfigError, match="negative"):
        SeatConstraint(WOMEN, minimum=-1)
    with pytest.raises(ConfigError, match="below its minimum"):
        SeatConstraint(WOMEN, minimum=3, maximum=2)
    with pytest.raises(ConfigError, match="at least one member"):
        Group.of("Nobody", [])
    with pytest.raises(ConfigError, match="at_most is below"):
        BallotRule(WOMEN, at_least=2, at_most=1)


def test_a_plan_refuses_unknown_members_overlaps_and_impossible_constraints() -> None:
    with pytest.raises(ConfigError, match="not standing"):
        SeatPlan.build(MW, 3, [SeatConstraint(Group.of("X", ["Z9"]), 1)])
    with pytest.raises(ConfigError, match="must not overlap"):
        SeatPlan.build(
            MW, 3, [SeatConstraint(WOMEN, 1), SeatConstraint(Group.of("W1 only", ["W1"]), 1)]
        )
    with pytest.raises(ConfigError, match="one constraint per group"):
        SeatPlan.build(MW, 3, [SeatConstraint(WOMEN, 1), SeatConstraint(WOMEN, maximum=2)])
    with pytest.raises(ConfigError, match="3 of Women for a minimum of 4"):
        SeatPlan.build(MW, 5, [SeatConstraint(WOMEN, 4)])
    with pytest.raises(ConfigError, match="minimums add up to 6 for 5 seats"):
        SeatPlan.build(MW, 5, [SeatConstraint(WOMEN, 3), SeatConstraint(MEN, 3)])
    with pytest.raises(ConfigError, match="within the maximums"):
        SeatPlan.build(MW, 6, [SeatConstraint(WOMEN, maximum=1)])  # 4 men + 1 woman < 6


def test_doomed_and_guarded_follow_the_seats_left_and_the_places_reserved() -> None:
    plan = SeatPlan.build(MW, 3, [SeatConstraint(WOMEN, 1)])
    men, women = [0, 1, 2, 3], [4, 5, 6]
    # two men elected, one seat left, one place reserved: the men left are doomed
    assert plan.doomed([0, 1], [2, 3, *women]) == [2, 3]
    assert plan.guarded([0, 1], [2, 3, *women]) == []
    # one woman left standing for the reserved place: she is guarded
    assert plan.guarded([0], [1, 2, 6]) == [6]
    assert plan.doomed([], [*men, *women]) == []
    assert plan.feasible([0, 4], [1]) and not plan.feasible([0, 1], [2])
    capped = SeatPlan.build(MW, 3, [SeatConstraint(WOMEN, maximum=1)])
    assert capped.doomed([4], [0, 1, 5, 6]) == [5, 6]  # [max] the cap is reached


# -- ballot rules ----------------------------------------------------------------------------


def test_ballots_failing_a_rule_are_rejected_once_under_the_first_rule_failed() -> None:
    rules = [BallotRule(WOMEN, at_least=2), BallotRule(MEN, at_least=2)]
    ballots = store(
        [
            [0, 1, 4, 5],  # 2 men, 2 women: valid
            [0, 4, 5],  # 1 man: rejected under the men's rule
            [0, 1, 4],  # 1 woman: rejected under the women's rule
            [0],  # fails both: counted once, under the first
            [],  # blank: left to the count
        ],
        [5, 3, 2, 1, 4],
    )
    screening = screen_ballots(ballots, MW, rules)
    assert screening.rejected == (
        ("fewer than 2 of Women marked", 3),
        ("fewer than 2 of Men marked", 3),
    )
    assert screening.total_rejected == 6
    assert screening.valid.total == 9


def test_marks_include_named_overvotes_and_leave_out_excluded_candidates() -> None:
    cands = dataclasses.replace(MW, excluded=frozenset({5}))
    ballots = BallotStore(
        rows=np.array([[overvote_set_code(0), 4], [5, OVERVOTE]], dtype=np.int32),
        weights=np.array([1, 1], dtype=np.int64),
        overvote_sets=((0, 6),),
    )
    marked = marked_candidates(ballots, cands)
    assert marked[0].tolist() == [True, False, False, False, True, False, True]
    assert not marked[1].any()
    # a ballot naming only an unnamed overvote is not blank: it fails the rule
    assert screen_ballots(ballots, cands, [BallotRule(WOMEN, 1)]).total_rejected == 1


def test_an_upper_bound_on_a_ballot_is_a_rule_too() -> None:
    rule = BallotRule(WOMEN, at_most=1)
    assert rule.reason == "more than 1 of Women marked"
    screening = screen_ballots(store([[4, 5], [4, 0]], [2, 3]), MW, [rule])
    assert screening.rejected == (("more than 1 of Women marked", 2),)


# -- the constrained block vote --------------------------------------------------------------


def labour_replacement(
    votes: dict[str, int], seats: int, group: frozenset[str], minimum: int
) -> set[str]:
    """Labour's rule read literally: the top ``seats`` by votes, then the lowest-placed elected
    non-members replaced by the highest-placed members not elected, until the minimum is met."""
    order = sorted(votes, key=lambda n: -votes[n])
    elected = order[:seats]
    waiting = [n for n in order[seats:] if n in group]
    while sum(1 for n in elected if n in group) < minimum and waiting:
        lowest_outsider = max((n for n in elected if n not in group), key=lambda n: order.index(n))
        elected.remove(lowest_outsider)
        elected.append(waiting.pop(0))
    return set(elected)


def test_the_minimum_replaces_the_lowest_elected_men_by_the_highest_women() -> None:
    # marks: M1 9, M2 8, M3 6, M4 5, W1 4, W2 3, W3 1
    ballots = store([[0, 1, 2, 3], [0, 1, 2, 4], [0, 1, 4, 5], [0, 3, 5, 6]], [4, 2, 2, 1])
    plain = count_block(ballots, MW, seats=4)
    assert set(plain.winners) == {"M1", "M2", "M3", "M4"}
    count = count_constrained_block(ballots, MW, seats=4, constraints=[SeatConstraint(WOMEN, 2)])
    assert count.rule == "constrained block"
    assert count.winners == ("M1", "M2", "W1", "W2")
    assert count.options["passed_over"] == ("M3", "M4")
    assert count.rounds[0].tally == plain.rounds[0].tally
    label = count.rounds[0].label
    assert "at least 2 of 4 from Women" in label and "M3 (6), M4 (5)" in label
    votes = count.rounds[0].tally_map
    assert set(count.winners) == labour_replacement(votes, 4, WOMEN.members, 2)


def test_a_constraint_already_met_changes_nothing() -> None:
    ballots = store([[4, 5, 0], [0, 1, 4]], [3, 2])
    count = count_constrained_block(ballots, MW, seats=3, constraints=[SeatConstraint(WOMEN, 1)])
    assert count.winners == count_block(ballots, MW, seats=3).winners
    assert count.options["passed_over"] == ()


def test_a_maximum_passes_over_the_group_once_it_is_full() -> None:
    # marks: W1 9, W2 6, W3 5, M1 4, M2 3, M3 2
    ballots = store([[4, 5, 6], [4, 0], [5, 1], [1, 2]], [5, 4, 1, 2])
    count = count_constrained_block(
        ballots, MW, seats=3, constraints=[SeatConstraint(WOMEN, maximum=1)]
    )
    assert count.winners == ("W1", "M1", "M2")
    assert count.options["passed_over"] == ("W2", "W3")


def test_ballot_rules_reject_ballots_and_report_them_by_reason() -> None:
    rules = [BallotRule(WOMEN, at_least=1), BallotRule(MEN, at_least=1)]
    ballots = store([[0, 4], [0, 1], [4, 5], [], [0, 1, 2, 4]], [6, 2, 3, 1, 2])
    count = count_constrained_block(ballots, MW, seats=2, ballot_rules=rules, max_marks=3)
    inactive = count.rounds[0].inactive_map
    assert inactive == {InactiveReason.NO_RANKINGS: 1, InactiveReason.INVALID: 7}
    assert count.options["rejected"] == (
        ("fewer than 1 of Women marked", 2),
        ("fewer than 1 of Men marked", 3),
        ("more than 3 marks, or an overvote naming no candidate", 2),
    )
    assert count.rounds[0].tally_map["M1"] == 6
    assert count.total_ballots == 14


def test_ties_at_the_last_place_are_broken_as_the_block_vote_breaks_them() -> None:
    ballots = store([[0, 1], [4, 5]], [3, 3])
    by_order = count_constrained_block(ballots, MW, seats=2, constraints=[SeatConstraint(WOMEN, 1)])
    assert by_order.winners == ("M1", "W1")
    assert by_order.options["passed_over"] == ("M2",)
    first, second = by_order.rounds[0].ties
    assert first.tied == ("M1", "M2", "W1", "W2") and first.chosen == "M1"
    assert second.tied == ("W1", "W2") and second.chosen == "W1"
    assert (
        second.explanation
        == "2 tied on 3 votes for 1 seat(s); listed first among the tied candidates"
    )
    # by lot with the same seed and no constraint, the draws match count_block's
    for seed in range(10):
        mine = count_constrained_block(ballots, MW, seats=3, seed=seed)
        theirs = count_block(ballots, MW, seats=3, seed=seed)
        assert mine.winners == theirs.winners
        assert mine.options["seed"] == seed


def test_a_tie_between_a_doomed_and_an_electable_candidate_needs_no_lot() -> None:
    ballots = store([[0, 1, 4], [0]], [2, 1])
    count = count_constrained_block(
        ballots, MW, seats=2, constraints=[SeatConstraint(WOMEN, 1)], seed=1, max_marks=3
    )
    assert count.winners == ("M1", "W1")
    assert count.options["passed_over"] == ("M2",)
    assert count.rounds[0].ties == ()


# -- constrained STV -------------------------------------------------------------------------


def stv(seats: int, **kw: object) -> RctabOptions:
    return RctabOptions(winner_mode=STV, seats=seats, **kw)  # type: ignore[arg-type]


def test_stv_excludes_the_doomed_when_seats_left_equal_places_reserved() -> None:
    ballots = store([[0, 1, 4], [1, 0, 5], [2, 0], [4, 5], [5, 4]], [20, 15, 10, 6, 5])
    plain = tabulate(ballots, MW, stv(2))
    assert women_in(plain.winners) == 0
    count = count_constrained_stv(ballots, MW, stv(2), constraints=[SeatConstraint(WOMEN, 1)])
    assert women_in(count.winners) == 1 and len(count.winners) == 2
    assert count.winners[0] == "M1"
    doomed_round = next(r for r in count.rounds if "no result meeting" in r.label)
    assert set(doomed_round.eliminated) == {"M2", "M3", "M4"}
    assert "at least 1 of 2 from Women" in doomed_round.label
    assert count.options["doomed"] == ("M2", "M3", "M4")


def test_stv_guards_the_last_member_of_a_group_from_exclusion() -> None:
    # W1 is lowest from the start but is the only woman: she is guarded, M3 goes instead
    ballots = store([[0], [1], [2, 0], [3]], [8, 8, 7, 3])
    cands = CandidateTable(("M1", "M2", "M3", "W1"))
    women = Group.of("Women", ["W1"])
    count = count_constrained_stv(ballots, cands, stv(2), constraints=[SeatConstraint(women, 1)])
    assert "W1" in count.winners
    guarded_rounds = [r for r in count.rounds if r.label.startswith("guarded")]
    assert guarded_rounds[0].number == 1 and guarded_rounds[0].eliminated == ("M3",)
    assert count.options["guarded"] == ((1, ("W1",)),)
    assert count.winners == ("M1", "W1")
    assert count.options["doomed"] == ("M2",)


def test_stv_with_constraints_already_met_is_plain_stv() -> None:
    ballots = store([[4, 0], [0, 4], [1, 5], [5, 1]], [15, 9, 8, 2])
    plain = tabulate(ballots, MW, stv(2))
    count = count_constrained_stv(ballots, MW, stv(2), constraints=[SeatConstraint(WOMEN, 1)])
    assert count.rounds == plain.rounds
    assert count.winners == plain.winners


def test_stv_reports_rejected_ballots_every_round() -> None:
    rule = BallotRule(WOMEN, at_least=1)
    ballots = store([[0, 4], [1, 2], [4, 5], [0]], [6, 5, 4, 3])
    count = count_constrained_stv(ballots, MW, stv(2), ballot_rules=[rule])
    assert count.total_ballots == 18
    assert count.options["rejected"] == (("fewer than 1 of Women marked", 8),)
    for rnd in count.rounds:
        assert rnd.inactive_map[InactiveReason.INVALID] == 8 * count.scale.one
    check_conservation(count)


def test_stv_refuses_modes_that_do_not_fill_seats_by_a_count() -> None:
    with pytest.raises(ConfigError, match="IRV or STV"):
        count_constrained_stv(
            store([[0]], [1]), MW, RctabOptions(winner_mode=WinnerMode.BOTTOMS_UP, seats=2)
        )
    with pytest.raises(ConfigError, match="continueUntilTwo"):
        count_constrained_stv(
            store([[0]], [1]), MW, RctabOptions(continue_until_two_candidates_remain=True)
        )


def test_a_single_seat_can_be_reserved_too() -> None:
    ballots = store([[0, 1], [1, 0], [4, 0]], [10, 8, 3])
    count = count_constrained_stv(
        ballots, MW, RctabOptions(), constraints=[SeatConstraint(WOMEN, 1)]
    )
    assert count.winners == ("W1",)


# -- properties ------------------------------------------------------------------------------

NAMES = ("A", "B", "C", "D", "E", "F")


@st.composite
def constrained(
    draw: st.DrawFn,
) -> tuple[BallotStore, CandidateTable, int, list[SeatConstraint], list[BallotRule]]:
    k = draw(st.integers(3, 6))
    cands = CandidateTable(NAMES[:k])
    seats = draw(st.integers(1, k - 1))
    rows = draw(
        st.lists(
            st.lists(st.integers(0, k - 1), min_size=0, max_size=k, unique=True),
            min_size=1,
            max_size=30,
        )
    )
    ballots = store(rows, [1] * len(rows))
    members = draw(st.lists(st.sampled_from(NAMES[:k]), min_size=1, max_size=k - 1, unique=True))
    group = Group.of("G", members)
    low = draw(st.integers(0, min(seats, len(members))))
    high = draw(st.one_of(st.none(), st.integers(low, seats)))
    constraints = [SeatConstraint(group, low, high)]
    others = [n for n in NAMES[:k] if n not in members]
    second = draw(st.booleans())
    if others and second:
        constraints.append(SeatConstraint(Group.of("H", others), draw(st.integers(0, 1))))
    rules = [BallotRule(group, at_least=1)] if draw(st.booleans()) else []
    return ballots, cands, seats, constraints, rules


def met(count: Count, constraints: list[SeatConstraint]) -> bool:
    return all(sc.met_by(count.winners) for sc in constraints)


def check_conservation(count: Count) -> None:
    one = count.scale.one
    counted = (count.total_ballots - count.undervotes) * one
    for rnd in count.rounds:
        inactive = sum(v for _, v in rnd.inactive)
        assert rnd.active + inactive + rnd.residual_surplus == counted, rnd.number


def shuffled(ballots: BallotStore, rnd: random.Random) -> BallotStore:
    order = list(range(len(ballots)))
    rnd.shuffle(order)
    return BallotStore(rows=ballots.rows[order], weights=ballots.weights[order])


@settings(max_examples=300, deadline=None)
@given(constrained(), st.randoms(use_true_random=False))
def test_block_properties(
    case: tuple[BallotStore, CandidateTable, int, list[SeatConstraint], list[BallotRule]],
    rnd: random.Random,
) -> None:
    ballots, cands, seats, constraints, rules = case
    try:
        count = count_constrained_block(
            ballots, cands, seats=seats, constraints=constraints, ballot_rules=rules
        )
    except ConfigError:
        assume(False)
        return
    assert len(count.winners) == seats == len(set(count.winners))
    assert met(count, constraints)
    first = count.rounds[0]
    # every ballot is valid, blank or invalid; the tally is one vote per mark on valid ballots
    rejected = count.options["rejected"]
    assert isinstance(rejected, tuple)
    invalid = first.inactive_map[InactiveReason.INVALID]
    assert invalid == sum(n for _, n in rejected)
    assert count.total_ballots == ballots.total
    valid = count.total_ballots - first.inactive_map[InactiveReason.NO_RANKINGS] - invalid
    assert valid >= 0
    assert valid <= first.active <= valid * seats  # one to max_marks (= seats) marks each
    again = count_constrained_block(
        shuffled(ballots, rnd), cands, seats=seats, constraints=constraints, ballot_rules=rules
    )
    assert again.winners == count.winners and again.rounds == count.rounds


@settings(max_examples=200, deadline=None)
@given(constrained())
def test_block_minimum_is_labours_replacement_rule(
    case: tuple[BallotStore, CandidateTable, int, list[SeatConstraint], list[BallotRule]],
) -> None:
    _, cands, seats, constraints, _ = case
    group = constraints[0].group
    minimum = constraints[0].minimum
    votes = {n: 10 * (len(cands) - i) for i, n in enumerate(cands.names)}  # no ties
    try:
        plan = SeatPlan.build(cands, seats, [SeatConstraint(group, minimum)])
    except ConfigError:
        assume(False)
        return
    chosen = select_constrained(votes, cands, plan)
    assert set(chosen.elected) == labour_replacement(votes, seats, group.members, minimum)


@settings(max_examples=200, deadline=None)
@given(constrained(), st.randoms(use_true_random=False), st.sampled_from([1, 3]))
def test_stv_properties(
    case: tuple[BallotStore, CandidateTable, int, list[SeatConstraint], list[BallotRule]],
    rnd: random.Random,
    places: int,
) -> None:
    ballots, cands, seats, constraints, rules = case
    opts = stv(seats, decimal_places=places) if seats > 1 else RctabOptions()
    try:
        count = count_constrained_stv(
            ballots, cands, opts, constraints=constraints, ballot_rules=rules
        )
    except ConfigError:
        assume(False)
        return
    assert len(count.winners) == seats == len(set(count.winners))
    assert met(count, constraints)
    assert count.total_ballots == ballots.total
    check_conservation(count)
    again = count_constrained_stv(
        shuffled(ballots, rnd), cands, opts, constraints=constraints, ballot_rules=rules
    )
    assert again.winners == count.winners and again.rounds == count.rounds


@settings(max_examples=100, deadline=None)
@given(constrained())
def test_stv_without_constraints_is_the_rctab_count(
    case: tuple[BallotStore, CandidateTable, int, list[SeatConstraint], list[BallotRule]],
) -> None:
    ballots, cands, seats, _, _ = case
    opts = stv(seats, tiebreak_mode=TiebreakMode.USE_CANDIDATE_ORDER)
    plain = tabulate(ballots, cands, opts)
    mine = count_constrained_stv(ballots, cands, opts)
    assert mine.rounds == plain.rounds and mine.winners == plain.winners
    assert all(d.kind in DecisionKind for r in mine.rounds for d in r.decisions)


@settings(max_examples=100, deadline=None)
@given(constrained(), st.integers(0, 2**31))
def test_block_without_constraints_is_the_block_vote(
    case: tuple[BallotStore, CandidateTable, int, list[SeatConstraint], list[BallotRule]],
    seed: int,
) -> None:
    ballots, cands, seats, _, _ = case
    for method, s in ((TieMethod.CANDIDATE_ORDER, None), (TieMethod.LOT, seed)):
        plain = count_block(ballots, cands, seats=seats, seed=s, tiebreak=method)
        mine = count_constrained_block(ballots, cands, seats=seats, seed=s, tiebreak=method)
        assert mine.winners == plain.winners
        assert mine.rounds[0].tally == plain.rounds[0].tally
        assert mine.rounds[0].ties == plain.rounds[0].ties


DETERMINISM = """
import hashlib
from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.constraints import BallotRule, Group, SeatConstraint
from tallyroom.count.options import RctabOptions, WinnerMode
from tallyroom.count.rules.constrained_block import count_constrained_block
from tallyroom.count.rules.constrained_stv import count_constrained_stv
c = CandidateTable(("M1", "M2", "M3", "W1", "W2", "W3"))
w = Group.of("Women", ["W1", "W2", "W3"])
m = Group.of("Men", ["M1", "M2", "M3"])
b = BallotStore.from_rankings(
    [[0, 1, 3], [1, 2, 4], [2, 0, 1], [3, 4, 0], [5, 0, 2], [0, 2, 1]], [9, 8, 7, 3, 2, 5]
)
opts = RctabOptions(winner_mode=WinnerMode.MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND, seats=3)
rule = [BallotRule(m, at_least=1)]
out = repr(count_constrained_stv(b, c, opts, constraints=[SeatConstraint(w, 2)], ballot_rules=rule))
out += repr(count_constrained_block(b, c, seats=3, constraints=[SeatConstraint(w, 2)], seed=7))
print(hashlib.sha256(out.encode()).hexdigest())
"""


def test_the_counts_are_the_same_whatever_the_hash_seed() -> None:
    digests = {
        subprocess.run(
            [sys.executable, "-c", DETERMINISM],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(digests) == 1
