"""Eligibility: every exclusion reason, precedence across sections, and properties of the whole.

The rules are those of the bundled 2016 definition (NOTES.md section 1): members joined on or
before 12 January 2016; registered supporters applied between 17:00 on 18 July and 17:00 on
20 July 2016; affiliated supporters joined their affiliate by 12 January and signed up by
8 August; precedence members > affiliated > registered; status "active".
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.election import (
    EligibilityRules,
    ExclusionReason,
    PersonId,
    RegisterEntry,
    assess_eligibility,
    load_example,
)
from tallyroom.errors import InputError

R = ExclusionReason
BST = timezone(timedelta(hours=1))
RULES = load_example().eligibility
BEFORE_FREEZE = datetime(2015, 9, 1, tzinfo=UTC)
AFTER_FREEZE = datetime(2016, 3, 1, tzinfo=UTC)
IN_WINDOW = datetime(2016, 7, 19, 10, tzinfo=BST)


def member(person: str, joined: datetime = BEFORE_FREEZE, **kw: Any) -> RegisterEntry:
    entry = RegisterEntry(PersonId(person), "members", f"L{person}", "active", joined, postal=True)
    return dataclasses.replace(entry, **kw)


def supporter(person: str, registered: datetime | None = IN_WINDOW, **kw: Any) -> RegisterEntry:
    entry = RegisterEntry(
        PersonId(person), "registered", f"S{person}", "active", registered=registered, email=True
    )
    return dataclasses.replace(entry, **kw)


def affiliate(
    person: str,
    joined: datetime | None = BEFORE_FREEZE,
    registered: datetime | None = datetime(2016, 8, 1, tzinfo=BST),
    **kw: Any,
) -> RegisterEntry:
    entry = RegisterEntry(
        PersonId(person), "affiliated", f"A{person}", "active", joined, registered
    )
    return dataclasses.replace(entry, **kw)


def reasons(
    entries: list[RegisterEntry], excluded: frozenset[PersonId] = frozenset()
) -> list[ExclusionReason | None]:
    result = assess_eligibility(entries, RULES, excluded)
    return [result.reason(i) for i in range(len(entries))]


# -- every reason -----------------------------------------------------------------------------


def test_every_exclusion_reason() -> None:
    entries = [
        member("ok"),
        member("banned"),
        member("lapsed", status="lapsed"),
        member("suspended", status="suspended"),
        affiliate("undated", joined=None),
        supporter("unregistered", registered=None),
        member("late", joined=AFTER_FREEZE),
        supporter("early", registered=datetime(2016, 7, 18, 16, 59, 59, tzinfo=BST)),
        affiliate("signed-late", registered=datetime(2016, 8, 9, tzinfo=BST)),
        member("twice", number="L2"),
        member("twice", number="L1"),
        member("both"),
        affiliate("both"),
    ]
    got = reasons(entries, frozenset({PersonId("banned")}))
    assert got == [
        None,
        R.ON_EXCLUSION_LIST,
        R.STATUS_NOT_ALLOWED,
        R.STATUS_NOT_ALLOWED,
        R.DATE_MISSING,
        R.DATE_MISSING,
        R.JOINED_AFTER_FREEZE,
        R.REGISTERED_OUTSIDE_WINDOW,
        R.REGISTERED_OUTSIDE_WINDOW,
        R.DUPLICATE_IN_SECTION,  # L2: the smaller membership number, L1, is kept
        None,
        None,
        R.DUPLICATE_IN_HIGHER_SECTION,
    ]
    assert {r for r in got if r is not None} == set(ExclusionReason)


def test_the_first_reason_in_test_order_is_the_one_given() -> None:
    # on the list, lapsed and late: the exclusion list comes first, then status, then dates
    entry = member("x", joined=AFTER_FREEZE, status="lapsed")
    assert reasons([entry], frozenset({PersonId("x")})) == [R.ON_EXCLUSION_LIST]
    assert reasons([entry]) == [R.STATUS_NOT_ALLOWED]
    assert [r.code for r in ExclusionReason] == list(range(1, 8))


@pytest.mark.parametrize(
    ("joined", "eligible"),
    [
        (datetime(2016, 1, 12, 23, 59, 59, 999999, tzinfo=UTC), True),  # GMT in January
        (datetime(2016, 1, 13, tzinfo=UTC), False),
        (datetime(2016, 1, 13, 0, 30, tzinfo=BST), True),  # 23:30 on the 12th, London
    ],
)
def test_the_freeze_date_is_the_whole_day_in_london(joined: datetime, eligible: bool) -> None:
    assert reasons([member("m", joined)]) == [None if eligible else R.JOINED_AFTER_FREEZE]


@pytest.mark.parametrize(
    ("registered", "eligible"),
    [
        (datetime(2016, 7, 18, 16, 59, 59, tzinfo=BST), False),
        (datetime(2016, 7, 18, 17, tzinfo=BST), True),
        (datetime(2016, 7, 20, 16, tzinfo=UTC), True),  # 17:00 BST: "to 17:00" includes it
        (datetime(2016, 7, 20, 17, 0, 1, tzinfo=BST), False),
    ],
)
def test_the_registration_window_is_48_hours(registered: datetime, eligible: bool) -> None:
    assert reasons([supporter("s", registered)]) == [
        None if eligible else R.REGISTERED_OUTSIDE_WINDOW
    ]


# -- precedence -------------------------------------------------------------------------------


def test_a_person_in_every_section_votes_once_as_a_member() -> None:
    entries = [supporter("p"), affiliate("p"), member("p")]
    result = assess_eligibility(entries, RULES)
    assert [result.reason(i) for i in range(3)] == [
        R.DUPLICATE_IN_HIGHER_SECTION,
        R.DUPLICATE_IN_HIGHER_SECTION,
        None,
    ]
    assert [(x.index, x.votes_in) for x in result.exclusions()] == [(0, "members"), (1, "members")]
    assert result.kept.tolist() == [2, 2, -1]


def test_affiliated_comes_before_registered() -> None:
    assert reasons([supporter("p"), affiliate("p")]) == [R.DUPLICATE_IN_HIGHER_SECTION, None]


def test_a_member_who_joined_after_the_freeze_votes_as_a_registered_supporter() -> None:
    # 2016: newer members could pay £25 in the window; precedence looks only at eligible entries
    entries = [member("new", joined=AFTER_FREEZE), supporter("new")]
    assert reasons(entries) == [R.JOINED_AFTER_FREEZE, None]


def test_precedence_follows_the_definition_not_the_section_order() -> None:
    rules = dataclasses.replace(RULES, precedence=("registered", "affiliated", "members"))
    result = assess_eligibility([member("p"), supporter("p")], rules)
    assert [result.reason(0), result.reason(1)] == [R.DUPLICATE_IN_HIGHER_SECTION, None]


# -- the summary ------------------------------------------------------------------------------


def test_the_summary_counts_by_section_and_reason() -> None:
    entries = [
        member("a"),
        member("b", joined=AFTER_FREEZE),
        member("c", status="lapsed"),
        supporter("a"),
        supporter("d"),
        supporter("e", registered=datetime(2016, 7, 21, tzinfo=BST)),
        affiliate("f"),
    ]
    result = assess_eligibility(entries, RULES)
    s = result.summary
    assert [r.section for r in s.rows] == ["members", "registered", "affiliated"]
    members, registered, affiliated = s.rows
    assert (members.on_register, members.eligible, members.excluded_total) == (3, 1, 2)
    assert members.count(R.JOINED_AFTER_FREEZE) == members.count(R.STATUS_NOT_ALLOWED) == 1
    assert (registered.on_register, registered.eligible) == (3, 1)
    assert registered.count(R.DUPLICATE_IN_HIGHER_SECTION) == 1
    assert registered.count(R.REGISTERED_OUTSIDE_WINDOW) == 1
    assert (affiliated.on_register, affiliated.eligible) == (1, 1)
    assert s.total.on_register == 7 and s.total.eligible == 3 == result.eligible_count
    assert s.row("registered") == registered
    table = s.render()
    assert table.splitlines()[0].split() == ["members", "registered", "affiliated", "total"]
    assert "joined after the freeze date" in table
    assert table.splitlines()[-1].split() == ["eligible", "1", "1", "1", "3"]
    assert [e.person for e in result.eligible()] == ["a", "d", "f"]


def test_an_empty_register() -> None:
    result = assess_eligibility([], RULES)
    assert len(result) == 0
    assert result.summary.total.on_register == 0
    assert list(result.exclusions()) == []


# -- refusals ---------------------------------------------------------------------------------


def test_a_section_the_definition_does_not_declare_is_refused() -> None:
    stray = dataclasses.replace(member("x"), section="young-labour")
    with pytest.raises(InputError, match=r"'young-labour' \(2 entries\)") as info:
        assess_eligibility([member("a"), stray, stray], RULES)
    assert info.value.value == ["young-labour"]


def test_register_dates_need_a_time_zone() -> None:
    with pytest.raises(InputError, match="joined: needs a time zone"):
        member("x", joined=datetime(2015, 1, 1))
    with pytest.raises(InputError, match="person id"):
        member("")


# -- properties -------------------------------------------------------------------------------

PEOPLE = st.sampled_from([PersonId(f"P{k}") for k in range(12)])
MOMENTS = st.sampled_from(
    [
        None,
        datetime(2015, 6, 1, tzinfo=UTC),
        datetime(2016, 1, 12, 23, 59, 59, tzinfo=UTC),
        datetime(2016, 1, 13, tzinfo=UTC),
        datetime(2016, 7, 18, 16, 59, 59, tzinfo=BST),
        datetime(2016, 7, 18, 17, tzinfo=BST),
        datetime(2016, 7, 20, 17, tzinfo=BST),
        datetime(2016, 7, 20, 17, 0, 1, tzinfo=BST),
        datetime(2016, 8, 8, 23, 59, tzinfo=BST),
        datetime(2016, 8, 9, tzinfo=BST),
    ]
)
ENTRIES = st.builds(
    RegisterEntry,
    person=PEOPLE,
    section=st.sampled_from(["members", "registered", "affiliated"]),
    number=st.sampled_from(["1", "2", "3"]),
    status=st.sampled_from(["active", "active", "lapsed"]),
    joined=MOMENTS,
    registered=MOMENTS,
    email=st.booleans(),
    postal=st.booleans(),
)
REGISTERS = st.lists(ENTRIES, max_size=40)
EXCLUDED = st.frozensets(PEOPLE, max_size=3)


def oracle(
    entries: list[RegisterEntry], rules: EligibilityRules, excluded: frozenset[PersonId]
) -> list[ExclusionReason | None]:
    """The rules written out plainly, one entry at a time: what the fast version must match."""
    out: list[ExclusionReason | None] = []
    for e in entries:
        r = rules.rule(e.section)
        reason = None
        if e.person in excluded:
            reason = R.ON_EXCLUSION_LIST
        elif e.status not in r.statuses:
            reason = R.STATUS_NOT_ALLOWED
        elif (r.freeze and e.joined is None) or (r.registration and e.registered is None):
            reason = R.DATE_MISSING
        elif r.freeze and e.joined and not r.freeze.admits(e.joined):
            reason = R.JOINED_AFTER_FREEZE
        elif r.registration and e.registered and not r.registration.admits(e.registered):
            reason = R.REGISTERED_OUTSIDE_WINDOW
        out.append(reason)
    rank = {name: k for k, name in enumerate(rules.precedence)}
    standing = [i for i, reason in enumerate(out) if reason is None]
    for i in standing:
        e = entries[i]
        rivals = [j for j in standing if entries[j].person == e.person]
        best = min(rivals, key=lambda j: (rank[entries[j].section], entries[j].number, j))
        if best != i:
            same = entries[best].section == e.section
            out[i] = R.DUPLICATE_IN_SECTION if same else R.DUPLICATE_IN_HIGHER_SECTION
    return out


@settings(max_examples=300, deadline=None)
@given(REGISTERS, EXCLUDED)
def test_the_fast_assessment_matches_the_rules_written_out(
    entries: list[RegisterEntry], excluded: frozenset[PersonId]
) -> None:
    result = assess_eligibility(entries, RULES, excluded)
    assert [result.reason(i) for i in range(len(entries))] == oracle(entries, RULES, excluded)


@settings(max_examples=200, deadline=None)
@given(REGISTERS, EXCLUDED)
def test_eligible_and_excluded_make_up_the_register(
    entries: list[RegisterEntry], excluded: frozenset[PersonId]
) -> None:
    result = assess_eligibility(entries, RULES, excluded)
    eligible = set(result.eligible_indices().tolist())
    dropped = {x.index for x in result.exclusions()}
    assert eligible.isdisjoint(dropped)
    assert eligible | dropped == set(range(len(entries)))
    assert result.eligible_count + result.excluded_count == len(entries)
    total = result.summary.total
    assert total.on_register == sum(r.on_register for r in result.summary.rows) == len(entries)
    assert total.excluded == tuple(Counter(x.reason for x in result.exclusions())[r] for r in R)
    # one vote per person, and nobody on the exclusion list has one
    voters = [entries[i].person for i in eligible]
    assert len(voters) == len(set(voters))
    assert excluded.isdisjoint(voters)
    # a duplicate points at the entry the same person votes through
    for x in result.exclusions():
        if x.reason in (R.DUPLICATE_IN_SECTION, R.DUPLICATE_IN_HIGHER_SECTION):
            kept = int(result.kept[x.index])
            assert result.is_eligible(kept) and entries[kept].person == x.entry.person


@settings(max_examples=150, deadline=None)
@given(REGISTERS, EXCLUDED, st.randoms(use_true_random=False))
def test_the_outcome_is_deterministic_and_ignores_register_order(
    entries: list[RegisterEntry], excluded: frozenset[PersonId], rnd: random.Random
) -> None:
    first = assess_eligibility(entries, RULES, excluded)
    again = assess_eligibility(list(entries), RULES, excluded)
    assert first.codes.tolist() == again.codes.tolist()
    assert first.kept.tolist() == again.kept.tolist()
    assert first.summary == again.summary
    # register order decides only between entries with the same person, section and number
    # (the first is kept): with those triples unique, order does not matter at all
    unique = list({(e.person, e.section, e.number): e for e in reversed(entries)}.values())
    base = assess_eligibility(unique, RULES, excluded)
    shuffled = unique[:]
    rnd.shuffle(shuffled)
    other = assess_eligibility(shuffled, RULES, excluded)
    before = Counter((e, base.reason(i)) for i, e in enumerate(unique))
    after = Counter((e, other.reason(i)) for i, e in enumerate(shuffled))
    assert before == after
    assert base.summary == other.summary


SCRIPT = """
import json, random
from datetime import datetime, timedelta, timezone
from tallyroom.election import PersonId, RegisterEntry, assess_eligibility, load_example
rng = random.Random(7)
t0 = datetime(2015, 6, 1, tzinfo=timezone.utc)
entries = [
    RegisterEntry(PersonId(f"P{rng.randrange(300)}"), rng.choice(["members", "registered",
        "affiliated"]), str(rng.randrange(5)), rng.choice(["active", "lapsed"]),
        t0 + timedelta(days=rng.randrange(500)), t0 + timedelta(days=rng.randrange(500)))
    for _ in range(2000)
]
r = assess_eligibility(entries, load_example().eligibility, {PersonId("P1"), PersonId("P2")})
print(json.dumps([r.codes.tolist(), r.kept.tolist()]))
"""


def test_the_same_across_hash_seeds() -> None:
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
    codes, _ = json.loads(outputs.pop())
    assert len(codes) == 2000 and 0 in codes
