"""``[verifiable]`` in the definition (election/verifiable.py): the trustees, their threshold
and the mixers read and checked, and the elections the verifiable path cannot take yet
(weighted, counted by unit) refused with the key named."""

from __future__ import annotations

import pytest

from tallyroom.election import parse_definition
from tallyroom.election.verifiable import Verifiable
from tallyroom.errors import ConfigError
from verifiable_leader import LEADER, TRUSTEES

HEAD = LEADER


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_definition(text)
    return [str(caught.value)]


def test_a_definition_without_the_table_takes_the_sealed_path() -> None:
    assert parse_definition(HEAD).verifiable is None


def test_trustees_threshold_and_default_mixers_are_read() -> None:
    d = parse_definition(HEAD + "[verifiable]\n" + TRUSTEES + "threshold = 2\n")
    v = d.verifiable
    assert v == Verifiable(("Ann Hale", "Ben Ode", "Cleo Marr"), 2)
    assert v.mixing == v.trustees and v.mixer_indices() == (1, 2, 3)
    assert v.trustee_index("Cleo Marr") == 3


def test_named_mixers_keep_their_order_and_numbers() -> None:
    d = parse_definition(
        HEAD + "[verifiable]\n" + TRUSTEES + 'threshold = 2\nmixers = ["Cleo Marr", "Ann Hale"]\n'
    )
    assert d.verifiable is not None and d.verifiable.mixer_indices() == (3, 1)


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('trustees = ["Ann"]\nthreshold = 1\n', "verifiable.trustees"),
        (TRUSTEES + "threshold = 4\n", "verifiable.threshold"),
        (TRUSTEES + "threshold = 0\n", "verifiable.threshold"),
        (TRUSTEES, "verifiable.threshold"),
        ("threshold = 2\n", "verifiable.trustees"),
        ('trustees = ["Ann", "Ann", "Bo"]\nthreshold = 2\n', "verifiable.trustees"),
        (TRUSTEES + 'threshold = 2\nmixers = ["Ann Hale"]\n', "verifiable.mixers"),
        (TRUSTEES + 'threshold = 2\nmixers = ["Ann Hale", "Zed"]\n', "verifiable.mixers"),
        (TRUSTEES + 'threshold = 2\nkeys = "mine"\n', "verifiable.keys"),
        ('trustees = ["Ann\\u200b", "Bo"]\nthreshold = 1\n', "verifiable.trustees"),
    ],
)
def test_a_wrong_table_is_refused_naming_the_key(table: str, named: str) -> None:
    (message,) = problems(HEAD + "[verifiable]\n" + table)
    assert named in message


def test_a_weighted_election_takes_the_verifiable_path() -> None:
    text = HEAD + '[weights]\ncolumn = "w"\n[verifiable]\n' + TRUSTEES + "threshold = 2\n"
    definition = parse_definition(text)
    assert definition.weights is not None and definition.verifiable is not None


UNITS = HEAD.replace(
    'rule = "irv"\nseats = 1\ncandidates = [{ name = "Ann" }, { name = "Bo" }]\n',
    'rule = "motion"\n[contests.motion]\nquestion = "Trigger?"\nchoices = "yes-no"\n'
    'threshold = "majority"\n[contests.units]\ncombine = "any"\n'
    '[[contests.units.groups]]\nname = "b"\nsections = ["members"]\nshare = "1/3"\n',
)
VERIFIABLE = "[verifiable]\n" + TRUSTEES + "threshold = 2\n"


def test_a_contest_counted_by_unit_takes_the_verifiable_path() -> None:
    assert parse_definition(UNITS + VERIFIABLE).verifiable is not None


@pytest.mark.parametrize(
    "rule",
    [
        'quorum = "1/4"\n',  # a quorum as a share of each unit's electorate
        "quorum = 3\n",  # a quorum of papers: its reason states the unit's turnout
        'threshold_of = "electorate"\n',
        'electorate_support = "1/5"\n',
    ],
)
def test_a_unit_motion_needing_each_units_electorate_is_refused_on_the_verifiable_path(
    rule: str,
) -> None:
    """The record does not hold the register: the verifier could not recount a unit's
    decision that turns on its electorate."""
    text = UNITS.replace('threshold = "majority"\n', 'threshold = "majority"\n' + rule)
    parse_definition(text)  # sound on the sealed path
    (message,) = problems(text + VERIFIABLE)
    assert "contests[0].units" in message and "electorate" in message


def test_the_record_checks_itself_when_built_in_code() -> None:
    with pytest.raises(ConfigError, match="mixers"):
        Verifiable(("A", "B"), 1, ("A",))


def test_an_electoral_college_takes_the_verifiable_path() -> None:
    text = (
        HEAD.replace(
            '[[sections]]\nname = "members"\n',
            '[[sections]]\nname = "members"\n\n[[sections]]\nname = "mps"\n',
        )
        + '[contests.college]\nweights = { members = "1/2", mps = "1/2" }\n'
    )
    definition = parse_definition(text + VERIFIABLE)
    assert definition.contests[0].college is not None and definition.verifiable is not None
