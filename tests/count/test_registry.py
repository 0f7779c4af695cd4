"""The rule registry: every entry point resolves, and every fact agrees with the count."""

from __future__ import annotations

import pytest

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.rules.registry import RULES, BallotKind, RuleParams, get_rule
from tallyroom.errors import ConfigError


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_entry_resolves_to_its_rule_module(name: str) -> None:
    rule = RULES[name]
    entry = rule.run()
    assert callable(entry)
    assert entry.__module__ == rule.entry.partition(":")[0]


@pytest.mark.parametrize("name", sorted(RULES))
def test_a_ballot_marking_the_kind_s_limit_is_counted(name: str) -> None:
    rule = RULES[name]
    # a motion's "candidates" are its two or three answers
    names = (
        ("For", "Against", "Abstain")
        if rule.ballot is BallotKind.CHOICE
        else ("Ann", "Bob", "Cy", "Di")
    )
    seats = 2 if rule.multi_seat else 1
    limit = rule.mark_limit(seats, len(names))
    ballots = [tuple(range(limit))] * 5 + [tuple(reversed(range(limit)))] * 3
    count = rule.count(BallotStore.from_rankings(ballots), CandidateTable(names), RuleParams(seats))
    assert len(count.winners) == seats


def test_mark_limits() -> None:
    assert BallotKind.SINGLE.mark_limit(3, 7) == 1
    assert BallotKind.MULTI.mark_limit(3, 7) == 3
    assert BallotKind.RANKED.mark_limit(3, 7) == 7
    assert BallotKind.CHOICE.mark_limit(1, 3) == 1


def test_an_unknown_rule_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"known rules: block, cfer, ers97, .*irv"):
        get_rule("borda")
