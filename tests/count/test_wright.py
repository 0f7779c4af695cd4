"""Wright STV: a worked count, the record, and properties on arbitrary ballots (Hypothesis).

Properties:

* votes are conserved at every stage, exactly: candidates' votes + exhausted (including the
  ballots outside the restarted count's total vote) + residual surplus (what rounding the
  transfer values down dropped) = ballots counted;
* the right number is elected: every seat, or every candidate standing if fewer;
* ballot order does not change the record;
* one seat: the winner is IRV's (RCTab rules) whenever neither count met a tie (with one
  seat a restart after an exclusion is exactly IRV's transfer at full value).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import SKIP, BallotStore, CandidateTable, overvote_set_code
from tallyroom.count.options import RctabOptions
from tallyroom.count.record import Count, DecisionKind, InactiveReason
from tallyroom.count.rules.meek import Lot, TieOrder
from tallyroom.count.rules.rctab import tabulate
from tallyroom.count.rules.wright import WrightOptions, WrightQuota, count_wright
from tallyroom.errors import ConfigError

NAMES = ("A", "B", "C", "D", "E", "F")
Ballots = list[tuple[tuple[int, ...], int]]


def store_of(ballots: Sequence[tuple[tuple[int, ...], int]]) -> BallotStore:
    width = max((len(r) for r, _ in ballots), default=1) or 1
    rows = np.full((len(ballots), width), SKIP, dtype=np.int32)
    for i, (ranking, _) in enumerate(ballots):
        rows[i, : len(ranking)] = ranking
    return BallotStore(rows=rows, weights=np.array([w for _, w in ballots], dtype=np.int64))


def ballots_of(*items: tuple[str, int]) -> Ballots:
    return [(tuple(NAMES.index(x) for x in text), weight) for text, weight in items]


EXAMPLE = ballots_of(("AB", 10), ("AC", 6), ("BA", 5), ("C", 4), ("DC", 7), ("DB", 2))


def test_worked_count() -> None:
    """34 ballots, 2 seats, 4 places. Iteration 1: quota 12, A's surplus of 4 passes at
    4/16; C is lowest and excluded. Iteration 2: C's 4 ballots name nobody else, so the
    total vote is 30 and the quota 11; A's surplus 5/16 passes, the A C ballots exhaust; B is
    lowest and excluded. Iteration 3: A 21 and D 9, the only ones left: both elected."""
    count = count_wright(store_of(EXAMPLE), CandidateTable(NAMES[:4]), 2, WrightOptions(places=4))
    one = 10_000
    labels = [r.label for r in count.rounds]
    assert labels == [
        "iteration 1: first preferences; quota reached by A",
        "iteration 1: surplus of A",
        "iteration 1: exclude C; the count restarts",
        "iteration 2: first preferences; quota reached by A",
        "iteration 2: surplus of A",
        "iteration 2: exclude B; the count restarts",
        "iteration 3: first preferences; quota reached by A; elected to the seats left: D",
    ]
    r2 = count.rounds[1]
    assert r2.threshold == 12 * one
    assert r2.tally_map == {"A": 12 * one, "B": 75_000, "C": 55_000, "D": 9 * one}
    r5 = count.rounds[4]
    assert r5.threshold == 11 * one
    assert r5.tally_map == {"A": 11 * one, "B": 81_250, "D": 9 * one}
    assert r5.inactive_map[InactiveReason.EXHAUSTED_CHOICES] == 58_750
    assert count.winners == ("A", "D")
    decided = [(d.kind, d.candidate) for r in count.rounds for d in r.decisions]
    assert decided == [
        (DecisionKind.ELIMINATED, "C"),
        (DecisionKind.ELIMINATED, "B"),
        (DecisionKind.ELECTED, "A"),
        (DecisionKind.ELECTED, "D"),
    ]
    assert count.options["excluded"] == ("C", "B")


def test_transfer_values_are_rounded_down_and_the_loss_recorded() -> None:
    ballots = ballots_of(("AB", 7), ("B", 1), ("C", 3))
    count = count_wright(store_of(ballots), CandidateTable(NAMES[:3]), 2, WrightOptions(places=2))
    # quota floor(11 / 3) + 1 = 4; A's surplus 3 passes at 3/7 = 0.42 a ballot: 2.94
    surplus = count.rounds[1]
    assert surplus.tally_map["B"] == 100 + 7 * 42
    assert surplus.residual_surplus == 300 - 7 * 42


def test_exact_quota() -> None:
    ballots = ballots_of(("A", 5), ("B", 4), ("C", 2))
    count = count_wright(
        store_of(ballots), CandidateTable(NAMES[:3]), 2, WrightOptions(quota=WrightQuota.EXACT)
    )
    # 11 / 3 rounded down to 9 places, + 10**-9
    assert count.rounds[0].threshold == 3_666_666_667
    assert count.winners == ("A", "B")


def test_exclusion_ties_follow_the_policy_and_are_recorded() -> None:
    ballots = ballots_of(("A", 5), ("B", 1), ("C", 1))
    cands = CandidateTable(NAMES[:3])
    first = count_wright(store_of(ballots), cands, 2)
    assert first.winners == ("A", "C")
    (tie,) = first.ties
    assert (tie.purpose, tie.tied, tie.chosen) == (DecisionKind.ELIMINATED, ("B", "C"), "B")
    reordered = count_wright(store_of(ballots), cands, 2, WrightOptions(tie=TieOrder((2,))))
    assert reordered.winners == ("A", "B")
    lot = count_wright(store_of(ballots), cands, 2, WrightOptions(tie=Lot(99)))
    assert lot.ties[0].method == "lot"
    assert lot == count_wright(store_of(ballots), cands, 2, WrightOptions(tie=Lot(99)))


def test_equal_preference_ends_the_ballot() -> None:
    rows = np.array([[0, overvote_set_code(0), 2]], dtype=np.int32)
    store = BallotStore(rows=rows, weights=np.array([3], dtype=np.int64), overvote_sets=((1, 2),))
    more = store_of(ballots_of(("B", 2), ("C", 2)))
    both = BallotStore(
        rows=np.concatenate([np.pad(more.rows, ((0, 0), (0, 2)), constant_values=SKIP), rows]),
        weights=np.concatenate([more.weights, store.weights]),
        overvote_sets=((1, 2),),
    )
    count = count_wright(both, CandidateTable(NAMES[:3]), 1)
    # A's 3 ballots never reach B or C: A leads, then is never excluded while B and C trail
    assert count.rounds[0].tally_map == {"A": 3 * 10**9, "B": 2 * 10**9, "C": 2 * 10**9}


def test_options_are_checked() -> None:
    with pytest.raises(ConfigError):
        WrightOptions(places=-1)
    with pytest.raises(ConfigError):
        count_wright(store_of(EXAMPLE), CandidateTable(NAMES[:4]), 0)


# -- properties ----------------------------------------------------------------------------------
@st.composite
def contests(draw: st.DrawFn) -> tuple[Ballots, int, int]:
    k = draw(st.integers(2, 6))
    seats = draw(st.integers(1, k))
    ballots = []
    for _ in range(draw(st.integers(1, 14))):
        order = draw(st.permutations(range(k)))[: draw(st.integers(1, k))]
        ballots.append((tuple(order), draw(st.integers(1, 9))))
    return ballots, k, seats


wright_options = st.builds(
    WrightOptions, places=st.integers(0, 9), quota=st.sampled_from(list(WrightQuota))
)


def run(ballots: Ballots, k: int, seats: int, opts: WrightOptions) -> Count:
    return count_wright(store_of(ballots), CandidateTable(NAMES[:k]), seats, opts)


@settings(max_examples=300, deadline=None)
@given(contests(), wright_options)
def test_votes_are_conserved_and_seats_filled(
    contest: tuple[Ballots, int, int], opts: WrightOptions
) -> None:
    ballots, k, seats = contest
    count = run(ballots, k, seats, opts)
    whole = (count.total_ballots - count.undervotes) * count.scale.one
    for rnd in count.rounds:
        inactive = sum(v for _, v in rnd.inactive)
        assert rnd.active + inactive + rnd.residual_surplus == whole, rnd.label
        assert inactive >= 0 and rnd.residual_surplus >= 0
    assert len(count.winners) == min(seats, k)
    assert len(set(count.winners)) == len(count.winners)


@settings(max_examples=150, deadline=None)
@given(contests(), wright_options, st.randoms(use_true_random=False))
def test_ballot_order_is_irrelevant(
    contest: tuple[Ballots, int, int], opts: WrightOptions, rnd: object
) -> None:
    ballots, k, seats = contest
    shuffled = list(ballots)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert run(ballots, k, seats, opts) == run(shuffled, k, seats, opts)


@settings(max_examples=300, deadline=None)
@given(contests(), wright_options)
def test_one_seat_wright_is_irv(contest: tuple[Ballots, int, int], opts: WrightOptions) -> None:
    ballots, k, _ = contest
    count = run(ballots, k, 1, opts)
    irv = tabulate(store_of(ballots), CandidateTable(NAMES[:k]), RctabOptions())
    if count.ties or irv.ties:
        return
    assert count.winners == irv.winners
