"""WIGM as a general rule: its options (places, quota, rounding, look-back), exact arithmetic
beyond int64, the record's shape, and properties over arbitrary ballots."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.lot import Lot
from tallyroom.count.numbers import Scale
from tallyroom.count.record import Count, DecisionKind, InactiveReason
from tallyroom.count.rules.gregory import PriorStages
from tallyroom.count.rules.params import Arithmetic
from tallyroom.count.rules.scottish_stv import count_scottish_stv
from tallyroom.count.rules.wigm import QuotaRule, TransferRounding, WigmOptions, count_wigm
from tallyroom.errors import ConfigError

HIGHLAND_2 = (
    Path(__file__).resolve().parents[3]
    / "shared/conformance/scotland/scotland-2017/highland-2017-ward2/ballots.blt"
)


def ballots(names: str, spec: list[tuple[str, int]]) -> tuple[BallotStore, CandidateTable]:
    code = {n: i for i, n in enumerate(names)}
    rankings = [[code[ch] for ch in ranking] for ranking, _ in spec]
    return BallotStore.from_rankings(rankings, [w for _, w in spec]), CandidateTable(tuple(names))


def exclusions(count: Count) -> list[str]:
    return [d.candidate for r in count.rounds for d in r.decisions if d.kind.value == "eliminated"]


def test_options_are_validated() -> None:
    with pytest.raises(ConfigError):
        WigmOptions(seats=0)
    with pytest.raises(ConfigError):
        WigmOptions(seats=1, places=19)


@pytest.mark.parametrize(
    ("rule", "places", "quota"),
    [
        (QuotaRule.DROOP, 2, 300),  # floor(10 / 4) + 1 = 3 whole votes
        (QuotaRule.DROOP_FRACTIONAL, 2, 251),  # floor_2(10 / 4) + 0.01 = 2.51
        (QuotaRule.HARE, 2, 334),  # ceil_2(10 / 3) = 3.34
        (QuotaRule.DROOP_FRACTIONAL, 0, 3),  # floor(2.5) + 1
    ],
)
def test_quota_rules(rule: QuotaRule, places: int, quota: int) -> None:
    store, cands = ballots("ABCD", [("A", 4), ("B", 3), ("C", 2), ("D", 1)])
    count = count_wigm(store, cands, WigmOptions(seats=3, places=places, quota=rule))
    assert count.rounds[0].threshold == quota
    assert count.scale == Scale(places)
    assert count.options["quota"] == quota


def test_the_declared_precision_truncates_transfer_values() -> None:
    # quota floor(9 / 3) + 1 = 4; A's surplus 3 of 7: 3/7 = 0.428571...
    store, cands = ballots("ABC", [("AB", 7), ("B", 1), ("C", 1)])
    for places, expected in ((0, 0), (1, 28), (3, 2996), (5, 299999)):
        count = count_wigm(store, cands, WigmOptions(seats=2, places=places, lot=Lot(seed=1)))
        moved = count.rounds[1].decisions[0].transfer_map.get("B", 0)
        assert moved == expected, places  # 7 x floor_d(3/7)
        lost = count.rounds[1].residual_surplus
        assert moved + lost == 3 * 10**places


@pytest.mark.skipif(not HIGHLAND_2.exists(), reason="no conformance ballots")
def test_truncating_the_fraction_first_is_not_the_statute() -> None:
    from tallyroom.formats.blt import read_blt

    election = read_blt(HIGHLAND_2)
    statute = count_scottish_stv(election.ballots, election.candidates, election.seats)
    fraction = count_wigm(
        election.ballots,
        election.candidates,
        WigmOptions(seats=election.seats, transfer=TransferRounding.FRACTION),
    )
    name = "Gillian COGHILL (Ind)"
    # the published sheet (and the statute's "A divided by B") has 658.20209 at stage 3
    assert statute.scale.to_decimal(statute.rounds[2].tally_map[name]) == Decimal("658.20209")
    assert fraction.scale.to_decimal(fraction.rounds[2].tally_map[name]) == Decimal("658.20063")


def test_look_back_to_the_most_recent_or_the_earliest_stage() -> None:
    # X 5 / Y 4 at stage 1; P's papers lift Y to 6 (stage 2); Q's lift both to 7 (stage 3)
    store, cands = ballots(
        "XYPQWZ",
        [("X", 5), ("Y", 4), ("PY", 2), ("QX", 2), ("QY", 1), ("W", 20), ("Z", 18)],
    )
    recent = count_wigm(store, cands, WigmOptions(seats=1, places=0))
    earliest = count_wigm(
        store, cands, WigmOptions(seats=1, places=0, prior_stages=PriorStages.EARLIEST)
    )
    assert exclusions(recent)[:3] == ["P", "Q", "X"]  # X had fewer at stage 2
    assert exclusions(earliest)[:3] == ["P", "Q", "Y"]  # Y had fewer at stage 1
    tie = recent.rounds[3].ties[0]
    assert (tie.tied, tie.chosen, tie.explanation) == (("X", "Y"), "X", "fewest votes at stage 2")
    assert tie.method == "most recent preceding stage" and tie.round == 4
    tie = earliest.rounds[3].ties[0]
    assert (tie.chosen, tie.method) == ("Y", "earliest point")
    assert recent.winners == earliest.winners == ("W",)


def test_a_decider_settles_a_lot() -> None:
    store, cands = ballots("ABC", [("A", 4), ("B", 2), ("C", 2)])
    asked: list[tuple[int, bool, list[str]]] = []

    def decide(stage: int, electing: bool, tied: Sequence[str]) -> str:
        asked.append((stage, electing, list(tied)))
        return "B"

    count = count_wigm(store, cands, WigmOptions(seats=1, lot=Lot(decider=decide)))
    assert asked == [(2, False, ["B", "C"])]
    assert count.rounds[1].label == "exclusion of B"


def test_more_seats_than_candidates_elects_everyone_at_stage_one() -> None:
    store, cands = ballots("AB", [("A", 3), ("B", 1)])
    count = count_wigm(store, cands, WigmOptions(seats=3))
    assert count.winners == ("A", "B")
    assert len(count.rounds) == 1


def test_an_election_without_valid_papers() -> None:
    store = BallotStore(rows=np.full((2, 2), -1, dtype=np.int32), weights=np.array([3, 1]))
    count = count_wigm(store, CandidateTable(("A", "B", "C")), WigmOptions(seats=1, lot=seed_ok()))
    assert count.undervotes == 4 and count.total_ballots == 4
    assert len(count.winners) == 1


def seed_ok() -> Lot:
    return Lot(seed=11)


def test_exact_beyond_int64() -> None:
    # 10**15 ballots at 18 places: units far beyond int64, counted in Python integers
    big = 10**15
    store, cands = ballots("ABC", [("AB", 7 * big), ("B", big), ("C", big)])
    count = count_wigm(store, cands, WigmOptions(seats=2, places=18))
    one = 10**18
    quota = (9 * big // 3 + 1) * one
    assert count.rounds[0].threshold == quota
    surplus = 7 * big * one - quota
    tv = surplus * one // (7 * big * one)
    assert count.rounds[1].decisions[0].transfer_map["B"] == 7 * big * tv
    check_conservation(count)


def test_the_record_shape() -> None:
    store, cands = ballots("ABCD", [("AB", 30), ("BC", 10), ("C", 12), ("DC", 8)])
    count = count_wigm(store, cands, WigmOptions(seats=2, places=2))
    labels = [r.label for r in count.rounds]
    assert labels[0] == "first preferences" and labels[1] == "surplus of A"
    for rnd in count.rounds:
        # every candidate is shown at every stage; excluded ones at 0
        assert [n for n, _ in rnd.tally] == ["A", "B", "C", "D"]
        assert {r for r, _ in rnd.inactive} == {
            InactiveReason.EXHAUSTED_CHOICES,
            InactiveReason.INVALID,
        }
    surplus_stage = count.rounds[1]
    booked = surplus_stage.decisions[0]
    assert booked.kind is DecisionKind.ELECTED and booked.candidate == "A"
    assert sum(v for _, v in booked.transfers) == 30 * 100 - (count.rounds[0].threshold or 0)


# -- properties -------------------------------------------------------------------------------
@st.composite
def counts(draw: st.DrawFn) -> tuple[BallotStore, CandidateTable, WigmOptions]:
    k = draw(st.integers(2, 6))
    ranking = st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True)
    rows = draw(st.lists(ranking, min_size=1, max_size=20))
    weights = draw(st.lists(st.integers(1, 40), min_size=len(rows), max_size=len(rows)))
    store = BallotStore.from_rankings([list(r) for r in rows], weights)
    withdrawn = draw(st.sets(st.integers(0, k - 1), max_size=1))
    opts = WigmOptions(
        seats=draw(st.integers(1, k)),
        places=draw(st.integers(0, 6)),
        quota=draw(st.sampled_from(list(QuotaRule))),
        transfer=draw(st.sampled_from(list(TransferRounding))),
        prior_stages=draw(st.sampled_from(list(PriorStages))),
        lot=Lot(seed=draw(st.integers(0, 2**32))),
    )
    names = tuple("ABCDEF"[:k])
    return store, CandidateTable(names, excluded=frozenset(withdrawn)), opts


def check_conservation(count: Count) -> None:
    valid = (count.total_ballots - count.undervotes) * count.scale.one
    for rnd in count.rounds:
        assert rnd.active + sum(v for _, v in rnd.inactive) + rnd.residual_surplus == valid
        assert rnd.residual_surplus >= 0


@settings(max_examples=300, deadline=None)
@given(counts())
def test_votes_are_conserved(case: tuple[BallotStore, CandidateTable, WigmOptions]) -> None:
    count = count_wigm(*case)
    check_conservation(count)


@settings(max_examples=300, deadline=None)
@given(counts())
def test_the_right_number_are_elected(
    case: tuple[BallotStore, CandidateTable, WigmOptions],
) -> None:
    store, cands, opts = case
    count = count_wigm(store, cands, opts)
    standing = len(cands) - len(cands.excluded)
    assert len(count.winners) == min(opts.seats, standing)
    assert not set(count.winners) & {cands.names[c] for c in cands.excluded}
    for rnd in count.rounds:
        assert not set(rnd.tally_map) & {cands.names[c] for c in cands.excluded}


@settings(max_examples=200, deadline=None)
@given(counts(), st.randoms(use_true_random=False))
def test_ballot_order_is_irrelevant(
    case: tuple[BallotStore, CandidateTable, WigmOptions], rnd: object
) -> None:
    store, cands, opts = case
    order = list(range(len(store)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = BallotStore(rows=store.rows[order], weights=store.weights[order])
    a, b = count_wigm(store, cands, opts), count_wigm(shuffled, cands, opts)
    assert a.rounds == b.rounds and a.winners == b.winners


@settings(max_examples=200, deadline=None)
@given(counts(), st.sampled_from([Arithmetic.GUARDED, Arithmetic.RATIONAL]))
def test_guarded_and_rational_wigm_conserve_and_fill_the_seats(
    case: tuple[BallotStore, CandidateTable, WigmOptions], arithmetic: Arithmetic
) -> None:
    """Guarded: conserved exactly in its units. Rational: exact inside, each shown value
    truncated once, so a stage's figures fall short of the papers by less than one unit each;
    nothing is lost to rounding (no residual)."""
    store, cands, opts = case
    opts = dataclasses.replace(opts, arithmetic=arithmetic, guard=3)
    count = count_wigm(store, cands, opts)
    standing = len(cands) - len(cands.excluded)
    assert len(count.winners) == min(opts.seats, standing)
    if arithmetic is Arithmetic.GUARDED:
        check_conservation(count)
        return
    valid = (count.total_ballots - count.undervotes) * count.scale.one
    for rnd in count.rounds:
        shown = rnd.active + sum(v for _, v in rnd.inactive)
        assert rnd.residual_surplus == 0
        assert valid - len(cands) - 1 <= shown <= valid


def test_rational_wigm_is_exact_where_fixed_point_truncates() -> None:
    """7 papers, 2 seats: A>B 5, B 1, C 1. Exact: quota 7/3, A's surplus 8/3 over 5 papers,
    8/15 each: B has 1 + 8/3 = 11/3 exactly, nothing lost. At 2 places: quota 2.34, surplus
    2.66, 0.53 a paper: B 1 + 2.65 = 3.65 and 0.01 is lost."""
    store = BallotStore.from_rankings([[0, 1], [1], [2]], [5, 1, 1])
    cands = CandidateTable(("A", "B", "C"))
    exact = count_wigm(
        store,
        cands,
        WigmOptions(2, places=2, quota=QuotaRule.DROOP_FRACTIONAL, arithmetic=Arithmetic.RATIONAL),
    )
    fixed = count_wigm(store, cands, WigmOptions(2, places=2, quota=QuotaRule.DROOP_FRACTIONAL))
    assert exact.rounds[0].threshold == 233  # 7/3 shown at 2 places
    assert dict(exact.rounds[1].tally)["B"] == 366  # 1 + 8/3 = 3.666...
    assert exact.rounds[1].residual_surplus == 0
    assert dict(fixed.rounds[1].tally)["B"] == 100 + 5 * 53
    assert fixed.rounds[1].residual_surplus == 1
    assert exact.winners == fixed.winners == ("A", "B")
