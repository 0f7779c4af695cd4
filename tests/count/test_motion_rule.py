"""The motion rule's boundaries, exactly: two thirds carries at exactly two thirds and fails
one vote short; a simple majority needs more than half (a tie loses); a quorum exactly met
counts; abstentions are out of the base unless the rule puts them in; a share of the
electorate (the Trade Union Act 2016's 40%) and the 50% turnout; and the count itself, whose
result does not depend on the order of the ballots."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.rules.motion import (
    MotionRule,
    MotionTally,
    Quorum,
    Threshold,
    ThresholdBase,
    decide,
)
from tallyroom.count.rules.registry import RuleParams, get_rule
from tallyroom.errors import ConfigError, CountError

TWO_THIRDS = MotionRule(Threshold(Fraction(2, 3)))
MAJORITY = MotionRule(Threshold.majority())


def test_exactly_two_thirds_carries_and_one_short_does_not() -> None:
    carried = decide(MotionTally(400, 200), TWO_THIRDS)
    assert carried.carried and carried.required == 400 and carried.base == 600
    assert carried.reason == (
        "for 400 (66.7%), against 200; at least two thirds required (400 of 600 votes); carried"
    )
    short = decide(MotionTally(399, 201), TWO_THIRDS)
    assert not short.carried and short.outcome == "NOT CARRIED"
    assert "399 for, 1 short: not carried" in short.reason
    # the same one vote short when two thirds is not a whole number: 2/3 of 601 = 400.67
    assert decide(MotionTally(401, 200), TWO_THIRDS).carried
    assert not decide(MotionTally(400, 201), TWO_THIRDS).carried


def test_a_simple_majority_is_more_than_half_so_a_tie_loses() -> None:
    assert not decide(MotionTally(300, 300), MAJORITY).carried
    assert decide(MotionTally(301, 300), MAJORITY).carried
    assert decide(MotionTally(1, 0), MAJORITY).carried
    # a share of exactly one half written as a fraction is "at least": the tie carries
    assert decide(MotionTally(300, 300), MotionRule(Threshold(Fraction(1, 2)))).carried


def test_abstentions_are_out_of_the_base_unless_the_rule_counts_them() -> None:
    tally = MotionTally(400, 200, abstain=50)
    assert decide(tally, TWO_THIRDS).carried  # 400 of 600
    with_them = MotionRule(TWO_THIRDS.threshold, ThresholdBase.VOTES_AND_ABSTENTIONS)
    decision = decide(tally, with_them)
    assert not decision.carried and decision.base == 650 and decision.required == 434


def test_a_quorum_exactly_met_counts_and_one_paper_short_does_not() -> None:
    rule = MotionRule(Threshold.majority(), quorum=Quorum(share=Fraction(1, 2)))
    # 500 of 1,000 returned, spoilt papers and abstentions included: exactly 50%
    met = decide(MotionTally(300, 150, abstain=40, spoilt=10, electorate=1000), rule)
    assert met.carried and met.quorum_required == 500 and met.quorum_met
    below = decide(MotionTally(300, 150, abstain=40, spoilt=9, electorate=1000), rule)
    assert not below.carried and not below.quorum_met
    assert "turnout 49.9% (499 papers) below a quorum of 50% of the electorate (500 papers)" in (
        below.reason
    )
    # a quorum as a number of papers
    fixed = MotionRule(Threshold.majority(), quorum=Quorum(ballots=20))
    assert decide(MotionTally(15, 5), fixed).carried
    assert not decide(MotionTally(15, 4), fixed).carried


def test_the_trade_union_act_thresholds() -> None:
    """s.2: at least 50% turnout; s.3: at least 40% of those entitled to vote support it."""
    rule = MotionRule(
        Threshold.majority(),
        quorum=Quorum(share=Fraction(1, 2)),
        electorate_support=Fraction(2, 5),
    )
    assert decide(MotionTally(400, 100, electorate=1000), rule).carried
    weak = decide(MotionTally(399, 101, electorate=1000), rule)
    assert not weak.carried and "below 40% of the electorate (400 of 1,000)" in weak.reason
    # a landslide on a low turnout fails the turnout threshold
    assert not decide(MotionTally(450, 10, electorate=1000), rule).carried


def test_a_share_of_the_electorate_counts_everyone_entitled_to_vote() -> None:
    rule = MotionRule(Threshold(Fraction(1, 2)), ThresholdBase.ELECTORATE)
    assert decide(MotionTally(500, 0, electorate=1000), rule).carried
    assert not decide(MotionTally(499, 0, electorate=1000), rule).carried
    with pytest.raises(CountError, match="electorate"):
        decide(MotionTally(1, 0), rule)


def test_no_votes_is_not_carried() -> None:
    decision = decide(MotionTally(0, 0, abstain=3), MAJORITY)
    assert not decision.carried and "no votes were cast" in decision.reason


def test_thresholds_out_of_range_are_refused() -> None:
    for share in (Fraction(0), Fraction(3, 2)):
        with pytest.raises(ConfigError):
            Threshold(share)
    with pytest.raises(ConfigError):
        Quorum()
    with pytest.raises(CountError):
        MotionTally(-1, 0)
    with pytest.raises(CountError, match="electorate cannot be negative"):
        MotionTally(5, 5, electorate=-1)


def _count(papers: list[int], rule: MotionRule, electorate: int, answers: int = 3) -> object:
    names = ("For", "Against", "Abstain")[:answers]
    store = BallotStore.from_rankings([(p,) for p in papers])
    params = RuleParams(motion=rule, electorate=electorate)
    return get_rule("motion").count(store, CandidateTable(names), params)


def test_the_registry_counts_a_motion() -> None:
    count = get_rule("motion").count(
        BallotStore.from_rankings([(0,)] * 400 + [(1,)] * 200 + [(2,)] * 7),
        CandidateTable(("For", "Against", "Abstain")),
        RuleParams(motion=TWO_THIRDS, electorate=1000),
    )
    assert count.winners == ("For",)
    assert count.rounds[0].label.endswith("; carried")
    lost = get_rule("motion").count(
        BallotStore.from_rankings([(0,)] * 399 + [(1,)] * 201),
        CandidateTable(("For", "Against", "Abstain")),
        RuleParams(motion=TWO_THIRDS, electorate=1000),
    )
    assert lost.winners == ()
    # without a motion rule (tallyroom count --rule motion): a simple majority
    tie = BallotStore.from_rankings([(0,), (1,)])
    assert get_rule("motion").count(tie, CandidateTable(("Yes", "No")), RuleParams()).winners == ()
    with pytest.raises(CountError, match="two or three choices"):
        get_rule("motion").count(tie, CandidateTable(("A", "B", "C", "D")), RuleParams())


@settings(max_examples=60, deadline=None)
@given(
    papers=st.lists(st.integers(0, 2), max_size=60),
    share=st.sampled_from([Fraction(1, 2), Fraction(2, 3), Fraction(3, 5)]),
    quorum=st.integers(1, 40),
    seed=st.randoms(use_true_random=False),
)
def test_the_order_of_the_ballots_never_matters(
    papers: list[int], share: Fraction, quorum: int, seed: object
) -> None:
    rule = MotionRule(Threshold(share), quorum=Quorum(ballots=quorum))
    first = _count(papers, rule, 100)
    shuffled = list(papers)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    again = _count(shuffled, rule, 100)
    assert first == again
    # and the decision is the arithmetic one
    votes_for, against = papers.count(0), papers.count(1)
    expected = (
        len(papers) >= quorum
        and votes_for + against > 0
        and 3 * votes_for * share.denominator >= 3 * share.numerator * (votes_for + against)
    )
    assert (first.winners == ("For",)) == expected  # type: ignore[attr-defined]
