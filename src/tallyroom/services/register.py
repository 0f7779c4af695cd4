"""The register service: import a register file, decide eligibility, freeze, and change it.

:func:`import_register` reads a CSV (or xlsx) register line by line through a
:class:`ColumnMapping`, checks every line and collects **every** problem; if there is any, it
raises one :class:`~tallyroom.errors.InputError` listing them all as
``file:line: field: problem (value)`` and nothing is stored. Otherwise it decides eligibility
for the whole register with :func:`tallyroom.election.assess_eligibility` under the
definition's rules and stores every entry with its outcome in one transaction (all or
nothing, as the store guarantees).

The store keys an entry by ``person_id``, unique per election, while a person may be on the
register in several sections. So the store's key is the *line's* key, ``section/number``
(:func:`entry_key`), and the person id is kept in the entry's fields with the number, status
and dates as read (:func:`to_store_entry` is the one adapter between the two records).

:func:`freeze_register` records the register's SHA-256 fingerprint (canonical snapshots of the
entries, sorted by key, one a line) in the audit log as it moves the election to
``register_frozen``. Afterwards every change needs a reason (:func:`change_eligibility`,
:func:`amend_entry`).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from tallyroom.election import (
    ElectionDefinition,
    Eligibility,
    ExclusionReason,
    PersonId,
    assess_eligibility,
    read_exclusion_list,
)
from tallyroom.election import RegisterEntry as VoterEntry
from tallyroom.election.names import name_problem
from tallyroom.errors import InputError
from tallyroom.services.contact_columns import read_contact
from tallyroom.services.elections import definition_of, get_election
from tallyroom.services.register_weights import (
    WEIGHT_FIELD,
    amended_weight,
    weight_column,
    weight_of,
)
from tallyroom.store import ElectionState, NotFound, Store, elections, register
from tallyroom.store.contacts import Contact, put_contacts
from tallyroom.store.register import RegisterEntry as StoreEntry
from tallyroom.store.register import StoredEntry
from tallyroom.store.schema import PERSON_ID_MAX, ChangeKind

__all__ = [
    "ColumnMapping",
    "ImportResult",
    "RegisterSummary",
    "amend_entry",
    "change_eligibility",
    "entry_key",
    "find_entry",
    "freeze_register",
    "import_register",
    "read_register",
    "register_fingerprint",
    "register_problems",
    "register_summary",
    "to_store_entry",
]

MAX_PROBLEMS_SHOWN = 200
ELIGIBLE = "eligible"
REMOVED = "REMOVED"
"""The exclusion of an entry a later file (with ``replace``) no longer lists."""


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which column of the register file holds what; ``None`` for a column the file lacks.

    Dates are ISO 8601: a calendar date (``2016-01-12``) means midnight in the election's time
    zone; a date and time without an offset is read in that zone too.
    """

    person: str = "person_id"
    section: str = "section"
    number: str = "membership_number"
    status: str = "status"
    joined: str | None = "joined"
    registered: str | None = "registered"
    # contact details (tallyroom.services.contact_columns): read only when mapped
    name: str | None = None
    email: str | None = None
    address: str | None = None
    channel: str | None = None
    # the voter's unit (a branch, an affiliate) for contests counted by unit (_unit_needed)
    unit: str | None = "unit"

    def required(self) -> dict[str, str]:
        """Field name -> column name, for every column the mapping names."""
        named = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in named.items() if v is not None}

    @classmethod
    def parse(cls, pairs: Iterable[str]) -> ColumnMapping:
        """From ``field=column`` strings (the CLI's ``--column``); ``field=`` drops a column."""
        known = {f.name for f in fields(cls)}
        given: dict[str, str | None] = {}
        for pair in pairs:
            name, sep, column = pair.partition("=")
            if not sep or name not in known:
                raise InputError(
                    f"a column mapping is field=column, field one of {', '.join(sorted(known))}",
                    field="column",
                    value=pair,
                )
            given[name] = column or None
        for name in ("person", "section", "number", "status"):
            if name in given and given[name] is None:
                raise InputError("this column is required", field=name, value="")
        return cls(**given)  # type: ignore[arg-type]


class Line(NamedTuple):
    """One register line read and checked: where it came from and what it says.

    ``raw`` holds the line's text as read (person, number, status and dates), which the
    store keeps as the entry's fields; the section is the store's own column.
    """

    line: int
    entry: VoterEntry
    raw: Mapping[str, str]
    contact: Contact | None = None


def entry_key(section: str, number: str) -> str:
    """The store's key for a register line: ``section/number``."""
    return f"{section}/{number}"


def to_store_entry(line: Line, eligible: bool | None, reason: ExclusionReason | None) -> StoreEntry:
    """The one adapter: an assessed register line as the store keeps it."""
    e = line.entry
    return StoreEntry(
        person_id=entry_key(e.section, e.number),
        section=e.section,
        fields=line.raw,
        eligible=eligible,
        eligibility_reason=None if reason is None else reason.name,
        line=line.line,
    )


# -- reading ----------------------------------------------------------------------------------


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for every row, header first; CSV streamed, xlsx via calamine."""
    if path.suffix.lower() in (".xlsx", ".xls", ".ods"):
        from python_calamine import CalamineError, CalamineWorkbook

        try:
            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
            grid = sheet.to_python(skip_empty_area=False)
        except (CalamineError, IndexError, ValueError) as exc:
            raise InputError(
                f"not a readable spreadsheet ({exc}); save it as .xlsx or as CSV (UTF-8)",
                path=str(path),
            ) from None
        for n, values in enumerate(grid, start=1):
            yield n, [_cell_text(c) for c in values]
        return
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            for cells in reader:
                yield reader.line_num, cells
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc.reason}", path=str(path)) from None
    except csv.Error as exc:
        raise InputError(f"not a readable CSV file: {exc}", path=str(path)) from None


def _cell_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date | time):
        return cell.isoformat()
    return "" if cell is None else str(cell)


class _Dates:
    """ISO dates and instants read in the election's zone, each distinct text parsed once."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.seen: dict[str, datetime | None] = {"": None}

    def __call__(self, text: str) -> datetime | None:
        try:
            return self.seen[text]
        except KeyError:
            pass
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), time(), self.zone)
        else:
            parsed = datetime.fromisoformat(text)
            if parsed.utcoffset() is None:
                parsed = parsed.replace(tzinfo=self.zone)
        # held in UTC: instants with one tzinfo compare without a zone lookup (and the rules
        # compare in UTC), several times faster over 660,000 lines
        parsed = parsed.astimezone(UTC)
        self.seen[text] = parsed
        return parsed


def read_register(
    path: str | Path, mapping: ColumnMapping, definition: ElectionDefinition
) -> list[Line]:
    """Every line of the register file, checked; one InputError listing every problem."""
    lines, problems = register_problems(path, mapping, definition)
    if problems:
        raise _combined(problems, str(path))
    return lines


def register_problems(
    path: str | Path, mapping: ColumnMapping, definition: ElectionDefinition
) -> tuple[list[Line], list[InputError]]:
    """The lines read and every problem of the file, one error each (line, field, value):
    what the console's preview lists before anything is imported."""
    source = Path(path)
    where = str(source)
    problems: list[InputError] = []

    def problem(line: int | None, field: str | None, what: str, value: object = None) -> None:
        problems.append(InputError(what, path=where, line=line, field=field, value=value))

    try:
        rows = _rows(source)
        header_line, header = next(rows, (1, []))
    except OSError as exc:
        raise InputError(f"cannot read the register: {exc.strerror}", path=where) from None
    header = [h.strip() for h in header]
    index: dict[str, int] = {}
    for k, name in enumerate(header):
        if name in index:
            problem(header_line, name, "column appears twice in the header", name)
        index[name] = k
    mapping = _unit_needed(_dates_needed(mapping, index, definition), index, definition)
    i_weight = weight_column(definition, index, header_line, problem)
    wanted = mapping.required()
    for field, column in wanted.items():
        if column not in index:
            need = _NEEDED_BY.get(field, "")
            problem(header_line, field, f"no such column in the header{need}", column)
    if problems:
        return [], problems

    sections = {s.name for s in definition.sections}
    named_sections = ", ".join(sorted(sections))  # sorted: a set's order changes per process
    dates = _Dates(ZoneInfo(definition.timezone))
    width = max([index[c] for c in wanted.values()] + [i_weight or 0]) + 1
    i_person, i_section = index[mapping.person], index[mapping.section]
    i_number, i_status = index[mapping.number], index[mapping.status]
    i_joined = index[mapping.joined] if mapping.joined else None
    i_registered = index[mapping.registered] if mapping.registered else None
    keys: dict[str, int] = {}
    lines: list[Line] = []
    seen = dates.seen

    def parse(n: int, field: str, text: str) -> datetime | None:
        try:
            return dates(text)
        except ValueError:
            problem(n, field, "not an ISO 8601 date or date and time", text)
            return None

    contact_cols = [
        index[column] if column else None
        for column in (mapping.name, mapping.email, mapping.address, mapping.channel)
    ]
    with_contacts = any(k is not None for k in contact_cols)
    i_unit = index[mapping.unit] if mapping.unit else None
    unit_sections = _unit_sections(definition)
    for n, cells in rows:
        if len(cells) < width:
            if not any(c.strip() for c in cells):
                continue  # a blank line
            problem(n, None, f"has {len(cells)} cells where {width} are needed", len(cells))
            continue
        # the hot loop (660,000 lines): no calls where a dict lookup will do
        person, section = cells[i_person].strip(), cells[i_section].strip()
        number, status = cells[i_number].strip(), cells[i_status].strip()
        raw = {"person": person, "number": number, "status": status}
        bad = len(problems)
        if not person:
            problem(n, "person", "is empty", "")
        if section not in sections:
            problem(n, "section", f"not a section of the election ({named_sections})", section)
        if not number:
            problem(n, "number", "is empty", "")
        key = f"{section}/{number}"
        if len(key) > PERSON_ID_MAX:
            problem(n, "number", f"section/number is over {PERSON_ID_MAX} characters", key)
        elif key in keys:
            problem(
                n, "number", f"listed twice in this section (first on line {keys[key]})", number
            )
        else:
            keys[key] = n
        joined = registered = None
        if i_joined is not None:
            text = raw["joined"] = cells[i_joined].strip()
            joined = seen[text] if text in seen else parse(n, "joined", text)
        if i_registered is not None:
            text = raw["registered"] = cells[i_registered].strip()
            registered = seen[text] if text in seen else parse(n, "registered", text)
        if i_weight is not None:
            weight = weight_of(cells[i_weight], definition, n, problem)
            if weight is not None:
                raw[WEIGHT_FIELD] = weight
        contact = None
        if with_contacts:
            name, email, address, channel = (
                cells[k].strip() if k is not None else "" for k in contact_cols
            )
            contact = read_contact(name, email, address, channel, functools.partial(problem, n))
        if i_unit is not None:
            _read_unit(raw, cells[i_unit], section in unit_sections, functools.partial(problem, n))
        if len(problems) != bad:
            continue
        entry = VoterEntry(PersonId(person), section, number, status, joined, registered)
        lines.append(Line(n, entry, raw, contact))
    return (lines if not problems else []), problems


_NEEDED_BY = {
    "joined": " (a section's rule has a joining cut-off: joined_on_or_before or joined_before)",
    "registered": " (a section's rule has a registration window: registered_from, "
    "registered_on_or_before or registered_before)",
    "unit": " (a contest is counted by unit: [contests.units])",
}


def _dates_needed(
    mapping: ColumnMapping, index: Mapping[str, int], definition: ElectionDefinition
) -> ColumnMapping:
    """The mapping without a date column the file lacks and no rule needs: ``joined`` only
    matters where a section has a joining cut-off, ``registered`` only where it has a
    registration window. A column a rule needs stays, so that its absence is reported."""
    rules = definition.eligibility.sections
    drop: dict[str, Any] = {}
    lacks = {f: c is not None and c not in index for f, c in
             (("joined", mapping.joined), ("registered", mapping.registered))}  # fmt: skip
    if lacks["joined"] and all(r.freeze is None for r in rules):
        drop["joined"] = None
    if lacks["registered"] and all(r.registration is None for r in rules):
        drop["registered"] = None
    return dataclasses.replace(mapping, **drop) if drop else mapping


def _unit_sections(definition: ElectionDefinition) -> frozenset[str]:
    """The sections whose voters' units a contest counted by unit needs."""
    return frozenset(
        s
        for c in definition.contests
        if c.motion is not None and c.motion.units is not None
        for g in c.motion.units.groups
        for s in g.sections
    )


def _unit_needed(
    mapping: ColumnMapping, index: Mapping[str, int], definition: ElectionDefinition
) -> ColumnMapping:
    """The mapping without the ``unit`` column when the file lacks it and no contest is
    counted by unit; a contest that is keeps it, so that its absence is reported."""
    if mapping.unit is not None and mapping.unit not in index and not _unit_sections(definition):
        return dataclasses.replace(mapping, unit=None)
    return mapping


UNIT_MAX = 64


def _read_unit(
    raw: dict[str, str],
    cell: str,
    needed: bool,
    problem: Callable[[str | None, str, object], None],
) -> None:
    """The line's unit into its fields (kept with the entry, so the register's fingerprint
    covers it); empty is refused where a contest counts the line's section by unit."""
    unit = cell.strip()
    if unit and (len(unit) > UNIT_MAX or name_problem(unit) is not None):
        problem("unit", name_problem(unit) or f"a unit is at most {UNIT_MAX} characters", unit)
    elif not unit and needed:
        problem("unit", "is empty: a contest is counted by unit in this section", "")
    elif unit:
        raw["unit"] = unit


def _combined(problems: Sequence[InputError], where: str) -> InputError:
    if len(problems) == 1:
        return problems[0]
    shown = "\n".join(f"  {p}" for p in problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    tail = f"\n  ... and {more:,} more" if more > 0 else ""
    return InputError(f"{len(problems):,} problems in the register:\n{shown}{tail}", path=where)


# -- importing --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did. ``stored`` entries were added; a later file also ``corrected``,
    ``removed`` and re-decided (``redecided``) stored entries and left ``unchanged`` ones;
    ``eligible`` is the register's eligible count afterwards."""

    stored: int
    eligible: int
    summary: RegisterSummary
    corrected: int = 0
    removed: int = 0
    redecided: int = 0
    unchanged: int = 0


def import_register(
    store: Store,
    slug: str,
    path: str | Path,
    *,
    actor: str,
    mapping: ColumnMapping = ColumnMapping(),
    exclusion_list: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    reason: str = "",
    replace: bool = False,
) -> ImportResult:
    """Read, check, assess and store the register at ``path`` (see the module docstring).

    ``exclusion_list`` (one person id a line) overrides the definition's. ``progress`` is
    called with the number of entries stored so far.

    The first file is the register. A later file (the register has entries) is merged, and
    needs a ``reason``: a line whose ``section/number`` is new adds an entry, one already
    stored with other fields corrects it, and with ``replace`` every stored entry the file
    does not list is removed (kept, excluded as ``REMOVED``). Eligibility is then judged again
    over the **whole** register, so that a person listed in two files holds one eligible
    entry, whatever the files' order; entries whose outcome changes are updated, each with a
    recorded change, under one audit event giving the counts and the reason. A decision made
    by hand (:func:`change_eligibility`) stands.
    """
    with _cyclic_gc_paused():
        return _import(
            store, slug, path, actor=actor, mapping=mapping, exclusion_list=exclusion_list,
            progress=progress, reason=reason, replace=replace,
        )  # fmt: skip


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cycle collector off while a register is imported.

    The import makes millions of small objects (cells, lines, rows) and keeps most of them
    to the end, so the collector would walk them all again and again: a third of the
    reading time at 660,000 lines. They hold no cycles, so reference counting frees them
    all the same; the collector is switched back on (if it was on) however the import ends.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _import(
    store: Store,
    slug: str,
    path: str | Path,
    *,
    actor: str,
    mapping: ColumnMapping,
    exclusion_list: str | Path | None,
    progress: Callable[[int], None] | None,
    reason: str,
    replace: bool,
) -> ImportResult:
    record = get_election(store, slug)
    definition = definition_of(record)
    lines = read_register(path, mapping, definition)
    listed = exclusion_list or definition.eligibility.exclusion_list
    excluded = read_exclusion_list(listed) if listed else frozenset()
    source = Path(path).name
    with store.begin() as conn:
        elections.require_state(
            conn, record.id, ElectionState.DRAFT, doing="import the register", exclusive=True
        )
        stored_entries = list(register.iter_entries(conn, record.id))
        if stored_entries:
            return _merge(
                conn, record.id, definition, lines, stored_entries, excluded,
                actor=actor, source=source, reason=reason, replace=replace,
            )  # fmt: skip
        outcome = assess_eligibility(
            [line.entry for line in lines], definition.eligibility, excluded
        )

        def rows() -> Iterator[register.EntryRow]:
            # what to_store_entry makes, as plain tuples: no object per line (660,000)
            names = (None, *(r.name for r in ExclusionReason))  # by outcome code: 0 eligible
            for i, (line, code) in enumerate(zip(lines, outcome.codes.tolist(), strict=True)):
                e = line.entry
                yield (
                    f"{e.section}/{e.number}",
                    e.section,
                    line.raw,
                    code == 0,
                    names[code],
                    line.line,
                )
                if progress is not None and i % 10_000 == 0:
                    progress(i)

        stored = register.import_rows(
            conn, record.id, rows(), actor=actor, source=source, reason=reason
        )
        _store_contacts(conn, record.id, lines)
    if progress is not None:
        progress(stored)
    return ImportResult(stored, outcome.eligible_count, _summary_of(outcome, definition))


def _store_contacts(conn: Connection, election_id: int, lines: Sequence[Line]) -> None:
    """The contact details the file gives, each replacing its entry's previous ones."""
    put_contacts(
        conn,
        election_id,
        (
            (entry_key(line.entry.section, line.entry.number), line.contact)
            for line in lines
            if line.contact is not None
        ),
    )


def _voter_entry(entry: StoredEntry, dates: _Dates) -> VoterEntry:
    """A stored entry as the eligibility rules read it (its fields are the line as read)."""
    f = entry.fields
    return VoterEntry(
        PersonId(f.get("person") or entry.person_id),
        entry.section,
        f.get("number", entry.person_id.partition("/")[2]),
        f.get("status", ""),
        dates(f.get("joined", "")),
        dates(f.get("registered", "")),
    )


def _merge(
    conn: Connection,
    election_id: int,
    definition: ElectionDefinition,
    lines: Sequence[Line],
    stored: Sequence[StoredEntry],
    excluded: frozenset[PersonId],
    *,
    actor: str,
    source: str,
    reason: str,
    replace: bool,
) -> ImportResult:
    """A later file merged with the stored register, eligibility judged over both."""
    if not reason.strip():
        raise InputError(
            "the register has entries already: a further file changes it and needs a reason",
            path=source,
            field="reason",
            value=reason,
        )
    by_hand = register.decided_by_hand(conn, election_id)
    by_key = {e.person_id: e for e in stored}
    listed = {entry_key(line.entry.section, line.entry.number): line for line in lines}
    dates = _Dates(ZoneInfo(definition.timezone))
    # the people an earlier exclusion list named stay excluded
    excluded = excluded | {
        PersonId(e.fields.get("person") or e.person_id)
        for e in stored
        if e.eligibility_reason == ExclusionReason.ON_EXCLUSION_LIST.name
    }
    # everyone judged: (key, the entry as the rules read it, the line if the file gives it)
    judged: list[tuple[str, VoterEntry, Line | None]] = []
    removed: list[StoredEntry] = []
    changed: list[tuple[StoredEntry, StoreEntry, ChangeKind]] = []
    unchanged = 0
    for e in stored:
        line = listed.get(e.person_id)
        if (
            line is not None
            and dict(line.raw) == dict(e.fields)
            and e.eligibility_reason != REMOVED
        ):
            unchanged += 1
            line = None
        if e.id in by_hand:
            # a decision with its own reason stands; the file may still correct the fields
            if line is not None:
                kept = StoreEntry(
                    e.person_id, e.section, line.raw, e.eligible, e.eligibility_reason
                )
                changed.append((e, kept, ChangeKind.AMEND))
            continue
        if line is None and (
            e.eligibility_reason == REMOVED or (replace and e.person_id not in listed)
        ):
            if e.eligibility_reason != REMOVED:
                removed.append(e)
            continue
        judged.append((e.person_id, line.entry if line else _voter_entry(e, dates), line))
    for key, line in listed.items():
        if key not in by_key:
            judged.append((key, line.entry, line))
    outcome = assess_eligibility([v for _, v, _ in judged], definition.eligibility, excluded)
    reasons = (None, *ExclusionReason)
    added: list[StoreEntry] = []
    corrected, redecided = len(changed), 0
    for (key, _, line), code in zip(judged, outcome.codes.tolist(), strict=True):
        why = reasons[code]
        why_name = None if why is None else why.name
        before = by_key.get(key)
        if before is None:
            assert line is not None
            added.append(to_store_entry(line, code == 0, why))
        elif line is not None:
            changed.append((before, to_store_entry(line, code == 0, why), ChangeKind.AMEND))
            corrected += 1
        elif (before.eligible, before.eligibility_reason) != (code == 0, why_name):
            new = StoreEntry(key, before.section, before.fields, code == 0, why_name)
            changed.append((before, new, ChangeKind.ELIGIBILITY))
            redecided += 1
    for e in removed:
        changed.append(
            (
                e,
                StoreEntry(e.person_id, e.section, e.fields, False, REMOVED),
                ChangeKind.ELIGIBILITY,
            )
        )
    counts = {
        "corrected": corrected,
        "removed": len(removed),
        "redecided": redecided,
        "unchanged": unchanged,
    }
    stored_count = register.merge_entries(
        conn, election_id, added, changed, actor=actor, source=source, reason=reason, counts=counts
    )
    _store_contacts(conn, election_id, lines)
    summary = _summary_from_store(conn, election_id, definition)
    eligible = register.count_entries(conn, election_id, eligible=True)
    return ImportResult(stored_count, eligible, summary, **counts)


# -- the summary ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterSummary:
    """Entries by section and outcome (``eligible`` or the exclusion reason's name)."""

    sections: tuple[str, ...]
    outcomes: tuple[str, ...]
    counts: Mapping[tuple[str, str], int]

    def count(self, section: str, outcome: str) -> int:
        return self.counts.get((section, outcome), 0)

    def render(self) -> str:
        columns = (*self.sections, "total")
        head = ["", *columns]
        body = []
        for outcome in (*self.outcomes, "on the register"):
            label = outcome.lower().replace("_", " ")
            per = [
                sum(self.count(s, o) for o in self.outcomes)
                if outcome == "on the register"
                else self.count(s, outcome)
                for s in self.sections
            ]
            body.append([label, *(f"{c:,}" for c in (*per, sum(per)))])
        widths = [max(len(row[k]) for row in (head, *body)) for k in range(len(head))]
        out = [
            "  ".join(
                [
                    row[0].ljust(widths[0]),
                    *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)),
                ]
            ).rstrip()
            for row in (head, *body)
        ]
        return "\n".join(out) + "\n"


def _outcomes(extra: Iterable[str] = ()) -> tuple[str, ...]:
    known = (ELIGIBLE, *(r.name for r in ExclusionReason))
    return (*known, *sorted(set(extra) - set(known)))


def _summary_of(outcome: Eligibility, definition: ElectionDefinition) -> RegisterSummary:
    counts: dict[tuple[str, str], int] = {}
    for row in outcome.summary.rows:
        counts[(row.section, ELIGIBLE)] = row.eligible
        for reason in ExclusionReason:
            counts[(row.section, reason.name)] = row.count(reason)
    return RegisterSummary(tuple(s.name for s in definition.sections), _outcomes(), counts)


def register_summary(store: Store, slug: str) -> RegisterSummary:
    """The summary of the register as stored now (later changes included)."""
    record = get_election(store, slug)
    definition = definition_of(record)
    with store.read() as conn:
        return _summary_from_store(conn, record.id, definition)


def _summary_from_store(
    conn: Connection, election_id: int, definition: ElectionDefinition
) -> RegisterSummary:
    counts: dict[tuple[str, str], int] = {}
    for e in register.iter_entries(conn, election_id):
        if e.eligible is None:
            outcome = "UNDECIDED"
        else:
            outcome = ELIGIBLE if e.eligible else e.eligibility_reason or "EXCLUDED"
        counts[(e.section, outcome)] = counts.get((e.section, outcome), 0) + 1
    sections = tuple(s.name for s in definition.sections)
    return RegisterSummary(sections, _outcomes(o for _, o in counts), counts)


# -- freezing and changes ---------------------------------------------------------------------


def register_fingerprint(snapshots: Iterable[tuple[str, str]]) -> tuple[str, int]:
    """SHA-256 of the entries' canonical snapshots (``(person id, snapshot)`` pairs, as
    :func:`tallyroom.store.register.iter_snapshots` reads them) sorted by person id, one a
    line; and the count."""
    ordered = sorted(snapshots)
    digest = hashlib.sha256()
    for _, snapshot in ordered:
        digest.update(snapshot.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest(), len(ordered)


def freeze_register(store: Store, slug: str, *, actor: str, reason: str = "") -> str:
    """Fingerprint the register, record it, and move the election to ``register_frozen``."""
    record = get_election(store, slug)
    with store.begin() as conn:
        elections.require_state(
            conn, record.id, ElectionState.DRAFT, doing="freeze the register", exclusive=True
        )
        fingerprint, count = register_fingerprint(register.iter_snapshots(conn, record.id))
        if count == 0:
            raise InputError("the register is empty", field="register", value=slug)
        undecided = register.count_entries(conn, record.id, eligible=None)
        if undecided:
            raise InputError(
                "entries have no eligibility decision", field="eligible", value=undecided
            )
        twice = register.eligible_twice(conn, record.id)
        if twice:
            listed = "; ".join(f"{who}: {', '.join(keys)}" for who, keys in twice[:20])
            more = f" and {len(twice) - 20:,} more" if len(twice) > 20 else ""
            raise InputError(
                f"a person is eligible through two entries ({listed}{more}); "
                "change one entry's eligibility first",
                field="person",
                value=twice[0][0],
            )
        elections.advance(
            conn,
            record.id,
            ElectionState.REGISTER_FROZEN,
            actor=actor,
            reason=reason,
            payload={
                "register_sha256": fingerprint,
                "entries": count,
                "eligible": register.count_entries(conn, record.id, eligible=True),
            },
        )
    return fingerprint


def find_entry(store: Store, slug: str, who: str) -> StoredEntry:
    """The entry with key ``who`` (``section/number``), or else the person ``who``'s eligible
    entry (a person has at most one)."""
    record = get_election(store, slug)
    with store.read() as conn:
        try:
            return register.get_entry(conn, record.id, who)
        except NotFound:
            pass
        for e in register.iter_entries(conn, record.id, eligible_only=True):
            if e.fields.get("person") == who:
                return e
    raise NotFound("no register entry for this key or eligible person", election=slug, value=who)


def change_eligibility(
    store: Store,
    slug: str,
    who: str,
    eligible: bool,
    *,
    actor: str,
    reason: str,
    exclusion: str | None = None,
) -> StoredEntry:
    """Make the entry ``who`` eligible or not, recorded with ``reason`` (always needed)."""
    if not reason.strip():
        raise InputError("a register change needs a reason", field="reason", value=reason)
    record = get_election(store, slug)
    entry = find_entry(store, slug, who)
    why = None if eligible else (exclusion or "CHANGED")
    with store.begin() as conn:
        if eligible:
            _one_vote(conn, record.id, entry.fields.get("person") or entry.person_id, entry)
        return register.change_eligibility(
            conn, record.id, entry.person_id, eligible, why, actor=actor, reason=reason
        )


def amend_entry(
    store: Store,
    slug: str,
    who: str,
    changes: Mapping[str, str],
    *,
    actor: str,
    reason: str,
) -> StoredEntry:
    """Change fields of the entry ``who`` (the section and number, its key, stay)."""
    record = get_election(store, slug)
    entry = find_entry(store, slug, who)
    for name in changes:
        if name in ("section", "number"):
            raise InputError("the section and number key an entry", field=name, value=name)
    if WEIGHT_FIELD in changes:
        changes = {**changes, WEIGHT_FIELD: amended_weight(definition_of(record), changes)}
    with store.begin() as conn:
        if entry.eligible:
            _one_vote(
                conn,
                record.id,
                changes.get("person") or entry.fields.get("person") or entry.person_id,
                entry,
            )
        return register.amend_entry(
            conn,
            record.id,
            entry.person_id,
            fields={**entry.fields, **changes},
            actor=actor,
            reason=reason,
        )


def _one_vote(conn: Connection, election_id: int, person: str, entry: StoredEntry) -> None:
    """Refuse to make ``entry`` an eligible entry of ``person`` when they hold another."""
    others = [
        k for k in register.eligible_entries_of(conn, election_id, person) if k != entry.person_id
    ]
    if others:
        raise InputError(
            f"this person is eligible already through {', '.join(others)}: "
            f"{entry.person_id} would give them a second vote",
            field="person",
            value=person,
        )
