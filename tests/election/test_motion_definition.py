"""A motion in the definition file: the bundled examples read as documented, a motion's
answers become its candidates, the top-level nomination rule does not reach it, and every
mistake is one problem naming its key and value."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tallyroom.count.rules.motion import ChoiceSet, Quorum, Threshold, ThresholdBase
from tallyroom.count.rules.units import Combine, UnitBase
from tallyroom.election import load_example, parse_definition
from tallyroom.errors import ConfigError

HEAD = """\
[election]
name = "Ballot"

[timetable]
nominations_open = 2025-03-01T09:00:00+00:00
nominations_close = 2025-03-01T10:00:00+00:00
ballot_open = 2025-03-03T09:00:00+00:00
ballot_close = 2025-03-24T12:00:00+00:00

[[sections]]
name = "members"

[[sections]]
name = "affiliates"

[nominations]
body = "the committee"
body_size = 10
absolute = 2

[[contests]]
name = "m"
"""


def _read(motion: str, extra: str = "") -> object:
    return parse_definition(HEAD + extra + "\n[contests.motion]\n" + motion)


def _problem(motion: str, extra: str = "") -> str:
    with pytest.raises(ConfigError) as caught:
        _read(motion, extra)
    return str(caught.value)


def test_the_bundled_examples() -> None:
    rule_change = load_example("rule-change-motion").contest("rule-change")
    assert rule_change.rule == "motion" and rule_change.nominations is None
    assert rule_change.candidate_names == ("For", "Against", "Abstain")
    motion = rule_change.motion
    assert motion is not None and motion.choices is ChoiceSet.FOR_AGAINST_ABSTAIN
    assert motion.rule.threshold == Threshold(Fraction(2, 3))
    assert motion.rule.base is ThresholdBase.VOTES
    assert motion.rule.quorum == Quorum(share=Fraction(1, 4))
    trigger = load_example("trigger-ballot").contest("trigger")
    assert trigger.candidate_names == ("Yes", "No")
    assert trigger.motion is not None and trigger.motion.units is not None
    units = trigger.motion.units
    assert units.combine is Combine.ANY
    assert [(g.name, g.sections, g.share, g.base) for g in units.groups] == [
        ("branches", ("members",), Fraction(1, 3), UnitBase.ALL),
        ("affiliates", ("affiliates",), Fraction(1, 3), UnitBase.ALL),
    ]


def test_every_way_of_writing_a_threshold() -> None:
    cases = {
        '"majority"': Threshold.majority(),
        '"two-thirds"': Threshold(Fraction(2, 3)),
        '"three-quarters"': Threshold(Fraction(3, 4)),
        '"3/5"': Threshold(Fraction(3, 5)),
        '"55%"': Threshold(Fraction(11, 20)),
    }
    for text, threshold in cases.items():
        d = _read(f'question = "Q?"\nthreshold = {text}\n')
        assert d.contests[0].motion.rule.threshold == threshold  # type: ignore[attr-defined]
    d = _read('question = "Q?"\nthreshold = "majority"\nquorum = 40\nelectorate_support = "40%"\n')
    rule = d.contests[0].motion.rule  # type: ignore[attr-defined]
    assert rule.quorum == Quorum(ballots=40) and rule.electorate_support == Fraction(2, 5)


@pytest.mark.parametrize(
    ("motion", "extra", "said"),
    [
        ('question = "Q?"\n', "", "contests[0].motion.threshold: is required"),
        ('question = "Q?"\nthreshold = 0.66\n', "", "must be a share above 0 and at most 1"),
        ('question = "Q?"\nthreshold = "4/3"\n', "", "(\'4/3\')"),
        ('question = "Q?"\nthreshold = "most"\n', "", "contests[0].motion.threshold"),
        ('question = "Q?"\nthreshold = "majority"\nquorum = 0\n', "", "at least 1 (0)"),
        ('question = "Q?"\nthreshold = "majority"\nquorum = "120%"\n', "", "quorum"),
        ('question = "Q?"\nthreshold = "majority"\nchoices = "yes-no-maybe"\n', "", "choices"),
        ('question = "Q?"\nthreshold = "majority"\nthreshold_of = "members"\n', "",
         "threshold_of: must be one of 'votes', 'votes-and-abstentions', 'electorate'"),
        ('question = "Q?"\nthreshold = "majority"\nthreshhold_of = "votes"\n', "",
         "contests[0].motion.threshhold_of: unknown key"),
        ('threshold = "majority"\n', "", "contests[0].motion.question: is required"),
        ('question = "Q?"\nthreshold = "majority"\n', 'candidates = [{ name = "Ann" }]\n',
         "takes no candidates"),
        ('question = "Q?"\nthreshold = "majority"\n', 'rule = "irv"\n',
         'counted by rule "motion"'),
    ],
)  # fmt: skip
def test_a_mistake_is_named_by_key_and_value(motion: str, extra: str, said: str) -> None:
    assert said in _problem(motion, extra)


def test_unit_groups_are_checked() -> None:
    motion = 'question = "Q?"\nthreshold = "majority"\n'
    units = '\n[contests.units]\n[[contests.units.groups]]\nname = "b"\n'
    said = _problem(motion + units + 'sections = ["members"]\n')
    assert "contests[0].units.groups[0].share: is required" in said
    said = _problem(motion + units + 'sections = ["nobody"]\nshare = "1/3"\n')
    assert "names sections not voting here" in said and "nobody" in said
    said = _problem(motion + units + 'sections = ["members"]\nshare = "1/3"\nof = "some"\n')
    assert "of: must be one of 'all', 'voting'" in said
    twice = units + 'sections = ["members"]\nshare = "1/3"\n'
    twice += '[[contests.units.groups]]\nname = "c"\nsections = ["members"]\nshare = "1/3"\n'
    assert "a section's units belong to one group" in _problem(motion + twice)
    # units without a motion
    plain = HEAD + 'rule = "plurality"\ncandidates = [{ name = "Ann" }]\n' + units
    plain += 'sections = ["members"]\nshare = "1/3"\n'
    with pytest.raises(ConfigError, match=r"only a motion \(\[contests.motion\]\) is counted"):
        parse_definition(plain)
