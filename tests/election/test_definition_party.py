"""The definition's party keys: seat constraints a rule must be able to honour, ballot rules,
an electoral college; each wrong value named by its key, and the bundled party examples."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tallyroom.election import load_example, parse_definition
from tallyroom.election.definition import BallotRequirement, College
from tallyroom.errors import ConfigError

HEAD = """
[election]
name = "Party ballot"

[timetable]
nominations_open = 2026-01-05T09:00:00Z
nominations_close = 2026-01-12T17:00:00Z
ballot_open = 2026-02-01T09:00:00Z
ballot_close = 2026-02-15T12:00:00Z

[[sections]]
name = "mps"

[[sections]]
name = "members"
"""

BLOCK = (
    HEAD
    + """
[[contests]]
name = "committee"
rule = "block"
seats = 2
candidates = [
  { name = "Al", groups = ["men"] }, { name = "Bo", groups = ["men"] },
  { name = "Di", groups = ["women"] }, { name = "Eve", groups = ["women"] },
]
constraints = [{ group = "women", minimum = 1 }]
"""
)

COLLEGE = (
    HEAD
    + """
[[contests]]
name = "leader"
rule = "irv"
candidates = [{ name = "A" }, { name = "B" }]

[contests.college]
weights = { mps = "1/2", members = "0.5" }
"""
)


def problem(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_definition(text)
    return caught.value


def test_ballot_rules_and_requirements_in_words() -> None:
    text = BLOCK + 'ballot_rules = [{ group = "women", at_least = 1, at_most = 2 }]\n'
    contest = parse_definition(text).contest("committee")
    assert contest.ballot_rules == (BallotRequirement("women", 1, 2),)
    assert contest.requirements == (
        "at least 1 must be women",
        "a valid ballot marks at least 1 and at most 2 women",
    )
    # only the groups a constraint or ballot rule names are shown beside a name
    assert contest.candidate_groups == ((), (), ("women",), ("women",))
    (rule,) = contest.count_ballot_rules()
    assert rule.group.members == frozenset({"Di", "Eve"}) and rule.at_least == 1
    (seat,) = contest.seat_constraints()
    assert seat.group.members == frozenset({"Di", "Eve"}) and seat.minimum == 1


@pytest.mark.parametrize("rule", ["plurality", "scottish-stv", "meek", "wigm"])
def test_a_constraint_on_a_rule_that_cannot_honour_it_is_refused(rule: str) -> None:
    text = BLOCK.replace('rule = "block"', f'rule = "{rule}"')
    error = problem(text)
    assert (error.field, error.value) == ("contests[0].constraints", rule)
    assert "cannot apply" in error.problem and "block" in error.problem


def test_a_ballot_rule_on_a_rule_that_cannot_honour_it_is_refused() -> None:
    text = BLOCK.replace('rule = "block"', 'rule = "plurality"').replace(
        'constraints = [{ group = "women", minimum = 1 }]',
        'ballot_rules = [{ group = "women", at_least = 1 }]',
    )
    error = problem(text)
    assert (error.field, error.value) == ("contests[0].ballot_rules", "plurality")


@pytest.mark.parametrize(
    ("rules", "key", "value"),
    [
        ('[{ group = "nobody", at_least = 1 }]', "contests[0].ballot_rules[0].group", "nobody"),
        ('[{ group = "women", at_least = 3 }]', "contests[0].ballot_rules[0].at_least", 3),
        ('[{ group = "men", at_least = 2 }, { group = "women", at_least = 2 }]', None, None),
        ('[{ group = "women" }]', "contests[0].ballot_rules[0].at_least", 0),
        ('[{ group = "women", at_least = 2, at_most = 1 }]',
         "contests[0].ballot_rules[0].at_most", 1),
        ('[{ group = "women", at_least = 1 }, { group = "women", at_most = 2 }]',
         "contests[0].ballot_rules[1].group", "women"),
        ('[{ group = "women", at_leest = 1 }]', None, None),
    ],
)  # fmt: skip
def test_each_bad_ballot_rule_is_named(rules: str, key: str | None, value: object) -> None:
    text = BLOCK + f"ballot_rules = {rules}\n"
    if "at_leest" in rules:
        error = problem(text)
        assert "contests[0].ballot_rules[0].at_leest: unknown key" in str(error)
        return
    if key is None:  # 2 + 2 marks on a 2-seat block ballot: each alone is possible
        contest = parse_definition(text).contest("committee")
        assert len(contest.ballot_rules) == 2
        return
    error = problem(text)
    assert (error.field, error.value) == (key, value), str(error)


def test_a_ballot_rule_asking_more_marks_than_the_paper_allows_is_refused() -> None:
    text = BLOCK.replace("seats = 2", "seats = 1").replace(
        'constraints = [{ group = "women", minimum = 1 }]',
        'ballot_rules = [{ group = "women", at_least = 2 }]',
    )
    error = problem(text)
    assert (error.field, error.value) == ("contests[0].ballot_rules[0].at_least", 2)
    assert "only 1" in error.problem


def test_a_college_weighs_each_section_exactly() -> None:
    contest = parse_definition(COLLEGE).contest("leader")
    assert contest.college == College((("mps", Fraction(1, 2)), ("members", Fraction(1, 2))))
    assert contest.college.display_places == 3


@pytest.mark.parametrize(
    ("change", "key", "value"),
    [
        (('"0.5" }', '"0.25" }'), "contests[0].college.weights", "3/4"),
        (('members = "0.5"', 'members = 0.5'), 'contests[0].college.weights.members', 0.5),
        (('members = "0.5"', 'members = "1/0"'), "contests[0].college.weights.members", "1/0"),
        (('members = "0.5"', 'members = "half"'), "contests[0].college.weights.members", "half"),
        (('members = "0.5"', 'others = "0.5"'), "contests[0].college.weights", ["mps", "others"]),
        (('rule = "irv"', 'rule = "stv"'), "contests[0].rule", "stv"),
        (('rule = "irv"', 'rule = "plurality"'), "contests[0].rule", "plurality"),
        (("[contests.college]", "[contests.college]\ndisplay_places = 13"),
         "contests[0].college.display_places", 13),
        (("weights = {", "weight = {"), "contests[0].college.weights", None),
    ],
)  # fmt: skip
def test_each_bad_college_is_named(change: tuple[str, str], key: str, value: object) -> None:
    error = problem(COLLEGE.replace(*change))
    found = [line.strip() for line in str(error).splitlines()]
    if error.field is not None:
        assert (error.field, error.value) == (key, value), str(error)
    else:
        assert any(line.startswith(f"{key}:") for line in found), str(error)


def test_a_college_takes_no_constraints() -> None:
    text = COLLEGE.replace(
        'candidates = [{ name = "A" }, { name = "B" }]',
        'candidates = [{ name = "A", groups = ["women"] }, { name = "B" }]\n'
        'constraints = [{ group = "women", maximum = 1 }]',
    )
    error = problem(text)
    assert (error.field, error.value) == ("contests[0].constraints", "college")


def test_the_party_examples_load_with_their_rules() -> None:
    shadow = load_example("shadow-cabinet-2010").contest("shadow-cabinet")
    assert (shadow.rule, shadow.seats, len(shadow.candidates)) == ("block", 19, 24)
    assert shadow.requirements == (
        "at least 6 must be women",
        "a valid ballot marks at least 6 women",
        "a valid ballot marks at least 6 men",
    )
    assert sum(1 for c in shadow.candidates if "women" in c.groups) == 10
    nec = load_example("nec-clp-2020").contest("nec-clp")
    assert (nec.rule, nec.seats) == ("stv", 9)
    assert nec.requirements == ("at least 5 must be women", "at most 4 may be men")
