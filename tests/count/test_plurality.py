"""Plurality and block vote: worked examples, ties, real ballots and properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import OVERVOTE, SKIP, BallotStore, CandidateTable, overvote_set_code
from tallyroom.count.numbers import Scale
from tallyroom.count.record import Count, DecisionKind, InactiveReason
from tallyroom.count.rules.plurality import TieMethod, count_block, count_plurality
from tallyroom.errors import CountError

ABCD = CandidateTable(names=("A", "B", "C", "D"))
LABOUR_2010 = (
    Path(__file__).resolve().parents[2].parent
    / "shared/conformance/official/preflib_00030-00000001_uklabour2010_mps.soi"
)


def store(
    rows: list[list[int]], weights: list[int], sets: tuple[tuple[int, ...], ...] = ()
) -> BallotStore:
    width = max((len(r) for r in rows), default=1) or 1
    matrix = np.full((len(rows), width), SKIP, dtype=np.int32)
    for i, r in enumerate(rows):
        matrix[i, : len(r)] = r
    return BallotStore(rows=matrix, weights=np.array(weights, dtype=np.int64), overvote_sets=sets)


def inactive(count: Count) -> dict[InactiveReason, int]:
    return count.rounds[0].inactive_map


def test_first_past_the_post_uses_first_preferences_only() -> None:
    ballots = store([[0, 1], [1, 0], [1], [2, 0], [SKIP, 3]], [4, 3, 2, 1, 1])
    count = count_plurality(ballots, ABCD)
    assert count.rule == "plurality"
    assert count.scale == Scale(0)
    assert len(count.rounds) == 1
    assert count.rounds[0].tally == (("A", 4), ("B", 5), ("C", 1), ("D", 1))
    assert count.winners == ("B",)
    assert count.rounds[0].decisions[0].kind is DecisionKind.ELECTED
    assert count.total_ballots == 11


def test_blank_and_overvoted_ballots_are_counted_apart() -> None:
    sets = ((0, 1),)
    ballots = store([[0], [], [overvote_set_code(0), 2], [OVERVOTE], [3]], [5, 2, 3, 1, 1], sets)
    count = count_plurality(ballots, ABCD)
    assert inactive(count) == {InactiveReason.NO_RANKINGS: 2, InactiveReason.INVALID: 4}
    assert count.undervotes == 2
    assert count.rounds[0].tally_map == {"A": 5, "B": 0, "C": 0, "D": 1}


def test_block_vote_counts_every_mark_once_up_to_the_limit() -> None:
    ballots = store([[0, 1], [0, 0, 2], [1, 2, 3], [], [3]], [3, 2, 4, 1, 1])
    count = count_block(ballots, ABCD, seats=2)
    # [1, 2, 3] marks three candidates for two seats: invalid
    assert inactive(count) == {InactiveReason.NO_RANKINGS: 1, InactiveReason.INVALID: 4}
    assert count.rounds[0].tally_map == {"A": 5, "B": 3, "C": 2, "D": 1}
    assert count.winners == ("A", "B")
    assert count_block(ballots, ABCD, seats=2, max_marks=3).rounds[0].tally_map["D"] == 5


def test_excluded_and_write_in_candidates_cannot_win() -> None:
    table = CandidateTable(
        names=("A", "B", "C", "W"), undeclared_write_in=3, excluded=frozenset({0})
    )
    ballots = store([[0, 1], [3], [2]], [9, 8, 1])
    count = count_plurality(ballots, table)
    # A is off the ballot paper: its marks are removed and the ballot reads as B
    assert count.rounds[0].tally_map == {"A": 0, "B": 9, "C": 1, "W": 8}
    assert count.winners == ("B",)


def test_ties_for_the_last_seat_by_candidate_order() -> None:
    ballots = store([[0], [1], [2], [3]], [5, 3, 3, 3])
    count = count_plurality(ballots, ABCD, seats=2)
    assert count.winners == ("A", "B")
    (tie,) = count.ties
    assert tie.tied == ("B", "C", "D") and tie.chosen == "B"
    assert tie.method == "candidate order" and tie.purpose is DecisionKind.ELECTED
    assert count.options["tiebreak"] == "candidate order"


def test_ties_by_lot_are_seeded_recorded_and_repeatable() -> None:
    ballots = store([[0], [1], [2], [3]], [3, 3, 3, 3])
    draws = {count_plurality(ballots, ABCD, seats=2, seed=s).winners for s in range(20)}
    assert len(draws) > 1  # the lot does decide
    count = count_plurality(ballots, ABCD, seats=2, seed=42)
    assert count == count_plurality(ballots, ABCD, seats=2, seed=42)
    assert count.options["seed"] == 42 and count.options["tiebreak"] == "lot"
    assert [t.chosen for t in count.ties] == list(count.winners)
    assert [len(t.tied) for t in count.ties] == [4, 3]


def test_refusals() -> None:
    ballots = store([[0]], [1])
    with pytest.raises(CountError, match="seed"):
        count_plurality(ballots, ABCD, tiebreak=TieMethod.LOT)
    with pytest.raises(CountError, match="seat"):
        count_plurality(ballots, ABCD, seats=0)
    with pytest.raises(CountError, match="mark"):
        count_block(ballots, ABCD, seats=2, max_marks=0)


def test_more_seats_than_candidates_elects_everyone_eligible() -> None:
    count = count_block(store([[0]], [1]), CandidateTable(names=("A", "B")), seats=3)
    assert count.winners == ("A", "B")


@pytest.mark.skipif(not LABOUR_2010.is_file(), reason="../shared missing")
def test_labour_2010_mps_first_preferences() -> None:
    from tallyroom.formats.preflib import read_preflib

    election = read_preflib(LABOUR_2010)
    count = count_plurality(election.ballots, election.candidates)
    assert count.rounds[0].tally_map == {
        "D.Abbott": 7,
        "E.Balls": 40,
        "A.Burnhm": 24,
        "D.Milbnd": 111,
        "E.Milbnd": 84,
    }
    assert count.winners == ("D.Milbnd",)


# -- properties ----------------------------------------------------------------------------------
@st.composite
def elections(draw: st.DrawFn) -> tuple[BallotStore, CandidateTable, int]:
    n = draw(st.integers(1, 6))
    sets = [(0, 1)] if n >= 2 else []
    cell = st.one_of(
        st.integers(0, n - 1),
        st.just(SKIP),
        st.just(OVERVOTE),
        st.sampled_from([overvote_set_code(0)] if sets else [SKIP]),
    )
    rows = draw(st.lists(st.lists(cell, max_size=4), max_size=15))
    weights = draw(st.lists(st.integers(1, 1000), min_size=len(rows), max_size=len(rows)))
    seats = draw(st.integers(1, n))
    names = tuple(f"C{k}" for k in range(n))
    return store(rows, weights, tuple(sets)), CandidateTable(names=names), seats


@settings(max_examples=150)
@given(elections(), st.sampled_from(["plurality", "block"]), st.none() | st.integers(0, 99))
def test_properties(
    made: tuple[BallotStore, CandidateTable, int], rule: str, seed: int | None
) -> None:
    ballots, table, seats = made
    run = count_plurality if rule == "plurality" else count_block
    count = run(ballots, table, seats=seats, seed=seed)
    round_one = count.rounds[0]
    blank = round_one.inactive_map[InactiveReason.NO_RANKINGS]
    invalid = round_one.inactive_map[InactiveReason.INVALID]
    assert [name for name, _ in round_one.tally] == list(table.names)
    assert len(count.winners) == min(seats, len(table)) == len(set(count.winners))
    if rule == "plurality":  # one vote per valid ballot
        assert round_one.active + blank + invalid == ballots.total
    else:  # each valid ballot gives between 1 and `seats` votes
        valid = ballots.total - blank - invalid
        assert valid <= round_one.active <= valid * seats
    votes = round_one.tally_map
    losers = [c for c in table.names if c not in count.winners]
    assert all(votes[w] >= votes[x] for w in count.winners for x in losers)
    # ballot order is irrelevant
    order = np.random.default_rng(seed or 0).permutation(len(ballots))
    shuffled = BallotStore(
        rows=ballots.rows[order],
        weights=ballots.weights[order],
        overvote_sets=ballots.overvote_sets,
    )
    assert run(shuffled, table, seats=seats, seed=seed) == count
