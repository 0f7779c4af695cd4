"""Irish Dáil STV: counts worked by hand section by section, the Act's draw of papers, and
properties over arbitrary ballots."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.record import EXHAUSTED, Count, DecisionKind, InactiveReason
from tallyroom.count.rules.irish_dail import count_irish_dail
from tallyroom.count.rules.registry import RuleParams, get_rule
from tallyroom.errors import ConfigError, CountError


def ballots(names: str, spec: list[tuple[str, int]]) -> tuple[BallotStore, CandidateTable]:
    code = {n: i for i, n in enumerate(names)}
    rankings = [[code[ch] for ch in ranking] for ranking, _ in spec]
    return BallotStore.from_rankings(rankings, [w for _, w in spec]), CandidateTable(tuple(names))


def tally(count: Count, number: int) -> dict[str, int]:
    return count.rounds[number - 1].tally_map


def conserved(count: Count, valid: int) -> None:
    for r in count.rounds:
        assert r.active + r.inactive_map[InactiveReason.EXHAUSTED_CHOICES] == valid, r.label


def test_seats_are_checked() -> None:
    store, cands = ballots("AB", [("A", 1)])
    with pytest.raises(ConfigError):
        count_irish_dail(store, cands, 0)


@pytest.mark.parametrize(("valid", "seats", "quota"), [(45, 3, 12), (45, 2, 16), (44, 3, 12)])
def test_the_quota(valid: int, seats: int, quota: int) -> None:
    # [s.120] floor(valid / (seats + 1)) + 1
    store, cands = ballots("ABCD", [("A", valid - 3), ("B", 1), ("C", 1), ("D", 1)])
    assert count_irish_dail(store, cands, seats, seed=1).rounds[0].threshold == quota


def test_a_published_quota_roscommon_south_leitrim_2011() -> None:
    # As reported of the 2011 count: 45,680 valid papers, three seats, quota 11,421; Denis
    # Naughten 13,936 first preferences, a surplus of 2,515 (only figures the draw cannot touch)
    rest = 45_680 - 13_936
    store, cands = ballots(
        "NOPQ", [("N", 13_936), ("O", rest // 3), ("P", rest // 3), ("Q", rest - 2 * (rest // 3))]
    )
    count = count_irish_dail(store, cands, 3, seed=1)
    first = count.rounds[0]
    assert first.threshold == 11_421
    assert first.elected == ("N",)
    assert sum(v for _, v in count.rounds[1].decisions[0].transfers) == 2_515


def test_a_first_count_surplus_moves_whole_papers_by_largest_fraction() -> None:
    # quota 100 // 3 + 1 = 34; A's surplus 16 from all 50 papers [s.121(2)(a)]:
    # B 30 * 16 / 50 = 9.6, C 20 * 16 / 50 = 6.4 -> 9 and 6, the larger fraction (B) one more
    store, cands = ballots(
        "ABCDE", [("AB", 30), ("AC", 20), ("B", 10), ("CD", 15), ("D", 12), ("E", 8), ("ED", 5)]
    )
    count = count_irish_dail(store, cands, 2, seed=1)
    assert count.rounds[0].threshold == 34
    assert count.rounds[1].label == "surplus of A"
    assert count.rounds[1].decisions[0].transfer_map == {"B": 10, "C": 6}
    assert tally(count, 2) == {"A": 34, "B": 20, "C": 21, "D": 12, "E": 13}
    assert count.winners == ("A", "C")
    assert count.options["paper draws"] == ()  # every sub-parcel held papers alike
    conserved(count, 100)


def test_a_later_surplus_comes_from_the_last_sub_parcel_only() -> None:
    # quota 45 // 4 + 1 = 12. A's 8 surplus papers (all "AB") make B 15; B's surplus of 3 is
    # taken from those 8 papers alone [s.121(2)(b)]: none shows a next preference, so nothing
    # moves (all of B's papers would have given C and D some)
    store, cands = ballots(
        "ABCDE", [("AB", 20), ("BC", 5), ("BD", 2), ("C", 6), ("D", 5), ("E", 7)]
    )
    count = count_irish_dail(store, cands, 3, seed=1)
    assert [r.label for r in count.rounds[:3]] == [
        "first preferences",
        "surplus of A",
        "surplus of B",
    ]
    assert count.rounds[1].elected[-1] == "B"
    assert count.rounds[2].decisions[0].transfer_map == {EXHAUSTED: 3}  # [s.121(3)]
    assert tally(count, 3)["C"] == 6 and tally(count, 3)["D"] == 5
    conserved(count, 45)


def _drawn() -> tuple[BallotStore, CandidateTable]:
    # three seats, quota 65 // 4 + 1 = 17; A's surplus 23 of 40 papers, all for B: 23 drawn
    # from B's sub-parcel of 20 "ABC" and 20 "ABD" papers [s.121(4)-(5)]; B (5 + 23) then
    # passes on 11 from those 23 papers alone, split by what the draw put in them
    return ballots("ABCD", [("ABC", 20), ("ABD", 20), ("B", 5), ("C", 9), ("D", 11)])


def test_which_papers_move_is_drawn_by_the_recorded_seed() -> None:
    store, cands = _drawn()
    one = count_irish_dail(store, cands, 3, seed=7)
    two = count_irish_dail(store, cands, 3, seed=7)
    assert one == two
    draws = one.options["paper draws"]
    assert isinstance(draws, tuple) and len(draws) == 1
    assert "23 of 40 papers" in draws[0] and "seed 7" in draws[0]
    conserved(one, 65)
    assert one.rounds[2].label == "surplus of B"
    # how B's surplus divides between C and D depends on the papers drawn
    seeds = {s: count_irish_dail(store, cands, 3, seed=s).rounds for s in range(12)}
    assert len({str(r[2].decisions) for r in seeds.values()}) > 1


def test_a_draw_without_a_seed_stops_the_count_naming_it() -> None:
    store, cands = _drawn()
    with pytest.raises(CountError, match="drawn by lot and needs a random seed"):
        count_irish_dail(store, cands, 3)


def test_no_draw_is_needed_when_the_papers_are_alike() -> None:
    store, cands = ballots("ABCD", [("AB", 40), ("C", 9), ("D", 11)])
    count = count_irish_dail(store, cands, 2)  # no seed, and none needed
    assert count.rounds[1].decisions[0].transfer_map == {"B": 19}


def test_the_lowest_are_excluded_together_when_they_cannot_catch_the_next() -> None:
    # quota 77 // 3 + 1 = 26; A's surplus finds no next preference; then D 3 + E 4 = 7 < C 10
    # (but 17 is not below B's 15): D and E are excluded together in one count [s.122]
    store, cands = ballots("ABCDE", [("A", 45), ("B", 15), ("C", 10), ("DB", 3), ("EC", 4)])
    count = count_irish_dail(store, cands, 2, seed=1)
    labels = [r.label for r in count.rounds]
    assert "exclusion of D, E" in labels


def test_a_surplus_that_cannot_matter_waits() -> None:
    # quota 30 // 3 + 1 = 11: A 12 (surplus 1). The surplus can elect no one (B 8 + 1 < 11),
    # cannot save C (4 + 1 < 6) nor lift C past a quarter of the quota (4 * 4 > 11): C is
    # excluded first, the surplus deferred [s.121]
    store, cands = ballots("ABCD", [("AC", 12), ("B", 8), ("CB", 4), ("D", 6)])
    count = count_irish_dail(store, cands, 2, seed=1)
    assert count.rounds[1].label == "exclusion of C"


def test_a_surplus_that_could_lift_the_lowest_past_a_quarter_quota_is_transferred() -> None:
    # quota 41 // 3 + 1 = 14: A 16 (surplus 2). C has 3: 4 * 3 <= 14 < 4 * 5, so the surplus
    # could qualify C for recoupment [s.124(3)]: it is transferred first
    store, cands = ballots("ABCD", [("AC", 16), ("B", 12), ("C", 3), ("D", 10)])
    count = count_irish_dail(store, cands, 2, seed=1)
    assert count.rounds[1].label == "surplus of A"


def test_equal_lowest_are_decided_by_the_earliest_count_then_lot() -> None:
    # quota 28 // 4 + 1 = 8: A 9 (surplus 1 to C). C 3 + 1 = 4 = B 4; at count 1 C had
    # fewer: C is excluded
    store, cands = ballots("ABCDE", [("AC", 9), ("B", 4), ("C", 3), ("D", 5), ("E", 7)])
    count = count_irish_dail(store, cands, 3, seed=1)
    exclusion = next(r for r in count.rounds if r.label.startswith("exclusion"))
    assert exclusion.label == "exclusion of C"
    assert exclusion.ties and "count 1" in exclusion.ties[0].explanation


def test_the_last_vacancy_goes_to_a_candidate_above_all_the_others() -> None:
    # [s.124(2)] one vacancy: B 30 > C 10 + D 5 + A's surplus: B is elected, no further count
    store, cands = ballots("ABCD", [("A", 40), ("B", 30), ("C", 10), ("D", 5)])
    count = count_irish_dail(store, cands, 2, seed=1)
    assert count.winners == ("A", "B")


def test_the_registry_names_the_rule() -> None:
    store, cands = ballots("ABC", [("AB", 5), ("BC", 4), ("C", 3)])
    count = get_rule("irish-dail").count(store, cands, RuleParams(seats=2, seed=1))
    assert count.rule == "irish-dail" and len(count.winners) == 2


rankings = st.lists(st.permutations(range(5)).map(lambda p: p[:3]), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(rankings, st.integers(1, 3), st.integers(0, 1000))
def test_properties(rows: list[list[int]], seats: int, seed: int) -> None:
    store = BallotStore.from_rankings(rows)
    count = count_irish_dail(store, CandidateTable(tuple("ABCDE")), seats, seed=seed)
    assert len(count.winners) == seats and len(set(count.winners)) == seats
    conserved(count, len(rows))  # whole papers: held + non-transferable = valid, every count
    for r in count.rounds:
        assert all(v >= 0 for _, v in r.tally)
    assert count == count_irish_dail(store, CandidateTable(tuple("ABCDE")), seats, seed=seed)
    for r in count.rounds:
        for d in r.decisions:
            if d.kind is DecisionKind.ELECTED and d.transfers:
                assert sum(v for _, v in d.transfers) <= r.threshold * len(rows)


@given(st.integers(1, 200), st.data(), st.integers(0, 2**40))
def test_the_draw_takes_distinct_papers(n: int, data: st.DataObject, seed: int) -> None:
    from tallyroom.count.lot import Lot

    k = data.draw(st.integers(0, n))
    picked = Lot(seed).drawer().sample(n, k, what="papers")
    assert len(picked) == k == len(set(picked)) and all(0 <= p < n for p in picked)
