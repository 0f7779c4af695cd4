"""CfER STV (s.10059): Droop's reference counts, hand-worked clauses, properties."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from droop_cases import Case, params
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.lot import Lot
from tallyroom.count.record import InactiveReason
from tallyroom.count.rules.cfer import CferOptions, count_cfer
from tallyroom.count.rules.params import DefeatBatch, QuotaRule
from tallyroom.count.rules.registry import RuleParams, get_rule
from tallyroom.errors import ConfigError

NAMES = tuple("ABCDEFG")
UNIT = Fraction(1, 10**5)


def _dedupe(tallies: list[dict[str, Fraction]]) -> list[dict[str, Fraction]]:
    return [t for i, t in enumerate(tallies) if i == 0 or t != tallies[i - 1]]


@pytest.mark.parametrize("case", params("cfer", "cfer"))
def test_matches_droop_s_cfer(case: Case, tmp_path: Path) -> None:
    """The tallies after the first count and after every transfer, the non-transferable
    votes, the threshold (Droop's fractional one) and who is elected."""
    election = case.election(tmp_path)
    batch = DefeatBatch.SAFE if "batch" in case.variant else DefeatBatch.NONE
    # Droop breaks ties by the file's [tie] order, else the candidate order
    opts = CferOptions(election.seats, defeat_batch=batch, tie_order=election.tie_order or ())
    count = count_cfer(election.ballots, election.candidates, opts)
    rows = [r for r in case.rows if r.action in ("begin", "transfer")]
    expected = _dedupe([{n: v for n, v in r.votes.items() if r.states[n] != "W"} for r in rows])
    moved = [r for r in count.rounds if "not transferred" not in r.label]
    assert _dedupe([{n: v * UNIT for n, v in r.tally} for r in moved]) == expected
    nt = [r.nontransferable for r in rows]
    ours = [r.inactive_map[InactiveReason.EXHAUSTED_CHOICES] * UNIT for r in moved]
    assert _dedupe_values(ours) == _dedupe_values(nt)
    end = case.rows[-1]
    assert end.action == "end"
    assert sorted(count.winners) == sorted(n for n, s in end.states.items() if s == "E")
    assert count.rounds[0].threshold * UNIT == end.quota


def _dedupe_values(values: list[Fraction | None]) -> list[Fraction | None]:
    return [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]


def test_kadlecek_different_winners_for_two_and_three_seats() -> None:
    """Dave Kadlecek's example (Droop's cfer/dk1): A 123, AB 52, BA 159, CB 161, CD 161,
    DE 161, ED 50, E 123 (990 ballots). Two seats elect A and E (threshold 330.00001 in
    Droop's reading); three elect B, C and D (247.50001)."""
    a, b, c, d, e = range(5)
    rows = [[a], [a, b], [b, a], [c, b], [c, d], [d, e], [e, d], [e]]
    store = BallotStore.from_rankings(rows, [123, 52, 159, 161, 161, 161, 50, 123])
    cands = CandidateTable(NAMES[:5])
    two = count_cfer(store, cands, CferOptions(seats=2))
    three = count_cfer(store, cands, CferOptions(seats=3))
    assert sorted(two.winners) == ["A", "E"]
    assert sorted(three.winners) == ["B", "C", "D"]
    assert two.rounds[0].threshold == 33000001
    statute = count_cfer(store, cands, CferOptions(seats=2, quota=QuotaRule.DROOP))
    assert statute.rounds[0].threshold == 331 * 10**5  # floor(990 / 3) + 1


def test_every_surplus_moves_in_one_round() -> None:
    """s.10059(g): "the surplus of each of those elected candidates shall be transferred".
    A 6 (A>C), B 5 (B>D), C 1, D 1, E 1; 14 ballots, 2 seats, statute threshold
    floor(14/3) + 1 = 5: A (surplus 1) and B (surplus 0: no surplus) elected together;
    then both seats are filled and the rest defeated."""
    a, b, c, d, e = range(5)
    store = BallotStore.from_rankings([[a, c], [b, d], [c], [d], [e]], [6, 5, 1, 1, 1])
    count = count_cfer(store, CandidateTable(NAMES[:5]), CferOptions(2, QuotaRule.DROOP))
    assert count.winners == ("A", "B") and len(count.rounds) == 1
    # three seats: A's surplus moves, then the lowest go until C, D or E joins
    store = BallotStore.from_rankings([[a, c], [b, d], [c], [d], [e]], [8, 7, 1, 1, 1])
    count = count_cfer(store, CandidateTable(NAMES[:5]), CferOptions(3, QuotaRule.DROOP))
    # 18 ballots, threshold floor(18/4) + 1 = 5: A 8 (surplus 3), B 7 (surplus 2)
    second, third = count.rounds[1], count.rounds[2]
    assert (second.label, third.label) == ("surplus of A", "surplus of B")
    # A's 8 ballots at floor5(1 x 3 / 8) = 0.375 -> C; B's 7 at floor5(2 / 7) = 0.28571 -> D
    assert dict(second.tally)["C"] == 100000 + 8 * 37500
    assert dict(third.tally)["D"] == 100000 + 7 * 28571
    assert third.residual_surplus == 2 * 10**5 - 7 * 28571
    # both in the same round of s.10059: nobody was elected or defeated between them
    assert not second.decisions[1:] and dict(second.tally)["D"] == 100000


def test_a_batch_defeat_follows_k() -> None:
    """s.10059(k): A 5, B 4, C>B 1, D>B 1, E>B 1; 12 ballots, 2 seats, threshold
    floor(12/3) + 1 = 5: A is elected with no surplus. C, D and E together (3) are below B
    (4), leave B and A for the 2 seats (1), and one office is left (3)(A): all three are
    defeated at once; then B fills the last seat (10059(i)(1)), nothing moved. Without batch
    defeats the three tie for fewest and a lot is drawn."""
    a, b, c, d, e = range(5)
    store = BallotStore.from_rankings([[a], [b], [c, b], [d, b], [e, b]], [5, 4, 1, 1, 1])
    opts = CferOptions(2, QuotaRule.DROOP, DefeatBatch.SAFE)
    count = count_cfer(store, CandidateTable(NAMES[:5]), opts)
    assert [r.label for r in count.rounds] == [
        "first preferences",
        "defeat C, D, E (votes not transferred)",
    ]
    assert count.winners == ("A", "B")
    single = count_cfer(
        store, CandidateTable(NAMES[:5]), CferOptions(2, QuotaRule.DROOP, lot=Lot(seed=3))
    )
    assert single.rounds[1].ties and single.winners == ("A", "B")


def test_a_ballot_of_withdrawn_candidates_only_is_an_undervote() -> None:
    """s.10056(b), 10057(c): with A withdrawn, a ballot ranking only A ranks no qualified
    candidate: it is not in the threshold (V = 6, not 9)."""
    a, b, c = range(3)
    store = BallotStore.from_rankings([[a], [b], [c]], [3, 4, 2])
    cands = CandidateTable(NAMES[:3], excluded=frozenset({a}))
    count = count_cfer(store, cands, CferOptions(1, QuotaRule.DROOP))
    assert count.rounds[0].threshold == 4 * 10**5  # floor(6 / 2) + 1
    assert count.undervotes == 3 and count.winners == ("B",)


def test_options_are_checked() -> None:
    with pytest.raises(ConfigError):
        CferOptions(seats=0)
    with pytest.raises(ConfigError, match="Droop quota"):
        CferOptions(quota=QuotaRule.HARE)


@st.composite
def elections(draw: st.DrawFn) -> tuple[BallotStore, CandidateTable, int]:
    k = draw(st.integers(2, 7))
    ranking = st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True)
    rows = draw(st.lists(ranking, min_size=1, max_size=25))
    weights = draw(st.lists(st.integers(1, 40), min_size=len(rows), max_size=len(rows)))
    return (
        BallotStore.from_rankings(rows, weights),
        CandidateTable(NAMES[:k]),
        draw(st.integers(1, k)),
    )


@settings(max_examples=300, deadline=None)
@given(
    elections(),
    st.integers(0, 2**31),
    st.sampled_from(list(DefeatBatch)),
    st.sampled_from([QuotaRule.DROOP, QuotaRule.DROOP_FRACTIONAL]),
)
def test_votes_conserved_seats_filled_order_irrelevant(
    election: tuple[BallotStore, CandidateTable, int],
    seed: int,
    batch: DefeatBatch,
    quota: QuotaRule,
) -> None:
    store, cands, seats = election
    p = RuleParams(seats=seats, seed=seed, defeat_batch=batch, quota=quota)
    count = get_rule("cfer").count(store, cands, p)
    valid = store.weights.sum() * count.scale.one
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
    assume(not any(r.ties for r in count.rounds))
    assert get_rule("cfer").count(shuffled, cands, p).winners == count.winners
