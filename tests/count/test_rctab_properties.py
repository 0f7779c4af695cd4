"""Properties of the RCTab-family count on arbitrary ballots (Hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import SKIP, BallotStore, CandidateTable, overvote_set_code
from tallyroom.count.options import OvervoteRule, RctabOptions, WinnerMode
from tallyroom.count.record import Count, InactiveReason
from tallyroom.count.rules.rctab import tabulate
from tallyroom.count.rules.rctab_hooks import RoundContext

NAMES = ("A", "B", "C", "D", "E", "F")


@st.composite
def contests(draw: st.DrawFn) -> tuple[BallotStore, CandidateTable, RctabOptions]:
    k = draw(st.integers(2, 6))
    width = draw(st.integers(1, 5))
    sets = ((0, 1), (1, 2)) if k >= 3 else ((0, 1),)
    cell = st.one_of(
        st.integers(0, k - 1),
        st.just(SKIP),
        st.sampled_from([overvote_set_code(0), overvote_set_code(1)]) if k >= 3 else st.just(SKIP),
    )
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), min_size=1, max_size=40))
    ranks = np.asarray(rows, dtype=np.int32)
    store = BallotStore.from_rows(ranks, sets)
    stv = draw(st.booleans()) and k >= 3
    opts = RctabOptions(
        winner_mode=(
            WinnerMode.MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND
            if stv
            else WinnerMode.SINGLE_WINNER_MAJORITY
        ),
        seats=draw(st.integers(2, k - 1)) if stv else 1,
        overvote_rule=draw(st.sampled_from(list(OvervoteRule))),
        max_skipped_ranks_allowed=draw(st.sampled_from([None, 0, 1, 2])),
        exhaust_on_duplicate_candidate=draw(st.booleans()),
        batch_elimination=draw(st.booleans()) and not stv,
        decimal_places=draw(st.integers(1, 6)),
    )
    return store, CandidateTable(NAMES[:k]), opts


def _check_conservation(count: Count) -> None:
    one = count.scale.one
    counted = (count.total_ballots - count.undervotes) * one
    for rnd in count.rounds:
        inactive = sum(v for _, v in rnd.inactive)
        assert rnd.active + inactive + rnd.residual_surplus == counted, rnd.number


@settings(max_examples=300, deadline=None)
@given(contests())
def test_votes_are_conserved_every_round(
    contest: tuple[BallotStore, CandidateTable, RctabOptions],
) -> None:
    store, cands, opts = contest
    count = tabulate(store, cands, opts)
    assert count.total_ballots == store.total
    # a final round surplus is listed only in the last round; earlier rounds hold it as active
    _check_conservation(count)


@settings(max_examples=200, deadline=None)
@given(contests())
def test_the_right_number_are_elected(
    contest: tuple[BallotStore, CandidateTable, RctabOptions],
) -> None:
    store, cands, opts = contest
    count = tabulate(store, cands, opts)
    assert len(count.winners) == min(opts.seats, len(cands))
    assert len(set(count.winners)) == len(count.winners)


@settings(max_examples=200, deadline=None)
@given(contests(), st.randoms(use_true_random=False))
def test_ballot_order_is_irrelevant(
    contest: tuple[BallotStore, CandidateTable, RctabOptions], rnd: object
) -> None:
    store, cands, opts = contest
    perm = np.arange(len(store))
    rnd.shuffle(perm)  # type: ignore[attr-defined]
    shuffled = BallotStore(
        rows=store.rows[perm], weights=store.weights[perm], overvote_sets=store.overvote_sets
    )
    a, b = tabulate(store, cands, opts), tabulate(shuffled, cands, opts)
    assert a.winners == b.winners
    for ra, rb in zip(a.rounds, b.rounds, strict=True):
        assert ra.tally == rb.tally
        assert ra.inactive == rb.inactive
        assert {(d.kind, d.candidate, frozenset(d.transfers)) for d in ra.decisions} == {
            (d.kind, d.candidate, frozenset(d.transfers)) for d in rb.decisions
        }


def test_final_round_surplus_is_reported_once() -> None:
    store = BallotStore.from_rankings([[0, 1], [0, 2], [0, 1], [1], [2, 1], [0]] * 5)
    opts = RctabOptions(
        winner_mode=WinnerMode.MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND, seats=2
    )
    count = tabulate(store, CandidateTable(NAMES[:3]), opts)
    last = count.rounds[-1].inactive_map
    assert InactiveReason.FINAL_ROUND_SURPLUS in last
    assert all(InactiveReason.FINAL_ROUND_SURPLUS not in r.inactive_map for r in count.rounds[:-1])


class _Standard:
    """A decisions hook that asks for RCTab's own choice every time."""

    def __init__(self) -> None:
        self.asked = 0

    def elect(self, ctx: RoundContext) -> list[int]:
        self.asked += 1
        return ctx.standard_winners()

    def exclude(self, ctx: RoundContext) -> list[int]:
        self.asked += 1
        return ctx.standard_exclusions()


@settings(max_examples=150, deadline=None)
@given(contests())
def test_a_hook_taking_the_standard_decisions_changes_nothing(
    contest: tuple[BallotStore, CandidateTable, RctabOptions],
) -> None:
    store, cands, opts = contest
    hook = _Standard()
    assert tabulate(store, cands, opts, decisions=hook) == tabulate(store, cands, opts)
    assert hook.asked >= 1
