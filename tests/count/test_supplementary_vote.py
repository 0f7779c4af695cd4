"""The supplementary vote: the Schedule's paragraphs by hand, and London's 2012 mayoral count
rebuilt from its published first- and second-preference totals."""

from __future__ import annotations

import pytest

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.record import EXHAUSTED, InactiveReason
from tallyroom.count.rules.registry import RuleParams, get_rule
from tallyroom.count.rules.supplementary_vote import count_supplementary_vote
from tallyroom.errors import TieUnresolved


def ballots(names: str, spec: list[tuple[str, int]]) -> tuple[BallotStore, CandidateTable]:
    code = {n: i for i, n in enumerate(names)}
    rankings = [[code[ch] for ch in ranking] for ranking, _ in spec]
    return BallotStore.from_rankings(rankings, [w for _, w in spec]), CandidateTable(tuple(names))


def test_more_than_half_of_first_preferences_is_returned_at_once() -> None:
    # [para.3] 51 of 100
    store, cands = ballots("ABC", [("AB", 51), ("BA", 30), ("CB", 19)])
    count = count_supplementary_vote(store, cands)
    assert count.winners == ("A",) and len(count.rounds) == 1
    assert count.rounds[0].threshold == 51


def test_exactly_half_is_not_more_than_half() -> None:
    store, cands = ballots("ABC", [("A", 50), ("BC", 30), ("CB", 20)])
    count = count_supplementary_vote(store, cands, seed=1)
    assert len(count.rounds) == 2
    assert count.rounds[1].tally_map == {"A": 50, "B": 50}


def test_all_but_two_go_at_once_and_only_their_second_preferences_count() -> None:
    # [para.4(2),(4)-(7)] A and B remain; C and D are eliminated together. C's voters' second
    # preferences for A or B count; D's second preference for C (eliminated) does not; B's
    # voters' second preferences for A do not (their first went to a remaining candidate)
    store, cands = ballots(
        "ABCD", [("AB", 40), ("BA", 35), ("CB", 10), ("CA", 4), ("DC", 8), ("DD", 3)]
    )
    count = count_supplementary_vote(store, cands)
    first, second = count.rounds
    assert first.eliminated == ("C", "D")
    assert first.decisions[0].transfer_map == {"B": 10, "A": 4}
    assert first.decisions[1].transfer_map == {EXHAUSTED: 11}
    assert second.tally_map == {"A": 44, "B": 45}
    assert count.winners == ("B",)
    assert second.inactive_map[InactiveReason.EXHAUSTED_CHOICES] == 11


def test_a_tie_for_second_place_keeps_all_the_tied() -> None:
    # [para.4(3)] B and C equal second: three remain
    store, cands = ballots("ABCD", [("A", 40), ("B", 25), ("C", 25), ("DC", 10)])
    count = count_supplementary_vote(store, cands)
    assert set(count.rounds[1].tally_map) == {"A", "B", "C"}
    assert count.rounds[1].tally_map["C"] == 35


def test_an_equal_final_total_is_decided_by_lot() -> None:
    # [para.4(8)]
    store, cands = ballots("ABC", [("A", 40), ("B", 35), ("CB", 5), ("C", 20)])
    with pytest.raises(TieUnresolved):
        count_supplementary_vote(store, cands)
    seeds = (1, 42, 12345, 987654321, 7777777, 2024, 31337)
    winners = {count_supplementary_vote(store, cands, seed=s).winners for s in seeds}
    assert winners == {("A",), ("B",)}
    tie = count_supplementary_vote(store, cands, seed=1).rounds[1].ties[0]
    assert tie.tied == ("A", "B") and tie.method == "lot"


def test_papers_without_a_first_preference_are_not_counted() -> None:
    store = BallotStore.from_rankings([[-1, 0], [0], [0], [1, 2], [2, 1]])
    count = count_supplementary_vote(store, CandidateTable(("A", "B", "C")))
    assert count.rounds[0].tally_map == {"A": 2, "B": 1, "C": 1}
    assert count.rounds[0].threshold == 3  # more than half of 4 counted first preferences


def test_the_registry_allows_two_marks() -> None:
    rule = get_rule("supplementary-vote")
    assert rule.mark_limit(1, 7) == 2 and not rule.multi_seat
    store, cands = ballots("AB", [("AB", 3), ("BA", 2)])
    assert rule.count(store, cands, RuleParams()).winners == ("A",)


# London Mayor, 3 May 2012 (Greater London Returning Officer's declaration, as reported):
# first preferences, and the second preferences of the eliminated candidates' voters for the
# two who remained. The split of those second preferences among the eliminated candidates is
# not published per candidate; only the totals (82,880 and 102,355) matter to the count.
LONDON_2012_FIRST = {
    "Johnson": 971_931,
    "Livingstone": 889_918,
    "Jones": 98_913,
    "Paddick": 91_774,
    "Benita": 83_914,
    "Webb": 43_274,
    "Cortiglia": 28_751,
}
TO_JOHNSON, TO_LIVINGSTONE = 82_880, 102_355


def test_london_mayor_2012() -> None:
    names = tuple(LONDON_2012_FIRST)
    code = {n: i for i, n in enumerate(names)}
    rankings: list[list[int]] = []
    weights: list[int] = []
    for name in ("Johnson", "Livingstone"):
        rankings.append([code[name]])
        weights.append(LONDON_2012_FIRST[name])
    # the eliminated candidates' papers, in order: the seconds for Johnson, then for
    # Livingstone, then the rest (no second preference for either)
    owed = {"Johnson": TO_JOHNSON, "Livingstone": TO_LIVINGSTONE}
    for name in names[2:]:
        left = LONDON_2012_FIRST[name]
        for target in ("Johnson", "Livingstone"):
            give = min(left, owed[target])
            if give:
                rankings.append([code[name], code[target]])
                weights.append(give)
                owed[target] -= give
                left -= give
        rankings.append([code[name]])
        weights.append(left)
    assert owed == {"Johnson": 0, "Livingstone": 0}
    count = count_supplementary_vote(
        BallotStore.from_rankings(rankings, weights), CandidateTable(names)
    )
    first, second = count.rounds
    assert first.tally_map == LONDON_2012_FIRST
    assert first.eliminated == ("Jones", "Paddick", "Benita", "Webb", "Cortiglia")
    assert second.tally_map == {"Johnson": 1_054_811, "Livingstone": 992_273}
    assert count.winners == ("Johnson",)
