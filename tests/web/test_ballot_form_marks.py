"""The booth's ranked form under a rule whose paper has fewer places than candidates (the
supplementary vote: two): the instruction says so, and a third number is refused."""

from __future__ import annotations

from dataclasses import dataclass

from tallyroom.web.ballot_form import ContestForm, contest_forms, read_ballot


@dataclass(frozen=True)
class _Contest:
    name: str
    title: str
    rule: str
    seats: int
    candidate_names: tuple[str, ...]
    candidate_groups: tuple[tuple[str, ...], ...] = ()
    requirements: tuple[str, ...] = ()
    question: str = ""
    decided_by: str = ""


def _form(rule: str) -> list[ContestForm]:
    return contest_forms([_Contest("mayor", "Mayor", rule, 1, ("Ann", "Bob", "Cy"))])


def test_the_instruction_names_the_two_places() -> None:
    assert "up to 2 candidates" in _form("supplementary-vote")[0].instruction
    assert "as many or as few" in _form("irv")[0].instruction


def test_a_third_preference_is_refused_and_two_are_read() -> None:
    forms = _form("supplementary-vote")
    three = {"c0r0": ["1"], "c0r1": ["2"], "c0r2": ["3"]}
    ballot, problems = read_ballot(forms, three)
    assert not ballot and problems[0].message == "number at most 2 candidates"
    ballot, problems = read_ballot(forms, {"c0r0": ["2"], "c0r2": ["1"]})
    assert ballot == {"mayor": ["Cy", "Ann"]} and not problems
    ballot, problems = read_ballot(_form("irv"), three)
    assert ballot == {"mayor": ["Ann", "Bob", "Cy"]} and not problems
