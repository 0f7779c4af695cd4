"""Ballot files by format name or file extension: one entry point for the CLI and services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tallyroom.count.ballots import BallotStore, CandidateTable, CastVoteRecords
from tallyroom.errors import BallotFileError, FormatError
from tallyroom.formats.reading import CsvLayout, ReadNote, ReadOptions

__all__ = [
    "BallotFile",
    "CsvLayout",
    "ReadNote",
    "ReadOptions",
    "read_ballot_file",
    "write_ballot_file",
]

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
    """Ballots read from a file, whatever its format. ``tie_order`` is the file's tie-break
    order (BLT ``[tie ...]``: candidate codes, first listed loses a tie), empty if none."""

    title: str
    seats: int  # 0 when the format does not say
    candidates: CandidateTable
    store: BallotStore
    notes: tuple[ReadNote, ...] = ()
    tie_order: tuple[int, ...] = ()


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
        return BallotFile(
            blt.title, blt.seats, blt.candidates, blt.ballots, blt.notes, blt.tie_order or ()
        )
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
