"""Seat constraints and ballot rules written as text: the ``--constraint`` option and groups files.

Two ways to say who must (or may not) be elected, both read into the frozen values of
:mod:`tallyroom.count.constraints` against the contest's candidates; the text is passed in, so
this module does no I/O.

**One constraint per option** (:func:`parse_constraint_options`)::

    GROUP>=MIN:MEMBERS      at least MIN of the elected from GROUP
    GROUP<=MAX:MEMBERS      at most MAX
    GROUP=MIN..MAX:MEMBERS  both
    GROUP=N:MEMBERS         exactly N

``MEMBERS`` is a comma-separated list of candidates, each a name exactly as in the ballot file
or a candidate number (1 = the first candidate in the file). Bounds for one group may be split
over two options, the members given once: ``women>=6:Ann,Bea,Cat`` and ``women<=8``.

**A groups file** (:func:`parse_groups_toml`), TOML, one table per group::

    [group.women]
    members = ["Ann", "Bea", "Cat"]   # names, or candidate numbers
    min_elected = 6                   # seat constraint (optional)
    max_elected = 8                   # seat constraint (optional)
    min_marked = 6                    # ballot rule: a valid ballot marks at least 6 (optional)
    max_marked = 19                   # ballot rule (optional)

A group with neither ``*_elected`` nor ``*_marked`` is refused (it would do nothing). Every
problem is an :class:`~tallyroom.errors.InputError` naming the option (or the file and key) and
the value; a file's problems are all reported, one per line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tallyroom.count.ballots import CandidateTable
from tallyroom.count.constraints import BallotRule, Group, SeatConstraint
from tallyroom.errors import InputError

__all__ = ["ConstraintSet", "merge_constraints", "parse_constraint_options", "parse_groups_toml"]

OPTION = "--constraint"

_SPEC = re.compile(
    r"""^\s*(?P<group>[^<>=:]+?)\s*
        (?:
            >=\s*(?P<min>\d+)
          | <=\s*(?P<max>\d+)
          | =\s*(?P<lo>\d+)\s*(?:\.\.\s*(?P<hi>\d+))?
        )\s*
        (?::(?P<members>.*))?$""",
    re.VERBOSE,
)
_GROUP_KEYS = frozenset({"members", "min_elected", "max_elected", "min_marked", "max_marked"})


@dataclass(frozen=True, slots=True)
class ConstraintSet:
    """Seat constraints (on who is elected) and ballot rules (on what a valid ballot marks)."""

    seats: tuple[SeatConstraint, ...] = ()
    ballots: tuple[BallotRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.seats or self.ballots)


@dataclass(slots=True)
class _Bounds:
    members: frozenset[str] | None = None
    minimum: int | None = None
    maximum: int | None = None


def parse_constraint_options(
    specs: Sequence[str], candidates: CandidateTable, *, option: str = OPTION
) -> tuple[SeatConstraint, ...]:
    """Seat constraints from ``--constraint`` values (see the module docstring), in order."""
    groups: dict[str, _Bounds] = {}
    for spec in specs:
        m = _SPEC.match(spec)
        if m is None:
            raise InputError(
                "not a constraint: write GROUP>=MIN:MEMBERS, GROUP<=MAX:MEMBERS or "
                "GROUP=MIN..MAX:MEMBERS (members: names or candidate numbers, comma-separated)",
                field=option,
                value=spec,
            )
        bounds = groups.setdefault(m["group"], _Bounds())
        if m["lo"] is not None:  # GROUP=N or GROUP=MIN..MAX
            lo, hi = m["lo"], m["hi"] or m["lo"]
        else:
            lo, hi = m["min"], m["max"]
        for attr, text in (("minimum", lo), ("maximum", hi)):
            if text is None:
                continue
            if getattr(bounds, attr) is not None:
                raise InputError(
                    f"the {attr} of group {m['group']!r} is given twice", field=option, value=spec
                )
            setattr(bounds, attr, int(text))
        if m["members"] is not None:
            names = _members(m["members"].split(","), candidates, option, spec)
            if bounds.members is not None and bounds.members != names:
                raise InputError(
                    f"group {m['group']!r} is given different members twice",
                    field=option,
                    value=spec,
                )
            bounds.members = names
    out = []
    for name, bounds in groups.items():
        if bounds.members is None:
            raise InputError(
                f"group {name!r} has no members: add ':NAME,NAME,...' to one of its constraints",
                field=option,
                value=name,
            )
        out.append(_seat_constraint(name, bounds, option))
    return tuple(out)


def parse_groups_toml(
    text: str, candidates: CandidateTable, *, path: str | None = None
) -> ConstraintSet:
    """Seat constraints and ballot rules from a groups file's text (see the module docstring)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", path=path, field="--constraint-file") from None
    except RecursionError:
        raise InputError(
            "not a groups file: arrays or tables nested too deeply",
            path=path,
            field="--constraint-file",
        ) from None
    problems: list[InputError] = []
    unknown = sorted(k for k in doc if k != "group")
    if unknown:
        problems.append(InputError("unknown key (expected [group.NAME])", path=path, value=unknown))
    tables = doc.get("group", {})
    if not isinstance(tables, dict) or not tables:
        problems.append(InputError("no [group.NAME] tables", path=path, field="group"))
        tables = {}
    seats: list[SeatConstraint] = []
    rules: list[BallotRule] = []
    for name, table in tables.items():
        try:
            seat, rule = _group_table(name, table, candidates, path)
        except InputError as exc:
            problems.append(exc)
            continue
        if seat is not None:
            seats.append(seat)
        if rule is not None:
            rules.append(rule)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InputError(
            f"{len(problems)} problems:\n" + "\n".join(str(p) for p in problems), path=path
        )
    return ConstraintSet(tuple(seats), tuple(rules))


def merge_constraints(*sets: ConstraintSet) -> ConstraintSet:
    """One set from several (a groups file and ``--constraint`` options); a group constrained
    in two of them is refused, as the two could disagree."""
    seen: set[str] = set()
    for s in sets:
        for sc in s.seats:
            if sc.group.name in seen:
                raise InputError(
                    "a group's seats are constrained in two places (the groups file and "
                    "--constraint): give both bounds in one",
                    field=OPTION,
                    value=sc.group.name,
                )
            seen.add(sc.group.name)
    return ConstraintSet(
        tuple(sc for s in sets for sc in s.seats), tuple(r for s in sets for r in s.ballots)
    )


# -- helpers -----------------------------------------------------------------------------------


def _members(
    items: Sequence[object], candidates: CandidateTable, field: str, value: object
) -> frozenset[str]:
    names = candidates.names
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            raise InputError(
                "a member must be a candidate's name or number", field=field, value=item
            )
        if isinstance(item, int):
            text = str(item)
        elif isinstance(item, str):
            text = item.strip()
        else:
            raise InputError(
                "a member must be a candidate's name or number", field=field, value=item
            )
        if text in names:
            out.append(text)
        elif text.isascii() and text.isdigit() and 1 <= int(text) <= len(names):
            out.append(names[int(text) - 1])
        else:
            raise InputError(
                f"{text!r} is not a candidate's name or number (1..{len(names)})",
                field=field,
                value=value,
            )
    if not out:
        raise InputError("a group needs at least one member", field=field, value=value)
    return frozenset(out)


def _seat_constraint(name: str, bounds: _Bounds, field: str) -> SeatConstraint:
    assert bounds.members is not None
    if (
        bounds.maximum is not None
        and bounds.minimum is not None
        and bounds.maximum < bounds.minimum
    ):
        raise InputError(
            f"group {name!r}: the maximum ({bounds.maximum}) is below the minimum "
            f"({bounds.minimum})",
            field=field,
            value=name,
        )
    return SeatConstraint(Group(name, bounds.members), bounds.minimum or 0, bounds.maximum)


def _group_table(
    name: str, table: Any, candidates: CandidateTable, path: str | None
) -> tuple[SeatConstraint | None, BallotRule | None]:
    where = f"group.{name}"
    if not isinstance(table, dict):
        raise InputError("expected a table", path=path, field=where, value=table)
    unknown = sorted(set(table) - _GROUP_KEYS)
    if unknown:
        known = ", ".join(sorted(_GROUP_KEYS))
        raise InputError(f"unknown key (known: {known})", path=path, field=where, value=unknown)
    members = table.get("members")
    if not isinstance(members, list):
        raise InputError(
            "members must be a list of names or numbers",
            path=path,
            field=f"{where}.members",
            value=members,
        )
    try:
        group = Group(name, _members(members, candidates, f"{where}.members", members))
    except InputError as exc:
        raise InputError(exc.problem, path=path, field=exc.field, value=exc.value) from None
    bound: dict[str, int | None] = {}
    for key in ("min_elected", "max_elected", "min_marked", "max_marked"):
        v = table.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise InputError(
                "must be a whole number, 0 or more", path=path, field=f"{where}.{key}", value=v
            )
        bound[key] = v
    seat = rule = None
    lo, hi = bound["min_elected"], bound["max_elected"]
    if lo is not None or hi is not None:
        if lo is not None and hi is not None and hi < lo:
            raise InputError(
                f"below min_elected ({lo})", path=path, field=f"{where}.max_elected", value=hi
            )
        seat = SeatConstraint(group, lo or 0, hi)
    lo, hi = bound["min_marked"], bound["max_marked"]
    if lo is not None or hi is not None:
        if lo is not None and hi is not None and hi < lo:
            raise InputError(
                f"below min_marked ({lo})", path=path, field=f"{where}.max_marked", value=hi
            )
        rule = BallotRule(group, lo or 0, hi)
    if seat is None and rule is None:
        raise InputError(
            "the group constrains nothing: give min_elected, max_elected, min_marked or max_marked",
            path=path,
            field=where,
        )
    return seat, rule
