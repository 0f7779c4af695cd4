"""``[weights]`` and each contest's ``weighted`` in the definition (election/weights.py):
read, and refused with every problem named when a rule cannot count the declared weights
exactly, when a college would be weighted, or when a key is wrong."""

from __future__ import annotations

import pytest

from tallyroom.election import load_example, parse_definition
from tallyroom.errors import ConfigError

HEAD = """\
[election]
name = "Card vote"

[timetable]
nominations_open = 2026-09-01T09:00:00+01:00
nominations_close = 2026-09-10T17:00:00+01:00
ballot_open = 2026-09-20T09:00:00+01:00
ballot_close = 2026-10-07T17:00:00+01:00

[[sections]]
name = "branches"

[[sections]]
name = "officers"
"""


def contest(name: str, rule: str, extra: str = "", seats: int = 1) -> str:
    return (
        f'\n[[contests]]\nname = "{name}"\nrule = "{rule}"\nseats = {seats}\n{extra}'
        'candidates = [{ name = "Ann" }, { name = "Bo" }, { name = "Cy" }]\n'
    )


def test_weights_are_read_and_apply_to_every_contest_unless_it_says_not() -> None:
    d = parse_definition(
        HEAD
        + '[weights]\ncolumn = "cards"\ndecimal_places = 3\n'
        + contest("a", "irv")
        + contest("b", "plurality", "weighted = false\n")
    )
    assert d.weights is not None and d.weights.column == "cards"
    assert [d.weight_places(c) for c in d.contests] == [3, None]


def test_without_weights_nothing_is_weighted() -> None:
    d = parse_definition(HEAD + contest("a", "irv"))
    assert d.weights is None and d.weight_places(d.contests[0]) is None


def test_every_problem_is_named() -> None:
    text = (
        HEAD
        + "[weights]\ndecimal_places = 7\nspare = 1\n"
        + contest("a", "irv", 'weighted = "yes"\n')
    )
    with pytest.raises(ConfigError) as caught:
        parse_definition(text)
    message = str(caught.value)
    assert "weights.decimal_places: must be 0 to 6 (7)" in message
    assert "weights.spare: unknown key" in message
    assert "contests[0].weighted: must be true or false ('yes')" in message


@pytest.mark.parametrize(
    "rule", ["meek", "scottish-stv", "ers97", "wigm", "irish-dail", "supplementary-vote"]
)
def test_a_whole_weight_rule_is_refused_decimal_weights(rule: str) -> None:
    seats = 1 if rule == "supplementary-vote" else 2
    text = HEAD + "[weights]\ndecimal_places = 2\n" + contest("a", rule, seats=seats)
    with pytest.raises(ConfigError, match=f"contests\\[0\\].rule: rule '{rule}' counts whole"):
        parse_definition(text)
    whole = parse_definition(text.replace("decimal_places = 2", "decimal_places = 0"))
    assert whole.weight_places(whole.contests[0]) == 0


def test_weighted_true_needs_weights() -> None:
    with pytest.raises(ConfigError, match=r"contests\[0\]\.weighted: the election declares no"):
        parse_definition(HEAD + contest("a", "irv", "weighted = true\n"))


def test_a_college_is_not_weighted() -> None:
    text = (
        HEAD
        + "[weights]\n"
        + '\n[[contests]]\nname = "leader"\nrule = "irv"\n'
        + 'candidates = [{ name = "Ann" }, { name = "Bo" }]\n'
        + '[contests.college]\nweights = { branches = "1/2", officers = "1/2" }\n'
    )
    with pytest.raises(ConfigError, match=r"contests\[0\]\.college: an electoral college"):
        parse_definition(text)
    fine = parse_definition(text.replace('rule = "irv"\n', 'rule = "irv"\nweighted = false\n'))
    assert fine.weight_places(fine.contests[0]) is None


def test_the_bundled_example() -> None:
    d = load_example("weighted-delegates")
    assert d.weights is not None and d.weights.decimal_places == 3
    assert [(c.name, d.weight_places(c)) for c in d.contests] == [
        ("president", 3),
        ("board", 3),
        ("standing-orders", None),
    ]


def test_a_motion_is_not_weighted() -> None:
    """A motion's quorum and threshold count papers: a weighted election's motion must say
    weighted = false (card votes on motions are not built yet)."""
    text = (
        HEAD
        + "[weights]\n"
        + '\n[[contests]]\nname = "rule-change"\nrule = "motion"\n'
        + '[contests.motion]\nquestion = "Adopt the new rule?"\nthreshold = "two-thirds"\n'
    )
    with pytest.raises(ConfigError, match=r"contests\[0\]\.motion: a motion's quorum"):
        parse_definition(text)
    fine = parse_definition(
        text.replace('rule = "motion"\n', 'rule = "motion"\nweighted = false\n')
    )
    assert fine.weight_places(fine.contests[0]) is None
