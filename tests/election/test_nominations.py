"""Nominations: thresholds with their rounding, the 2016 challenge, withdrawal, closing.

Figures from ../shared/conformance/official/NOTES.md: 2016, "a challenger needs nominations
from 20% of the combined PLP + EPLP (51 MPs/MEPs)" and the incumbent is on the ballot
automatically; 2015, "15% of the PLP (35 of 232 MPs)"; 2010, "12.5% of the PLP, i.e. 33 of
257 MPs". The size of the 2016 body, 251, is not in NOTES: it is the denominator of the
nominations table in Wikipedia's article on the election (Owen Smith, 172 of 251).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.election import (
    AbsoluteThreshold,
    Nomination,
    NominationBook,
    NominationProblem,
    NominationRule,
    NominatorId,
    Rounding,
    ShareThreshold,
    Standing,
    close_nominations,
    load_example,
    nominate,
    open_nominations,
    standings,
    withdraw,
)
from tallyroom.errors import ConfigError, InputError

BST = timezone(timedelta(hours=1))
DEFINITION = load_example()
RULE_2016 = DEFINITION.contest("leader").nominations
assert RULE_2016 is not None
OPENS = DEFINITION.timetable.nominations_open
CLOSES = DEFINITION.timetable.nominations_close
PLP = frozenset(NominatorId(f"MP{k:03d}") for k in range(251))
MPS = sorted(PLP)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2016, 7, day, hour, tzinfo=BST)


def book_2016(*candidates: str) -> NominationBook:
    """The 2016 leadership contest with Angela Eagle, who withdrew on 19 July."""
    names = candidates or ("Jeremy Corbyn", "Angela Eagle", "Owen Smith")
    assert RULE_2016 is not None
    return open_nominations(
        "leader",
        names,
        RULE_2016,
        opens=OPENS,
        closes=CLOSES,
        incumbents=("Jeremy Corbyn",),
        roster=PLP,
    )


def nominated(
    book: NominationBook, candidate: str, mps: list[NominatorId], when: datetime
) -> NominationBook:
    for mp in mps:
        book = nominate(book, Nomination(mp, candidate, when))
    return book


def standing_of(book: NominationBook, candidate: str) -> Standing:
    return {s.candidate: s.standing for s in standings(book)}[candidate]


# -- thresholds -------------------------------------------------------------------------------


def test_the_2016_challenger_needs_51_of_251() -> None:
    assert RULE_2016 is not None
    assert RULE_2016.body_size == 251
    assert RULE_2016.threshold == ShareThreshold(Decimal("20"), Rounding.UP)
    assert RULE_2016.required == 51  # 20% of 251 = 50.2, any fraction counts as a whole one
    # the rounding is part of the rule: the same share rounded otherwise gives 50
    for rounding in (Rounding.DOWN, Rounding.HALF_UP):
        assert ShareThreshold(Decimal("20"), rounding).required(251) == 50


@pytest.mark.parametrize(
    ("percent", "body", "required"),
    [
        ("15", 232, 35),  # 2015 leader and deputy: 15% of the PLP (34.8)
        ("12.5", 257, 33),  # 2010 leader: 12.5% of the PLP (32.125)
        ("20", 250, 50),  # an exact share needs no rounding
    ],
)
def test_labour_thresholds_round_up(percent: str, body: int, required: int) -> None:
    assert ShareThreshold(Decimal(percent), Rounding.UP).required(body) == required


def test_rounding_is_exact_at_the_half() -> None:
    half = ShareThreshold(Decimal("12.5"), Rounding.HALF_UP)
    assert half.required(4) == 1  # 0.5 goes up
    assert ShareThreshold(Decimal("12.5"), Rounding.DOWN).required(4) == 0
    assert ShareThreshold(Decimal("12.5"), Rounding.HALF_UP).required(12) == 2  # 1.5
    assert ShareThreshold(Decimal("10"), Rounding.HALF_UP).required(14) == 1  # 1.4


def test_rules_refuse_impossible_thresholds() -> None:
    with pytest.raises(ConfigError, match="more than the body has members"):
        NominationRule("PLP", 30, AbsoluteThreshold(35))
    with pytest.raises(ConfigError, match="above 0%"):
        ShareThreshold(Decimal("0"), Rounding.UP)
    with pytest.raises(ConfigError, match="at least 1"):
        AbsoluteThreshold(0)


# -- the 2016 contest as it happened ----------------------------------------------------------


def test_2016_the_incumbent_is_on_automatically_and_the_challenger_is_nominated() -> None:
    book = book_2016()
    assert book.threshold == 51
    # Eagle gathers nominations, then withdraws on 19 July; Smith passes the threshold
    book = nominated(book, "Angela Eagle", MPS[:72], at(12))
    book = nominated(book, "Owen Smith", MPS[72:162], at(14))
    assert standing_of(book, "Angela Eagle") == Standing.NOMINATED
    book = withdraw(book, "Angela Eagle", at(19))
    # her nominators are free to nominate again before the close
    book = nominated(book, "Owen Smith", MPS[:72], at(20, 9))
    assert len(book.rejected) == 0
    ballot = close_nominations(book, CLOSES)
    assert ballot.candidates == ("Jeremy Corbyn", "Owen Smith")
    assert ballot.threshold == 51
    table = {s.candidate: s for s in ballot.standings}
    assert table["Jeremy Corbyn"].standing == Standing.AUTOMATIC
    assert table["Jeremy Corbyn"].count == 0  # no nominations needed
    assert table["Angela Eagle"].standing == Standing.WITHDRAWN
    assert table["Owen Smith"].standing == Standing.NOMINATED
    assert table["Owen Smith"].count == 162
    assert not ballot.uncontested


@pytest.mark.parametrize(("count", "on_ballot"), [(50, False), (51, True)])
def test_2016_fifty_one_nominations_and_no_fewer(count: int, on_ballot: bool) -> None:
    book = nominated(book_2016(), "Owen Smith", MPS[:count], at(14))
    ballot = close_nominations(book, CLOSES)
    assert ("Owen Smith" in ballot.candidates) is on_ballot
    expected = Standing.NOMINATED if on_ballot else Standing.SHORT
    assert standing_of(book, "Owen Smith") == expected
    if not on_ballot:
        assert ballot.candidates == ("Jeremy Corbyn",)
        assert ballot.uncontested


def test_without_automatic_inclusion_the_incumbent_needs_nominations_too() -> None:
    assert RULE_2016 is not None
    rule = dataclasses.replace(RULE_2016, incumbent_automatic=False)
    book = open_nominations(
        "leader",
        ("Jeremy Corbyn", "Owen Smith"),
        rule,
        opens=OPENS,
        closes=CLOSES,
        incumbents=("Jeremy Corbyn",),
    )
    book = nominated(book, "Jeremy Corbyn", MPS[:40], at(14))
    book = nominated(book, "Owen Smith", MPS[40:212], at(14))
    ballot = close_nominations(book, CLOSES)
    assert ballot.candidates == ("Owen Smith",)
    assert standing_of(book, "Jeremy Corbyn") == Standing.SHORT


def test_the_book_opens_from_the_definition() -> None:
    book = DEFINITION.open_nominations("leader", roster=PLP)
    assert book.candidates == ("Jeremy Corbyn", "Owen Smith")
    assert book.incumbents == ("Jeremy Corbyn",)
    assert (book.opens, book.closes, book.threshold) == (OPENS, CLOSES, 51)


# -- papers that do not count -----------------------------------------------------------------


def test_every_problem_with_a_paper_is_recorded() -> None:
    book = book_2016()
    book = withdraw(book, "Angela Eagle", at(12))
    papers = [
        (Nomination(MPS[0], "Owen Smith", at(13)), None),
        (Nomination(NominatorId("Lord X"), "Owen Smith", at(13)), NominationProblem.NOT_IN_BODY),
        (Nomination(MPS[1], "Tom Watson", at(13)), NominationProblem.UNKNOWN_CANDIDATE),
        (Nomination(MPS[2], "Angela Eagle", at(13)), NominationProblem.CANDIDATE_WITHDRAWN),
        (Nomination(MPS[0], "Owen Smith", at(14)), NominationProblem.DUPLICATE),
        (Nomination(MPS[0], "Jeremy Corbyn", at(14)), NominationProblem.OVER_ALLOWANCE),
        (Nomination(MPS[3], "Owen Smith", at(21)), NominationProblem.OUTSIDE_PERIOD),
    ]
    for paper, _ in papers:
        book = nominate(book, paper)
    assert book.accepted == (papers[0][0],)
    assert [(r.nomination, r.problem) for r in book.rejected] == [
        (p, problem) for p, problem in papers[1:]
    ]
    assert len(book.accepted) + len(book.rejected) == len(papers)


def test_a_paper_before_the_opening_is_outside_the_period() -> None:
    book = nominate(book_2016(), Nomination(MPS[0], "Owen Smith", OPENS - timedelta(seconds=1)))
    assert book.rejected[0].problem == NominationProblem.OUTSIDE_PERIOD
    # the close itself is inside
    book = nominate(book_2016(), Nomination(MPS[0], "Owen Smith", CLOSES))
    assert book.accepted and not book.rejected


def test_a_nominator_may_nominate_as_many_as_the_rule_allows() -> None:
    rule = NominationRule("CLPs", 10, AbsoluteThreshold(2), per_nominator=2)
    book = open_nominations("nec", ("A", "B", "C"), rule, opens=OPENS, closes=CLOSES)
    for cand in ("A", "B", "C"):
        book = nominate(book, Nomination(NominatorId("clp1"), cand, at(14)))
    assert [r.problem for r in book.rejected] == [NominationProblem.OVER_ALLOWANCE]


# -- refusals ---------------------------------------------------------------------------------


def test_events_must_come_in_time_order() -> None:
    book = nominate(book_2016(), Nomination(MPS[0], "Owen Smith", at(14)))
    with pytest.raises(InputError, match=r"order received.*2016-07-14"):
        nominate(book, Nomination(MPS[1], "Owen Smith", at(13)))


def test_a_refused_paper_does_not_move_the_clock() -> None:
    # dated years after the close (a paper recorded "now"): refused, and the papers dated
    # correctly afterwards still count, and the nominations still close
    book = nominate(book_2016(), Nomination(MPS[0], "Owen Smith", CLOSES + timedelta(days=3650)))
    assert book.rejected[0].problem == NominationProblem.OUTSIDE_PERIOD
    assert book.last_event is None
    book = nominate(book, Nomination(MPS[1], "Owen Smith", at(14)))
    assert book.accepted == (Nomination(MPS[1], "Owen Smith", at(14)),)
    # a paper dated before the opening, after one that counted: outside the period, not
    # "out of order"
    book = nominate(book, Nomination(MPS[2], "Owen Smith", OPENS - timedelta(days=1)))
    assert book.rejected[-1].problem == NominationProblem.OUTSIDE_PERIOD
    assert book.last_event == at(14)
    assert close_nominations(book, CLOSES).closed_at == CLOSES


def test_closing_fixes_the_ballot_no_earlier_than_the_published_close() -> None:
    with pytest.raises(InputError, match="nominations close at 2016-07-20T17:00:00\\+01:00"):
        close_nominations(book_2016(), CLOSES - timedelta(minutes=1))
    ballot = close_nominations(book_2016(), CLOSES + timedelta(hours=1))
    assert ballot.closed_at == CLOSES + timedelta(hours=1)


def test_a_withdrawal_that_cannot_be_made_is_refused() -> None:
    book = withdraw(book_2016(), "Angela Eagle", at(19))
    with pytest.raises(InputError, match="already withdrawn"):
        withdraw(book, "Angela Eagle", at(19))
    with pytest.raises(InputError, match="no such candidate"):
        withdraw(book, "Tom Watson", at(19))
    with pytest.raises(InputError, match="nomination period"):
        withdraw(book, "Owen Smith", at(21))


def test_a_roster_must_match_the_body_size() -> None:
    with pytest.raises(InputError, match="has 250 members but the rule's body size is 251"):
        book_2016_with_roster(frozenset(MPS[:250]))


def book_2016_with_roster(roster: frozenset[NominatorId]) -> NominationBook:
    assert RULE_2016 is not None
    return open_nominations(
        "leader",
        ("Jeremy Corbyn", "Owen Smith"),
        RULE_2016,
        opens=OPENS,
        closes=CLOSES,
        roster=roster,
    )


# -- properties -------------------------------------------------------------------------------

CANDIDATES = ("Jeremy Corbyn", "Angela Eagle", "Owen Smith")
EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("nominate"), st.sampled_from(MPS[:30]), st.sampled_from(CANDIDATES)),
        st.tuples(st.just("withdraw"), st.just(""), st.sampled_from(CANDIDATES)),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(EVENTS, st.integers(min_value=1, max_value=3))
def test_papers_are_conserved_and_allowances_kept(
    events: list[tuple[str, str, str]], allowance: int
) -> None:
    rule = NominationRule("PLP", 30, AbsoluteThreshold(3), True, per_nominator=allowance)
    book = open_nominations(
        "leader", CANDIDATES, rule, opens=OPENS, closes=CLOSES, incumbents=("Jeremy Corbyn",)
    )
    papers = 0
    for kind, mp, cand in events:
        if kind == "nominate":
            book = nominate(book, Nomination(NominatorId(mp), cand, at(14)))
            papers += 1
        elif cand not in book.withdrawn:
            book = withdraw(book, cand, at(14))
    assert len(book.accepted) + len(book.rejected) == papers
    table = standings(book)
    live: dict[str, int] = {}
    for s in table:
        if s.standing is not Standing.WITHDRAWN:
            assert len(set(s.nominators)) == s.count  # nobody counted twice
            for mp in s.nominators:
                live[mp] = live.get(mp, 0) + 1
    assert all(n <= allowance for n in live.values())
    ballot = close_nominations(book, CLOSES)
    on = [s.candidate for s in table if s.standing.on_ballot]
    assert ballot.candidates == tuple(c for c in CANDIDATES if c in on)
    for s in table:
        if s.standing is Standing.NOMINATED:
            assert s.count >= 3
        if s.standing is Standing.SHORT:
            assert s.count < 3 and s.candidate != "Jeremy Corbyn"
