"""Cast vote records as RCTab's own CVR table (``rctab_cvr.csv``), one line per record.

RCTab writes this table when it converts a contest's sources ("convert to CSV") and alongside
a tabulation. Two headers are in use (:class:`CvrTableLayout`); RCTab's test suite has both:

* ``RCTAB_ID``: ``Source Filepath, CVR Provider, Contest Id, RCTab CVR Id, Tabulator Id,
  Batch Id, Vendor Id, Precinct, Precinct Portion, Rank 1 .. Rank n``;
* ``RECORD_ID`` (earlier): ``Source Filepath, CVR Provider, Contest Id, Tabulator Id,
  Batch Id, Record Id, Precinct, Precinct Portion, Rank 1 .. Rank n``.

Each ``Rank k`` cell (``n`` is the contest's ranking limit) holds the candidate's name; the
source's own undeclared write-in label for a write-in; ``overvote`` for an overvote label;
``undervote`` when nothing is ranked there; and, for an overvote whose candidates are known,
their cells joined by newlines. Columns a record has no value for are empty.

Quoting follows Apache Commons CSV's ``QuoteMode.MINIMAL`` (RCTab's writer): a field is quoted
when it holds a comma, a quote or a line break, starts with a character up to ``#`` or ends
with one up to a space. Lines end with ``\\n``, as in RCTab's test files.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import TextIO

from tallyroom.count.ballots import OVERVOTE, OVERVOTE_SET_BASE, SKIP, CastVoteRecords
from tallyroom.errors import FormatError

__all__ = [
    "CvrTableLayout",
    "RecordColumns",
    "SourceColumns",
    "rctab_cvr_rows",
    "write_rctab_cvr_csv",
]

OVERVOTE_CELL = "overvote"
UNDERVOTE_CELL = "undervote"


class CvrTableLayout(enum.Enum):
    """Which header RCTab's CVR table has (see the module docstring)."""

    RCTAB_ID = "rctab_id"
    RECORD_ID = "record_id"

    @property
    def header(self) -> tuple[str, ...]:
        if self is CvrTableLayout.RCTAB_ID:
            return (
                "Source Filepath",
                "CVR Provider",
                "Contest Id",
                "RCTab CVR Id",
                "Tabulator Id",
                "Batch Id",
                "Vendor Id",
                "Precinct",
                "Precinct Portion",
            )
        return (
            "Source Filepath",
            "CVR Provider",
            "Contest Id",
            "Tabulator Id",
            "Batch Id",
            "Record Id",
            "Precinct",
            "Precinct Portion",
        )


@dataclass(frozen=True, slots=True)
class SourceColumns:
    """What the table says about a source (indexed by ``CastVoteRecords.source_index``)."""

    file_path: str  # as the config writes it
    provider: str
    undeclared_write_in_label: str = ""  # written for the write-in pseudo-candidate


@dataclass(frozen=True, slots=True)
class RecordColumns:
    """Per-record columns, each parallel to the records (an empty sequence: all empty).

    ``record_id`` is what the ``RECORD_ID`` layout writes: the vendor's id when there is one,
    else RCTab's.
    """

    rctab_id: Sequence[str] = ()
    vendor_id: Sequence[str] = ()
    contest_id: Sequence[str] = ()
    tabulator_id: Sequence[str] = ()
    batch_id: Sequence[str] = ()
    precinct: Sequence[str] = ()
    precinct_portion: Sequence[str] = ()

    def check(self, size: int) -> None:
        for f in fields(self):
            column: Sequence[str] = getattr(self, f.name)
            if column and len(column) != size:
                raise FormatError(
                    f"the {f.name} column has {len(column)} entries for {size} records"
                )

    def record_id(self, i: int) -> str:
        vendor = self.vendor_id[i] if self.vendor_id else ""
        return vendor or (self.rctab_id[i] if self.rctab_id else "")


def write_rctab_cvr_csv(
    target: str | os.PathLike[str] | TextIO,
    records: CastVoteRecords,
    sources: Sequence[SourceColumns],
    columns: RecordColumns,
    max_rank: int,
    layout: CvrTableLayout = CvrTableLayout.RCTAB_ID,
) -> None:
    """Write the table, one record at a time (``max_rank``: the number of ``Rank`` columns)."""
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", encoding="utf-8", newline="") as stream:
            _write(stream, records, sources, columns, max_rank, layout)
    else:
        _write(target, records, sources, columns, max_rank, layout)


def _write(
    out: TextIO,
    records: CastVoteRecords,
    sources: Sequence[SourceColumns],
    columns: RecordColumns,
    max_rank: int,
    layout: CvrTableLayout,
) -> None:
    for row in rctab_cvr_rows(records, sources, columns, max_rank, layout):
        out.write(",".join(_quoted(cell, first=k == 0) for k, cell in enumerate(row)))
        out.write("\n")


def rctab_cvr_rows(
    records: CastVoteRecords,
    sources: Sequence[SourceColumns],
    columns: RecordColumns,
    max_rank: int,
    layout: CvrTableLayout = CvrTableLayout.RCTAB_ID,
) -> Iterator[list[str]]:
    """The header, then each record's cells (unquoted)."""
    n = len(records)
    columns.check(n)
    if max_rank < 1:
        raise FormatError(f"a CVR table needs at least one rank column, not {max_rank}")
    index = records.source_index.tolist() if records.source_index is not None else [0] * n
    if n and max(index) >= len(sources):
        raise FormatError(f"the records name source {max(index) + 1} of {len(sources)}")
    yield [*layout.header, *(f"Rank {r}" for r in range(1, max_rank + 1))]
    names = records.candidates.names
    uwi = records.candidates.undeclared_write_in
    width = min(max_rank, records.max_rank)
    padding = [UNDERVOTE_CELL] * (max_rank - width)
    sets = records.overvote_sets

    def cell(code: int, source: SourceColumns) -> str:
        if code == SKIP:
            return UNDERVOTE_CELL
        if code == OVERVOTE:
            return OVERVOTE_CELL
        if code <= OVERVOTE_SET_BASE:
            return "\n".join(cell(m, source) for m in sets[OVERVOTE_SET_BASE - code])
        return source.undeclared_write_in_label if code == uwi else names[code]

    # identical rankings from one source print identically: build their cells once
    ranks_cache: dict[tuple[int, bytes], list[str]] = {}
    ranks = records.ranks[:, :width]
    for i in range(n):
        k = index[i]
        key = (k, ranks[i].tobytes())
        cells = ranks_cache.get(key)
        if cells is None:
            cells = [cell(int(c), sources[k]) for c in ranks[i].tolist()] + padding
            ranks_cache[key] = cells
        source = sources[k]
        yield [*_described(columns, i, source, layout), *cells]


def _described(
    columns: RecordColumns, i: int, source: SourceColumns, layout: CvrTableLayout
) -> list[str]:
    def col(values: Sequence[str]) -> str:
        return values[i] if values else ""

    head = [source.file_path, source.provider, col(columns.contest_id)]
    place = [col(columns.precinct), col(columns.precinct_portion)]
    if layout is CvrTableLayout.RCTAB_ID:
        return [
            *head,
            col(columns.rctab_id),
            col(columns.tabulator_id),
            col(columns.batch_id),
            col(columns.vendor_id),
            *place,
        ]
    return [
        *head,
        col(columns.tabulator_id),
        col(columns.batch_id),
        columns.record_id(i),
        *place,
    ]


def _quoted(value: str, *, first: bool) -> str:
    """A field as Commons CSV's ``QuoteMode.MINIMAL`` writes it."""
    if not value:
        return '""' if first else ""
    special = any(c in value for c in ',"\r\n')
    if special or value[0] <= "#" or value[-1] <= " ":
        return '"' + value.replace('"', '""') + '"'
    return value
