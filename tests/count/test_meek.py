"""Meek STV: worked cases, the record, and properties on arbitrary ballots (Hypothesis).

Properties, each on random contests (equal preferences included unless said):

* every stage's votes are those an independent, naive walk of the ballots gives for the
  stage's keep factors: exactly, in exact arithmetic and in fixed point rounded down (the
  equalized fixed-point walk has its own order of roundings and is not re-derived);
* votes are conserved at every stage: votes + residual = ballots counted, exactly (the
  residual holds the exhausted ballots and what rounding dropped, and is never negative);
  in the :class:`Count` view of an exact count, within one unit of the last place per
  candidate (each value is rounded down once);
* the right number is elected: every seat, or every candidate standing if fewer;
* ballot order does not change the record;
* one seat, no equal preferences: the winner is IRV's (RCTab rules) whenever neither count
  met a tie.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import SKIP, BallotStore, CandidateTable, overvote_set_code
from tallyroom.count.options import RctabOptions
from tallyroom.count.record import DecisionKind, InactiveReason
from tallyroom.count.rules.meek import (
    Action,
    Arithmetic,
    EqualRanking,
    IterationEnd,
    Lot,
    MeekOptions,
    MeekRecord,
    Num,
    Status,
    TieOrder,
    TransferRounding,
    count_meek,
    prepare_ballots,
    run_meek,
)
from tallyroom.count.rules.rctab import tabulate
from tallyroom.errors import ConfigError, CountError

Ranking = tuple[tuple[int, ...], ...]
NAMES = ("A", "B", "C", "D", "E", "F")


def store_of(ballots: Sequence[tuple[Ranking, int]]) -> BallotStore:
    """A store holding ``ballots`` as given: equal preferences keep their order."""
    sets: dict[tuple[int, ...], int] = {}
    width = max((len(r) for r, _ in ballots), default=1) or 1
    rows = np.full((len(ballots), width), SKIP, dtype=np.int32)
    for i, (ranking, _) in enumerate(ballots):
        for j, rank in enumerate(ranking):
            if len(rank) == 1:
                rows[i, j] = rank[0]
            else:
                rows[i, j] = overvote_set_code(sets.setdefault(rank, len(sets)))
    return BallotStore(
        rows=rows,
        weights=np.array([w for _, w in ballots], dtype=np.int64),
        overvote_sets=tuple(sorted(sets, key=sets.__getitem__)),
    )


def strict(*rankings: tuple[str, int]) -> list[tuple[Ranking, int]]:
    """Ballots written as ``("ABC", weight)``; ``"A=B C"`` ranks A and B equal."""
    out = []
    for text, weight in rankings:
        ranks = tuple(tuple(NAMES.index(x) for x in part.split("=")) for part in text.split())
        out.append((ranks, weight))
    return out


# -- worked cases ---------------------------------------------------------------------------------
def test_one_seat_majority_is_elected_at_once() -> None:
    ballots = strict(("A B", 6), ("B", 3), ("C", 2))
    record = run_meek(store_of(ballots), CandidateTable(NAMES[:3]), 1)
    assert [NAMES[c] for c in record.winners] == ["A"]
    first = record.stages[0]
    assert first.action is Action.BEGIN
    assert first.votes == (6 * 10**9, 3 * 10**9, 2 * 10**9)
    # [NZ 1A cl.5] 11 / 2 = 5.5, + 0.000000001
    assert record.initial_threshold == 5_500_000_001
    assert record.stages[1].action is Action.ELECT


def test_surplus_transfer_by_keep_factors() -> None:
    """Two seats, 12 ballots: A's keep factor converges to quota / votes; B is elected."""
    ballots = strict(("A B", 8), ("C", 3), ("B", 1))
    record = run_meek(
        store_of(ballots),
        CandidateTable(NAMES[:3]),
        2,
        MeekOptions(arithmetic=Arithmetic.RATIONAL, places=6),
    )
    assert [NAMES[c] for c in record.winners] == ["A", "B"]
    # quota 4 (exact: strictly more is needed); A keeps about 4/8 and passes the rest to B
    a_keep = [s.keep[0] for s in record.stages]
    assert a_keep[0] == 1
    assert Fraction(1, 2) <= a_keep[-1] <= Fraction(500001, 1000000)
    assert record.stages[-1].votes[1] > 4


def test_rational_values_and_keep_factors_are_rounded_up_to_the_places() -> None:
    ballots = strict(("A B", 7), ("B", 2), ("C", 3))
    record = run_meek(
        store_of(ballots),
        CandidateTable(NAMES[:3]),
        2,
        MeekOptions(arithmetic=Arithmetic.RATIONAL, places=3),
    )
    for stage in record.stages:
        for k in stage.keep:
            assert (Fraction(k) * 1000).denominator == 1


def test_transfer_rounding_up_rounds_each_transfer_up() -> None:
    """NZ Schedule 1A rounding: a value that has passed an elected candidate is fractional,
    so the next products round; rounded up, nothing is lost to the residual on the way."""
    ballots = strict(("A B C", 10), ("B", 3), ("C", 2), ("D", 3))
    cands = CandidateTable(NAMES[:4])
    down = run_meek(store_of(ballots), cands, 3, MeekOptions(places=4))
    up = run_meek(
        store_of(ballots), cands, 3, MeekOptions(places=4, transfer_rounding=TransferRounding.UP)
    )
    assert down.winners == up.winners == (0, 1, 2)
    assert down.stages[-1].votes == (45010, 44995, 45870, 0)
    assert up.stages[-1].votes == (45010, 45005, 45880, 0)


def test_withdrawn_candidates_are_struck_and_empty_ballots_not_counted() -> None:
    ballots = strict(("A B", 4), ("B", 3), ("B C", 2), ("C", 1))
    cands = CandidateTable(NAMES[:3], excluded=frozenset({1}))
    record = run_meek(store_of(ballots), cands, 1)
    assert record.counted == 7  # the 3 ballots for B alone are dropped
    assert record.total_ballots == 10
    assert record.stages[0].statuses[1] is Status.WITHDRAWN
    assert record.stages[0].votes == (4 * 10**9, 0, 3 * 10**9)
    count = record.to_count()
    assert count.undervotes == 3
    assert "B" not in count.rounds[0].tally_map


def test_withdrawn_candidate_in_an_equal_preference_is_struck() -> None:
    ballots = strict(("A=B C", 4), ("B=C", 2), ("C", 3))
    cands = CandidateTable(NAMES[:3], excluded=frozenset({1}))
    prepared = prepare_ballots(store_of(ballots), cands)
    assert prepared.tied == ()  # A=B is A alone, B=C is C alone
    record = run_meek(store_of(ballots), cands, 1)
    assert record.stages[0].votes == (4 * 10**9, 0, 5 * 10**9)


def test_tie_for_defeat_follows_the_tie_order_and_is_recorded() -> None:
    ballots = strict(("A", 3))
    cands = CandidateTable(NAMES[:3])
    default = run_meek(store_of(ballots), cands, 2)
    assert [NAMES[c] for c in default.winners] == ["A", "C"]  # B listed first: defeated
    (tie,) = default.ties
    assert tie.purpose is DecisionKind.ELIMINATED
    assert (tie.tied, tie.chosen, tie.method) == (("B", "C"), "B", "tie order")
    ordered = run_meek(store_of(ballots), cands, 2, MeekOptions(tie=TieOrder((2, 1, 0))))
    assert [NAMES[c] for c in ordered.winners] == ["A", "B"]
    count = ordered.to_count()
    assert count.ties[0].chosen == "C"
    assert any(r.ties for r in count.rounds if r.label.startswith("break tie"))


def test_tie_by_lot_is_seeded_and_recorded() -> None:
    ballots = strict(("A", 3))
    cands = CandidateTable(NAMES[:4])
    picks = {
        run_meek(store_of(ballots), cands, 2, MeekOptions(tie=Lot(seed))).ties[0].chosen
        for seed in (1, 42, 2024, 987_654_321, 2**40 + 17, 5**20)
    }
    assert len(picks) > 1  # different seeds draw differently
    again = [run_meek(store_of(ballots), cands, 2, MeekOptions(tie=Lot(7))) for _ in range(2)]
    assert again[0] == again[1]
    assert again[0].ties[0].method == "lot"


def test_every_candidate_is_elected_when_seats_are_not_fewer() -> None:
    record = run_meek(store_of(strict(("A B", 2), ("C", 1))), CandidateTable(NAMES[:3]), 3)
    assert sorted(record.winners) == [0, 1, 2]
    assert {s.action for s in record.stages} == {
        Action.BEGIN,
        Action.ELECT_REMAINING,
        Action.COMPLETE,
    }


def test_negative_surplus_is_refused_clearly_unless_forced() -> None:
    """Droop.py's crash case: equal preferences drive elected candidates below the quota."""
    ballots = strict(
        ("A=B C=D E=F", 1),
        ("B=C D=E F=A", 2),
        ("C=D E=F A=B", 3),
        ("D=E F=A B=C", 4),
        ("E=F A=B C=D", 5),
        ("F=A B=C D=E", 6),
    )
    cands = CandidateTable(NAMES)
    with pytest.raises(CountError, match="surplus is negative"):
        run_meek(store_of(ballots), cands, 3)
    forced = run_meek(store_of(ballots), cands, 3, MeekOptions(force_positive_surplus=True))
    assert len(forced.winners) == 3


def test_stable_iteration_ends_with_a_defeat() -> None:
    ballots = strict(("A B", 50), ("B A", 49), ("C", 30), ("D", 31))
    record = run_meek(store_of(ballots), CandidateTable(NAMES[:4]), 2, MeekOptions(places=3))
    ends = {s.end for s in record.stages if s.action is Action.ITERATE}
    assert ends <= set(IterationEnd)
    assert len(record.winners) == 2


def test_options_are_checked() -> None:
    with pytest.raises(ConfigError):
        MeekOptions(places=31)
    with pytest.raises(ConfigError):
        run_meek(store_of(strict(("A", 1))), CandidateTable(NAMES[:2]), 0)
    with pytest.raises(ConfigError):
        run_meek(
            store_of(strict(("A", 1))),
            CandidateTable(NAMES[:2]),
            1,
            MeekOptions(tie=TieOrder((5,))),
        )


def test_count_view() -> None:
    ballots = strict(("A B", 6), ("B C", 4), ("C", 3), ("D", 1))
    count = count_meek(store_of(ballots), CandidateTable(NAMES[:4]), 2)
    assert count.rule == "meek"
    assert count.scale.places == 9
    assert count.rounds[0].label == "begin count"
    labels = [r.label for r in count.rounds]
    assert labels[-1] == "count complete"
    assert any(label.startswith("iterate (") for label in labels)
    assert any(label.startswith("defeat") for label in labels)
    elected = [d.candidate for r in count.rounds for d in r.decisions if d.kind.value == "elected"]
    assert tuple(elected) == count.winners
    assert count.options["arithmetic"] == "fixed"


def test_prepared_ballots_close_up_skips_and_repeats() -> None:
    rows = np.array([[0, SKIP, 1, 0], [2, 2, SKIP, SKIP], [SKIP, SKIP, SKIP, SKIP]], np.int32)
    store = BallotStore(rows=rows, weights=np.array([2, 3, 4], dtype=np.int64))
    prepared = prepare_ballots(store, CandidateTable(NAMES[:3]))
    assert prepared.strict.tolist() == [[0, 1], [2, SKIP]]
    assert prepared.strict_weights == (2, 3)
    assert (prepared.counted, prepared.dropped) == (5, 4)


def test_same_result_under_every_hash_seed() -> None:
    script = "from test_meek import determinism_probe; print(determinism_probe())"
    here = os.path.dirname(os.path.abspath(__file__))
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": here}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


def determinism_probe() -> str:
    ballots = strict(("A=B C", 5), ("B C=D", 4), ("C A", 3), ("D=A=B", 2), ("E", 2), ("E=F A", 1))
    outs = []
    for mode in EqualRanking:
        for arithmetic in Arithmetic:
            opts = MeekOptions(
                arithmetic=arithmetic, places=6, equal_ranking=mode, force_positive_surplus=True
            )
            outs.append(repr(run_meek(store_of(ballots), CandidateTable(NAMES), 3, opts)))
    return "\n".join(outs)


# -- an independent, naive walk of the ballots -----------------------------------------------------
def naive_votes(
    ballots: Sequence[tuple[Ranking, int]], keep: Sequence[Num], opts: MeekOptions, n: int
) -> list[Num]:
    """Each ballot walked on its own, by the definitions (exponential; fine for tests)."""
    exact = opts.arithmetic is Arithmetic.RATIONAL
    one: Num = Fraction(1) if exact else 10**opts.places
    votes: list[Num] = [Fraction(0) if exact else 0] * n

    def times(a: Num, b: Num) -> Num:
        return a * b if exact else (a * b) // one  # rounded down

    def share(a: Num, m: int) -> Num:
        return Fraction(a) / m if exact else a // m

    def walk(order: Sequence[int], weight: Fraction | int) -> None:
        value = one
        for c in order:
            votes[c] += times(value, keep[c]) * weight
            value = times(value, one - keep[c])

    def descend(ranking: Ranking, i: int, power: Num, weight: int) -> None:
        if i == len(ranking) or not power:
            return
        live = [c for c in ranking[i] if keep[c] != 0]
        if not live:
            return  # Droop: a rank of defeated candidates stops the ballot
        part = share(power, len(live))
        for c in live:
            votes[c] += times(part, keep[c]) * weight
            descend(ranking, i + 1, times(part, one - keep[c]), weight)

    for ranking, weight in ballots:
        if all(len(r) == 1 for r in ranking):
            walk([r[0] for r in ranking], weight)
        elif opts.equal_ranking is EqualRanking.DROOP:
            descend(ranking, 0, one, weight)
        else:
            orders = list(itertools.product(*(itertools.permutations(r) for r in ranking)))
            for order in orders:
                walk([c for rank in order for c in rank], Fraction(weight, len(orders)))
    return votes


# -- properties ----------------------------------------------------------------------------------
@st.composite
def contests(draw: st.DrawFn, *, ties: bool = True) -> tuple[list[tuple[Ranking, int]], int, int]:
    k = draw(st.integers(2, 6))
    seats = draw(st.integers(1, k))
    ballots = []
    for _ in range(draw(st.integers(1, 12))):
        order = draw(st.permutations(range(k)))[: draw(st.integers(1, k))]
        ranks: list[tuple[int, ...]] = []
        i = 0
        while i < len(order):
            size = draw(st.integers(1, 3)) if ties else 1
            ranks.append(tuple(order[i : i + size]))
            i += size
        ballots.append((tuple(ranks), draw(st.integers(1, 9))))
    return ballots, k, seats


options = st.builds(
    MeekOptions,
    arithmetic=st.sampled_from(list(Arithmetic)),
    places=st.integers(3, 9),
    omega_places=st.integers(2, 6),
    equal_ranking=st.sampled_from(list(EqualRanking)),
    force_positive_surplus=st.just(True),
)


def counted(
    ballots: list[tuple[Ranking, int]], k: int, seats: int, opts: MeekOptions
) -> MeekRecord:
    try:
        return run_meek(store_of(ballots), CandidateTable(NAMES[:k]), seats, opts)
    except CountError:
        assume(False)  # more reached the quota than seats (a rounding artefact): refused
        raise


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contests(), options)
def test_votes_are_the_naive_walk_of_the_ballots(
    contest: tuple[list[tuple[Ranking, int]], int, int], opts: MeekOptions
) -> None:
    ballots, k, seats = contest
    exact = opts.arithmetic is Arithmetic.RATIONAL
    assume(exact or opts.equal_ranking is EqualRanking.DROOP)
    record = counted(ballots, k, seats, opts)
    for stage in record.stages:
        assert list(stage.votes) == naive_votes(ballots, stage.keep, opts, k), stage


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contests(), options)
def test_votes_are_conserved_and_seats_filled(
    contest: tuple[list[tuple[Ranking, int]], int, int], opts: MeekOptions
) -> None:
    ballots, k, seats = contest
    record = counted(ballots, k, seats, opts)
    exact = opts.arithmetic is Arithmetic.RATIONAL
    whole = record.counted if exact else record.counted * 10**opts.places
    for stage in record.stages:
        assert sum(stage.votes, 0) + stage.exhausted == whole
        assert stage.exhausted >= 0
    assert len(record.winners) == min(seats, k)
    assert len(set(record.winners)) == len(record.winners)
    count = record.to_count()
    one = count.scale.one
    for rnd in count.rounds:
        residual = rnd.inactive_map[InactiveReason.EXHAUSTED_CHOICES]
        gap = (count.total_ballots - count.undervotes) * one - rnd.active - residual
        assert 0 <= gap <= (k + 1 if exact else 0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contests(), options, st.randoms(use_true_random=False))
def test_ballot_order_is_irrelevant(
    contest: tuple[list[tuple[Ranking, int]], int, int], opts: MeekOptions, rnd: object
) -> None:
    ballots, k, seats = contest
    shuffled = list(ballots)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert counted(ballots, k, seats, opts) == counted(shuffled, k, seats, opts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contests(ties=False), options)
def test_one_seat_meek_is_irv(
    contest: tuple[list[tuple[Ranking, int]], int, int], opts: MeekOptions
) -> None:
    ballots, k, _ = contest
    record = counted(ballots, k, 1, opts)
    irv = tabulate(store_of(ballots), CandidateTable(NAMES[:k]), RctabOptions())
    assume(not record.ties and not irv.ties)
    assert tuple(NAMES[c] for c in record.winners) == irv.winners


def test_equalized_exact_counting_is_the_average_over_orders() -> None:
    """A small case by hand: A elected with keep 1/2, ballot A=B C: each order half."""
    ballots = strict(("A=B C", 1))
    opts = MeekOptions(arithmetic=Arithmetic.RATIONAL, equal_ranking=EqualRanking.EQUALIZE)
    keep: list[Num] = [Fraction(1, 2), Fraction(1), Fraction(1)]
    # order A B C: A 1/2, B 1/2; order B A C: B 1. Average: A 1/4, B 3/4, C 0.
    assert naive_votes(ballots, keep, opts, 3) == [Fraction(1, 4), Fraction(3, 4), 0]
