"""Generic CSV cast vote records: one column per candidate, holding the rank given to them.

Following RCTab's ``CsvCvrReader`` and its test cases (``generic_csv_test``,
``csv_missing_header_test``, ``max_ranking_enforcement``):

* Line 1 is the header. From ``firstVoteColumnIndex`` on, each header cell names a candidate
  (a token: name or alias; the ``undeclaredWriteInLabel`` column is the write-in column). A
  blank candidate header is refused; headers left of that column may be blank.
* Records start at line ``max(2, firstVoteRowIndex)``; blank lines are skipped.
* A candidate cell is blank (not ranked) or a whole number: the rank. A rank below 1 or above
  ``maxRankingsAllowed`` is refused (RCTab's ``max_ranking_enforcement`` must fail). Two
  candidates with the same rank form an overvote set.
* ``idColumnIndex`` gives record ids. ``precinctColumnIndex`` / ``batchColumnIndex`` give
  precinct and batch labels; a blank cell becomes ``no precinct id`` / ``no batch id``, the
  labels RCTab's reports show for them.
"""

from __future__ import annotations

import csv

from tallyroom.count.ballots import CastVoteRecords
from tallyroom.errors import BallotFileError
from tallyroom.formats.rctab.config import CandidateConfig, CvrSource
from tallyroom.formats.rctab.cvr.provider import CvrProvider, SourceReading
from tallyroom.formats.rctab.cvr.records import csv_header, located, unreadable_csv
from tallyroom.formats.rctab.cvr.tokens import TokenError

__all__ = ["NO_BATCH", "NO_PRECINCT", "PROVIDER", "declared_candidates", "read"]

NO_PRECINCT = "no precinct id"
NO_BATCH = "no batch id"


def read(reading: SourceReading) -> CastVoteRecords:
    """Read one generic CSV file."""
    source, path, resolver = reading.source, reading.path, reading.resolver
    first_col = _first_col(source)
    first_line = max(2, source.first_vote_row_index or 2)
    builder = reading.builder()
    id_col = _index(source.id_column_index)
    precinct_col = _index(source.precinct_column_index)
    batch_col = _index(source.batch_column_index)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise BallotFileError("no header line", path=str(path), line=1)
            columns: list[tuple[int, str, int]] = []  # (column, header, code)
            for col, name in _candidate_columns(header, first_col, source):
                try:
                    code = (
                        resolver.write_in()
                        if name == source.undeclared_write_in_label
                        else resolver.token(name)
                    )
                except TokenError as err:
                    raise located(err, path, line=1, field=f"column {col + 1}") from None
                columns.append((col, name, code))
            for row in reader:
                line = reader.line_num
                if line < first_line or not any(cell.strip() for cell in row):
                    continue
                marks: list[tuple[int, int]] = []
                for col, name, code in columns:
                    cell = row[col].strip() if col < len(row) else ""
                    if not cell:
                        continue
                    field = f"column {col + 1} ({name})"
                    try:
                        rank = int(cell)
                    except ValueError:
                        raise BallotFileError(
                            "a rank must be a whole number",
                            path=str(path),
                            line=line,
                            field=field,
                            value=cell,
                        ) from None
                    builder.check_rank(rank, line=line, field=field)
                    marks.append((rank, code))
                builder.add(
                    marks,
                    line=line,
                    record_id=_cell(row, id_col),
                    precinct=_label(row, precinct_col, NO_PRECINCT),
                    batch=_label(row, batch_col, NO_BATCH),
                )
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise unreadable_csv(path, exc) from exc
    return builder.build()


def declared_candidates(source: CvrSource) -> list[CandidateConfig]:
    """The candidate header cells, left to right (write-in column left out)."""
    path = source.file_path
    header = csv_header(path)
    names = [
        name
        for _, name in _candidate_columns(header, _first_col(source), source)
        if name != source.undeclared_write_in_label
    ]
    return [CandidateConfig(name=n) for n in dict.fromkeys(names)]


PROVIDER = CvrProvider(read_records=read, read_candidates=declared_candidates)


def _candidate_columns(
    header: list[str], first_col: int, source: CvrSource
) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for col in range(first_col, len(header)):
        name = header[col].strip()
        if not name:
            raise BallotFileError(
                "a candidate column has no name in the header",
                path=str(source.file_path),
                line=1,
                field=f"column {col + 1}",
            )
        out.append((col, name))
    return out


def _first_col(source: CvrSource) -> int:
    if source.first_vote_column_index is None:
        raise BallotFileError(
            "a generic CSV source needs firstVoteColumnIndex", path=str(source.file_path)
        )
    return source.first_vote_column_index - 1


def _index(one_based: int | None) -> int | None:
    return None if one_based is None else one_based - 1


def _cell(row: list[str], col: int | None) -> str | None:
    if col is None or col >= len(row) or not row[col].strip():
        return None
    return row[col]


def _label(row: list[str], col: int | None, missing: str) -> str | None:
    if col is None:
        return None
    return _cell(row, col) or missing
