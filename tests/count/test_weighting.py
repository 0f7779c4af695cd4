"""Weighted votes in the count (count/weighting.py): decimal weights counted exactly by
plurality, the block vote, IRV and STV, each against a count worked by hand below; whole
weights are identical ballots under every rule; malformed weights are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.record import Count
from tallyroom.count.rules.registry import RULES, RuleParams, WeightSupport, get_rule
from tallyroom.count.weighting import (
    parse_weight,
    weight_units,
    weighted_count,
    weighted_store,
)


def count(rule: str, names: str, ballots: list[tuple[str, str]], seats: int = 1) -> Count:
    """Count ``ballots`` (weight text, ranking as letters best first) at 3 weight places."""
    table = CandidateTable(tuple(names))
    rankings = [[names.index(ch) for ch in marks] for _, marks in ballots]
    units = [weight_units(parse_weight(w, 3), 3) for w, _ in ballots]
    raw = get_rule(rule).count(weighted_store(rankings, units), table, RuleParams(seats=seats))
    return weighted_count(raw, 3, len(ballots))


def tally(c: Count, round_no: int) -> dict[str, str]:
    """A round's tally as decimal text, trailing zeros removed."""
    return {n: c.scale.format_plain(v) for n, v in c.rounds[round_no - 1].tally}


def test_plurality_by_weight_to_the_last_digit() -> None:
    # X: 2.5; Y: 1.25 + 1.249 = 2.499. X wins by 0.001, though Y has two ballots to one.
    c = count("plurality", "XY", [("2.5", "X"), ("1.25", "Y"), ("1.249", "Y")])
    assert tally(c, 1) == {"X": "2.5", "Y": "2.499"}
    assert c.winners == ("X",)
    assert c.total_ballots == 3
    unweighted = get_rule("plurality").count(
        BallotStore.from_rankings([[0], [1], [1]]), CandidateTable(("X", "Y")), RuleParams()
    )
    assert unweighted.winners == ("Y",)


def test_block_vote_by_weight() -> None:
    # 2 seats. A: 0.4 + 0.35 = 0.75; B: 0.4 + 0.3 + 0.009 = 0.709; C: 0.35 + 0.3 + 0.06 = 0.71.
    # A and C win; one ballot, one vote it would be B (3 marks) and C (3), A having 2.
    ballots = [("0.4", "AB"), ("0.35", "AC"), ("0.3", "BC"), ("0.06", "C"), ("0.009", "B")]
    c = count("block", "ABC", ballots, seats=2)
    assert tally(c, 1) == {"A": "0.75", "B": "0.709", "C": "0.71"}
    assert set(c.winners) == {"A", "C"}


# Nine delegates of a federation (the example's figures, weights to three places).
DELEGATES = ["12.5", "0.75", "0.75", "0.75", "3.125", "2.001", "1.5", "0.5", "0.333"]


def test_irv_by_weight() -> None:
    # First preferences: A 12.5 + 1.5 = 14; B 0.75 * 3 + 0.5 = 2.75; C 3.125 + 2.001 + 0.333
    # = 5.459. Total 22.209; the threshold, more than half, is 11.105 (11.1045 up to the
    # next 0.001), so A is elected in round 1. One ballot, one vote: A 2, B 4, C 3 of 9; A
    # is excluded, d1 goes to B and d7 to C: B 5, C 4, and B wins.
    marks = ["AB", "BA", "BC", "BC", "CA", "CB", "AC", "B", "CB"]
    c = count("irv", "ABC", list(zip(DELEGATES, marks, strict=True)))
    assert tally(c, 1) == {"A": "14", "B": "2.75", "C": "5.459"}
    assert c.scale.format_plain(c.rounds[0].threshold or 0) == "11.105"
    assert c.winners == ("A",) and len(c.rounds) == 1
    rankings = [["ABC".index(ch) for ch in m] for m in marks]
    plain = get_rule("irv").count(
        BallotStore.from_rankings(rankings), CandidateTable(tuple("ABC")), RuleParams()
    )
    assert plain.winners == ("B",)
    assert [dict(r.tally) for r in plain.rounds][-1]["B"] == 5 * plain.scale.one


def test_stv_by_weight_with_a_surplus_worked_by_hand() -> None:
    # Two seats among D, E, F, G. Round 1: D 12.5 + 1.5 = 14; E 0.75 + 0.5 = 1.25;
    # F 0.75 + 3.125 + 0.333 = 4.208; G 0.75 + 2.001 = 2.751; total 22.209.
    # Droop quota, RCTab's whole-number form floor(V/(S+1)) + 1, in units of the weights'
    # last place (0.001): floor(22209 / 3) + 1 = 7404, i.e. 7.404. D is elected.
    # D's surplus 14 - 7.404 = 6.596; fraction 6.596 / 14 = 0.471142... -> 0.4711 (4 places,
    # rounded down). Each unit (0.001 of a vote) passes floor_4(1 x 0.4711) = 0.4711 units:
    # d1 (12.5: 12500 units) gives E 12500 x 0.4711 = 5888.75 units = 5.88875 votes;
    # d7 (1.5) gives F 1500 x 0.4711 = 706.65 units = 0.70665.
    # Round 2: D 7.404, E 1.25 + 5.88875 = 7.13875, F 4.208 + 0.70665 = 4.91465, G 2.751:
    # nobody reaches 7.404; G, lowest, is excluded: d4 (0.75) to F, d6 (2.001) to E.
    # Round 3: E 7.13875 + 2.001 = 9.13975 >= 7.404: elected. F 4.91465 + 0.75 = 5.66465.
    marks = ["DE", "ED", "FG", "GF", "FE", "GE", "DF", "E", "FG"]
    c = count("stv", "DEFG", list(zip(DELEGATES, marks, strict=True)), seats=2)
    assert tally(c, 1) == {"D": "14", "E": "1.25", "F": "4.208", "G": "2.751"}
    assert c.scale.format_plain(c.rounds[0].threshold or 0) == "7.404"
    assert tally(c, 2) == {"D": "7.404", "E": "7.13875", "F": "4.91465", "G": "2.751"}
    assert tally(c, 3)["E"] == "9.13975" and tally(c, 3)["F"] == "5.66465"
    assert c.winners == ("D", "E")
    assert c.options["weight_places"] == 3


def test_the_record_moves_the_point_and_rounds_nothing() -> None:
    c = count("plurality", "XY", [("0.001", "X"), ("0.002", "Y")])
    assert c.scale.places == 3
    assert dict(c.rounds[0].tally) == {"X": 1, "Y": 2}  # units of 0.001: nothing divided


@pytest.mark.parametrize("rule", sorted(set(RULES) - {"motion"}))  # a motion is never weighted
def test_a_whole_weight_is_that_many_identical_ballots(rule: str) -> None:
    """Every rule, however it counts, gives a ballot of weight 3 what three ballots get."""
    table = CandidateTable(("A", "B", "C", "D"))
    rankings = [[0, 1], [1, 2], [2, 0], [3, 2], [2, 1]]
    weights = [3, 2, 2, 1, 1]
    spread = [r for r, w in zip(rankings, weights, strict=True) for _ in range(w)]
    seats = 2 if RULES[rule].multi_seat else 1
    params = RuleParams(seats=seats, seed=7)
    units = [weight_units(Decimal(w), 0) for w in weights]
    weighed = weighted_count(
        get_rule(rule).count(weighted_store(rankings, units), table, params), 0, 5
    )
    plain = get_rule(rule).count(BallotStore.from_rankings(spread), table, params)
    assert weighed.winners == plain.winners
    assert [r.tally for r in weighed.rounds] == [r.tally for r in plain.rounds]


def test_which_rules_take_decimal_weights() -> None:
    decimal = {n for n, r in RULES.items() if r.weights is WeightSupport.DECIMAL}
    assert decimal == {"plurality", "block", "irv", "stv"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "not a decimal"),
        ("abc", "not a decimal"),
        ("1e3", "not a decimal"),
        ("-1", "negative"),
        ("-0.5", "negative"),
        ("+1", "not a decimal"),
        ("1,5", "not a decimal"),
        ("1.2.3", "not a decimal"),
        ("٣", "not a decimal"),  # an Arabic-Indic digit: not ASCII
        ("NaN", "not a decimal"),
        ("0", "greater than zero"),
        ("0.000", "greater than zero"),
        ("1.0005", "more than 3 decimal place"),
        ("1000000000001", "more than"),
    ],
)
def test_a_malformed_weight_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_weight(text, 3)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", "1"), ("2.5", "2.5"), (" 0.333 ", "0.333"), ("1.500", "1.500"), (".5", "0.5")],
)
def test_a_weight_is_read_exactly(text: str, value: str) -> None:
    assert parse_weight(text, 3) == Decimal(value)


@settings(max_examples=60, deadline=None)
@given(
    rule=st.sampled_from(["plurality", "block", "irv"]),
    ballots=st.lists(
        st.tuples(
            st.permutations(range(4)).flatmap(
                lambda p: st.integers(1, 4).map(lambda k: tuple(p[:k]))
            ),
            st.integers(1, 5000),
        ),
        min_size=1,
        max_size=25,
    ),
    factor=st.sampled_from([10, 1000]),
)
def test_rules_that_take_decimal_weights_do_not_see_the_scale(
    rule: str, ballots: list[tuple[tuple[int, ...], int]], factor: int
) -> None:
    """Why plurality, the block vote and IRV count decimal weights exactly: multiplying every
    ballot's weight by the same number changes no decision, only the units of the tallies."""
    table = CandidateTable(("A", "B", "C", "D"))
    seats = 1 if rule == "irv" else 2
    limit = get_rule(rule).mark_limit(seats, 4)
    rankings = [r[:limit] for r, _ in ballots]
    units = [u for _, u in ballots]
    params = RuleParams(seats=seats)
    small = get_rule(rule).count(weighted_store(rankings, units), table, params)
    large = get_rule(rule).count(
        weighted_store(rankings, [u * factor for u in units]), table, params
    )
    assert large.winners == small.winners
    for a, b in zip(small.rounds, large.rounds, strict=True):
        assert [(d.kind, d.candidate) for d in a.decisions] == [
            (d.kind, d.candidate) for d in b.decisions
        ]
        # what a decision moved is in units of the tallies too
        assert [[(t, v * factor) for t, v in d.transfers] for d in a.decisions] == [
            list(d.transfers) for d in b.decisions
        ]
    for a, b in zip(small.rounds, large.rounds, strict=True):
        assert [v * factor for _, v in a.tally] == [v for _, v in b.tally]
