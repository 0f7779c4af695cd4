"""An election definition: the readable TOML file that says what is elected, by whom and when.

:func:`load_definition` reads the file with the standard library's ``tomllib`` and checks all
of it before building anything. When something is wrong it raises **one**
:class:`~tallyroom.errors.ConfigError` listing every problem as ``key.path: problem (value)``,
e.g. ``contests[0].seats: must be at least 1 (0)``. Every key, its meaning and its default are
in ``docs/election-definition.md``; ``tallyroom/examples/labour-2016.toml`` describes Labour's
2016 leadership ballot.

Tables of the file and the records they become:

* ``[election]`` -> :class:`ElectionDefinition` (name, organisation, time zone);
* ``[timetable]`` -> :class:`Timetable` (instants with a UTC offset);
* ``[[sections]]`` -> :class:`Section`;
* ``[[contests]]`` -> :class:`Contest`: candidates, seat constraints
  (:class:`GroupConstraint`), ballot rules (:class:`BallotRequirement`), an electoral
  college (:class:`College`), a motion (:class:`~tallyroom.election.motion.Motion`: the
  question, its answers, its threshold and quorum, and its unit groups), the nomination rule
  (:class:`~tallyroom.election.nominations.NominationRule`) and a previous contest to compare
  with. These sit inside their contest so that a leader and a deputy can each have their own;
* ``[nominations]`` -> the nomination rule of each contest that does not give its own;
* ``[eligibility]`` -> :class:`~tallyroom.election.eligibility.EligibilityRules`; a calendar
  date there means the whole day in the election's time zone;
* ``[turnout]`` -> :class:`Turnout`;
* ``[weights]`` -> :class:`~tallyroom.election.weights.Weights` (the register's weight
  column; each contest's ``weighted``);
* ``[verifiable]`` -> :class:`~tallyroom.election.verifiable.Verifiable` (the trustees, their
  threshold and the mixers; without it the election takes the sealed path).

The records check themselves on construction, so one built in code is as sound as one read
from a file; the reader runs the same checks first, so that it can report them all at once.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tallyroom.count.ballots import CandidateTable
from tallyroom.count.constraints import BallotRule, Group, SeatConstraint, SeatPlan
from tallyroom.count.rules.registry import RULES, BallotKind, Rule
from tallyroom.election.eligibility import EligibilityRules
from tallyroom.election.motion import Motion, motion_problems
from tallyroom.election.names import look_alikes, name_problem
from tallyroom.election.nominations import (
    NominationBook,
    NominationRule,
    NominatorId,
    open_nominations,
)
from tallyroom.election.verifiable import Verifiable, verifiable_problems
from tallyroom.election.weights import Weights, weight_problems
from tallyroom.errors import ConfigError

__all__ = [
    "DEFAULT_MIN_PUBLISHED_SIZE",
    "DEFAULT_STATUSES",
    "BallotRequirement",
    "Candidate",
    "College",
    "Contest",
    "ElectionDefinition",
    "GroupConstraint",
    "PreviousContest",
    "Problem",
    "Section",
    "Timetable",
    "Turnout",
    "TurnoutBasis",
]

DEFAULT_MIN_PUBLISHED_SIZE = 10
DEFAULT_STATUSES = ("active",)

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a definition: where (a key path), what, and the value found."""

    key: str
    problem: str
    value: object = None

    def __str__(self) -> str:
        shown = f" ({self.value!r})" if self.value is not None else ""
        return f"{self.key}: {self.problem}{shown}"


def _error(problems: list[Problem], path: Path | None = None) -> ConfigError:
    """One ConfigError for ``problems``, with field and value set when there is just one."""
    where = str(path) if path is not None else None
    if len(problems) == 1:
        p = problems[0]
        return ConfigError(p.problem, path=where, field=p.key, value=p.value)
    lines = "\n".join(f"  {p}" for p in problems)
    return ConfigError(f"{len(problems)} problems in the election definition:\n{lines}", path=where)


def _guard(obj: Any, check: Callable[..., list[Problem]]) -> None:
    """Run ``check`` over a record's fields; raise every problem it finds."""
    found = check(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})
    if found:
        raise _error(found)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix and key else prefix or key


# -- records ----------------------------------------------------------------------------------


def _check_timetable(
    nominations_open: datetime,
    nominations_close: datetime,
    ballot_open: datetime,
    ballot_close: datetime,
    declaration: date | None,
) -> list[Problem]:
    steps = [
        ("nominations_open", nominations_open),
        ("nominations_close", nominations_close),
        ("ballot_open", ballot_open),
        ("ballot_close", ballot_close),
    ]
    naive = [(k, v) for k, v in steps if v.utcoffset() is None]
    out = [Problem(k, "needs a UTC offset", v.isoformat()) for k, v in naive]
    if out:
        return out
    # each period ends after it starts; the ballot opens no earlier than nominations close
    for (k0, v0), (k1, v1) in itertools.pairwise(steps):
        if k1 == "ballot_open" and v1 < v0:
            out.append(Problem(k1, f"must not be before {k0}", v1.isoformat()))
        elif k1 != "ballot_open" and v1 <= v0:
            out.append(Problem(k1, f"must be after {k0}", v1.isoformat()))
    if declaration is not None and declaration < ballot_close.date():
        out.append(
            Problem("declaration", "must not be before ballot_close", declaration.isoformat())
        )
    return out


@dataclass(frozen=True, slots=True)
class Timetable:
    """When nominations and the ballot open and close (instants), and the declaration day."""

    nominations_open: datetime
    nominations_close: datetime
    ballot_open: datetime
    ballot_close: datetime
    declaration: date | None = None

    def __post_init__(self) -> None:
        _guard(self, _check_timetable)


@dataclass(frozen=True, slots=True)
class Section:
    """A part of the electorate. Figures for fewer voters than ``min_published_size`` are not
    published on their own, so that nobody's vote can be inferred from a breakdown."""

    name: str
    label: str
    min_published_size: int = DEFAULT_MIN_PUBLISHED_SIZE

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigError("must not be empty", field="name", value=self.name)
        bad = name_problem(self.name)
        if bad is not None:
            raise ConfigError(bad, field="name", value=self.name)
        if self.min_published_size < 0:
            raise ConfigError(
                "must not be negative", field="min_published_size", value=self.min_published_size
            )

    def may_publish(self, count: int) -> bool:
        return count >= self.min_published_size


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate in ballot order; ``groups`` names the groups constraints refer to."""

    name: str
    incumbent: bool = False
    groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigError("a candidate needs a name", field="name", value=self.name)
        bad = name_problem(self.name)
        if bad is not None:
            raise ConfigError(bad, field="name", value=self.name)


@dataclass(frozen=True, slots=True)
class GroupConstraint:
    """At least ``minimum`` and at most ``maximum`` of the seats to candidates in ``group``."""

    group: str
    minimum: int = 0
    maximum: int | None = None

    def __post_init__(self) -> None:
        if not self.group.strip():
            raise ConfigError("a constraint needs a group", field="group", value=self.group)
        if self.minimum < 0:
            raise ConfigError("must not be negative", field="minimum", value=self.minimum)
        if self.maximum is not None and self.maximum < self.minimum:
            raise ConfigError("is below the minimum", field="maximum", value=self.maximum)
        if self.minimum == 0 and self.maximum is None:
            raise ConfigError("give a minimum or a maximum", field="minimum", value=0)

    def describe(self) -> str:
        """The constraint in words, as the ballot paper states it."""
        verb = "may" if self.minimum == 0 else "must"
        return f"{_bounds(self.minimum, self.maximum)} {verb} be {self.group}"


@dataclass(frozen=True, slots=True)
class BallotRequirement:
    """A ballot is valid only if it marks at least ``at_least`` (and at most ``at_most``)
    candidates of ``group``: Labour's 2010 Shadow Cabinet rule, "a ballot is valid only if it
    includes votes for at least six women and at least six men"."""

    group: str
    at_least: int = 0
    at_most: int | None = None

    def __post_init__(self) -> None:
        if not self.group.strip():
            raise ConfigError("a ballot rule needs a group", field="group", value=self.group)
        if self.at_least < 0:
            raise ConfigError("must not be negative", field="at_least", value=self.at_least)
        if self.at_most is not None and self.at_most < self.at_least:
            raise ConfigError("is below at_least", field="at_most", value=self.at_most)
        if self.at_least == 0 and self.at_most is None:
            raise ConfigError("give at_least or at_most", field="at_least", value=0)

    def describe(self) -> str:
        """The rule in words, as the ballot paper states it."""
        return f"a valid ballot marks {_bounds(self.at_least, self.at_most)} {self.group}"


@dataclass(frozen=True, slots=True)
class College:
    """The contest is counted as an electoral college: each section's ballots counted apart,
    a candidate's share the sum of the sections' shares times their ``weights`` (exact
    fractions adding up to 1), under the alternative vote
    (:mod:`tallyroom.count.rules.college`). ``display_places``: the shares as published."""

    weights: tuple[tuple[str, Fraction], ...]
    display_places: int = 3

    def __post_init__(self) -> None:
        if not self.weights:
            raise ConfigError("a college needs its sections' weights", field="weights", value=0)
        bad = [(n, str(w)) for n, w in self.weights if w <= 0]
        if bad:
            raise ConfigError("a section's weight must be above 0", field="weights", value=bad)
        total = sum((w for _, w in self.weights), Fraction(0))
        if total != 1:
            raise ConfigError(
                f"the weights must add up to 1, not {total}", field="weights", value=str(total)
            )
        if not 0 <= self.display_places <= 12:
            raise ConfigError("must be 0 to 12", field="display_places", value=self.display_places)

    @property
    def sections(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.weights)


@dataclass(frozen=True, slots=True)
class PreviousContest:
    """A past contest to set the result beside, its figures exactly as published.

    Shares and turnout are percentages (``Decimal("59.5")`` for 59.5%).
    """

    name: str
    held: date | None = None
    shares: tuple[tuple[str, Decimal], ...] = ()
    votes: tuple[tuple[str, int], ...] = ()
    valid_votes: int | None = None
    turnout: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigError("a previous contest needs a name", field="name", value=self.name)

    def share_of(self, candidate: str) -> Decimal | None:
        return dict(self.shares).get(candidate)

    def votes_of(self, candidate: str) -> int | None:
        return dict(self.votes).get(candidate)


def _check_contest(
    name: str,
    title: str,
    rule: str,
    seats: int,
    candidates: tuple[Candidate, ...],
    sections: tuple[str, ...],
    constraints: tuple[GroupConstraint, ...],
    nominations: NominationRule | None,
    previous: PreviousContest | None,
    ballot_rules: tuple[BallotRequirement, ...] = (),
    college: College | None = None,
    weighted: bool | None = None,  # checked with the election's [weights] (.weights)
    motion: Motion | None = None,
) -> list[Problem]:
    out = []
    given = (("constraints", constraints), ("ballot_rules", ballot_rules), ("college", college))
    out += [
        Problem(key, problem, value)
        for key, problem, value in motion_problems(
            motion,
            rule,
            tuple(c.name for c in candidates),
            sections,
            others=tuple(k for k, v in given if v)
            + (("nominations",) if nominations is not None else ()),
        )
    ]
    if not name.strip():
        out.append(Problem("name", "must not be empty", name))
    elif (bad := name_problem(name)) is not None:
        out.append(Problem("name", bad, name))
    known = RULES.get(rule)
    if known is None:
        out.append(Problem("rule", f"unknown rule; known rules: {', '.join(sorted(RULES))}", rule))
    if seats < 1:
        out.append(Problem("seats", "must be at least 1", seats))
    elif known is not None and not known.multi_seat and seats != 1:
        out.append(Problem("seats", f"rule {rule!r} elects one candidate", seats))
    names = [c.name for c in candidates]
    if not names:
        out.append(Problem("candidates", "at least one candidate is needed"))
    elif seats > len(names) and nominations is None:
        # with nominations, the declared list may shrink below the seats: the close decides
        out.append(
            Problem("seats", f"more seats than candidates ({len(names)} candidate(s))", seats)
        )
    out += _same_names(names, "candidates[{}].name", "candidate")
    if not sections:
        out.append(Problem("sections", "at least one section must vote"))
    groups = [c.group for c in constraints]
    out += [
        Problem(f"constraints[{k}].group", "has a constraint already; give both bounds in one", g)
        for k, g in enumerate(groups)
        if g in groups[:k]
    ]
    if known is not None and not known.constrainable and (constraints or ballot_rules):
        able = ", ".join(r.name for r in RULES.values() if r.constrainable)
        key = "constraints" if constraints else "ballot_rules"
        out.append(Problem(key, f"rule {rule!r} cannot apply them (rules that can: {able})", rule))
    out += _ballot_rule_problems(candidates, ballot_rules, known, seats)
    if college is not None:
        out += _college_problems(college, rule, seats, sections, constraints, ballot_rules)
    if constraints and not out:
        try:  # can the constraints be met by the candidates declared?
            plan = _seat_constraints(candidates, constraints)
            SeatPlan.build(CandidateTable(tuple(names)), seats, plan)
        except ConfigError as exc:
            out.append(Problem("constraints", exc.problem, exc.value))
    return out


def _ballot_rule_problems(
    candidates: tuple[Candidate, ...],
    rules: tuple[BallotRequirement, ...],
    known: Rule | None,
    seats: int,
) -> list[Problem]:
    """Each rule names a group some candidate is in, once, and a ballot can meet it."""
    out = []
    seen: list[str] = []
    limit = known.ballot.mark_limit(seats, len(candidates)) if known is not None else None
    for k, r in enumerate(rules):
        key = f"ballot_rules[{k}]"
        members = sum(1 for c in candidates if r.group in c.groups)
        if r.group in seen:
            out.append(Problem(f"{key}.group", "has a ballot rule already", r.group))
        elif not members:
            out.append(Problem(f"{key}.group", "no candidate is in this group", r.group))
        elif r.at_least > members:
            out.append(
                Problem(f"{key}.at_least", f"the group has only {members} candidate(s)", r.at_least)
            )
        elif limit is not None and r.at_least > limit:
            out.append(
                Problem(
                    f"{key}.at_least", f"a ballot may mark only {limit} candidate(s)", r.at_least
                )
            )
        seen.append(r.group)
    return out


def _college_problems(
    college: College,
    rule: str,
    seats: int,
    sections: tuple[str, ...],
    constraints: tuple[GroupConstraint, ...],
    ballot_rules: tuple[BallotRequirement, ...],
) -> list[Problem]:
    """A college counts the alternative vote (a ranked rule, one seat) over exactly the
    sections that vote in the contest; it takes no seat constraints or ballot rules."""
    out = []
    known = RULES.get(rule)
    if known is not None and (known.ballot is not BallotKind.RANKED or known.multi_seat):
        out.append(Problem("rule", "an electoral college counts the alternative vote: irv", rule))
    if seats != 1:
        out.append(Problem("seats", "an electoral college elects one candidate", seats))
    if sorted(college.sections) != sorted(sections):
        out.append(
            Problem(
                "college.weights",
                f"must weigh exactly the contest's sections {list(sections)}",
                list(college.sections),
            )
        )
    if constraints or ballot_rules:
        key = "constraints" if constraints else "ballot_rules"
        out.append(Problem(key, "an electoral college count cannot apply them", "college"))
    return out


def _seat_constraints(
    candidates: tuple[Candidate, ...], constraints: tuple[GroupConstraint, ...]
) -> tuple[SeatConstraint, ...]:
    def members(group: str) -> frozenset[str]:
        return frozenset(c.name for c in candidates if group in c.groups)

    return tuple(
        SeatConstraint(Group(gc.group, members(gc.group)), gc.minimum, gc.maximum)
        for gc in constraints
    )


@dataclass(frozen=True, slots=True)
class Contest:
    """One thing elected: the counting rule (a name in ``tallyroom.count.rules.registry``),
    seats, candidates in ballot order, the sections that vote, constraints and nominations."""

    name: str
    title: str
    rule: str
    seats: int
    candidates: tuple[Candidate, ...]
    sections: tuple[str, ...]
    constraints: tuple[GroupConstraint, ...] = ()
    nominations: NominationRule | None = None
    previous: PreviousContest | None = None
    ballot_rules: tuple[BallotRequirement, ...] = ()
    college: College | None = None
    weighted: bool | None = None  # None: weighted when the election declares [weights]
    motion: Motion | None = None  # the contest is a motion (rule "motion")

    def __post_init__(self) -> None:
        _guard(self, _check_contest)

    @property
    def candidate_groups(self) -> tuple[tuple[str, ...], ...]:
        """Each candidate's constrained groups (those a constraint or ballot rule names), in
        ballot order: what the ballot paper shows beside a name."""
        named = {c.group for c in self.constraints} | {r.group for r in self.ballot_rules}
        return tuple(tuple(g for g in c.groups if g in named) for c in self.candidates)

    @property
    def requirements(self) -> tuple[str, ...]:
        """The constraints and ballot rules in words, as the ballot paper states them:
        ``("at least 2 must be women",)``."""
        return tuple(c.describe() for c in self.constraints) + tuple(
            r.describe() for r in self.ballot_rules
        )

    @property
    def candidate_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.candidates)

    @property
    def question(self) -> str:
        """A motion's question ("" for any other contest)."""
        return "" if self.motion is None else self.motion.question

    @property
    def decided_by(self) -> str:
        """How a motion is decided, in words ("" for any other contest)."""
        return "" if self.motion is None else self.motion.describe()

    @property
    def incumbents(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.candidates if c.incumbent)

    def seat_constraints(self) -> tuple[SeatConstraint, ...]:
        """The constraints as the counting engine takes them (``tallyroom.count.constraints``)."""
        return _seat_constraints(self.candidates, self.constraints)

    def count_ballot_rules(self) -> tuple[BallotRule, ...]:
        """The ballot rules as the counting engine takes them (``tallyroom.count.constraints``)."""
        return tuple(
            BallotRule(
                Group(r.group, frozenset(c.name for c in self.candidates if r.group in c.groups)),
                r.at_least,
                r.at_most,
            )
            for r in self.ballot_rules
        )


def _bounds(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low}"
    if low == 0:
        return f"at most {high}"
    return f"at least {low} and at most {high}"


class TurnoutBasis(enum.Enum):
    """What turnout counts, over the electorate."""

    RETURNED = "returned"  # every ballot returned, spoilt ones too: Labour's 77.6% in 2016
    VALID = "valid"  # valid votes only


@dataclass(frozen=True, slots=True)
class Turnout:
    """How turnout is defined and shown (a percentage rounded half up to ``decimal_places``)."""

    basis: TurnoutBasis = TurnoutBasis.RETURNED
    decimal_places: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.decimal_places <= 6:
            raise ConfigError("must be 0 to 6", field="decimal_places", value=self.decimal_places)

    def fraction(self, *, valid: int, spoilt: int, electorate: int) -> Fraction:
        if electorate <= 0:
            raise ConfigError("must be positive", field="electorate", value=electorate)
        return Fraction(
            valid + spoilt if self.basis is TurnoutBasis.RETURNED else valid, electorate
        )

    def percent(self, *, valid: int, spoilt: int, electorate: int) -> Decimal:
        f = self.fraction(valid=valid, spoilt=spoilt, electorate=electorate) * 100
        exact = Decimal(f.numerator) / Decimal(f.denominator)  # 28 digits, then rounded once
        return exact.quantize(Decimal(1).scaleb(-self.decimal_places), rounding=ROUND_HALF_UP)


def _same_names(names: list[str], key: str, what: str) -> list[Problem]:
    """A name that is the same name as an earlier one (:mod:`.names`), naming both."""
    out = []
    for k, j in look_alikes(names):
        if names[k] == names[j]:
            problem = f"is already a {what} ({key.format(j)})"
        else:
            problem = (
                f"is the same name as {key.format(j)} ({names[j]!r}): names must differ by "
                "more than case, Unicode normalisation or look-alike letters"
            )
        out.append(Problem(key.format(k), problem, names[k]))
    return out


def _cross_problems(snames: list[str], contests: tuple[Contest, ...]) -> list[Problem]:
    """Sections and contests are named once; a contest's voters are declared sections."""
    out = _same_names(snames, "sections[{}].name", "section")
    out += _same_names([c.name for c in contests], "contests[{}].name", "contest")
    for k, c in enumerate(contests):
        strangers = [s for s in c.sections if s not in snames]
        if strangers:
            out.append(Problem(f"contests[{k}].sections", "names sections not declared", strangers))
    return out


@dataclass(frozen=True, slots=True)
class ElectionDefinition:
    """Everything an election is (see the module docstring); read with :func:`load_definition`.

    ``timezone`` is an IANA name; ``source`` the file the definition was read from.
    """

    name: str
    organisation: str
    timezone: str
    timetable: Timetable
    sections: tuple[Section, ...]
    contests: tuple[Contest, ...]
    eligibility: EligibilityRules
    turnout: Turnout = Turnout()
    source: Path | None = None
    weights: Weights | None = None
    verifiable: Verifiable | None = None  # None: the sealed path

    def __post_init__(self) -> None:
        found = _cross_problems([s.name for s in self.sections], self.contests)
        found += [Problem(*p) for p in weight_problems(self.weights, self.contests)]
        found += [Problem(*p) for p in verifiable_problems(self.verifiable, self.contests)]
        for key, present in (("sections", self.sections), ("contests", self.contests)):
            if not present:
                found.append(Problem(key, "at least one is needed"))
        if not self.name.strip():
            found.append(Problem("election.name", "must not be empty", self.name))
        if _zone(self.timezone) is None:
            found.append(Problem("election.timezone", "unknown time zone", self.timezone))
        if sorted(self.eligibility.section_names) != sorted(s.name for s in self.sections):
            names = list(self.eligibility.section_names)
            found.append(Problem("eligibility", "needs one rule for each section", names))
        if found:
            raise _error(found)

    def section(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise ConfigError("no such section", field="section", value=name)

    def contest(self, name: str) -> Contest:
        for c in self.contests:
            if c.name == name:
                return c
        raise ConfigError("no such contest", field="contest", value=name)

    def weight_places(self, contest: Contest) -> int | None:
        """The decimal places of the weights ``contest`` is counted with; ``None`` when it
        is counted one ballot, one vote (no ``[weights]``, or ``weighted = false``)."""
        if self.weights is None or contest.weighted is False:
            return None
        return self.weights.decimal_places

    def open_nominations(
        self, contest: str, roster: Collection[NominatorId] | None = None
    ) -> NominationBook:
        """An empty nomination book for ``contest`` over the timetable's nomination period."""
        c = self.contest(contest)
        if c.nominations is None:
            raise ConfigError("the contest has no nomination rule", field="contest", value=contest)
        tt = self.timetable
        return open_nominations(
            c.name,
            c.candidate_names,
            c.nominations,
            opens=tt.nominations_open,
            closes=tt.nominations_close,
            incumbents=c.incumbents,
            roster=roster,
        )


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
