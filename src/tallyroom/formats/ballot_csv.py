"""Plain ballot CSV: one ballot a row, one rank a column, read into a store and written back.

::

    id,rank1,rank2,rank3,weight
    b1,Anne,Bob,,1
    b2,Bob,,,3

The first row is a header. A column headed ``weight`` (optional) gives each row's weight, a
whole number (default 1); a column headed ``id`` (optional) gives its ballot id, which must be
unique. Every other column is a rank, in order. A cell holds a candidate's name or nothing (a
skipped rank); with ``overvote_delimiter`` set, ``Anne|Bob`` is an overvote at that rank.

The candidates are the names given, or else the names seen in order of first appearance. The
file is read as a stream and identical rows are counted before any is interpreted, so a
million rows with a few thousand distinct rankings cost one pass of the ``csv`` module.
Problems (unknown names, bad weights, duplicate ids, ragged rows) are collected with file,
line, column and value; the first is raised, saying how many more there are.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from tallyroom.count.ballots import (
    OVERVOTE_SET_BASE,
    SKIP,
    BallotStore,
    CandidateTable,
    overvote_set_code,
)
from tallyroom.errors import BallotFileError, FormatError
from tallyroom.formats.blt import first_problem
from tallyroom.formats.blt_scan import merge_weighted_rows

__all__ = ["CsvBallots", "parse_ballot_csv", "read_ballot_csv", "write_ballot_csv"]


@dataclass(frozen=True, slots=True)
class CsvBallots:
    """The ballots of a CSV file; ``ids`` are the id column's values in file order (if any)."""

    candidates: CandidateTable
    ballots: BallotStore
    rank_columns: tuple[str, ...]
    ids: tuple[str, ...] = ()


def read_ballot_csv(
    path: str | os.PathLike[str],
    *,
    candidates: Sequence[str] | None = None,
    weight_column: str = "weight",
    id_column: str = "id",
    overvote_delimiter: str | None = None,
    encoding: str = "utf-8-sig",
) -> CsvBallots:
    """Read a ballot CSV file (see the module docstring)."""
    where = str(path)
    try:
        with open(path, encoding=encoding, newline="") as stream:
            return parse_ballot_csv(
                stream,
                path=where,
                candidates=candidates,
                weight_column=weight_column,
                id_column=id_column,
                overvote_delimiter=overvote_delimiter,
            )
    except (OSError, UnicodeDecodeError) as exc:
        raise BallotFileError(f"cannot read the file: {exc}", path=where) from exc


def parse_ballot_csv(
    stream: Iterable[str],
    *,
    path: str | None = None,
    candidates: Sequence[str] | None = None,
    weight_column: str = "weight",
    id_column: str = "id",
    overvote_delimiter: str | None = None,
) -> CsvBallots:
    """Parse ballot CSV text (an open file or any iterable of lines)."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        raise BallotFileError("the file is empty; a header row is expected", path=path, line=1)
    labels = [h.strip() for h in header]
    folded = [h.lower() for h in labels]
    weight_at = _column(folded, weight_column, path)
    id_at = _column(folded, id_column, path)
    rank_at = [i for i in range(len(labels)) if i not in (weight_at, id_at)]
    rank_labels = [labels[i] for i in rank_at]
    errors: list[BallotFileError] = []

    def problem(text: str, line: int, field: str | None, value: object) -> None:
        errors.append(BallotFileError(text, path=path, line=line, field=field, value=value))

    # Count identical rows (their ids aside) before interpreting any of them.
    groups: dict[tuple[str, ...], list[int]] = {}  # row -> [times, first line]
    ids: list[str] = []
    first_use: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not row:
            continue  # a blank line; a ballot with no marks is a row of empty cells
        if len(row) > len(labels):
            problem(f"{len(row)} cells but the header has {len(labels)}", line, None, row)
            continue
        if id_at is not None:
            ballot_id = row[id_at].strip() if id_at < len(row) else ""
            if ballot_id and ballot_id in first_use:
                problem(
                    f"ballot id already used on line {first_use[ballot_id]}",
                    line,
                    labels[id_at],
                    ballot_id,
                )
            first_use.setdefault(ballot_id, line)
            ids.append(ballot_id)
            row = [*row[:id_at], "", *row[id_at + 1 :]]
        key = tuple(row)
        entry = groups.get(key)
        if entry is None:
            groups[key] = [1, line]
        else:
            entry[0] += 1
    names = list(candidates) if candidates is not None else []
    code_of = {name: code for code, name in enumerate(names)}
    sets: dict[tuple[int, ...], int] = {}
    rows: list[list[int]] = []
    weights: list[int] = []

    def code(name: str, line: int, field: str) -> int | None:
        found = code_of.get(name)
        if found is None:
            if candidates is not None:
                problem("not one of the candidates", line, field, name)
                return None
            found = code_of[name] = len(names)
            names.append(name)
        return found

    for cells, (times, line) in groups.items():
        weight = 1
        if weight_at is not None:
            text = cells[weight_at].strip() if weight_at < len(cells) else ""
            if not (text.isascii() and text.isdigit()):
                problem("the weight must be a whole number", line, labels[weight_at], text)
                continue
            weight = int(text)
        ranking: list[int] = []
        for field, at in zip(rank_labels, rank_at, strict=True):
            cell = cells[at].strip() if at < len(cells) else ""
            parts = cell.split(overvote_delimiter) if overvote_delimiter else [cell]
            found = [code(p.strip(), line, field) for p in parts if p.strip()]
            marked = sorted({c for c in found if c is not None})
            if len(marked) < len(set(found)):
                break  # an unknown name, reported
            if not marked:
                ranking.append(SKIP)
            elif len(marked) == 1:
                ranking.append(marked[0])
            else:
                members = tuple(marked)
                ranking.append(overvote_set_code(sets.setdefault(members, len(sets))))
        else:
            if weight:
                rows.append(ranking)
                weights.append(weight * times)
    if errors:
        raise first_problem(errors)
    try:
        table = CandidateTable(names=tuple(names))
    except ValueError as exc:
        raise BallotFileError(str(exc), path=path, field="candidates") from None
    width = max(len(rank_at), 1)
    matrix = np.full((len(rows), width), SKIP, dtype=np.int32)
    for i, ranking in enumerate(rows):
        matrix[i, : len(ranking)] = ranking
    ordered_sets = tuple(s for s, _ in sorted(sets.items(), key=lambda kv: kv[1]))
    store = merge_weighted_rows(matrix, np.array(weights, dtype=np.int64), ordered_sets)
    return CsvBallots(
        candidates=table,
        ballots=store,
        rank_columns=tuple(rank_labels),
        ids=tuple(ids),
    )


def _column(folded: list[str], name: str, path: str | None) -> int | None:
    matches = [i for i, h in enumerate(folded) if h == name.lower()]
    if len(matches) > 1:
        raise BallotFileError(
            "two columns have the same heading", path=path, line=1, field="header", value=name
        )
    return matches[0] if matches else None


# -- writing -----------------------------------------------------------------------------------
def write_ballot_csv(
    target: str | os.PathLike[str] | TextIO,
    store: BallotStore,
    candidates: CandidateTable,
    *,
    overvote_delimiter: str | None = None,
    weights: bool = True,
) -> None:
    """Write ``store`` as ballot CSV: ``rank1..rankN`` and a ``weight`` column.

    With ``weights=False`` each ballot gets its own row (and there is no weight column).
    Overvote sets need ``overvote_delimiter``; an overvote of unknown candidates cannot be
    written (:class:`FormatError`).
    """
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", encoding="utf-8", newline="") as stream:
            _write(stream, store, candidates, overvote_delimiter, weights)
    else:
        _write(target, store, candidates, overvote_delimiter, weights)


def _write(
    out: TextIO,
    store: BallotStore,
    candidates: CandidateTable,
    delimiter: str | None,
    weights: bool,
) -> None:
    cells: dict[int, str] = dict(enumerate(candidates.names))
    cells[SKIP] = ""
    for k, members in enumerate(store.overvote_sets):
        if delimiter is None:
            continue
        if any(delimiter in candidates.names[m] for m in members):
            raise FormatError(f"a candidate name holds the overvote delimiter {delimiter!r}")
        cells[OVERVOTE_SET_BASE - k] = delimiter.join(candidates.names[m] for m in members)
    width = store.rows.shape[1] if len(store) else 1
    writer = csv.writer(out, lineterminator="\n")
    header = [f"rank{r}" for r in range(1, width + 1)]
    writer.writerow([*header, "weight"] if weights else header)
    for row, weight in zip(store.rows.tolist(), store.weights.tolist(), strict=True):
        try:
            line = [cells[code] for code in row]
        except KeyError as exc:
            raise FormatError(
                f"cannot write overvote code {exc.args[0]} "
                + (
                    "(candidates unknown)"
                    if exc.args[0] > OVERVOTE_SET_BASE
                    else "without an overvote_delimiter"
                )
            ) from None
        if weights:
            writer.writerow([*line, weight])
        else:
            writer.writerows([line] * weight)
