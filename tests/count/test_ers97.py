"""ERS97: counts worked by hand paragraph by paragraph, and properties over arbitrary ballots.

Votes are in hundredths (``votes("8.40") == 840``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.javarandom import JavaRandom
from tallyroom.count.numbers import Scale
from tallyroom.count.record import (
    EXHAUSTED,
    RESIDUAL_SURPLUS,
    Count,
    DecisionKind,
    InactiveReason,
)
from tallyroom.count.rules.ers97 import count_ers97
from tallyroom.errors import ConfigError, TieUnresolved


def ballots(names: str, spec: list[tuple[str, int]]) -> tuple[BallotStore, CandidateTable]:
    code = {n: i for i, n in enumerate(names)}
    rankings = [[code[ch] for ch in ranking] for ranking, _ in spec]
    return BallotStore.from_rankings(rankings, [w for _, w in spec]), CandidateTable(tuple(names))


def votes(text: str) -> int:
    return Scale(2).from_decimal(Decimal(text))


def tallies(count: Count, stage: int) -> dict[str, str]:
    return {n: count.scale.format(v) for n, v in count.rounds[stage - 1].tally}


def test_seats_are_checked() -> None:
    store, cands = ballots("AB", [("A", 1)])
    with pytest.raises(ConfigError):
        count_ers97(store, cands, 0)


@pytest.mark.parametrize(
    ("valid", "seats", "quota"),
    [(70, 2, "23.34"), (90, 2, "30.00"), (100, 3, "25.00"), (41, 2, "13.67")],
)
def test_the_quota_is_rounded_up_to_a_hundredth(valid: int, seats: int, quota: str) -> None:
    # [5.1.6] to two decimals; exact: that is the quota, else remainder ignored plus 0.01
    store, cands = ballots("AB", [("A", valid - 1), ("B", 1)])
    count = count_ers97(store, cands, seats)
    assert count.rounds[0].threshold == votes(quota)


def test_a_first_stage_surplus_and_the_total_active_vote() -> None:
    store, cands = ballots(
        "ABCD", [("AB", 20), ("AC", 10), ("A", 6), ("B", 14), ("C", 12), ("D", 8)]
    )
    count = count_ers97(store, cands, 2)
    assert count.rule == "ers97" and count.scale == Scale(2)
    assert [r.label for r in count.rounds] == [
        "first preferences",
        "surplus of A",
        "exclusion of D",
    ]
    assert count.rounds[0].threshold == votes("23.34")  # 70 / 3
    # [5.3.1, 5.3.7] all A's papers; 30 transferable worth 30 > 12.66: 12.66 / 30 -> 0.42
    assert tallies(count, 2) == {"A": "23.34", "B": "22.40", "C": "16.20", "D": "8.00"}
    booked = count.rounds[1].decisions[0]
    assert booked.kind is DecisionKind.ELECTED and booked.candidate == "A"
    # [5.3.9] the non-transferable difference
    assert booked.transfer_map == {"B": 840, "C": 420, RESIDUAL_SURPLUS: 6}
    assert count.rounds[1].residual_surplus == 6
    # [5.2.5] D alone (D + C exceed B); its papers are non-transferable
    assert count.rounds[2].decisions[0].transfer_map == {EXHAUSTED: votes("8")}
    # [5.4.9(b)] B 22.40 >= total active vote 38.60 / 2
    assert count.rounds[2].elected == ("B",)
    assert count.winners == ("A", "B")


def test_a_deferred_surplus_and_a_bulk_exclusion() -> None:
    store, cands = ballots("ABCDE", [("AB", 31), ("B", 25), ("C", 24), ("DC", 6), ("EB", 4)])
    count = count_ers97(store, cands, 2)
    # quota 30.00; A's surplus of 1 cannot lift E (4) past D (6) [5.2.2(a)]: deferred, and
    # E + D + 1 <= C: both excluded at one stage [5.2.5]
    assert [r.label for r in count.rounds] == ["first preferences", "exclusion of E, D"]
    stage = count.rounds[1]
    assert [(d.kind, d.candidate) for d in stage.decisions] == [
        (DecisionKind.ELIMINATED, "E"),
        (DecisionKind.ELIMINATED, "D"),
        (DecisionKind.ELECTED, "C"),
    ]
    assert stage.decisions[0].transfer_map == {"B": votes("4")}
    assert stage.decisions[1].transfer_map == {"C": votes("6")}
    assert tallies(count, 2) == {"A": "31.00", "B": "29.00", "C": "30.00", "D": "0.00",
                                 "E": "0.00"}  # fmt: skip
    assert count.winners == ("A", "C")  # A's surplus was never needed


def test_batches_by_value_and_the_last_parcel() -> None:
    store, cands = ballots(
        "ABCDEF",
        [("ACB", 40), ("ADCE", 10), ("B", 20), ("C", 12), ("DCE", 6), ("E", 17), ("F", 11)],
    )
    count = count_ers97(store, cands, 3)
    assert [r.label for r in count.rounds] == [
        "first preferences",
        "surplus of A",
        "exclusion of D",
        "exclusion of F",
        "surplus of C",
    ]
    assert count.rounds[0].threshold == votes("29")  # 116 / 4
    # 21 / 50 transferable papers -> 0.42
    assert tallies(count, 2)["C"] == "28.80" and tallies(count, 2)["D"] == "10.20"
    # [5.4.1-5.4.2] D's papers at 1.00 first: C reaches the quota; [5.4.10] the batch at
    # 0.42 then passes C by and goes to E
    excluded = count.rounds[2]
    assert excluded.decisions[0].transfer_map == {"C": votes("6"), "E": votes("4.20")}
    assert excluded.elected == ("C",)
    assert tallies(count, 3) == {"A": "29.00", "B": "20.00", "C": "34.80", "D": "0.00",
                                 "E": "21.20", "F": "11.00"}  # fmt: skip
    # [5.2.2(a)] C's surplus 5.80 <= B - F: deferred while F is excluded
    assert count.rounds[3].eliminated == ("F",)
    # [5.3.2] only the last batch C received (the 6 papers from D, at 1.00, next E):
    # 5.80 / 6 -> 0.96; C's papers from A (next B) stay put
    surplus = count.rounds[4].decisions[0]
    assert surplus.transfer_map == {"E": votes("5.76"), RESIDUAL_SURPLUS: votes("0.04")}
    assert tallies(count, 5)["B"] == "20.00" and tallies(count, 5)["E"] == "26.96"
    # C's decision repeated with the transfers booked; E elected [5.3.13(b)]: 26.96 >= 46.96 / 2
    assert count.rounds[4].elected == ("C", "E")
    assert [bool(d.transfers) for d in count.rounds[4].decisions] == [True, False]
    assert count.winners == ("A", "C", "E")


def test_papers_worth_less_than_the_surplus_move_at_their_value() -> None:
    # [5.3.7] W's transferable papers (2, worth 2.00) do not exceed its surplus 4.33
    store, cands = ballots(
        "WXYPZ", [("WY", 2), ("W", 16), ("X", 5), ("Y", 4), ("PX", 1), ("P", 2), ("Z", 11)]
    )
    count = count_ers97(store, cands, 2)
    booked = count.rounds[1].decisions[0]
    assert booked.transfer_map == {"Y": votes("2"), EXHAUSTED: votes("2.33")}
    assert count.rounds[1].residual_surplus == 0


def test_ties_look_to_the_earliest_point() -> None:
    store, cands = ballots(
        "WXYPZ", [("WY", 2), ("W", 16), ("X", 5), ("Y", 4), ("PX", 1), ("P", 2), ("Z", 11)]
    )
    count = count_ers97(store, cands, 2)
    # X and Y tie on 6 at stage 4: Y had fewer at stage 1 (X had fewer at stage 2)
    assert [r.label for r in count.rounds][2:] == ["exclusion of P", "exclusion of Y"]
    tie = count.rounds[3].ties[0]
    assert (tie.tied, tie.chosen, tie.method) == (("X", "Y"), "Y", "earliest point")
    assert tie.explanation == "fewest votes at stage 1"
    assert count.winners == ("W", "Z")


def test_the_quota_falls_with_non_transferable_papers_before_any_election() -> None:
    store, cands = ballots("ABCD", [("A", 29), ("B", 28), ("CA", 20), ("D", 12)])
    count = count_ers97(store, cands, 2)
    assert count.rounds[0].threshold == votes("29.67")  # 89 / 3
    # [5.4.8] D's 12 papers become non-transferable: (89 - 12) / 3 -> 25.67
    assert count.rounds[1].threshold == votes("25.67")
    assert count.rounds[1].elected == ("A", "B")
    assert count.options["initial quota"] == votes("29.67")


def test_equal_votes_at_every_point_elect_nobody_then_a_lot() -> None:
    store, cands = ballots("AB", [("A", 5), ("B", 5)])
    with pytest.raises(TieUnresolved):
        count_ers97(store, cands, 1)
    count = count_ers97(store, cands, 1, seed=3)
    # [5.6.2] both reach the quota 5.00 for one place, equal throughout: neither deemed
    # elected; [5.2.5] the exclusion is decided by lot; [5.5.1] it would leave one for one
    # place: the other is elected, without an exclusion stage
    assert len(count.rounds) == 1
    undecided, lot = count.rounds[0].ties
    assert undecided.chosen == "" and "none of them deemed elected" in undecided.explanation
    assert lot.method == "lot" and lot.purpose is DecisionKind.ELIMINATED
    assert lot.chosen == ("A", "B")[JavaRandom(3).next_index(2)]
    assert count.winners == tuple(n for n in "AB" if n != lot.chosen)


def test_a_seat_tie_broken_by_an_earlier_point() -> None:
    store, cands = ballots("ABCD", [("A", 5), ("B", 4), ("CB", 1), ("D", 2)])
    count = count_ers97(store, cands, 1)
    # C and D excluded together (1 + 2 <= 4); D's 2 papers non-transferable: the quota falls
    # to (12 - 2) / 2 = 5.00 [5.4.8]; A and B both have 5 for one place: A had more at stage 1
    assert count.rounds[1].label == "exclusion of C, D"
    assert count.rounds[1].threshold == votes("5")
    tie = count.rounds[1].ties[0]
    assert (tie.tied, tie.chosen, tie.method) == (("A", "B"), "A", "earliest point")
    assert tie.explanation == "most votes at stage 1 [5.6.2]"
    assert count.winners == ("A",)


def test_invalid_and_blank_papers() -> None:
    import numpy as np

    rows = np.array([[0, 1], [-1, 0], [-1, -1], [1, -1]], dtype=np.int32)
    store = BallotStore(rows=rows, weights=np.array([5, 2, 1, 3], dtype=np.int64))
    count = count_ers97(store, CandidateTable(("A", "B")), 1)
    assert count.undervotes == 1
    assert count.rounds[0].inactive_map[InactiveReason.INVALID] == votes("2")
    assert count.rounds[0].threshold == votes("4")  # 8 valid / 2


# -- properties -------------------------------------------------------------------------------
@st.composite
def elections(draw: st.DrawFn) -> tuple[BallotStore, CandidateTable, int]:
    k = draw(st.integers(2, 7))
    ranking = st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True)
    rows = draw(st.lists(ranking, min_size=1, max_size=25))
    weights = draw(st.lists(st.integers(1, 50), min_size=len(rows), max_size=len(rows)))
    store = BallotStore.from_rankings([list(r) for r in rows], weights)
    return store, CandidateTable(tuple("ABCDEFG"[:k])), draw(st.integers(1, k))


@settings(max_examples=400, deadline=None)
@given(elections())
def test_votes_are_conserved(election: tuple[BallotStore, CandidateTable, int]) -> None:
    store, cands, seats = election
    count = count_ers97(store, cands, seats, seed=2)
    valid = (count.total_ballots - count.undervotes) * count.scale.one
    for rnd in count.rounds:
        assert rnd.active + sum(v for _, v in rnd.inactive) + rnd.residual_surplus == valid
        assert rnd.residual_surplus >= 0
        assert rnd.inactive_map[InactiveReason.EXHAUSTED_CHOICES] >= 0


@settings(max_examples=400, deadline=None)
@given(elections())
def test_the_right_number_are_elected(election: tuple[BallotStore, CandidateTable, int]) -> None:
    store, cands, seats = election
    count = count_ers97(store, cands, seats, seed=2)
    assert len(count.winners) == min(seats, len(cands))
    assert len(set(count.winners)) == len(count.winners)


@settings(max_examples=200, deadline=None)
@given(elections(), st.randoms(use_true_random=False))
def test_ballot_order_is_irrelevant(
    election: tuple[BallotStore, CandidateTable, int], rnd: object
) -> None:
    store, cands, seats = election
    order = list(range(len(store)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = BallotStore(rows=store.rows[order], weights=store.weights[order])
    a = count_ers97(store, cands, seats, seed=4)
    b = count_ers97(shuffled, cands, seats, seed=4)
    assert a.rounds == b.rounds and a.winners == b.winners
