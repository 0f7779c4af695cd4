"""Ballot CSV: one ballot a row, read into a store and written back.

Two layouts are read::

    id,rank1,rank2,rank3,weight          Timestamp,Rank your choices [Anne],... [Bob]
    b1,Anne,Bob,,1                       2024-05-01 10:02,1st choice,2nd choice
    b2,Bob,,,3                           2024-05-01 10:07,2,1

*Rankings* (left): each preference column holds a candidate's name, best first. *Grids*
(right, Google Forms and Microsoft Forms "ranking grid" exports): one column per candidate,
headed ``... [Name]`` or just ``Name``, holding the rank given to that candidate (``1``,
``1st``, ``1st choice``, ``first``); two candidates at one rank are an overvote there, an
unused rank is skipped.

The header is *told, not guessed when unsure* (``header=True/False``, ``--header/--no-header``).
Left to decide, the reader takes the first row as a header when it holds headings (``rank1``,
``Choice 2``, ``Timestamp``, ``... [Name]``, ``weight``, ``id``) or sits above a grid of ranks,
or none of its cells is a candidate; as a ballot when every cell is a candidate (given, or
seen in other rows); otherwise it stops with an error naming the option, so a file without
a header never loses its first ballot.

Columns that are not preferences are recognised by their heading (``weight`` and ``id`` are
used; timestamps, dates, e-mail addresses, names of voters, response ids are passed over, and
noted) or named with ``columns`` (``--columns``: headings or 1-based numbers and ranges,
``"3-7"``, ``"Q1,Q2"``); a preference column whose cells look like timestamps or e-mail
addresses is an error, not a candidate. With a header, the other columns are preferences.

Names: with ``candidates`` given (``--candidates``), or the grid's headings, a name not among
them is an error naming row, column and value; with ``new_names`` (``--new-names``) it is
added and a note lists each new name and how often it appears. Without a list, the names seen
are the candidates, in order of first appearance; a name that differs from another only in
case and spacing, or is a near spelling of a more frequent one, is an error (a misspelling
would otherwise stand as a candidate), or a noted new name with ``new_names``.

The file is read as a stream and identical rows are counted before any is interpreted, so a
million rows with a few thousand distinct rankings cost one pass of the ``csv`` module.
Problems are collected with file, line, column and value; the first is raised, saying how many
more there are. A field longer than 131,072 characters, a header with no ballots, an
undecodable file each give one line.
"""

from __future__ import annotations

import csv
import itertools
import os
import re
from collections import Counter
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
from tallyroom.formats.reading import MAX_FIELD, CsvLayout, ReadNote, shown

__all__ = ["CsvBallots", "parse_ballot_csv", "read_ballot_csv", "write_ballot_csv"]

_HEADING = re.compile(
    r"^(?:(?:rank(?:ing)?|choice|pref(?:erence)?|vote|option|position|seat|r|c|p)[\s_#.-]*\d+"
    r"|\d+(?:st|nd|rd|th)?[\s_-]*(?:choice|pref(?:erence)?|rank)?"
    r"|(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)(?:[\s_-]+\w+)?"
    r"|weight|id|ballot[\s_-]*id)$",
    re.IGNORECASE,
)
_NOT_PREFERENCE = re.compile(
    r"^(?:timestamp|time|date|submitted(?: at)?|start time|completion time|last modified time"
    r"|e-?mail(?: address)?|name|voter(?: name)?|user(?:name)?|ip(?: address)?|respondent(?: id)?"
    r"|response(?: id)?|comments?|notes?)$",
    re.IGNORECASE,
)
_GRID_HEADING = re.compile(r"\[([^\[\]]+)\]\s*$")
_ORDINALS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
)
_RANK_CELL = re.compile(
    r"^(?:(\d{1,4})(?:st|nd|rd|th)?|("
    + "|".join(_ORDINALS)
    + r"))(?:[\s_-]+(?:choice|pref(?:erence)?|rank))?$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TIMESTAMP = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?.*)?$")


@dataclass(frozen=True, slots=True)
class CsvBallots:
    """The ballots of a CSV file; ``ids`` are the id column's values in file order (if any)."""

    candidates: CandidateTable
    ballots: BallotStore
    rank_columns: tuple[str, ...]
    ids: tuple[str, ...] = ()
    notes: tuple[ReadNote, ...] = ()


def read_ballot_csv(
    path: str | os.PathLike[str],
    *,
    candidates: Sequence[str] | None = None,
    weight_column: str = "weight",
    id_column: str = "id",
    overvote_delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    layout: CsvLayout | None = None,
) -> CsvBallots:
    """Read a ballot CSV file (see the module docstring); ``layout`` is what the user said."""
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
                layout=layout,
            )
    except UnicodeDecodeError as exc:
        raise BallotFileError(
            f"not {encoding.removesuffix('-sig').upper()} text: byte {exc.object[exc.start]:#04x} "
            f"at offset {exc.start}; save the file as UTF-8",
            path=where,
        ) from None
    except OSError as exc:
        raise BallotFileError(f"cannot read the file: {exc.strerror}", path=where) from exc


class _Rows:
    """csv rows with their line numbers; a runaway field is one clear error."""

    def __init__(self, stream: Iterable[str], path: str | None) -> None:
        self.reader = csv.reader(stream)
        self.path = path

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> tuple[int, list[str]]:
        try:
            row = next(self.reader)
        except csv.Error as exc:
            line = self.reader.line_num
            problem = (
                f"a field longer than {MAX_FIELD:,} characters"
                if "field limit" in str(exc)
                else f"not readable as CSV: {exc}"
            )
            raise BallotFileError(problem, path=self.path, line=line) from None
        return self.reader.line_num, row


def parse_ballot_csv(
    stream: Iterable[str],
    *,
    path: str | None = None,
    candidates: Sequence[str] | None = None,
    weight_column: str = "weight",
    id_column: str = "id",
    overvote_delimiter: str | None = None,
    layout: CsvLayout | None = None,
) -> CsvBallots:
    """Parse ballot CSV text (an open file or any iterable of lines)."""
    layout = layout or CsvLayout()
    given = list(candidates) if candidates is not None else None
    if given is None and layout.candidates is not None:
        given = list(layout.candidates)
    rows = _Rows(stream, path)
    first = next((r for r in rows if any(c.strip() for c in r[1])), None)
    if first is None:
        raise BallotFileError("the file is empty; a header row is expected", path=path, line=1)
    sample = list(itertools.islice(rows, _SAMPLE))
    header = _has_header(first[1], sample, given, layout.header, overvote_delimiter, path)
    body: Iterable[tuple[int, list[str]]] = itertools.chain(
        sample if header else [first, *sample], rows
    )
    width = len(first[1]) if header else max(len(r) for _, r in [first, *sample])
    labels = [h.strip() for h in first[1]] if header else [f"column {i + 1}" for i in range(width)]
    plan = _Columns.plan(labels, header, layout.columns, weight_column, id_column, path)
    if header and not any(row for _, row in sample):
        raise BallotFileError(
            "the file has a header but no ballots", path=path, line=first[0], field="header"
        )
    notes: list[ReadNote] = []
    if plan.passed_over:
        notes.append(
            ReadNote(
                path, f"columns that are not preferences passed over: {', '.join(plan.passed_over)}"
            )
        )
    grid = header and _is_grid(labels, plan.rank_at, sample)
    reading = _Reading(path, given, layout.new_names, overvote_delimiter)
    if grid:
        reading.grid_names(
            [_GRID_HEADING.search(labels[i]) for i in plan.rank_at], labels, plan.rank_at
        )
    groups, ids = reading.group(body, plan, header, labels)
    for cells, (times, line) in groups.items():
        reading.interpret(cells, times, line, plan, labels, grid)
    reading.check_names()
    if reading.errors:
        raise first_problem(reading.errors)
    notes.extend(reading.notes())
    try:
        table = CandidateTable(names=tuple(reading.names))
    except ValueError as exc:
        raise BallotFileError(str(exc), path=path, field="candidates") from None
    width = max((len(r) for r in reading.rows), default=1) if grid else max(len(plan.rank_at), 1)
    matrix = np.full((len(reading.rows), max(width, 1)), SKIP, dtype=np.int32)
    for i, ranking in enumerate(reading.rows):
        matrix[i, : len(ranking)] = ranking
    ordered_sets = tuple(s for s, _ in sorted(reading.sets.items(), key=lambda kv: kv[1]))
    store = merge_weighted_rows(matrix, np.array(reading.weights, dtype=np.int64), ordered_sets)
    return CsvBallots(
        candidates=table,
        ballots=store,
        rank_columns=tuple(labels[i] for i in plan.rank_at),
        ids=tuple(ids),
        notes=tuple(notes),
    )


_SAMPLE = 2000  # rows looked at (after the first) to decide the header and the layout


def _cells(row: Sequence[str], delimiter: str | None) -> list[str]:
    out = []
    for cell in row:
        for part in cell.split(delimiter) if delimiter else [cell]:
            if part.strip():
                out.append(part.strip())
    return out


def _has_header(
    first: list[str],
    sample: list[tuple[int, list[str]]],
    given: list[str] | None,
    told: bool | None,
    delimiter: str | None,
    path: str | None,
) -> bool:
    """Whether the first row is a header: as told, else only when that is certain."""
    if told is not None:
        return told
    cells = [c.strip() for c in first if c.strip()]
    if any(_HEADING.match(c) or _NOT_PREFERENCE.match(c) or _GRID_HEADING.search(c) for c in cells):
        return True
    below = [c for _, row in sample for c in _cells(row, delimiter)]
    if (
        below
        and all(_RANK_CELL.match(c) for c in below)
        and not any(_RANK_CELL.match(c) for c in cells)
    ):
        return True  # names above a grid of ranks
    mine = _cells(first, delimiter)
    if given is not None:
        known = set(given)
        if all(c in known for c in mine):
            return False
        if not any(c in known for c in mine):
            return True
    elif below and all(c in set(below) for c in mine):
        return False  # every name in it is voted for in other rows: a ballot
    raise BallotFileError(
        "cannot tell whether the first row is a header or a ballot; say which with "
        "--header or --no-header",
        path=path,
        line=1,
        value=",".join(first),
    )


def _is_grid(labels: list[str], rank_at: list[int], sample: list[tuple[int, list[str]]]) -> bool:
    if any(_GRID_HEADING.search(labels[i]) for i in rank_at):
        return True
    if any(_HEADING.match(labels[i]) for i in rank_at):
        return False
    below = [
        row[i].strip() for _, row in sample for i in rank_at if i < len(row) and row[i].strip()
    ]
    return bool(below) and all(_RANK_CELL.match(c) for c in below)


def _rank_of(cell: str) -> int | None:
    found = _RANK_CELL.match(cell)
    if found is None:
        return None
    if found.group(1):
        return int(found.group(1))
    return _ORDINALS.index(found.group(2).lower()) + 1


@dataclass(frozen=True, slots=True)
class _Columns:
    rank_at: list[int]
    weight_at: int | None
    id_at: int | None
    passed_over: list[str]

    @staticmethod
    def plan(
        labels: list[str],
        header: bool,
        spec: str | None,
        weight_column: str,
        id_column: str,
        path: str | None,
    ) -> _Columns:
        folded = [h.lower() for h in labels]
        weight_at = _column(folded, weight_column, path) if header else None
        id_at = _column(folded, id_column, path) if header else None
        special = (weight_at, id_at)
        if spec is not None:
            chosen = _chosen_columns(spec, labels, path)
            others = [labels[i] for i in range(len(labels)) if i not in chosen and i not in special]
            return _Columns(chosen, weight_at, id_at, others)
        rank_at: list[int] = []
        passed: list[str] = []
        for i, label in enumerate(labels):
            if i in special:
                continue
            if header and _NOT_PREFERENCE.match(label):
                passed.append(label)
            else:
                rank_at.append(i)
        return _Columns(rank_at, weight_at, id_at, passed)


def _column(folded: list[str], name: str, path: str | None) -> int | None:
    matches = [i for i, h in enumerate(folded) if h == name.lower()]
    if len(matches) > 1:
        raise BallotFileError(
            "two columns have the same heading", path=path, line=1, field="header", value=name
        )
    return matches[0] if matches else None


def _chosen_columns(spec: str, labels: list[str], path: str | None) -> list[int]:
    """``--columns``: headings or 1-based numbers and ranges, comma-separated, in order."""
    chosen: list[int] = []
    for part in (p.strip() for p in spec.split(",")):
        span = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        if span:
            lo, hi = int(span.group(1)), int(span.group(2))
            picked = list(range(lo - 1, hi))
        elif part.isdigit():
            picked = [int(part) - 1]
        elif part in labels:
            picked = [labels.index(part)]
        else:
            raise BallotFileError(
                "no such column (give headings or 1-based numbers)",
                path=path,
                line=1,
                field="--columns",
                value=part,
            )
        for i in picked:
            if not 0 <= i < len(labels):
                raise BallotFileError(
                    f"no column {i + 1} (there are {len(labels)})",
                    path=path,
                    line=1,
                    field="--columns",
                    value=part,
                )
            if i not in chosen:
                chosen.append(i)
    return chosen


class _Reading:
    """One parse's working state: names and their codes, problems, the rows made."""

    def __init__(
        self, path: str | None, given: list[str] | None, new_names: bool, delimiter: str | None
    ) -> None:
        self.path = path
        self.given = given
        self.new_names = new_names
        self.delimiter = delimiter
        self.names: list[str] = list(given) if given is not None else []
        self.code_of = {name: code for code, name in enumerate(self.names)}
        self.seen: Counter[str] = Counter()
        self.where: dict[str, tuple[int, str]] = {}
        self.added: list[str] = []
        self.grid_codes: dict[int, int] = {}
        self.sets: dict[tuple[int, ...], int] = {}
        self.rows: list[list[int]] = []
        self.weights: list[int] = []
        self.errors: list[BallotFileError] = []

    def problem(self, text: str, line: int, field: str | None, value: object) -> None:
        if isinstance(value, str):
            value = shown(value)
        self.errors.append(
            BallotFileError(text, path=self.path, line=line, field=field, value=value)
        )

    def grid_names(
        self, found: list[re.Match[str] | None], labels: list[str], at: list[int]
    ) -> None:
        for i, match in zip(at, found, strict=True):
            name = match.group(1).strip() if match else labels[i]
            code = self.code(name, 1, labels[i], 1)
            if code is not None:
                self.grid_codes[i] = code

    def group(
        self,
        body: Iterable[tuple[int, list[str]]],
        plan: _Columns,
        header: bool,
        labels: list[str],
    ) -> tuple[dict[tuple[str, ...], list[int]], list[str]]:
        """Identical rows (their ids aside) counted before any is interpreted."""
        groups: dict[tuple[str, ...], list[int]] = {}
        ids: list[str] = []
        first_use: dict[str, int] = {}
        id_at = plan.id_at
        for line, row in body:
            if not row:
                continue  # a blank line; a ballot with no marks is a row of empty cells
            if header and len(row) > len(labels):
                self.problem(f"{len(row)} cells but the header has {len(labels)}", line, None, row)
                continue
            if id_at is not None:
                ballot_id = row[id_at].strip() if id_at < len(row) else ""
                if ballot_id and ballot_id in first_use:
                    self.problem(
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
        return groups, ids

    def code(self, name: str, line: int, field: str, times: int) -> int | None:
        self.seen[name] += times
        self.where.setdefault(name, (line, field))
        found = self.code_of.get(name)
        if found is not None:
            return found
        if self.given is not None and not self.new_names:
            self.problem("not one of the candidates", line, field, name)
            return None
        if self.given is not None:
            self.added.append(name)
        found = self.code_of[name] = len(self.names)
        self.names.append(name)
        return found

    def interpret(
        self,
        cells: tuple[str, ...],
        times: int,
        line: int,
        plan: _Columns,
        labels: list[str],
        grid: bool,
    ) -> None:
        weight = 1
        if plan.weight_at is not None:
            text = cells[plan.weight_at].strip() if plan.weight_at < len(cells) else ""
            if not (text.isascii() and text.isdigit()) or len(text) > 18:
                self.problem(
                    "the weight must be a whole number", line, labels[plan.weight_at], text
                )
                return
            weight = int(text)
        ranking = (
            self._grid_ranking(cells, times, line, plan, labels)
            if grid
            else self._ranking(cells, times * weight, line, plan, labels)
        )
        if ranking is not None and weight:
            self.rows.append(ranking)
            self.weights.append(weight * times)

    def _ranking(
        self, cells: tuple[str, ...], times: int, line: int, plan: _Columns, labels: list[str]
    ) -> list[int] | None:
        ranking: list[int] = []
        ok = True
        for at in plan.rank_at:
            field = labels[at]
            cell = cells[at].strip() if at < len(cells) else ""
            parts = [p.strip() for p in cell.split(self.delimiter)] if self.delimiter else [cell]
            parts = [p for p in parts if p]
            for part in parts:
                if _EMAIL.match(part) or _TIMESTAMP.match(part):
                    kind = "an e-mail address" if "@" in part else "a date or time"
                    self.problem(
                        f"{kind}, not a candidate: name the preference columns with --columns",
                        line,
                        field,
                        part,
                    )
                    return None
            found = [self.code(p, line, field, times) for p in parts]
            marked = sorted({c for c in found if c is not None})
            if len(marked) < len(set(found)):
                ok = False  # an unknown name, reported
                continue
            ranking.append(self._slot(marked))
        return ranking if ok else None

    def _grid_ranking(
        self, cells: tuple[str, ...], times: int, line: int, plan: _Columns, labels: list[str]
    ) -> list[int] | None:
        at_rank: dict[int, list[int]] = {}
        for at in plan.rank_at:
            cell = cells[at].strip() if at < len(cells) else ""
            if not cell:
                continue
            rank = _rank_of(cell)
            if rank is None or rank < 1:
                self.problem("not a rank (1, 1st, 1st choice, first)", line, labels[at], cell)
                return None
            code = self.grid_codes.get(at)
            if code is None:
                return None  # its heading names no candidate, reported
            at_rank.setdefault(rank, []).append(code)
            self.seen[self.names[code]] += times
        top = max(at_rank, default=0)
        return [self._slot(sorted(at_rank.get(r, []))) for r in range(1, top + 1)]

    def _slot(self, marked: list[int]) -> int:
        if not marked:
            return SKIP
        if len(marked) == 1:
            return marked[0]
        return overvote_set_code(self.sets.setdefault(tuple(marked), len(self.sets)))

    def check_names(self) -> None:
        """Without a candidate list: a name that looks like another's misspelling is refused."""
        if self.given is not None:
            return
        for name in self.names:
            twin = _near(name, self.names, self.seen)
            if twin is None:
                continue
            if self.new_names:
                self.added.append(name)
                continue
            line, field = self.where[name]
            self.problem(
                f"looks like a misspelling of {twin!r} ({self.seen[name]} vs "
                f"{self.seen[twin]}); give --candidates, or --new-names to keep it",
                line,
                field,
                name,
            )

    def notes(self) -> list[ReadNote]:
        if not self.added:
            return []
        listing = ", ".join(f"{shown(n)!r} ({self.seen[n]})" for n in self.added)
        return [ReadNote(self.path, f"new names, not among the candidates, added: {listing}")]


def _near(name: str, names: list[str], seen: Counter[str]) -> str | None:
    """A more frequent name that ``name`` looks like a misspelling of, if any."""
    folded = " ".join(name.split()).casefold()
    for other in names:
        if other == name or seen[other] < seen[name]:
            continue
        if seen[other] == seen[name] and names.index(other) > names.index(name):
            continue
        if " ".join(other.split()).casefold() == folded:
            return other
        if len(name) >= 4 and _edits(folded, other.casefold()) <= (1 if len(name) < 8 else 2):
            return other
    return None


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


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, transpositions."""
    if abs(len(a) - len(b)) > 2:
        return 3
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]
