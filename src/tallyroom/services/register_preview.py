"""A register file looked at before it is imported: its header, its first rows, a guessed
column mapping, and every problem the import would refuse.

The console's import goes through here first: the officer sees the file as the server reads
it, maps each of the register's fields to one of its columns (:func:`guess_mapping` guesses
by name: ``Membership No`` for the number, ``E-mail`` for the email), and sees every problem
of the whole file under that mapping (file, line, field, value) before anything is stored;
the import then runs with the same :class:`~tallyroom.services.register.ColumnMapping`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, fields
from pathlib import Path

from tallyroom.election import ElectionDefinition
from tallyroom.errors import InputError
from tallyroom.services.register import ColumnMapping, _rows, register_problems

__all__ = [
    "FIELDS",
    "REQUIRED",
    "RegisterPreview",
    "guess_mapping",
    "mapping_of",
    "preview_register",
]

REQUIRED = ("person", "section", "number", "status")
FIELDS = tuple(f.name for f in fields(ColumnMapping))
_ALIASES = {
    "person": ("person_id", "person", "personid", "member_id", "memberid", "id", "person_ref"),
    "section": ("section", "branch", "ward", "electorate", "category"),
    "number": (
        "membership_number",
        "membershipno",
        "membership_no",
        "member_no",
        "memberno",
        "member_number",
        "number",
        "no",
    ),
    "status": ("status", "membership_status", "member_status", "state"),
    "joined": ("joined", "join_date", "date_joined", "joined_on", "joining_date"),
    "registered": ("registered", "registration_date", "date_registered", "registered_on"),
    "name": ("name", "full_name", "fullname", "member_name"),
    "email": ("email", "e_mail", "email_address", "mail"),
    "address": ("address", "postal_address", "home_address"),
    "channel": ("channel", "delivery", "delivery_channel", "contact_by"),
    "unit": ("unit", "unit_name", "affiliate", "voting_unit"),
}
MAX_PROBLEMS = 200


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def guess_mapping(header: list[str]) -> dict[str, str | None]:
    """Field -> the header's column that looks like it (by name), or ``None``."""
    by_norm = {_norm(h): h for h in header if h.strip()}
    out: dict[str, str | None] = {}
    taken: set[str] = set()
    for name in FIELDS:
        found = None
        for alias in _ALIASES[name]:
            column = by_norm.get(_norm(alias))
            if column is not None and column not in taken:
                found = column
                break
        out[name] = found
        if found is not None:
            taken.add(found)
    return out


@dataclass(frozen=True, slots=True)
class RegisterPreview:
    """The file as read: header, first rows, the mapping tried, and the problems found
    (the first :data:`MAX_PROBLEMS`, with ``problem_count`` all of them)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    mapping: dict[str, str | None]
    problems: tuple[InputError, ...]
    problem_count: int
    entries: int

    @property
    def ready(self) -> bool:
        return self.problem_count == 0


def mapping_of(chosen: dict[str, str | None]) -> ColumnMapping:
    """The :class:`ColumnMapping` for field -> column choices (a required field unmapped is
    refused, naming the field)."""
    for name in REQUIRED:
        if not chosen.get(name):
            raise InputError("map this field to a column of the file", field=name, value="")
    return ColumnMapping(**{k: v or None for k, v in chosen.items() if k in FIELDS})  # type: ignore[arg-type]


def preview_register(
    path: Path,
    definition: ElectionDefinition,
    chosen: dict[str, str | None] | None = None,
    *,
    shown_as: str | None = None,
    rows: int = 10,
) -> RegisterPreview:
    """The header and first ``rows`` rows of the register at ``path``, the mapping
    (``chosen``, else guessed) and every problem an import with it would report; errors name
    the file ``shown_as`` (the name the officer uploaded) instead of the private copy."""
    read = _rows(path)
    _, header = next(read, (1, []))
    header = [h.strip() for h in header]
    first = tuple(tuple(cells) for _, cells in itertools.islice(read, rows))
    mapping = chosen if chosen is not None else guess_mapping(header)
    try:
        lines, problems = register_problems(path, mapping_of(mapping), definition)
    except InputError as exc:
        lines, problems = [], [exc]
    if shown_as is not None:
        problems = [p.shown_as(shown_as) if p.path == str(path) else p for p in problems]
    return RegisterPreview(
        header=tuple(header),
        rows=first,
        mapping=mapping,
        problems=tuple(problems[:MAX_PROBLEMS]),
        problem_count=len(problems),
        entries=len(lines),
    )
