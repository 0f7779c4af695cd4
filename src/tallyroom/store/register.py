"""The register of voters: bulk import, eligibility, reading back, and recorded changes.

:func:`import_entries` streams any iterable of :class:`RegisterEntry` into the database in
the caller's transaction (``executemany`` in chunks on SQLite, ``COPY`` on PostgreSQL; see
:mod:`tallyroom.store.bulk`): a failure anywhere, a duplicate person on line 412,000 or the
input's own generator raising, rolls the whole import back. Imports happen only while the
election is a draft.

A later file on a draft register is merged by :func:`merge_entries`: its new entries are
inserted, the stored entries it corrects, removes or whose eligibility it changes are updated,
each of those with a ``register_changes`` row (before and after), and one audit event gives
the counts and the reason. :func:`eligible_twice` finds a person with two eligible entries
(the register service refuses to freeze such a register).

After that, every edit is a *change*: :func:`add_entry`, :func:`amend_entry` and
:func:`change_eligibility` write the entry, a ``register_changes`` row with the entry before
and after, the reason and the actor, and an audit event, all in one transaction. The audit
event carries SHA-256 digests of the before and after snapshots, not the personal data, so
the chain commits to every change while the log can be shown to scrutineers.
"""

from __future__ import annotations

import hashlib
import json
import operator
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from tallyroom.audit.events import Action, JsonValue
from tallyroom.errors import InputError, NotFound
from tallyroom.store import audit
from tallyroom.store.bulk import CHUNK_SIZE, insert_rows, update_rows
from tallyroom.store.elections import require_state, states_before
from tallyroom.store.schema import (
    PERSON_ID_MAX,
    SECTION_MAX,
    ChangeKind,
    ElectionState,
    audit_events,
    register_changes,
    register_entries,
)

__all__ = [
    "EntryRow",
    "RegisterEntry",
    "StoredEntry",
    "add_entry",
    "amend_entry",
    "change_eligibility",
    "count_entries",
    "decide_eligibility",
    "decided_by_hand",
    "eligible_by_section",
    "eligible_by_unit",
    "eligible_entries_of",
    "eligible_twice",
    "eligible_voters",
    "encode_fields",
    "entry_ids",
    "get_entry",
    "import_entries",
    "import_rows",
    "iter_entries",
    "iter_snapshots",
    "merge_entries",
]

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_quote = json.encoder.encode_basestring  # the escaping _ENCODER uses (ensure_ascii=False)
_IMPORT_COLUMNS = (
    "election_id",
    "person_id",
    "section",
    "fields",
    "eligible",
    "eligibility_reason",
)
# Register edits are allowed until the poll closes (a late addition is a change with a reason).
_EDITABLE = states_before(ElectionState.CLOSED)


def encode_fields(fields: Mapping[str, str]) -> str:
    """A register line's fields as canonical JSON (sorted keys, no spaces, UTF-8 kept)."""
    text = _text_fields(fields)
    if text is not None:
        return text
    return _ENCODER.encode(fields if isinstance(fields, dict) else dict(fields))


def _text_fields(fields: Mapping[str, str]) -> str | None:
    """:func:`encode_fields` for fields all text (every register line's), or ``None``.

    The same bytes as the canonical encoder (``json``'s own string escaping, keys sorted,
    no spaces), several times faster over 660,000 lines: the general encoder builds a
    new encoder object for each call. The lines of one file have the same keys in the same
    order, so the keys are sorted and quoted once per key order (:func:`_plan`), and each
    line's values are only quoted and put in place."""
    keys = tuple(fields)
    plan = _PLANS.get(keys)
    if plan is None:
        plan = _plan(keys)
        if plan is None:
            return None
    template, ordered = plan
    try:
        values = cast(tuple[str, ...], ordered(tuple(fields.values())))  # checked by _quote
        return template % tuple(map(_quote, values))
    except TypeError:  # a value that is not text
        return None


_Plan = tuple[str, Callable[[tuple[object, ...]], tuple[object, ...]]]
_PLANS: dict[tuple[object, ...], _Plan] = {}


def _plan(keys: tuple[object, ...]) -> _Plan | None:
    """For lines with these keys in this order: the JSON text with a ``%s`` for each value
    (keys sorted and quoted, ``%`` doubled), and the values in sorted-key order."""
    if any(type(k) is not str for k in keys) or len(set(keys)) != len(keys):
        return None
    names = cast(tuple[str, ...], keys)
    order = sorted(range(len(names)), key=names.__getitem__)
    template = "{" + ",".join(_quote(names[i]).replace("%", "%%") + ":%s" for i in order) + "}"
    if len(order) == 1:
        ordered: Callable[[tuple[object, ...]], tuple[object, ...]] = lambda v: v  # noqa: E731
    else:
        ordered = operator.itemgetter(*order) if order else (lambda v: ())
    if len(_PLANS) < 64:  # a few key orders per import; never grows without bound
        _PLANS[keys] = (template, ordered)
    return template, ordered


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One line of a register as given to :func:`import_entries`.

    ``fields`` holds the line's other columns as text. ``eligible`` stays ``None`` until
    eligibility is decided (at import, or later with :func:`decide_eligibility`).
    ``line`` is where the entry came from in its source file, for error messages.
    """

    person_id: str
    section: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)
    eligible: bool | None = None
    eligibility_reason: str | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        _check(self.person_id, self.section, self.line)
        _check_fields(self.fields, self.line)


def _check(person_id: str, section: str, line: int | None) -> None:
    """What :class:`RegisterEntry` checks of the key and section (the import's hot loop
    checks tuples the same way)."""
    if not person_id or len(person_id) > PERSON_ID_MAX:
        raise InputError(
            f"a person id is 1 to {PERSON_ID_MAX} characters",
            line=line,
            field="person_id",
            value=person_id,
        )
    if len(section) > SECTION_MAX:
        raise InputError(
            f"a section is at most {SECTION_MAX} characters",
            line=line,
            field="section",
            value=section,
        )


def _check_fields(fields: Mapping[str, str], line: int | None) -> None:
    error = _not_text(fields, line)
    if error is not None:
        raise error


def _not_text(fields: Mapping[str, str], line: int | None) -> InputError | None:
    """The error naming the first field that is not text, if any."""
    for key, value in fields.items():
        if type(key) is not str or type(value) is not str:
            return InputError("register fields are text", line=line, field=str(key), value=value)
    return None


EntryRow = tuple[str, str, Mapping[str, str], bool | None, str | None, int | None]
"""A register entry as a plain tuple, what :func:`import_rows` takes: ``(person_id,
section, fields, eligible, eligibility_reason, line)``, the fields of
:class:`RegisterEntry` in its order, checked as it checks them."""


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A register entry as stored, with its id."""

    id: int
    election_id: int
    person_id: str
    section: str
    fields: Mapping[str, str]
    eligible: bool | None
    eligibility_reason: str | None

    def snapshot(self) -> str:
        """The entry's content as canonical JSON (what a change records before and after)."""
        return _ENCODER.encode(
            {
                "person_id": self.person_id,
                "section": self.section,
                "fields": dict(self.fields),
                "eligible": self.eligible,
                "eligibility_reason": self.eligibility_reason,
            }
        )


def _stored(row: sa.Row[tuple[object, ...]]) -> StoredEntry:
    m = row._mapping
    return StoredEntry(
        id=m["id"],
        election_id=m["election_id"],
        person_id=m["person_id"],
        section=m["section"],
        fields=json.loads(m["fields"]),
        eligible=m["eligible"],
        eligibility_reason=m["eligibility_reason"],
    )


def import_entries(
    conn: Connection,
    election_id: int,
    entries: Iterable[RegisterEntry],
    *,
    actor: str,
    source: str = "",
    reason: str = "",
    chunk_size: int = CHUNK_SIZE,
    at: datetime | None = None,
) -> int:
    """Stream ``entries`` into a draft election's register; return how many were stored.

    A person id twice in the input is an :class:`InputError` naming the line; one already on
    the register is refused by the database (``UNIQUE(election_id, person_id)``) and
    reported as an :class:`InputError` too. Either way the caller's transaction must roll
    back, as a ``with store.begin()`` block left by the exception does.
    """
    return import_rows(
        conn,
        election_id,
        (_row(e) for e in entries),
        actor=actor,
        source=source,
        reason=reason,
        chunk_size=chunk_size,
        at=at,
    )


def import_rows(
    conn: Connection,
    election_id: int,
    rows: Iterable[EntryRow],
    *,
    actor: str,
    source: str = "",
    reason: str = "",
    chunk_size: int = CHUNK_SIZE,
    at: datetime | None = None,
) -> int:
    """:func:`import_entries` for entries as :data:`EntryRow` tuples, each checked as a
    :class:`RegisterEntry` is: the register service's import, which makes 660,000 of them
    and need not build an object for each."""
    require_state(conn, election_id, ElectionState.DRAFT, doing="import the register")
    count, eligible = _insert(conn, election_id, rows, source, chunk_size)
    audit.append(
        conn,
        election_id,
        Action.REGISTER_IMPORT,
        actor=actor,
        reason=reason,
        payload={"source": source, "entries": count, "eligible_at_import": eligible},
        at=at,
    )
    return count


def _row(entry: RegisterEntry) -> EntryRow:
    return (
        entry.person_id,
        entry.section,
        entry.fields,
        entry.eligible,
        entry.eligibility_reason,
        entry.line,
    )


def _insert(
    conn: Connection,
    election_id: int,
    entries: Iterable[EntryRow],
    source: str,
    chunk_size: int,
) -> tuple[int, int]:
    """Insert ``entries`` (checked here); (how many, how many eligible). Duplicates are
    InputErrors."""
    seen: set[str] = set()
    eligible = 0

    def rows() -> Iterator[tuple[object, ...]]:
        nonlocal eligible
        for position, (person, section, fields, ok, why, line) in enumerate(entries, start=1):
            if not person or len(person) > PERSON_ID_MAX or len(section) > SECTION_MAX:
                _check(person, section, line)
            text = _text_fields(fields)
            if text is None:  # a field that is not text
                error = _not_text(fields, line)
                assert error is not None
                raise error
            if person in seen:
                raise InputError(
                    "person id appears twice in the register",
                    path=source or None,
                    line=line if line is not None else position,
                    field="person_id",
                    value=person,
                )
            seen.add(person)
            if ok:
                eligible += 1
            yield (election_id, person, section, text, ok, why)

    try:
        count = insert_rows(conn, register_entries, _IMPORT_COLUMNS, rows(), chunk_size=chunk_size)
    except (sqlite3.IntegrityError, psycopg.IntegrityError) as exc:
        raise InputError(
            "a person in this input is already on the register",
            path=source or None,
            field="person_id",
            value=str(exc).strip(),
        ) from exc
    return count, eligible


def merge_entries(
    conn: Connection,
    election_id: int,
    added: Iterable[RegisterEntry],
    changed: Sequence[tuple[StoredEntry, RegisterEntry, ChangeKind]],
    *,
    actor: str,
    source: str,
    reason: str,
    counts: Mapping[str, int],
    chunk_size: int = CHUNK_SIZE,
    at: datetime | None = None,
) -> int:
    """A later file merged into a draft register, all in the caller's transaction.

    ``added`` are new entries; ``changed`` holds each stored entry the file corrects
    (``AMEND``), removes or re-decides (``ELIGIBILITY``) with its new content. One
    ``REGISTER_IMPORT`` audit event carries ``counts`` (what the caller counted: corrected,
    removed, unchanged...), the entries added and the eligible after, and ``reason``; each
    changed entry gets a ``register_changes`` row (before and after) under that event.
    Returns how many entries were added.
    """
    if not reason.strip():
        raise InputError(
            "the register has entries already: a further file changes it and needs a reason",
            path=source or None,
            field="reason",
            value=reason,
        )
    require_state(conn, election_id, ElectionState.DRAFT, doing="import the register")
    count, eligible = _insert(conn, election_id, (_row(e) for e in added), source, chunk_size)
    update_rows(
        conn,
        register_entries,
        ("election_id", "person_id"),
        ("section", "fields", "eligible", "eligibility_reason"),
        (
            (
                election_id,
                new.person_id,
                new.section,
                encode_fields(new.fields),
                new.eligible,
                new.eligibility_reason,
            )
            for _, new, _ in changed
        ),
        chunk_size=chunk_size,
    )
    payload: dict[str, JsonValue] = {
        "source": source,
        "entries": count,
        "eligible_at_import": eligible,
        **{k: v for k, v in counts.items()},
        "eligible": count_entries(conn, election_id, eligible=True),
    }
    event = audit.append(
        conn,
        election_id,
        Action.REGISTER_IMPORT,
        actor=actor,
        reason=reason,
        payload=payload,
        at=at,
    )
    sequence = event.event.sequence
    change_rows = []
    for before, new, kind in changed:
        after = StoredEntry(
            before.id,
            election_id,
            new.person_id,
            new.section,
            new.fields,
            new.eligible,
            new.eligibility_reason,
        )
        change_rows.append(
            {
                "election_id": election_id,
                "entry_id": before.id,
                "kind": kind,
                "before": before.snapshot(),
                "after": after.snapshot(),
                "reason": reason,
                "actor": actor,
                "audit_sequence": sequence,
            }
        )
    for start in range(0, len(change_rows), chunk_size):
        conn.execute(register_changes.insert(), change_rows[start : start + chunk_size])
    return count


def decided_by_hand(conn: Connection, election_id: int) -> set[int]:
    """Ids of the entries whose eligibility was set by :func:`change_eligibility` (a decision
    with its own reason, which a later file must not undo)."""
    rc, ae = register_changes.c, audit_events.c
    query = (
        sa.select(rc.entry_id)
        .join(
            audit_events,
            sa.and_(ae.election_id == rc.election_id, ae.sequence == rc.audit_sequence),
        )
        .where(rc.election_id == election_id)
        .where(rc.kind == ChangeKind.ELIGIBILITY)
        .where(ae.action == Action.REGISTER_CHANGE.value)
    )
    return {int(i) for i in conn.execute(query).scalars()}


def _person(conn: Connection) -> sa.ColumnElement[str]:
    """The entry's person: its ``person`` field, or else its key (as :func:`eligible_voters`)."""
    c = register_entries.c
    if conn.dialect.name == "postgresql":
        field = sa.func.json_extract_path_text(sa.cast(c.fields, postgresql.JSON), "person")
    else:
        field = sa.func.json_extract(c.fields, "$.person")
    return sa.func.coalesce(field, c.person_id)


def eligible_twice(conn: Connection, election_id: int) -> list[tuple[str, list[str]]]:
    """Each person with more than one eligible entry, and those entries' keys (sorted)."""
    c = register_entries.c
    eligible = (
        sa.select(_person(conn).label("person"), c.person_id.label("key"))
        .where(c.election_id == election_id)
        .where(c.eligible.is_(True))
        .subquery()
    )
    repeated = sa.select(eligible.c.person).group_by(eligible.c.person).having(sa.func.count() > 1)
    rows = conn.execute(
        sa.select(eligible.c.person, eligible.c.key)
        .where(eligible.c.person.in_(repeated))
        .order_by(eligible.c.person, eligible.c.key)
    )
    found: dict[str, list[str]] = {}
    for who, key in rows:
        found.setdefault(str(who), []).append(str(key))
    return list(found.items())


def eligible_entries_of(conn: Connection, election_id: int, person: str) -> list[str]:
    """The keys of ``person``'s eligible entries."""
    c = register_entries.c
    query = (
        sa.select(c.person_id)
        .where(c.election_id == election_id)
        .where(c.eligible.is_(True))
        .where(_person(conn) == person)
        .order_by(c.person_id)
    )
    return [str(k) for k in conn.execute(query).scalars()]


def decide_eligibility(
    conn: Connection,
    election_id: int,
    decisions: Iterable[tuple[str, bool, str | None]],
    *,
    actor: str,
    reason: str = "",
    chunk_size: int = CHUNK_SIZE,
    at: datetime | None = None,
) -> int:
    """Record ``(person_id, eligible, reason)`` for many entries of a draft election at once.

    Returns how many decisions were given; the audit event records that and the number
    eligible afterwards.
    """
    require_state(conn, election_id, ElectionState.DRAFT, doing="decide eligibility")
    rows = ((election_id, person, eligible, why) for person, eligible, why in decisions)
    given = update_rows(
        conn,
        register_entries,
        ("election_id", "person_id"),
        ("eligible", "eligibility_reason"),
        rows,
        chunk_size=chunk_size,
    )
    audit.append(
        conn,
        election_id,
        Action.ELIGIBILITY,
        actor=actor,
        reason=reason,
        payload={
            "decisions": given,
            "eligible": count_entries(conn, election_id, eligible=True),
            "undecided": count_entries(conn, election_id, eligible=None),
        },
        at=at,
    )
    return given


def count_entries(
    conn: Connection, election_id: int, *, eligible: bool | Literal["any"] | None = "any"
) -> int:
    """How many entries; ``eligible=True``, ``False`` or ``None`` (undecided) counts only those."""
    query = sa.select(sa.func.count()).select_from(register_entries)
    query = query.where(register_entries.c.election_id == election_id)
    if eligible is None:
        query = query.where(register_entries.c.eligible.is_(None))
    elif eligible != "any":
        query = query.where(register_entries.c.eligible.is_(eligible))
    return int(conn.execute(query).scalar_one())


def eligible_by_section(conn: Connection, election_id: int) -> dict[str, int]:
    """section -> how many eligible entries (the electorate of each section)."""
    rows = conn.execute(
        sa.select(register_entries.c.section, sa.func.count())
        .where(register_entries.c.election_id == election_id)
        .where(register_entries.c.eligible.is_(True))
        .group_by(register_entries.c.section)
    )
    return {str(section): int(n) for section, n in rows}


def eligible_by_unit(
    conn: Connection, election_id: int, sections: Sequence[str]
) -> dict[tuple[str, str], int]:
    """(section, unit) -> eligible entries, for the entries of ``sections`` with a unit (the
    ``unit`` field of a register line): the electorate of each unit of a contest counted by
    unit."""
    out: dict[tuple[str, str], int] = {}
    rows = conn.execute(
        sa.select(register_entries.c.section, register_entries.c.fields)
        .where(register_entries.c.election_id == election_id)
        .where(register_entries.c.eligible.is_(True))
        .where(register_entries.c.section.in_(list(sections)))
    )
    for section, fields in rows:
        unit = json.loads(fields).get("unit")
        if isinstance(unit, str) and unit:
            key = (str(section), unit)
            out[key] = out.get(key, 0) + 1
    return out


def iter_snapshots(
    conn: Connection, election_id: int, *, batch: int = 10_000
) -> Iterator[tuple[str, str]]:
    """Each entry's person id and :meth:`StoredEntry.snapshot`, in id order.

    Built from the stored columns as they are: ``fields`` is stored as canonical JSON
    already, so it goes into the snapshot without being decoded and encoded again (what
    fingerprinting 660,000 entries spends most of its time on otherwise). The keys are written
    in the encoder's sorted order, so the text is the snapshot's, byte for byte.
    """
    c = register_entries.c
    query = (
        sa.select(c.person_id, c.section, c.fields, c.eligible, c.eligibility_reason)
        .where(c.election_id == election_id)
        .order_by(c.id)
    )
    text = _ENCODER.encode
    for person, section, fields, eligible, reason in conn.execute(
        query.execution_options(yield_per=batch)
    ):
        yield (
            person,
            f'{{"eligibility_reason":{text(reason)},"eligible":{text(eligible)},'
            f'"fields":{fields},"person_id":{text(person)},"section":{text(section)}}}',
        )


def eligible_voters(conn: Connection, election_id: int) -> list[tuple[int, str, str]]:
    """Every eligible entry's id, person (the ``person`` field, or else the person id) and
    section, in id order: what issuing credentials needs, without decoding every line."""
    c = register_entries.c
    query = (
        sa.select(c.id, c.person_id, c.section, c.fields)
        .where(c.election_id == election_id)
        .where(c.eligible.is_(True))
        .order_by(c.id)
    )
    voters = []
    for entry_id, person_id, section, fields in conn.execute(query):
        person = json.loads(fields).get("person", person_id) if '"person":' in fields else person_id
        voters.append((int(entry_id), str(person), str(section)))
    return voters


def iter_entries(
    conn: Connection, election_id: int, *, eligible_only: bool = False, batch: int = 10_000
) -> Iterator[StoredEntry]:
    """Every entry in id order, streamed ``batch`` rows at a time."""
    query = (
        sa.select(register_entries)
        .where(register_entries.c.election_id == election_id)
        .order_by(register_entries.c.id)
    )
    if eligible_only:
        query = query.where(register_entries.c.eligible.is_(True))
    for row in conn.execute(query.execution_options(yield_per=batch)):
        yield _stored(row)


def entry_ids(conn: Connection, election_id: int, *, eligible_only: bool = True) -> Iterator[int]:
    """Entry ids in order (by default only the eligible ones): what credential issue needs."""
    query = (
        sa.select(register_entries.c.id)
        .where(register_entries.c.election_id == election_id)
        .order_by(register_entries.c.id)
    )
    if eligible_only:
        query = query.where(register_entries.c.eligible.is_(True))
    for entry_id in conn.execute(query.execution_options(yield_per=50_000)).scalars():
        yield int(entry_id)


def get_entry(conn: Connection, election_id: int, person_id: str) -> StoredEntry:
    row = conn.execute(
        sa.select(register_entries)
        .where(register_entries.c.election_id == election_id)
        .where(register_entries.c.person_id == person_id)
    ).one_or_none()
    if row is None:
        raise NotFound("no register entry for this person", election=election_id, value=person_id)
    return _stored(row)


def _digest(snapshot: str | None) -> str | None:
    return None if snapshot is None else hashlib.sha256(snapshot.encode("utf-8")).hexdigest()


def _record_change(
    conn: Connection,
    election_id: int,
    kind: ChangeKind,
    before: StoredEntry | None,
    after: StoredEntry,
    *,
    actor: str,
    reason: str,
    at: datetime | None,
) -> StoredEntry:
    if not reason.strip():
        raise InputError("a register change needs a reason", field="reason", value=reason)
    before_json = before.snapshot() if before is not None else None
    after_json = after.snapshot()
    event = audit.append(
        conn,
        election_id,
        Action.REGISTER_CHANGE,
        actor=actor,
        reason=reason,
        payload={
            "person_id": after.person_id,
            "kind": kind.value,
            "before_sha256": _digest(before_json),
            "after_sha256": _digest(after_json),
        },
        at=at,
    )
    conn.execute(
        register_changes.insert().values(
            election_id=election_id,
            entry_id=after.id,
            kind=kind,
            before=before_json,
            after=after_json,
            reason=reason,
            actor=actor,
            audit_sequence=event.event.sequence,
        )
    )
    return after


def add_entry(
    conn: Connection,
    election_id: int,
    entry: RegisterEntry,
    *,
    actor: str,
    reason: str,
    at: datetime | None = None,
) -> StoredEntry:
    """Add one person to the register, as a recorded change."""
    require_state(conn, election_id, *_EDITABLE, doing="add to the register")
    try:
        conn.execute(
            register_entries.insert().values(
                election_id=election_id,
                person_id=entry.person_id,
                section=entry.section,
                fields=encode_fields(entry.fields),
                eligible=entry.eligible,
                eligibility_reason=entry.eligibility_reason,
            )
        )
    except sa.exc.IntegrityError as exc:
        raise InputError(
            "this person is already on the register", field="person_id", value=entry.person_id
        ) from exc
    after = get_entry(conn, election_id, entry.person_id)
    return _record_change(
        conn, election_id, ChangeKind.ADD, None, after, actor=actor, reason=reason, at=at
    )


def amend_entry(
    conn: Connection,
    election_id: int,
    person_id: str,
    *,
    section: str | None = None,
    fields: Mapping[str, str] | None = None,
    actor: str,
    reason: str,
    at: datetime | None = None,
) -> StoredEntry:
    """Change an entry's section or fields, as a recorded change."""
    require_state(conn, election_id, *_EDITABLE, doing="amend the register")
    before = get_entry(conn, election_id, person_id)
    new_section = before.section if section is None else section
    new_fields = before.fields if fields is None else fields
    RegisterEntry(person_id, new_section, new_fields)  # validates
    conn.execute(
        register_entries.update()
        .where(register_entries.c.id == before.id)
        .values(section=new_section, fields=encode_fields(new_fields))
    )
    after = get_entry(conn, election_id, person_id)
    return _record_change(
        conn, election_id, ChangeKind.AMEND, before, after, actor=actor, reason=reason, at=at
    )


def change_eligibility(
    conn: Connection,
    election_id: int,
    person_id: str,
    eligible: bool,
    eligibility_reason: str | None,
    *,
    actor: str,
    reason: str,
    at: datetime | None = None,
) -> StoredEntry:
    """Set one entry's eligibility (a removal from the register is this), as a recorded change."""
    require_state(conn, election_id, *_EDITABLE, doing="change eligibility")
    before = get_entry(conn, election_id, person_id)
    conn.execute(
        register_entries.update()
        .where(register_entries.c.id == before.id)
        .values(eligible=eligible, eligibility_reason=eligibility_reason)
    )
    after = get_entry(conn, election_id, person_id)
    return _record_change(
        conn, election_id, ChangeKind.ELIGIBILITY, before, after, actor=actor, reason=reason, at=at
    )
