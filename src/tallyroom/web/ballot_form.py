"""The booth's ballot form: each contest's fields, and the ballot read back from a post.

Field names use indexes, never candidate names (a name may hold any character):

* a single choice (``plurality``): radio buttons ``c<k>`` whose value is the candidate's index;
* a motion (``motion``): its question, how it is decided, and radio buttons ``c<k>`` whose
  value is the answer's index (``Yes``/``No`` or ``For``/``Against``/``Abstain``);
* a multi-seat choice (``block``, up to ``seats`` marks): checkboxes ``c<k>``;
* a ranked ballot (IRV and every STV rule): one number field ``c<k>r<j>`` per candidate
  ``j`` (1 = first preference). Without JavaScript these are plain numbered choices; the
  booth's script turns them into a list the voter reorders with buttons, and keeps the
  numbers in step, so the post is the same either way.

:func:`read_ballot` returns the ballot as the casting service takes it (contest -> names, best
first) and every problem found, each naming its contest, so the booth can show them all at
once. A contest with nothing marked is left out: the voter abstains in it.

A contest with seat constraints or ballot rules states them above its candidates
(:attr:`ContestForm.summary`: "Elect 3; at least 2 must be women.") and names each candidate's
constrained groups beside their name; casting refuses a ballot that breaks a ballot rule,
naming the rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from tallyroom.count.rules.registry import BallotKind, get_rule
from tallyroom.web.i18n import gettext as _
from tallyroom.web.i18n import ngettext

__all__ = [
    "BallotKind",
    "ContestForm",
    "ContestLike",
    "FormProblem",
    "Requirement",
    "contest_forms",
    "read_ballot",
    "requirement_bounds",
]


class ContestLike(Protocol):
    """What the booth needs of a contest (an election definition's ``Contest`` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def seats(self) -> int: ...
    @property
    def candidate_names(self) -> tuple[str, ...]: ...
    @property
    def candidate_groups(self) -> tuple[tuple[str, ...], ...]: ...
    @property
    def requirements(self) -> tuple[str, ...]: ...
    @property
    def question(self) -> str: ...
    @property
    def decided_by(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Requirement:
    """A seat constraint (``ballot`` false: "at least 2 must be women") or a ballot rule
    (``ballot`` true: "a valid ballot marks at least 1 women") as data, so that a page can
    word it in its own language (``templates/_requirements.html``)."""

    ballot: bool
    group: str
    low: int
    high: int | None


def requirement_bounds(contest: object) -> tuple[Requirement, ...]:
    """A contest's constraints, then its ballot rules (an election definition's ``Contest``:
    ``constraints`` with minimum/maximum, ``ballot_rules`` with at_least/at_most)."""
    seat = tuple(
        Requirement(False, c.group, c.minimum, c.maximum)
        for c in getattr(contest, "constraints", ())
    )
    ballot = tuple(
        Requirement(True, r.group, r.at_least, r.at_most)
        for r in getattr(contest, "ballot_rules", ())
    )
    return seat + ballot


@dataclass(frozen=True, slots=True)
class ContestForm:
    """One contest as the booth shows it."""

    index: int
    name: str
    title: str
    rule: str
    seats: int
    kind: BallotKind
    candidates: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...] = ()  # each candidate's constrained groups
    requirements: tuple[str, ...] = ()  # the constraints and ballot rules in words
    bounds: tuple[Requirement, ...] = ()  # the same as data, for the page's language
    question: str = ""  # a motion's question
    decided_by: str = ""  # how a motion is decided, in words

    @property
    def summary(self) -> str:
        """What is elected and under which constraints: "Elect 5; at least 2 must be
        women." (empty for a contest without constraints or ballot rules)."""
        if not self.requirements:
            return ""
        return f"Elect {self.seats}; " + "; ".join(self.requirements) + "."

    def label(self, candidate: int) -> str:
        """A candidate as the paper names them: with their groups when a constraint or a
        ballot rule names a group ("Di (women)")."""
        groups = self.groups[candidate] if candidate < len(self.groups) else ()
        name = self.candidates[candidate]
        return f"{name} ({', '.join(groups)})" if groups else name

    @property
    def how(self) -> dict[str, object]:
        """What ``templates/_how_to_vote.html`` needs to say how to mark this paper."""
        return {
            "kind": self.kind.value,
            "seats": self.seats,
            "max_marks": get_rule(self.rule).max_marks,
            "js": True,
        }

    @property
    def field(self) -> str:
        return f"c{self.index}"

    def rank_field(self, candidate: int) -> str:
        return f"c{self.index}r{candidate}"

    @property
    def instruction(self) -> str:
        if self.kind is BallotKind.SINGLE:
            return "Choose one candidate."
        if self.kind is BallotKind.CHOICE:
            return "Choose one answer."
        if self.kind is BallotKind.MULTI:
            return f"Choose up to {self.seats} candidates."
        limit = get_rule(self.rule).max_marks
        if limit is not None:  # e.g. the supplementary vote: a first and a second choice
            return (
                f"Number up to {limit} candidates in order of preference: 1 for your first "
                "choice, 2 for your second."
            )
        return (
            "Number the candidates in order of preference: 1 for your first choice, 2 for "
            "your second, and so on. Rank as many or as few as you like."
        )


@dataclass(frozen=True, slots=True)
class FormProblem:
    contest: str
    message: str


def _kind(rule: str) -> BallotKind:
    return get_rule(rule).ballot


def contest_forms(contests: Sequence[ContestLike]) -> list[ContestForm]:
    return [
        ContestForm(
            k,
            c.name,
            c.title or c.name,
            c.rule,
            c.seats,
            _kind(c.rule),
            tuple(c.candidate_names),
            tuple(c.candidate_groups),
            tuple(c.requirements),
            requirement_bounds(c),
            c.question,
            c.decided_by,
        )
        for k, c in enumerate(contests)
    ]


def _index(text: str, n: int) -> int | None:
    return int(text) if text.isdigit() and int(text) < n else None


def _read_ranked(
    form: ContestForm, data: Mapping[str, Sequence[str]]
) -> tuple[list[str], str | None]:
    numbered: list[tuple[int, str]] = []
    for j, name in enumerate(form.candidates):
        values = [v.strip() for v in data.get(form.rank_field(j), ()) if v.strip()]
        if not values:
            continue
        if not values[0].isdigit() or not 1 <= int(values[0]) <= len(form.candidates):
            return [], _("{value!r} is not a preference number from 1 to {n}").format(
                value=values[0], n=len(form.candidates)
            )
        numbered.append((int(values[0]), name))
    numbers = [n for n, _ in numbered]
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    if repeated:
        return [], _(
            "preference {numbers} is given to more than one candidate: give each number once"
        ).format(numbers=", ".join(map(str, repeated)))
    if numbered and sorted(numbers) != list(range(1, len(numbers) + 1)):
        return [], _("number your preferences 1, 2, 3... without gaps")
    limit = get_rule(form.rule).max_marks
    if limit is not None and len(numbered) > limit:
        return [], _("number at most {n} candidates").format(n=limit)
    return [name for _, name in sorted(numbered)], None


def read_ballot(
    forms: Sequence[ContestForm], data: Mapping[str, Sequence[str]]
) -> tuple[dict[str, list[str]], list[FormProblem]]:
    """The ballot posted (contest -> names, best first) and every problem with it."""
    ballot: dict[str, list[str]] = {}
    problems: list[FormProblem] = []
    for form in forms:
        n = len(form.candidates)
        if form.kind is BallotKind.RANKED:
            names, problem = _read_ranked(form, data)
        else:
            picked = [_index(v, n) for v in data.get(form.field, ())]
            problem = None
            what = "answer" if form.kind is BallotKind.CHOICE else "candidate"
            if any(p is None for p in picked):
                problem = (
                    _("that is not an answer on this ballot")
                    if what == "answer"
                    else _("that is not a candidate on this ballot")
                )
            limit = form.seats if form.kind is BallotKind.MULTI else 1
            if problem is None and len(set(picked)) > limit:
                if what == "answer":
                    problem = ngettext(
                        "choose at most {n} answer", "choose at most {n} answers", limit
                    ).format(n=limit)
                else:
                    problem = ngettext(
                        "choose at most {n} candidate", "choose at most {n} candidates", limit
                    ).format(n=limit)
            names = [form.candidates[p] for p in sorted({p for p in picked if p is not None})]
        if problem is not None:
            problems.append(FormProblem(form.title, problem))
        elif names:
            ballot[form.name] = names
    if not ballot and not problems:
        problems.append(
            FormProblem("", _("mark at least one contest before you review your ballot"))
        )
    return ballot, problems
