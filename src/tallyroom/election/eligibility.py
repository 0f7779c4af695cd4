"""Who on the register may vote, and why each of the others may not.

The register lists people by section (members, registered supporters, affiliated supporters in
Labour's case); one person may appear in several sections, and now and then twice in one.
:func:`assess_eligibility` applies an election's :class:`EligibilityRules` to every entry and
gives each one exactly one outcome: eligible, or excluded for the first
:class:`ExclusionReason` it meets, tested in this order (the enum's order):

1. the person is on the exclusion list;
2. the entry's status is not one the section allows (lapsed, suspended, rejected...);
3. a date the section's rules need is missing;
4. joined after the section's freeze date;
5. registered outside the section's registration window;
6. the same person is listed again in the same section (the entry kept is the one with the
   smallest membership number, compared as text, then the first on the register);
7. the same person votes in a section of higher precedence.

Steps 6 and 7 look only at entries that passed steps 1-5, so someone who joined as a member
after the freeze but paid to register as a supporter within the window votes as a supporter
(2016: Labour's freeze date excluded about 130,000 newer members, NOTES.md section 1). Each
person therefore holds at most one eligible entry, and eligible + excluded = the register.

Dates are compared as instants: a freeze written as a calendar date in the definition was
turned into the first instant of the following day in the election's time zone when the
definition was read, so this module never needs a time zone or a clock.

The work is linear: one pass over the entries in Python with the tests inlined, a count of
the people still standing (``collections.Counter``, in C), a sort of only those listed more
than once, and numpy for the summary table.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NewType

import numpy as np
import numpy.typing as npt

from tallyroom.errors import ConfigError, InputError

__all__ = [
    "Cutoff",
    "Eligibility",
    "EligibilityRules",
    "EligibilitySummary",
    "Exclusion",
    "ExclusionReason",
    "PersonId",
    "RegisterEntry",
    "SectionRule",
    "SectionSummary",
    "Window",
    "assess_eligibility",
]

PersonId = NewType("PersonId", str)
"""Identifies a human across sections: the key for the exclusion list and de-duplication."""


class ExclusionReason(enum.Enum):
    """Why an entry on the register gets no vote; declared in the order they are tested."""

    ON_EXCLUSION_LIST = "on the exclusion list"
    STATUS_NOT_ALLOWED = "status not allowed in the section"
    DATE_MISSING = "no date where the section's rules need one"
    JOINED_AFTER_FREEZE = "joined after the freeze date"
    REGISTERED_OUTSIDE_WINDOW = "registered outside the registration window"
    DUPLICATE_IN_SECTION = "listed again in the same section"
    DUPLICATE_IN_HIGHER_SECTION = "votes in a section of higher precedence"

    @property
    def code(self) -> int:
        """1-based position in test order (0 in :attr:`Eligibility.codes` means eligible)."""
        return _REASONS.index(self) + 1


_REASONS: tuple[ExclusionReason, ...] = tuple(ExclusionReason)


def _aware(value: datetime | None, field: str, error: type[InputError]) -> None:
    # the register reader hands over instants already in UTC: an identity test settles them
    if value is not None and value.tzinfo is not UTC and value.utcoffset() is None:
        raise error("needs a time zone (a UTC offset)", field=field, value=value.isoformat())


# -- the rules --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cutoff:
    """An upper limit in time: ``at`` itself is admitted when ``inclusive``."""

    at: datetime
    inclusive: bool = True

    def __post_init__(self) -> None:
        _aware(self.at, "at", ConfigError)

    def admits(self, when: datetime) -> bool:
        return when <= self.at if self.inclusive else when < self.at


@dataclass(frozen=True, slots=True)
class Window:
    """A period: from ``opens`` (admitted) up to ``closes``; either end may be open."""

    opens: datetime | None = None
    closes: Cutoff | None = None

    def __post_init__(self) -> None:
        _aware(self.opens, "opens", ConfigError)
        if self.opens is None and self.closes is None:
            raise ConfigError("a window needs an opening or a closing time", field="window")
        if (
            self.opens is not None
            and self.closes is not None
            and not self.closes.admits(self.opens)
        ):
            raise ConfigError(
                "the window closes before it opens",
                field="closes",
                value=self.closes.at.isoformat(),
            )

    def admits(self, when: datetime) -> bool:
        if self.opens is not None and when < self.opens:
            return False
        return self.closes is None or self.closes.admits(when)


@dataclass(frozen=True, slots=True)
class SectionRule:
    """What an entry of one section needs to vote.

    ``freeze``: the person must have joined by then (members who joined later are excluded);
    ``registration``: the person must have registered within the window (supporters);
    ``statuses``: the statuses that may vote (say ``("active",)``).
    """

    section: str
    statuses: tuple[str, ...]
    freeze: Cutoff | None = None
    registration: Window | None = None

    def __post_init__(self) -> None:
        if not self.section.strip():
            raise ConfigError("a section needs a name", field="section", value=self.section)
        if not self.statuses:
            raise ConfigError(
                "at least one status must be allowed to vote", field="statuses", value=()
            )
        if len(set(self.statuses)) != len(self.statuses):
            raise ConfigError("a status is listed twice", field="statuses", value=self.statuses)


@dataclass(frozen=True, slots=True)
class EligibilityRules:
    """The rules of every section, and the order in which a person's sections take precedence.

    ``precedence`` names every section once, highest first: someone eligible as a member and
    as an affiliated supporter votes once, as a member, with ``("members", "affiliated",
    "registered")``. ``exclusion_list`` is the file the list was read from, for the record.
    """

    sections: tuple[SectionRule, ...]
    precedence: tuple[str, ...]
    exclusion_list: Path | None = None

    def __post_init__(self) -> None:
        names = [r.section for r in self.sections]
        if not names:
            raise ConfigError("at least one section is needed", field="sections", value=())
        if len(set(names)) != len(names):
            raise ConfigError("a section has two rules", field="sections", value=names)
        if sorted(self.precedence) != sorted(names):
            raise ConfigError(
                f"must name every section once (sections: {', '.join(names)})",
                field="precedence",
                value=list(self.precedence),
            )

    @property
    def section_names(self) -> tuple[str, ...]:
        return tuple(r.section for r in self.sections)

    def rule(self, section: str) -> SectionRule:
        for r in self.sections:
            if r.section == section:
                return r
        raise ConfigError("no such section", field="section", value=section)


# -- the register -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One line of the register: a person in one section.

    ``joined`` is when they joined (the party, or for affiliated supporters the affiliate);
    ``registered`` when they signed up in this section (supporters). Both are instants with a
    time zone; a register that holds only dates should give midnight in the election's zone.
    ``email`` and ``postal`` say how a ballot can reach them.
    """

    person: PersonId
    section: str
    number: str
    status: str
    joined: datetime | None = None
    registered: datetime | None = None
    email: bool = False
    postal: bool = False

    def __post_init__(self) -> None:
        if not self.person:
            raise InputError("a register entry needs a person id", field="person", value="")
        if not self.section:
            raise InputError("a register entry needs a section", field="section", value="")
        _aware(self.joined, "joined", InputError)
        _aware(self.registered, "registered", InputError)


# -- the outcome ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Exclusion:
    """An entry that gets no vote; ``votes_in`` names the section a duplicate votes in."""

    index: int
    entry: RegisterEntry
    reason: ExclusionReason
    votes_in: str | None = None


@dataclass(frozen=True, slots=True)
class SectionSummary:
    """One row of the summary: entries on the register, eligible, and excluded by reason."""

    section: str
    on_register: int
    eligible: int
    excluded: tuple[int, ...]  # per ExclusionReason, in enum order

    def count(self, reason: ExclusionReason) -> int:
        return self.excluded[reason.code - 1]

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded)


@dataclass(frozen=True, slots=True)
class EligibilitySummary:
    """The table by section and reason, sections in declared order, with a total row."""

    rows: tuple[SectionSummary, ...]
    total: SectionSummary

    def row(self, section: str) -> SectionSummary:
        for r in self.rows:
            if r.section == section:
                return r
        raise InputError("no such section in the summary", field="section", value=section)

    def render(self) -> str:
        """A plain-text table: one column per section, then the total."""
        rows = (*self.rows, self.total)
        head = ["", *(r.section for r in rows)]
        body = [
            ["on the register", *(f"{r.on_register:,}" for r in rows)],
            *([reason.value, *(f"{r.count(reason):,}" for r in rows)] for reason in _REASONS),
            ["eligible", *(f"{r.eligible:,}" for r in rows)],
        ]
        widths = [max(len(line[k]) for line in (head, *body)) for k in range(len(head))]

        def fmt(line: list[str]) -> str:
            first = line[0].ljust(widths[0])
            rest = (cell.rjust(w) for cell, w in zip(line[1:], widths[1:], strict=True))
            return "  ".join((first, *rest)).rstrip()

        return "\n".join(fmt(line) for line in (head, *body)) + "\n"


@dataclass(frozen=True, slots=True, eq=False)
class Eligibility:
    """The outcome for every entry, by position on the register given.

    ``codes[i]`` is 0 when entry ``i`` may vote, else its :attr:`ExclusionReason.code`;
    ``kept[i]`` is, for a duplicate, the position of the entry the person votes through
    (-1 otherwise). Both arrays are read-only.
    """

    entries: tuple[RegisterEntry, ...]
    rules: EligibilityRules
    codes: npt.NDArray[np.int8]
    kept: npt.NDArray[np.int64]
    summary: EligibilitySummary

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def eligible_count(self) -> int:
        return self.summary.total.eligible

    @property
    def excluded_count(self) -> int:
        return self.summary.total.excluded_total

    def eligible_indices(self) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.codes == 0)

    def excluded_indices(self) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.codes != 0)

    def is_eligible(self, index: int) -> bool:
        return bool(self.codes[index] == 0)

    def reason(self, index: int) -> ExclusionReason | None:
        code = int(self.codes[index])
        return None if code == 0 else _REASONS[code - 1]

    def eligible(self) -> Iterator[RegisterEntry]:
        """The entries that may vote, in register order: one per person."""
        for i in self.eligible_indices().tolist():
            yield self.entries[i]

    def exclusions(self, reason: ExclusionReason | None = None) -> Iterator[Exclusion]:
        """Every excluded entry (or those of one ``reason``) in register order."""
        wanted = self.codes != 0 if reason is None else self.codes == reason.code
        for i in np.flatnonzero(wanted).tolist():
            r = _REASONS[int(self.codes[i]) - 1]
            k = int(self.kept[i])
            votes_in = self.entries[k].section if k >= 0 else None
            yield Exclusion(i, self.entries[i], r, votes_in)


# -- the assessment ---------------------------------------------------------------------------

_EXCL = ExclusionReason.ON_EXCLUSION_LIST.code
_STATUS = ExclusionReason.STATUS_NOT_ALLOWED.code
_NODATE = ExclusionReason.DATE_MISSING.code
_FROZEN = ExclusionReason.JOINED_AFTER_FREEZE.code
_WINDOW = ExclusionReason.REGISTERED_OUTSIDE_WINDOW.code
_DUP_SAME = ExclusionReason.DUPLICATE_IN_SECTION.code
_DUP_HIGHER = ExclusionReason.DUPLICATE_IN_HIGHER_SECTION.code


def _screen(
    entries: Sequence[RegisterEntry],
    rules: EligibilityRules,
    excluded: Collection[PersonId],
) -> tuple[list[int], list[int], list[int], list[PersonId]]:
    """Tests 1-5 in one pass: each entry's section code and outcome (0 or the code of the
    first test failed), and the positions and people of the entries still standing."""

    def utc(t: datetime | None) -> datetime | None:
        # two datetimes with the same tzinfo compare without offset arithmetic: registers
        # usually hold UTC, so the cutoffs are moved to UTC once, here
        return t.astimezone(UTC) if t is not None else None

    code_of: dict[str, int] = {}
    checks = []
    for k, r in enumerate(rules.sections):
        code_of[r.section] = k
        frz, win = r.freeze, r.registration
        closes = win.closes if win else None
        checks.append(
            (
                k,
                frozenset(r.statuses),
                utc(frz.at) if frz else None,
                frz.inclusive if frz else True,
                win is not None,
                utc(win.opens) if win else None,
                utc(closes.at) if closes else None,
                closes.inclusive if closes else True,
            )
        )
    by_name = {r.section: c for r, c in zip(rules.sections, checks, strict=True)}
    n = len(entries)
    sec = [0] * n
    out = [0] * n
    standing: list[int] = []
    people: list[PersonId] = []
    unknown: Counter[str] = Counter()
    # the hot path for 660,000 entries: one loop, the tests inlined, no calls, names local
    excl, status_, nodate, frozen, window = _EXCL, _STATUS, _NODATE, _FROZEN, _WINDOW
    screen_excluded = bool(excluded)
    for i, e in enumerate(entries):
        check = by_name.get(e.section)
        if check is None:
            unknown[e.section] += 1
            continue
        k, statuses, f_at, f_incl, has_win, w_open, w_close, w_incl = check
        sec[i] = k
        if screen_excluded and e.person in excluded:
            out[i] = excl
            continue
        if e.status not in statuses:
            out[i] = status_
            continue
        j, g = e.joined, e.registered
        if (j is None and f_at is not None) or (g is None and has_win):
            out[i] = nodate
            continue
        if f_at is not None and ((j > f_at) if f_incl else (j >= f_at)):  # type: ignore[operator]
            out[i] = frozen
            continue
        if has_win and (
            (w_open is not None and g < w_open)  # type: ignore[operator]
            or (w_close is not None and ((g > w_close) if w_incl else (g >= w_close)))  # type: ignore[operator]
        ):
            out[i] = window
            continue
        standing.append(i)
        people.append(e.person)
    if unknown:
        listed = ", ".join(f"{s!r} ({c:,} entries)" for s, c in sorted(unknown.items()))
        raise InputError(
            f"the register has sections the definition does not declare: {listed}; "
            f"declared: {', '.join(code_of)}",
            field="section",
            value=sorted(unknown),
        )
    return sec, out, standing, people


def assess_eligibility(
    entries: Sequence[RegisterEntry],
    rules: EligibilityRules,
    excluded: Collection[PersonId] = frozenset(),
) -> Eligibility:
    """Decide every entry of ``entries`` under ``rules``; see the module docstring.

    ``excluded`` holds the people on the exclusion list. An entry in a section the rules do
    not declare is an :class:`InputError` naming every such section (with counts), since it
    means the register and the definition do not match.
    """
    n = len(entries)
    names = rules.section_names
    if not isinstance(excluded, (set, frozenset)):
        excluded = frozenset(excluded)
    sec, first, standing, people = _screen(entries, rules, excluded)
    # one vote per person: only people with several entries still standing need a decision
    counts = Counter(people)
    repeated = [i for i, p in zip(standing, people, strict=True) if counts[p] > 1]
    dropped: list[int] = []
    kept_for: list[int] = []
    if repeated:
        rank = {names.index(name): r for r, name in enumerate(rules.precedence)}
        order = sorted(
            repeated, key=lambda i: (entries[i].person, rank[sec[i]], entries[i].number, i)
        )
        best = order[0]
        for i in order[1:]:
            if entries[i].person != entries[best].person:
                best = i  # the first of a person's entries in this order is their vote
            else:
                first[i] = _DUP_SAME if sec[i] == sec[best] else _DUP_HIGHER
                dropped.append(i)
                kept_for.append(best)
    codes = np.array(first, dtype=np.int8)
    kept = np.full(n, -1, dtype=np.int64)
    kept[dropped] = kept_for

    sections = np.array(sec, dtype=np.int64)
    width = len(_REASONS) + 1
    cells = np.bincount(sections * width + codes, minlength=len(names) * width)
    table = cells.reshape(len(names), width)
    rows = tuple(
        SectionSummary(
            section=name,
            on_register=int(table[k].sum()),
            eligible=int(table[k, 0]),
            excluded=tuple(int(x) for x in table[k, 1:]),
        )
        for k, name in enumerate(names)
    )
    sums = table.sum(axis=0)
    total = SectionSummary("total", int(sums.sum()), int(sums[0]), tuple(int(x) for x in sums[1:]))
    codes.setflags(write=False)
    kept.setflags(write=False)
    return Eligibility(tuple(entries), rules, codes, kept, EligibilitySummary(rows, total))
