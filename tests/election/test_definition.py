"""The election definition: the bundled 2016 example, each kind of problem, many at once."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import pytest

from tallyroom.count.constraints import SeatConstraint
from tallyroom.election import (
    Candidate,
    Contest,
    Cutoff,
    ElectionDefinition,
    GroupConstraint,
    Rounding,
    ShareThreshold,
    Timetable,
    Turnout,
    TurnoutBasis,
    load_definition,
    load_example,
    parse_definition,
    read_exclusion_list,
)
from tallyroom.errors import ConfigError

EXAMPLE = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
TEXT = EXAMPLE.read_text(encoding="utf-8")
BST = timezone(timedelta(hours=1))

MINIMAL = """
[election]
name = "Committee 2026"

[timetable]
nominations_open = 2026-01-05T09:00:00Z
nominations_close = 2026-01-12T17:00:00Z
ballot_open = 2026-02-01T09:00:00Z
ballot_close = 2026-02-15T12:00:00Z

[[sections]]
name = "members"

[[contests]]
name = "chair"
rule = "irv"

[[contests.candidates]]
name = "A"

[[contests.candidates]]
name = "B"
"""


def edited(old: str, new: str, text: str = TEXT) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def problem_of(text: str, tmp_path: Path | None = None) -> ConfigError:
    path = (tmp_path / "election.toml") if tmp_path else None
    if path is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        if path is not None:
            load_definition(path)
        else:
            parse_definition(text)
    return info.value


# -- the 2016 example -------------------------------------------------------------------------


def test_the_2016_example_loads_with_the_published_rules() -> None:
    d = load_definition(EXAMPLE)
    assert d == dataclasses.replace(load_example("labour-2016"), source=EXAMPLE)
    assert d.name == "Labour Party leadership election 2016"
    assert d.timezone == "Europe/London"
    # NOTES.md section 1: return by 12:00 Wed 21 Sep 2016; result on 24 Sep
    assert d.timetable.ballot_close == datetime(2016, 9, 21, 12, tzinfo=BST)
    assert d.timetable.declaration == date(2016, 9, 24)
    assert [s.name for s in d.sections] == ["members", "registered", "affiliated"]
    assert [s.label for s in d.sections][1] == "Registered supporters"

    leader = d.contest("leader")
    assert (leader.rule, leader.seats) == ("irv", 1)
    assert leader.candidate_names == ("Jeremy Corbyn", "Owen Smith")
    assert leader.incumbents == ("Jeremy Corbyn",)
    assert leader.sections == ("members", "registered", "affiliated")
    rule = leader.nominations
    assert rule is not None
    assert rule.threshold == ShareThreshold(Decimal("20"), Rounding.UP)
    assert (rule.body_size, rule.required, rule.incumbent_automatic) == (251, 51, True)
    assert leader.previous is not None
    assert leader.previous.share_of("Jeremy Corbyn") == Decimal("59.5")
    assert leader.previous.votes_of("Jeremy Corbyn") == 251417
    assert leader.previous.valid_votes == 422664

    el = d.eligibility
    assert el.precedence == ("members", "affiliated", "registered")
    members = el.rule("members")
    assert members.statuses == ("active",)
    assert members.registration is None
    # "joined on or before 12 January 2016": the whole day, London time (GMT in January)
    assert members.freeze == Cutoff(datetime(2016, 1, 13, tzinfo=UTC), inclusive=False)
    window = el.rule("registered").registration
    assert window is not None and window.closes is not None
    assert window.opens == datetime(2016, 7, 18, 17, tzinfo=BST)
    assert window.closes == Cutoff(datetime(2016, 7, 20, 17, tzinfo=BST), inclusive=True)
    affiliated = el.rule("affiliated")
    assert affiliated.registration is not None and affiliated.registration.closes is not None
    assert affiliated.registration.closes.at == datetime(2016, 8, 9, tzinfo=BST)


def test_the_2016_turnout_is_defined_as_published() -> None:
    # NOTES.md section 1: (506,438 + 1,042) / 654,006 = 77.596%, published as 77.6%
    d = load_example()
    assert d.turnout == Turnout(TurnoutBasis.RETURNED, 1)
    assert d.turnout.percent(valid=506438, spoilt=1042, electorate=654006) == Decimal("77.6")
    valid_only = Turnout(TurnoutBasis.VALID, 2)
    assert valid_only.percent(valid=506438, spoilt=1042, electorate=654006) == Decimal("77.44")


def test_a_minimal_definition_takes_the_documented_defaults() -> None:
    d = parse_definition(MINIMAL)
    assert d.organisation == ""
    assert d.timezone == "UTC"
    assert d.sections[0].label == "members"
    assert d.sections[0].min_published_size == 10
    assert d.sections[0].may_publish(10) and not d.sections[0].may_publish(9)
    chair = d.contest("chair")
    assert (chair.title, chair.seats, chair.nominations, chair.previous) == ("chair", 1, None, None)
    assert chair.sections == ("members",)
    assert d.eligibility.precedence == ("members",)
    assert d.eligibility.rule("members").statuses == ("active",)
    assert d.eligibility.rule("members").freeze is None
    assert d.turnout == Turnout()
    assert d.source is None


def test_a_top_level_nomination_rule_applies_to_contests_without_their_own() -> None:
    text = MINIMAL + '\n[nominations]\nbody = "Committee"\nbody_size = 12\nabsolute = 2\n'
    text += '\n[[contests]]\nname = "deputy"\nrule = "irv"\n[[contests.candidates]]\nname = "C"\n'
    text += '[contests.nominations]\nbody = "Committee"\nbody_size = 12\nshare = "25%"\n'
    text += 'rounding = "half-up"\n'
    d = parse_definition(text)
    chair, deputy = d.contest("chair").nominations, d.contest("deputy").nominations
    assert chair is not None and deputy is not None
    assert (chair.required, deputy.required) == (2, 3)


def test_dates_and_cutoffs_mean_what_the_keys_say() -> None:
    # 2015: "joined before 15:00 on 12 August 2015" is exclusive; a date "before" is midnight
    text = MINIMAL + (
        '\n[eligibility.sections.members]\njoined_before = "2015-08-12T15:00:00+01:00"\n'
    )
    freeze = parse_definition(text).eligibility.rule("members").freeze
    assert freeze == Cutoff(datetime(2015, 8, 12, 15, tzinfo=BST), inclusive=False)
    assert freeze.admits(datetime(2015, 8, 12, 13, 59, 59, tzinfo=UTC))
    assert not freeze.admits(datetime(2015, 8, 12, 14, tzinfo=UTC))
    text = MINIMAL + "\n[eligibility.sections.members]\njoined_before = 2015-08-12\n"
    freeze = parse_definition(text).eligibility.rule("members").freeze
    assert freeze == Cutoff(datetime(2015, 8, 12, tzinfo=UTC), inclusive=False)


def test_contests_give_the_engine_its_constraints() -> None:
    text = MINIMAL.replace('name = "A"', 'name = "A"\ngroups = ["women"]') + (
        '\n[[contests.constraints]]\ngroup = "women"\nminimum = 1\n'
    )
    chair = parse_definition(text).contest("chair")
    assert chair.constraints == (GroupConstraint("women", 1),)
    (sc,) = chair.seat_constraints()
    assert isinstance(sc, SeatConstraint)
    assert sc.group.members == frozenset({"A"})
    assert sc.minimum == 1 and sc.maximum is None


def test_records_check_themselves_when_built_in_code() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ConfigError, match="ballot_close: must be after ballot_open"):
        Timetable(t, t + timedelta(days=1), t + timedelta(days=2), t + timedelta(days=2))
    with pytest.raises(ConfigError, match="seats"):
        Contest("x", "x", "irv", 0, (Candidate("A"),), ("members",))
    with pytest.raises(ConfigError, match="give a minimum or a maximum"):
        GroupConstraint("women")


def test_an_exclusion_list_is_one_person_a_line(tmp_path: Path) -> None:
    listed = tmp_path / "excluded.txt"
    listed.write_text("# excluded by the NEC panel\nP001\n\n  P002  # duplicate sign-up\n")
    assert read_exclusion_list(listed) == frozenset({"P001", "P002"})
    d = load_definition_with(
        tmp_path, MINIMAL + '\n[eligibility]\nexclusion_list = "excluded.txt"\n'
    )
    assert d.eligibility.exclusion_list == listed.resolve()


def load_definition_with(tmp_path: Path, text: str) -> ElectionDefinition:
    path = tmp_path / "election.toml"
    path.write_text(text, encoding="utf-8")
    return load_definition(path)


# -- each kind of problem, named by its key with the value found ------------------------------

CASES = [
    # (change to the 2016 example, key path, value shown, words of the problem)
    (('name = "Labour Party leadership election 2016"\n', ""), "election.name", None,
     "is required"),
    (("seats = 1", "seats = 0"), "contests[0].seats", 0, "must be at least 1"),
    (("seats = 1", "seats = 2"), "contests[0].seats", 2, "elects one candidate"),
    (("seats = 1", 'seats = "one"'), "contests[0].seats", "one", "whole number"),
    (("seats = 1", "seat = 1"), "contests[0].seat", None, "unknown key"),
    (('rule = "irv"', 'rule = "instant-runoff"'), "contests[0].rule", "instant-runoff",
     "unknown rule"),
    (('timezone = "Europe/London"', 'timezone = "Europe/Londres"'), "election.timezone",
     "Europe/Londres", "unknown time zone"),
    (("ballot_close = 2016-09-21T12:00:00+01:00", "ballot_close = 2016-08-21T12:00:00+01:00"),
     "timetable.ballot_close", "2016-08-21T12:00:00+01:00", "must be after ballot_open"),
    (("ballot_open = 2016-08-22T00:00:00+01:00", "ballot_open = 2016-08-22T00:00:00"),
     "timetable.ballot_open", "2016-08-22T00:00:00", "needs a UTC offset"),
    (("declaration = 2016-09-24", "declaration = 2016-09-20"), "timetable.declaration",
     "2016-09-20", "must not be before ballot_close"),
    (('name = "Owen Smith"', 'name = "Jeremy Corbyn"'), "contests[0].candidates[1].name",
     "Jeremy Corbyn", "is already a candidate"),
    (("incumbent = true", 'incumbent = "yes"'), "contests[0].candidates[0].incumbent", "yes",
     "true or false"),
    (('share = "20%"', "share = 0.2"), "contests[0].nominations.share", 0.2,
     'written as text, such as "20%"'),
    (('share = "20%"', 'share = "120%"'), "contests[0].nominations.share", "120%",
     "percentage"),
    (('rounding = "up"', 'rounding = "ceiling"'), "contests[0].nominations.rounding", "ceiling",
     "must be one of 'up', 'down', 'half-up'"),
    (('rounding = "up"\n', ""), "contests[0].nominations.rounding", None, "is required"),
    (('share = "20%"', 'share = "20%"\nabsolute = 51'), "contests[0].nominations.absolute", 51,
     "not both"),
    (("body_size = 251", "body_size = 0"), "contests[0].nominations.body_size", 0,
     "must be at least 1"),
    (('share = "20%"\nrounding = "up"', "absolute = 300"), "contests[0].nominations.body_size",
     251, "the threshold (300) is more than the body has members"),
    (('"Jeremy Corbyn" = "59.5%"', '"Jeremy Corbyn" = "59,5%"'),
     'contests[0].previous.shares."Jeremy Corbyn"', "59,5%", "percentage"),
    (('precedence = ["members", "affiliated", "registered"]',
      'precedence = ["members", "affiliated"]'), "eligibility.precedence",
     ("members", "affiliated"), "must name each section once"),
    (("[eligibility.sections.affiliated]", "[eligibility.sections.affiliates]"),
     "eligibility.sections.affiliates", None, "is not a declared section"),
    (('statuses = ["active"]', "statuses = []"), "eligibility.statuses", [],
     "at least one status"),
    (("joined_on_or_before = 2016-01-12\n\n[eligibility.sections.registered]",
      "joined_on_or_before = 2016-01-12\njoined_before = 2016-01-13\n\n"
      "[eligibility.sections.registered]"),
     "eligibility.sections.members.joined_before", "2016-01-13", "not both"),
    (("registered_from = 2016-07-18T17:00:00+01:00", "registered_from = 2016-07-21T17:00:00+01:00"),
     "eligibility.sections.registered.registered_from", "2016-07-21T17:00:00+01:00",
     "is not before the registration closes"),
    (("registered_on_or_before = 2016-08-08", "registered_on_or_before = 2016-08-08T12:00:00"),
     "eligibility.sections.affiliated.registered_on_or_before", "2016-08-08T12:00:00",
     "needs a UTC offset"),
    (("# exclusion_list = ", "exclusion_list = "), "eligibility.exclusion_list",
     "labour-2016-excluded.txt", "no such file"),
    (('basis = "returned"', 'basis = "spoilt"'), "turnout.basis", "spoilt", "must be one of"),
    (('rule = "irv"', 'rule = "irv"\nsections = ["members", "trade unions"]'),
     "contests[0].sections", ["trade unions"], "names sections not declared"),
    (("min_published_size = 10\n\n[[sections]]\nname = \"registered\"",
      "min_published_size = -1\n\n[[sections]]\nname = \"registered\""),
     "sections[0].min_published_size", -1, "must be at least 0"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "key", "value", "words"), CASES, ids=[c[1] for c in CASES])
def test_each_problem_is_named_by_key_and_value(
    change: tuple[str, str], key: str, value: object, words: str, tmp_path: Path
) -> None:
    exc = problem_of(edited(*change), tmp_path)
    assert exc.field == key, str(exc)
    assert exc.value == value, str(exc)
    assert words in exc.problem
    assert str(exc).startswith(f"{tmp_path / 'election.toml'}: {key}: ")


def test_a_constraint_that_no_result_can_meet_is_refused() -> None:
    text = MINIMAL.replace('name = "A"', 'name = "A"\ngroups = ["women"]') + (
        '\n[[contests.constraints]]\ngroup = "women"\nminimum = 2\n'
    )
    exc = problem_of(text)
    assert exc.field == "contests[0].constraints"
    assert "cannot be met" in exc.problem


def test_a_section_named_twice_is_refused() -> None:
    exc = problem_of(edited('name = "affiliated"', 'name = "members"'))
    assert "\n  sections[2].name: is already a section (sections[0].name) ('members')" in str(exc)
    # the rules that named the lost section are reported too, by key
    assert "\n  eligibility.sections.affiliated: is not a declared section" in str(exc)


def test_a_toml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    exc = problem_of(edited("seats = 1", "seats == 1"), tmp_path)
    assert exc.line == TEXT.splitlines().index("seats = 1") + 1
    assert "not valid TOML" in exc.problem


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the definition"):
        load_definition(tmp_path / "nowhere.toml")


def test_many_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = TEXT
    for change in [
        ("seats = 1", "seats = 0"),
        ('rule = "irv"', 'rule = "borda"'),
        ("ballot_close = 2016-09-21T12:00:00+01:00", "ballot_close = 2016-08-01T12:00:00+01:00"),
        ('share = "20%"', "share = 0.2"),
        ('timezone = "Europe/London"', 'timezone = "Mars/Olympus"'),
        ('basis = "returned"', 'basis = "all"'),
        ('[[contests.candidates]]\nname = "Owen Smith"', '[[contests.candidates]]\nnam = "Smith"'),
    ]:
        text = edited(*change, text=text)
    exc = problem_of(text, tmp_path)
    assert exc.field is None
    message = str(exc)
    expected = [
        "election.timezone: unknown time zone",
        "timetable.ballot_close: must be after ballot_open ('2016-08-01T12:00:00+01:00')",
        "contests[0].candidates[1].name: is required",
        "contests[0].candidates[1].nam: unknown key",
        "contests[0].rule: unknown rule",
        "contests[0].seats: must be at least 1 (0)",
        "contests[0].nominations.share: must be a percentage",
        "turnout.basis: must be one of 'returned', 'valid' ('all')",
    ]
    for line in expected:
        assert f"\n  {line}" in message, message
    assert message.startswith(f"{tmp_path / 'election.toml'}: {len(expected)} problems")


# -- the documentation ------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "election-definition.md"
SOURCE = Path(str(files("tallyroom").joinpath("election", "reader.py")))


def test_the_documented_example_is_the_bundled_one() -> None:
    doc = DOC.read_text(encoding="utf-8")
    block = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    assert parse_definition(block) == dataclasses.replace(load_example(), source=None)
    assert block == TEXT


def test_every_key_the_reader_knows_is_documented() -> None:
    read = set(
        re.findall(
            r"\.(?:text|integer|flag|strings|choice|percent|when|instant|day|"
            r'table|tables)\(\s*"([a-z_]+)"',
            SOURCE.read_text(encoding="utf-8"),
        )
    )
    read |= {
        f"{stem}_{end}" for stem in ("joined", "registered") for end in ("on_or_before", "before")
    }
    assert len(read) > 40
    doc = DOC.read_text(encoding="utf-8")
    missing = sorted(
        k
        for k in read
        if f"`{k}`" not in doc
        and f"[{k}]" not in doc
        and f"[[{k}]]" not in doc
        and f".{k}]" not in doc
    )
    assert missing == []
