"""Secrecy by subtraction: no combination of a declaration's published figures gives a
withheld section's votes.

The attack: the contest's row minus every published section's row is the withheld
sections' votes added together. With one small section withheld, that is its vote exactly.
Each test here counts a contest through the declaration's own code (``counting._contest``),
subtracts, and checks that what it recovers is never one section's figures, nor a group
smaller than a section may be published on its own.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.election import ElectionDefinition, parse_definition
from tallyroom.report.declaration import ContestDeclaration, withheld_sections
from tallyroom.services.counting import _contest

SECTIONS = ("a", "b", "c", "d")


def definition(minimum: int = 10) -> ElectionDefinition:
    sections = "".join(
        f'[[sections]]\nname = "{s}"\nmin_published_size = {minimum}\n\n' for s in SECTIONS
    )
    return parse_definition(
        '[election]\nname = "Board"\n\n[timetable]\n'
        "nominations_open = 2026-01-05T09:00:00Z\nnominations_close = 2026-01-12T17:00:00Z\n"
        "ballot_open = 2026-02-01T09:00:00Z\nballot_close = 2026-02-15T12:00:00Z\n\n"
        + sections
        + '[[contests]]\nname = "chair"\nrule = "plurality"\n\n'
        '[[contests.candidates]]\nname = "Ann"\n\n[[contests.candidates]]\nname = "Bo"\n'
    )


def declare(layout: dict[str, tuple[int, int]], minimum: int = 10) -> ContestDeclaration:
    """A contest whose section ``s`` cast ``layout[s] = (for Ann, for Bo)`` ballots."""
    d = definition(minimum)
    opened: list[tuple[tuple[int, ...], str | None]] = []
    for section, (ann, bo) in layout.items():
        opened += [((0,), section)] * ann + [((1,), section)] * bo
    return _contest(d, d.contests[0], opened, Counter(), 0)


def recovered(c: ContestDeclaration) -> dict[str, int]:
    """What subtraction gives: the contest's votes less every published section's."""
    left = {r.name: r.votes for r in c.candidates}
    for s in c.sections:
        for r in s.candidates:
            left[r.name] -= r.votes
    return left


def check_secret(c: ContestDeclaration, layout: dict[str, tuple[int, int]], minimum: int) -> None:
    withheld = [s.name for s in c.sections if not s.published]
    for s in c.sections:  # a small section is never published
        assert s.published == (s.name not in withheld)
        if sum(layout.get(s.name, (0, 0))) < minimum:
            assert not s.published
    left = recovered(c)
    voiced = [s for s in withheld if sum(layout.get(s, (0, 0))) > 0]
    if not voiced:
        return
    # what subtraction recovers is a group of at least two sections that cast ballots...
    assert len(voiced) >= 2 or len(withheld) == len(SECTIONS)
    # ...no single withheld section's figures...
    if len(voiced) >= 2:
        for s in voiced:
            assert (left["Ann"], left["Bo"]) != layout[s]
    # ...and at least as many ballots as a section must have to be published alone
    assert sum(left.values()) >= minimum or len(withheld) == len(SECTIONS)


def test_one_small_section_takes_the_next_smallest_with_it() -> None:
    layout = {"a": (40, 30), "b": (20, 15), "c": (3, 1), "d": (12, 9)}
    c = declare(layout)
    assert [s.published for s in c.sections] == [True, True, False, False]
    # the old declaration published d: the contest less a, b and d was c's vote, (3, 1)
    assert recovered(c) == {"Ann": 15, "Bo": 10}
    check_secret(c, layout, 10)


def test_two_small_sections_that_together_are_still_small() -> None:
    layout = {"a": (40, 30), "b": (2, 3), "c": (1, 2), "d": (30, 25)}
    c = declare(layout)
    # b and c together hold 8 ballots, fewer than 10: d goes too
    assert [s.published for s in c.sections] == [True, False, False, False]
    check_secret(c, layout, 10)


def test_two_small_sections_large_enough_together_stay_as_they_are() -> None:
    layout = {"a": (40, 30), "b": (5, 3), "c": (4, 4), "d": (30, 25)}
    c = declare(layout)
    assert [s.published for s in c.sections] == [True, False, False, True]
    check_secret(c, layout, 10)


def test_all_small_sections_give_totals_only() -> None:
    layout = {"a": (1, 2), "b": (3, 0), "c": (2, 2), "d": (0, 1)}
    c = declare(layout)
    assert not any(s.published for s in c.sections)
    assert {r.name: r.votes for r in c.candidates} == {"Ann": 6, "Bo": 5}


def test_a_section_with_no_ballots_reveals_nothing() -> None:
    layout = {"a": (40, 30), "b": (20, 15), "c": (0, 0), "d": (12, 9)}
    c = declare(layout)
    assert [s.published for s in c.sections] == [True, True, False, True]
    assert recovered(c) == {"Ann": 0, "Bo": 0}


def test_the_rule_by_itself() -> None:
    assert withheld_sections([50, 3, 20], [10, 10, 10]) == (False, True, True)
    assert withheld_sections([50, 30, 20], [10, 10, 10]) == (False, False, False)
    assert withheld_sections([5, 6], [10, 10]) == (True, True)
    assert withheld_sections([5, 6, 100], [10, 10, 10]) == (True, True, False)
    assert withheld_sections([5, 6, 100], [10, 12, 10]) == (True, True, True)  # 11 < 12
    assert withheld_sections([3, 0, 100], [0, 10, 0]) == (False, True, False)
    assert withheld_sections([], []) == ()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), min_size=4, max_size=4),
    st.integers(1, 20),
)
def test_subtraction_never_recovers_a_withheld_section(
    votes: list[tuple[int, int]], minimum: int
) -> None:
    layout = dict(zip(SECTIONS, votes, strict=True))
    check_secret(declare(layout, minimum), layout, minimum)
