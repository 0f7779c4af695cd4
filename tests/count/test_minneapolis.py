"""Minneapolis STV (ch. 167): Droop's reference counts, hand-worked ordinance steps, properties."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from droop_cases import Case, params
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import OVERVOTE, SKIP, BallotStore, CandidateTable
from tallyroom.count.lot import Lot
from tallyroom.count.record import DecisionKind, InactiveReason
from tallyroom.count.rules.minneapolis import MinneapolisOptions, count_minneapolis
from tallyroom.count.rules.registry import RuleParams, get_rule
from tallyroom.errors import ConfigError, TieUnresolved

NAMES = tuple("ABCDEFG")
UNIT = Fraction(1, 10**4)


def _reference_options(case: Case, tmp_path: Path) -> tuple[Case, list[int]]:
    """Droop's own BLT options (``[droop ...]``, ``[undeclared ...]``) are not BLT for
    tallyroom's reader: the undeclared write-ins become the option, the rest is dropped."""
    undeclared: list[int] = []
    lines = []
    for line in case.ballots.splitlines():
        found = re.fullmatch(r"\[undeclared ([\d ]+)\]", line.strip())
        if found:
            undeclared = [int(x) - 1 for x in found.group(1).split()]
        elif not line.startswith("[droop"):
            lines.append(line)
    clean = Case(case.name, "\n".join(lines) + "\n", case.variant, case.rows)
    return clean, undeclared


@pytest.mark.parametrize("case", params("mpls", "mpls"))
def test_matches_droop_s_minneapolis(case: Case, tmp_path: Path) -> None:
    """Every round's tallies and non-transferable votes, the threshold, who is elected."""
    clean, undeclared = _reference_options(case, tmp_path)
    election = clean.election(tmp_path)
    opts = MinneapolisOptions(
        seats=election.seats,
        undeclared=tuple(undeclared),
        tie_order=election.tie_order or (),  # Droop's stand-in for the lot
    )
    count = count_minneapolis(election.ballots, election.candidates, opts)
    expected = [r for r in case.rows if r.action == "count"]
    ours = [r for r in count.rounds if "not transferred" not in r.label]
    assert len(ours) == len(expected)
    for rnd, row in zip(ours, expected, strict=True):
        tally = {n: v * UNIT for n, v in rnd.tally}
        assert tally == {n: v for n, v in row.votes.items() if row.states[n] != "W"}, rnd.label
        exhausted = rnd.inactive_map[InactiveReason.EXHAUSTED_CHOICES] * UNIT
        assert exhausted == row.nontransferable, rnd.label
        assert rnd.threshold * UNIT == row.quota
    end = case.rows[-1]
    assert sorted(count.winners) == sorted(n for n, s in end.states.items() if s == "E")


def test_a_second_surplus_moves_at_the_ordinance_s_transfer_value() -> None:
    """Worked by hand from s.167.20: 33 votes, 3 seats, threshold floor(33/4) + 1 = 9.

    Round 2: A (20) elected, surplus 11; surplus fraction floor4(11/20) = 0.5500; each A>B>C
    ballot moves to B at 0.5500: B = 5 + 11 = 16. Round 3: B elected, surplus 7, fraction
    floor4(7/16) = 0.4375; B's 5 own ballots (value 1) move at 0.4375 and exhaust (2.1875); the
    20 from A move at floor4(0.5500 x 0.4375) = floor4(0.240625) = 0.2406 to C: 4.8120, so
    C = 10.8120 and 0.0005 is lost to truncation. C is then at the threshold: elected."""
    a, b, c, d = range(4)
    store = BallotStore.from_rankings([[a, b, c], [b], [c], [d]], [20, 5, 6, 2])
    count = count_minneapolis(store, CandidateTable(NAMES[:4]), MinneapolisOptions(seats=3))
    assert count.winners == ("A", "B", "C")
    labels = [r.label for r in count.rounds]
    assert labels == ["first preferences", "surplus of A", "surplus of B"]
    last = count.rounds[-1]
    assert dict(last.tally) == {"A": 90000, "B": 90000, "C": 108120, "D": 20000}
    assert last.inactive_map[InactiveReason.EXHAUSTED_CHOICES] == 21875
    assert last.residual_surplus == 5
    assert count.rounds[0].threshold == 90000


def test_certain_losers_are_defeated_together() -> None:
    """s.167.20 "Mathematically impossible to be elected", 167.70(c)(1)c: A 8, B 6, C 2
    (C>B), D 1 (D>C), E 1 (E>D); 18 votes, 2 seats, threshold floor(18/3) + 1 = 7. Round 2:
    A's surplus 1 is not yet transferred; D, E and C together hold 1 + 1 + 2, plus the surplus
    5 < B's 6, so none of them can reach B: all three are defeated at once. C's ballot takes
    its 2 votes to B (8, at the threshold); D's and E's find no continuing candidate."""
    a, b, c, d, e = range(5)
    store = BallotStore.from_rankings([[a], [b], [c, b], [d, c], [e, d]], [8, 6, 2, 1, 1])
    count = count_minneapolis(store, CandidateTable(NAMES[:5]), MinneapolisOptions(seats=2))
    second = count.rounds[1]
    assert second.label == "defeat certain losers C, D, E"
    defeated = [x.candidate for x in second.decisions if x.kind is DecisionKind.ELIMINATED]
    assert defeated == ["C", "D", "E"]
    assert dict(second.tally)["B"] == 80000
    assert second.inactive_map[InactiveReason.EXHAUSTED_CHOICES] == 20000
    assert count.winners == ("A", "B")


def test_a_tie_is_decided_by_lot_with_a_seed_and_stops_without() -> None:
    a, b, c = range(3)
    store = BallotStore.from_rankings([[a], [b], [c]], [5, 2, 2])
    cands = CandidateTable(NAMES[:3])
    with pytest.raises(TieUnresolved):
        count_minneapolis(store, cands, MinneapolisOptions(seats=2))
    count = count_minneapolis(store, cands, MinneapolisOptions(seats=2, lot=Lot(seed=4)))
    assert any(r.ties for r in count.rounds) and len(count.winners) == 2


def test_the_last_defeat_keeps_its_votes() -> None:
    """s.167.70(c)(1)e: votes of a candidate defeated in the final round are not transferred
    when the defeat leaves as many continuing candidates as seats; (c)(1)f: they "retain their
    votes". A 6, B 3 (B>A), C 3 (C>A); 12 votes, 2 seats, threshold 5. A's surplus 1 goes at
    floor4(1/6) = 0.1666 a ballot, all exhausted. B and C tie at 3, neither a certain loser;
    the lot defeats one, whose 3 votes stay."""
    a, b, c = range(3)
    store = BallotStore.from_rankings([[a], [b, a], [c, a]], [6, 3, 3])
    opts = MinneapolisOptions(seats=2, lot=Lot(seed=1))
    count = count_minneapolis(store, CandidateTable(NAMES[:3]), opts)
    surplus, last = count.rounds[1], count.rounds[-1]
    assert surplus.inactive_map[InactiveReason.EXHAUSTED_CHOICES] == 6 * 1666
    assert surplus.residual_surplus == 10000 - 6 * 1666
    loser = next(x.candidate for x in last.decisions if x.kind is DecisionKind.ELIMINATED)
    assert last.label == f"defeat {loser} (votes not transferred)"
    assert dict(last.tally)[loser] == 30000
    assert last.ties and set(count.winners) == {"A", "B", "C"} - {loser}


def test_options_are_checked() -> None:
    with pytest.raises(ConfigError):
        MinneapolisOptions(seats=0)
    store = BallotStore.from_rankings([[0]], [1])
    with pytest.raises(ConfigError, match="undeclared"):
        count_minneapolis(store, CandidateTable(("A",)), MinneapolisOptions(undeclared=(3,)))


@st.composite
def elections(draw: st.DrawFn) -> tuple[BallotStore, CandidateTable, int]:
    k = draw(st.integers(2, 7))
    ranking = st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True)
    rows = draw(st.lists(ranking, min_size=1, max_size=25))
    weights = draw(st.lists(st.integers(1, 40), min_size=len(rows), max_size=len(rows)))
    seats = draw(st.integers(1, k))
    return BallotStore.from_rankings(rows, weights), CandidateTable(NAMES[:k]), seats


@settings(max_examples=300, deadline=None)
@given(elections(), st.integers(0, 2**31))
def test_votes_conserved_seats_filled_order_irrelevant(
    election: tuple[BallotStore, CandidateTable, int], seed: int
) -> None:
    store, cands, seats = election
    count = get_rule("minneapolis").count(store, cands, RuleParams(seats=seats, seed=seed))
    one = count.scale.one
    valid = store.weights.sum() * one
    for rnd in count.rounds:
        held = sum(v for _, v in rnd.tally)
        exhausted = rnd.inactive_map[InactiveReason.EXHAUSTED_CHOICES]
        assert held + exhausted + rnd.residual_surplus == valid, rnd.label
    assert len(count.winners) == seats == len(set(count.winners))
    order = list(range(len(store.weights)))[::-1]
    shuffled = BallotStore.from_rankings(
        [[int(x) for x in store.rows[i] if x >= 0] for i in order],
        [int(store.weights[i]) for i in order],
    )
    again = get_rule("minneapolis").count(shuffled, cands, RuleParams(seats=seats, seed=seed))
    assume(not any(r.ties for r in count.rounds))
    assert again.winners == count.winners


def test_skipped_overvoted_and_repeated_rankings_are_passed_over() -> None:
    """s.167.70(c)(2): A, skip, B; A, overvote, B; A, A, B all count for B once A is
    defeated (and a ballot of overvotes only counts for nobody). A 3, B 4, C 5: 12 votes,
    threshold 7; A is a certain loser (3 < 4); B then has 7 and is elected."""
    a, b, c = range(3)
    rows = np.array(
        [
            [a, SKIP, b],
            [a, OVERVOTE, b],
            [a, a, b],
            [b, SKIP, SKIP],
            [c, SKIP, SKIP],
            [OVERVOTE, SKIP, SKIP],
        ],
        dtype=np.int32,
    )
    store = BallotStore(rows=rows, weights=np.array([1, 1, 1, 4, 5, 2], dtype=np.int64))
    count = count_minneapolis(store, CandidateTable(NAMES[:3]), MinneapolisOptions(seats=1))
    assert count.rounds[0].threshold == 7 * 10**4  # 12 ballots count: floor(12 / 2) + 1
    assert count.rounds[1].label == "defeat certain losers A"
    assert dict(count.rounds[1].tally)["B"] == 70000
    assert count.winners == ("B",)
    assert count.undervotes == 2


def test_a_ballot_of_withdrawn_candidates_only_is_not_counted() -> None:
    """s.167.20 "Threshold": the votes counted in the first round; a ballot ranking only a
    withdrawn candidate counts for nobody (V = 6, not 9) and is reported as an undervote."""
    a, b, c = range(3)
    store = BallotStore.from_rankings([[a], [b], [c]], [3, 4, 2])
    cands = CandidateTable(NAMES[:3], excluded=frozenset({a}))
    count = count_minneapolis(store, cands, MinneapolisOptions(seats=1))
    assert count.rounds[0].threshold == 4 * 10**4  # floor(6 / 2) + 1
    assert count.undervotes == 3 and count.winners == ("B",)
