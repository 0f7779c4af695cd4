"""Ballot files by format name or file extension: one entry point for the CLI and services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tallyroom.count.ballots import BallotStore, CandidateTable, CastVoteRecords
from tallyroom.errors import BallotFileError, FormatError

__all__ = [
    "BallotFile",
    "CsvLayout",
    "ReadNote",
    "ReadOptions",
    "read_ballot_file",
    "write_ballot_file",
]

# The longest field (a name, a cell, a BLT line's token) any reader takes: the csv module's
# own default limit, applied to every format so that none of them chokes on a runaway field.
MAX_FIELD = 131_072
_SHOWN = 60


@dataclass(frozen=True, slots=True)
class ReadNote:
    """Something a reader did leniently: what, on how many lines, the first of them.

    Notes never change a ballot silently: each tolerance a reader applies is reported here
    (the CLI prints them on stderr), and ``strict`` reading refuses the file instead.
    """

    path: str | None
    what: str
    lines: int = 0
    first_line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        if not self.lines:
            return f"{where}{self.what}"
        plural = "s" if self.lines != 1 else ""
        first = f", the first on line {self.first_line}" if self.first_line else ""
        return f"{where}{self.what} ({self.lines} line{plural}{first})"


def shown(value: str) -> str:
    """A value short enough for a one-line message (long ones cut, their length said)."""
    if len(value) <= _SHOWN:
        return value
    return f"{value[:_SHOWN]}... ({len(value):,} characters)"


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """How to read a ballot CSV, as the user said it (``None``: let the reader decide)."""

    header: bool | None = None  # True: the first row is a header; False: it is a ballot
    columns: str | None = None  # which columns hold preferences, e.g. "3-7" or "C:G" or names
    candidates: tuple[str, ...] | None = None  # the names allowed, in candidate order
    new_names: bool = False  # names not among ``candidates``: a warning instead of an error


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read a ballot file: ``strict`` refuses every leniency; ``csv`` lays out a CSV."""

    strict: bool = False
    csv: CsvLayout = CsvLayout()


_READ_SUFFIXES = {
    ".blt": "blt",
    ".soi": "preflib",
    ".toi": "preflib",
    ".soc": "preflib",
    ".toc": "preflib",
    ".csv": "csv",
}
_WRITE_SUFFIXES = {".blt": "blt", ".csv": "csv", ".json": "cdf"}


@dataclass(frozen=True, slots=True)
class BallotFile:
    """Ballots read from a file, whatever its format."""

    title: str
    seats: int  # 0 when the format does not say
    candidates: CandidateTable
    store: BallotStore
    notes: tuple[ReadNote, ...] = ()


def _pick(path: Path, fmt: str, table: dict[str, str], what: str) -> str:
    if fmt != "auto":
        return fmt
    try:
        return table[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(table))
        raise BallotFileError(
            f"cannot tell the {what} format from the extension (known: {known}); "
            "name it with --format/--to",
            path=str(path),
        ) from None


def read_ballot_file(
    path: str | Path,
    fmt: str = "auto",
    options: ReadOptions | None = None,
) -> BallotFile:
    """Read ballots. Unless ``options.strict``, the readers take some real files' departures
    from their format leniently, each reported in :attr:`BallotFile.notes`."""
    options = options or ReadOptions()
    p = Path(path)
    kind = _pick(p, fmt, _READ_SUFFIXES, "ballot file")
    if kind == "blt":
        from tallyroom.formats.blt import read_blt

        blt = read_blt(p, strict=options.strict)
        return BallotFile(blt.title, blt.seats, blt.candidates, blt.ballots, blt.notes)
    if kind == "preflib":
        from tallyroom.formats.preflib import read_preflib

        pl = read_preflib(p)
        return BallotFile(pl.title, 0, pl.candidates, pl.ballots)
    if kind == "csv":
        from tallyroom.formats.ballot_csv import read_ballot_csv

        cb = read_ballot_csv(p, layout=options.csv)
        return BallotFile(p.stem, 0, cb.candidates, cb.ballots, cb.notes)
    raise BallotFileError("unknown ballot file format", path=str(p), field="format", value=fmt)


def write_ballot_file(ballots: BallotFile, path: str | Path, fmt: str = "auto") -> None:
    p = Path(path)
    kind = _pick(p, fmt, _WRITE_SUFFIXES, "output")
    if kind == "blt":
        from tallyroom.formats.blt import write_blt

        write_blt(p, ballots.store, ballots.candidates, ballots.seats or 1, ballots.title)
    elif kind == "csv":
        from tallyroom.formats.ballot_csv import write_ballot_csv

        write_ballot_csv(p, ballots.store, ballots.candidates)
    elif kind == "cdf":
        from tallyroom.formats.cdf_json import CdfReport, write_cdf_json

        store = ballots.store
        records = CastVoteRecords(
            candidates=ballots.candidates,
            ranks=np.repeat(store.rows, store.weights, axis=0),
            overvote_sets=store.overvote_sets,
        )
        write_cdf_json(p, records, CdfReport(contest_name=ballots.title or p.stem))
    else:
        raise FormatError(f"unknown output format {fmt!r}")
