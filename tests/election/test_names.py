"""Names at create: one form (NFC), visible characters only, and no two names alike."""

from __future__ import annotations

import json
import unicodedata

import pytest

from tallyroom.election import Candidate, parse_definition
from tallyroom.election.names import look_alikes, name_problem
from tallyroom.errors import ConfigError

BASE = """
[election]
name = "Committee 2026"

[timetable]
nominations_open = 2026-01-05T09:00:00Z
nominations_close = 2026-01-12T17:00:00Z
ballot_open = 2026-02-01T09:00:00Z
ballot_close = 2026-02-15T12:00:00Z

[[sections]]
name = {section}

[[contests]]
name = {contest}
rule = "irv"

[[contests.candidates]]
name = {first}

[[contests.candidates]]
name = {second}
"""


def text(
    first: str = "Ann", second: str = "Bo", section: str = "members", contest: str = "chair"
) -> str:
    q = {k: json.dumps(v, ensure_ascii=False) for k, v in locals().items()}
    return BASE.format(**q)


def refused(**names: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_definition(text(**names))
    return caught.value


@pytest.mark.parametrize(
    ("bad", "shown"),
    [
        ("Ann\nSmith", "\\n"),
        ("Ann\tSmith", "\\t"),
        ("Ann\u202eSmith", "\\u202e"),  # right-to-left override
        ("Ann\u2066Smith\u2069", "\\u2066"),  # left-to-right isolate
        ("Ann\u200bSmith", "\\u200b"),  # zero-width space
        ("Ann\u200dSmith", "\\u200d"),  # zero-width joiner
        ("Ann\ufeffSmith", "\\ufeff"),
        ("Ann\u2028Smith", "\\u2028"),  # line separator
        ("Ann\x00", "\\x00"),
    ],
)
def test_invisible_and_control_characters_are_refused_with_key_and_value(
    bad: str, shown: str
) -> None:
    exc = refused(second=bad)
    assert exc.field == "contests[0].candidates[1].name"
    assert exc.value == bad
    assert shown in str(exc)  # escaped, never printed raw
    assert "U+" in exc.problem


def test_section_and_contest_names_follow_the_same_rules() -> None:
    assert "sections[0].name: holds an invisible" in str(refused(section="mem\u200bbers"))
    assert refused(contest="ch\nair").field == "contests[0].name"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ann Smith", "ANN SMITH"),  # case
        ("Seán", "Sea\u0301n"),  # NFC and NFD
        ("Jeremy Corbyn", "J\u0435remy Corbyn"),  # a Cyrillic e
        ("Olga", "0lga"),  # a digit zero
        ("Ian", "lan"),  # l and capital I
        ('Fay "Ffion" Ferris', "Fay ''Ffion'' Ferris"),  # the same in a BLT file
    ],
)
def test_names_alike_are_refused_naming_both(first: str, second: str) -> None:
    exc = refused(first=first, second=second)
    assert exc.field == "contests[0].candidates[1].name"
    assert "candidates[0].name" in exc.problem  # the first, by its key within the contest
    if unicodedata.normalize("NFC", second) != first:
        assert repr(first) in exc.problem


def test_sections_and_contests_alike_are_refused() -> None:
    two = text().replace("[[contests]]", '[[sections]]\nname = "MEMBERS"\n\n[[contests]]', 1)
    with pytest.raises(ConfigError) as caught:
        parse_definition(two)
    assert "sections[1].name: is the same name as sections[0].name ('members')" in str(caught.value)


@pytest.mark.parametrize(
    "name",
    [
        'Fay "Ffion" Ferris',
        "O'Brien, Seán",
        "Ζωή",
        "محمد",
        "李小龙",
        "Llŷr ap Gwilym",
        "Zoë #1 (the 'best')",
    ],
)
def test_printable_names_are_accepted(name: str) -> None:
    d = parse_definition(text(first=name))
    assert d.contests[0].candidate_names == (name, "Bo")


def test_names_are_kept_in_nfc() -> None:
    d = parse_definition(text(first="Sea\u0301n"))
    assert d.contests[0].candidate_names[0] == "Se\u00e1n"
    assert unicodedata.is_normalized("NFC", d.contests[0].candidate_names[0])


def test_records_built_in_code_check_themselves() -> None:
    with pytest.raises(ConfigError, match="U\\+000A"):
        Candidate("Ann\nSmith")
    with pytest.raises(ConfigError, match="Form C"):
        Candidate("Sea\u0301n")


def test_the_rules_by_themselves() -> None:
    assert name_problem("Ann") is None
    assert name_problem(" Ann") == "must not begin or end with spaces"
    assert look_alikes(["Ann", "Bo", "ANN", "B0", "Cy"]) == [(2, 0), (3, 1)]
    assert look_alikes(["Sean", "Seán", "rn", "m", "Tony", "Rony"]) == []
