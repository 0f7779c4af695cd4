"""Scottish STV (SSI 2007/42 rules 45-52): worked examples by hand, ties, and properties."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import OVERVOTE, SKIP, BallotStore, CandidateTable
from tallyroom.count.javarandom import JavaRandom
from tallyroom.count.numbers import Scale
from tallyroom.count.options import RctabOptions
from tallyroom.count.record import (
    EXHAUSTED,
    RESIDUAL_SURPLUS,
    Count,
    DecisionKind,
    InactiveReason,
)
from tallyroom.count.rules.rctab import tabulate
from tallyroom.count.rules.scottish_stv import count_scottish_stv, scottish_options
from tallyroom.count.rules.wigm import QuotaRule, TransferRounding
from tallyroom.errors import TieUnresolved

ONE = 100_000  # one vote at five decimal places
WARD = (
    Path(__file__).resolve().parents[3]
    / "shared/conformance/scotland/scotland-2017/aberdeen-city-2017-ward1/ballots.blt"
)


def ballots(names: str, spec: list[tuple[str, int]]) -> tuple[BallotStore, CandidateTable]:
    """A store from ``("ABC", weight)`` rankings over one-letter candidates ``names``."""
    code = {n: i for i, n in enumerate(names)}
    rankings = [[code[ch] for ch in ranking] for ranking, _ in spec]
    return BallotStore.from_rankings(rankings, [w for _, w in spec]), CandidateTable(tuple(names))


def votes(text: str) -> int:
    return Scale(5).from_decimal(Decimal(text))


def exclusions(count: Count) -> list[str]:
    return [d.candidate for r in count.rounds for d in r.decisions if d.kind.value == "eliminated"]


# -- worked examples --------------------------------------------------------------------------
def test_the_statutory_parameters() -> None:
    opts = scottish_options(4, seed=7)
    assert opts.places == 5 and opts.quota is QuotaRule.DROOP
    assert opts.transfer is TransferRounding.PER_PAPER
    assert opts.lot.seed == 7


def test_a_count_worked_by_hand() -> None:
    # 150 valid papers, 3 seats: quota = floor(150 / 4) + 1 = 38 [r.46]
    store, cands = ballots(
        "ABCDE", [("AB", 60), ("AC", 20), ("BD", 10), ("C", 15), ("D", 25), ("E", 20)]
    )
    count = count_scottish_stv(store, cands, 3)
    assert count.rule == "scottish-stv" and count.scale == Scale(5)
    assert [r.label for r in count.rounds] == [
        "first preferences",
        "surplus of A",
        "surplus of B",
        "exclusion of E",
        "exclusion of C",
    ]
    assert all(r.threshold == 38 * ONE for r in count.rounds)
    first, s2, s3, s4, s5 = count.rounds
    assert first.tally_map == {"A": 80 * ONE, "B": 10 * ONE, "C": 15 * ONE, "D": 25 * ONE,
                               "E": 20 * ONE}  # fmt: skip
    assert first.elected == ("A",)
    # [r.48(3)] A's 80 first preferences: 42 x 1 / 80 = 0.52500 each
    assert s2.tally_map == {"A": 38 * ONE, "B": votes("41.5"), "C": votes("25.5"),
                            "D": 25 * ONE, "E": 20 * ONE}  # fmt: skip
    assert s2.decisions[0].kind is DecisionKind.ELECTED and s2.decisions[0].candidate == "A"
    assert s2.decisions[0].transfer_map == {"B": votes("31.5"), "C": votes("10.5")}
    assert s2.elected == ("A", "B")  # A's surplus booked here; B reaches the quota here
    # [r.48(3)-(4)] B's surplus 3.5 of 41.5: papers at 1 pass 3.5 x 1 / 41.5 = 0.08433 each,
    # papers received at 0.525 pass 3.5 x 0.525 / 41.5 = 0.04427 (no next preference here)
    assert s3.tally_map["D"] == votes("25.8433")
    assert s3.tally_map["B"] == 38 * ONE
    assert s3.decisions[0].transfer_map == {
        "D": votes("0.8433"),
        EXHAUSTED: votes("2.6562"),
        RESIDUAL_SURPLUS: votes("0.0005"),
    }
    assert s3.inactive_map[InactiveReason.EXHAUSTED_CHOICES] == votes("2.6562")
    assert s3.residual_surplus == votes("0.0005")
    assert s4.tally_map["E"] == 0 and s4.eliminated == ("E",)
    # [r.50(4)] C's papers move at 1 and at 0.525: nowhere to go
    assert s5.decisions[0].transfer_map == {EXHAUSTED: votes("25.5")}
    # [r.52] one continuing candidate for one vacancy: D, at the final stage
    assert s5.elected == ("D",)
    assert count.winners == ("A", "B", "D")
    assert count.options["seed"] is None and count.options["quota"] == 38 * ONE


def test_a_zero_surplus_makes_no_stage() -> None:
    # quota = floor(9 / 3) + 1 = 4: A is elected with exactly the quota
    store, cands = ballots("ABC", [("AB", 4), ("B", 3), ("C", 2)])
    count = count_scottish_stv(store, cands, 2)
    assert [r.label for r in count.rounds] == ["first preferences", "exclusion of C"]
    assert count.winners == ("A", "B")


def test_no_transfer_once_the_seats_are_filled() -> None:
    store, cands = ballots("ABC", [("AC", 50), ("BC", 40), ("C", 10)])
    count = count_scottish_stv(store, cands, 2)
    # quota 34: A and B both elected at stage 1, surpluses never transferred
    assert len(count.rounds) == 1
    assert count.winners == ("A", "B")
    assert count.rounds[0].tally_map["A"] == 50 * ONE


def test_the_surplus_of_the_largest_first() -> None:
    store, cands = ballots("ABCD", [("AC", 40), ("BD", 45), ("C", 10), ("D", 5)])
    count = count_scottish_stv(store, cands, 3)
    assert count.rounds[0].elected == ("B", "A")  # by votes at the stage
    assert count.rounds[1].label == "surplus of B"


def test_equal_surpluses_by_the_most_recent_stage_they_differed() -> None:
    # X and Y reach the quota together with 12 each; at stage 1 X had more
    store, cands = ballots("XYPQR", [("X", 10), ("Y", 9), ("PY", 3), ("PX", 2), ("Q", 8), ("R", 9)])
    count = count_scottish_stv(store, cands, 3)
    # valid 41, quota floor(41 / 4) + 1 = 11; stage 2 excludes P: X 12, Y 12
    assert count.rounds[1].label == "exclusion of P"
    assert count.rounds[1].elected == ("X", "Y")
    tie = count.rounds[2].ties[0]
    assert tie.tied == ("X", "Y") and tie.chosen == "X"
    assert tie.method == "most recent preceding stage"
    assert tie.explanation == "most votes at stage 1"
    assert count.rounds[2].label == "surplus of X"


def test_an_exclusion_tie_is_decided_by_lot_with_a_recorded_seed() -> None:
    store, cands = ballots("ABCD", [("A", 9), ("B", 8), ("C", 2), ("D", 2)])
    with pytest.raises(TieUnresolved):
        count_scottish_stv(store, cands, 1)
    count = count_scottish_stv(store, cands, 1, seed=42)
    tie = count.rounds[1].ties[0]
    assert tie.purpose is DecisionKind.ELIMINATED and tie.method == "lot"
    assert tie.tied == ("C", "D")
    # one draw of java.util.Random(42) among the tied in candidate order
    assert tie.chosen == ("C", "D")[JavaRandom(42).next_index(2)]
    assert "seed 42" in tie.explanation
    assert count.options["seed"] == 42
    chosen = count_scottish_stv(store, cands, 1, decider=lambda stage, elect, tied: "D")
    assert chosen.rounds[1].label == "exclusion of D"
    assert chosen.rounds[1].ties[0].chosen == "D"


def test_papers_without_a_first_preference_and_broken_sequences() -> None:
    rows = np.array(
        [
            [0, 1, SKIP],  # A then B
            [SKIP, 0, 1],  # no first preference: invalid
            [OVERVOTE, 1, SKIP],  # first preference void for uncertainty: invalid
            [SKIP, SKIP, SKIP],  # blank
            [2, SKIP, 0],  # C, then a skipped rank: nothing after C counts
            [2, OVERVOTE, 0],  # C, then an overvote: nothing after C counts
            [1, SKIP, SKIP],
        ],
        dtype=np.int32,
    )
    store = BallotStore(rows=rows, weights=np.array([5, 2, 1, 3, 2, 1, 4], dtype=np.int64))
    count = count_scottish_stv(store, CandidateTable(("A", "B", "C")), 1)
    assert count.total_ballots == 18 and count.undervotes == 3
    assert count.rounds[0].inactive_map[InactiveReason.INVALID] == 3 * ONE
    assert count.rounds[0].tally_map == {"A": 5 * ONE, "B": 4 * ONE, "C": 3 * ONE}
    # quota from the 12 valid papers: 7; C's 3 papers exhaust at the skip and the overvote
    assert count.rounds[0].threshold == 7 * ONE
    assert count.rounds[1].decisions[0].transfer_map == {EXHAUSTED: 3 * ONE}


def test_withdrawn_candidates_are_passed_over_and_not_shown() -> None:
    store, cands = ballots("ABC", [("BA", 6), ("A", 3), ("C", 4)])
    withdrawn = CandidateTable(cands.names, excluded=frozenset({1}))
    count = count_scottish_stv(store, withdrawn, 1)
    assert count.rounds[0].tally_map == {"A": 9 * ONE, "C": 4 * ONE}
    assert count.winners == ("A",)


@pytest.mark.skipif(not WARD.exists(), reason="no conformance ballots")
def test_the_transfer_value_of_a_real_ward() -> None:
    from tallyroom.formats.blt import read_blt

    election = read_blt(WARD)
    count = count_scottish_stv(election.ballots, election.candidates, election.seats)
    # Aberdeen ward 1 2017: 2012 votes, quota 1322, surplus 690: 0.34294 a paper
    crockett = count.rounds[1].decisions[0].transfer_map["Barney CROCKETT (Lab)"]
    assert crockett == 181 * votes("0.34294")


# -- properties -------------------------------------------------------------------------------
NAMES = "ABCDEF"


@st.composite
def elections(draw: st.DrawFn, complete: bool = False) -> tuple[BallotStore, CandidateTable, int]:
    k = draw(st.integers(2, 6))
    if complete:
        ranking = st.permutations(list(range(k)))
    else:
        ranking = st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True)
    rows = draw(st.lists(ranking, min_size=1, max_size=25))
    weights = draw(st.lists(st.integers(1, 60), min_size=len(rows), max_size=len(rows)))
    seats = 1 if complete else draw(st.integers(1, k))
    store = BallotStore.from_rankings([list(r) for r in rows], weights)
    return store, CandidateTable(tuple(NAMES[:k])), seats


def check_conservation(count: Count) -> None:
    valid = count.total_ballots - count.undervotes
    for rnd in count.rounds:
        gone = rnd.inactive_map[InactiveReason.EXHAUSTED_CHOICES]
        invalid = rnd.inactive_map[InactiveReason.INVALID]
        assert rnd.active + gone + rnd.residual_surplus + invalid == valid * count.scale.one
        assert rnd.residual_surplus >= 0


@settings(max_examples=300, deadline=None)
@given(elections())
def test_votes_are_conserved_at_every_stage(
    election: tuple[BallotStore, CandidateTable, int],
) -> None:
    store, cands, seats = election
    count = count_scottish_stv(store, cands, seats, seed=1)
    check_conservation(count)


@settings(max_examples=300, deadline=None)
@given(elections())
def test_the_right_number_are_elected(election: tuple[BallotStore, CandidateTable, int]) -> None:
    store, cands, seats = election
    count = count_scottish_stv(store, cands, seats, seed=1)
    assert len(count.winners) == min(seats, len(cands))
    assert len(set(count.winners)) == len(count.winners)
    # each reached the quota at the stage of election [r.47], or fills a last vacancy at the
    # final stage [r.52]
    for name in count.winners:
        stage = next(r for r in count.rounds if name in r.elected)
        assert stage.tally_map[name] >= (stage.threshold or 0) or stage is count.rounds[-1]


@settings(max_examples=200, deadline=None)
@given(elections(), st.randoms(use_true_random=False))
def test_ballot_order_is_irrelevant(
    election: tuple[BallotStore, CandidateTable, int], rnd: object
) -> None:
    store, cands, seats = election
    expanded = np.repeat(store.rows, store.weights, axis=0)
    order = list(range(expanded.shape[0]))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = BallotStore(rows=expanded[order], weights=np.ones(expanded.shape[0], dtype=np.int64))
    a = count_scottish_stv(store, cands, seats, seed=3)
    b = count_scottish_stv(shuffled, cands, seats, seed=3)
    assert a.rounds == b.rounds and a.winners == b.winners


@settings(max_examples=300, deadline=None)
@given(elections(complete=True))
def test_one_seat_is_irv_when_every_ballot_ranks_everyone(
    election: tuple[BallotStore, CandidateTable, int],
) -> None:
    """With one seat and complete rankings nothing exhausts, no surplus is ever transferred and
    one candidate is excluded per stage: Scottish STV and IRV coincide (ties aside)."""
    store, cands, _ = election
    ours = count_scottish_stv(store, cands, 1, seed=5)
    irv = tabulate(store, cands, RctabOptions(decimal_places=0))
    assume(not ours.ties and not irv.ties)
    assert ours.winners == irv.winners
    assert len(ours.rounds) == len(irv.rounds)
    for stage, rnd in zip(ours.rounds, irv.rounds, strict=True):
        mine = {n: Decimal(v).scaleb(-5) for n, v in stage.tally if v}
        theirs = {n: Decimal(v) for n, v in rnd.tally if v}
        assert mine == theirs


def test_the_count_is_the_same_whatever_the_hash_seed() -> None:
    script = (
        "from tallyroom.count.ballots import BallotStore, CandidateTable\n"
        "from tallyroom.count.rules.scottish_stv import count_scottish_stv\n"
        "rows = [[0, 1, 2], [1, 2], [2, 0], [3, 1], [3], [2, 3, 1]]\n"
        "store = BallotStore.from_rankings(rows, [30, 25, 21, 8, 8, 9])\n"
        "c = count_scottish_stv(store, CandidateTable(('A', 'B', 'C', 'D')), 2, seed=9)\n"
        "print(repr((c.rounds, c.winners)))\n"
    )
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        outputs.add(proc.stdout)
    assert len(outputs) == 1
