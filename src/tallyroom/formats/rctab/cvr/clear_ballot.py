"""Clear Ballot cast vote records: a CSV with one "choice column" per candidate and rank.

Following RCTab's ``ClearBallotCvrReader`` (Clear Ballot 2.1 RCV format):

* Columns 1-10 are ``RowNumber, BoxID, BoxPosition, BallotID, PrecinctID, BallotStyleID,
  PrecinctStyleName, ScanComputerName, Status, Remade``; every later header reads
  ``Choice_X_Y:<contest>:<rank>:<vote rule>:<choice>:<party>`` (exactly six ``:`` fields).
* Only the columns whose contest is ``contestId`` count. Their choice is a token (a choice equal
  to ``undeclaredWriteInLabel`` is a write-in; an unknown choice is refused) and their rank
  must be within ``maxRankingsAllowed`` -- checked on the header, before any ballot.
* Each later line is one record; a cell holding ``1`` marks that choice at that rank. Choices
  sharing a rank form an overvote set. Record id: ``BallotID``; precinct: ``PrecinctID``.

Unlike RCTab (which splits lines on every comma), quoted CSV fields are honoured.
"""

from __future__ import annotations

import csv

from tallyroom.count.ballots import CastVoteRecords
from tallyroom.errors import BallotFileError
from tallyroom.formats.rctab.config import CandidateConfig, CvrSource
from tallyroom.formats.rctab.cvr.provider import CvrProvider, SourceReading
from tallyroom.formats.rctab.cvr.records import csv_header, located, unreadable_csv
from tallyroom.formats.rctab.cvr.tokens import TokenError

__all__ = ["PROVIDER", "declared_candidates", "read"]

_FIRST_CHOICE = 10
_BALLOT_ID, _PRECINCT_ID = 3, 4


def read(reading: SourceReading) -> CastVoteRecords:
    """Read the records of ``source.contest_id`` from one Clear Ballot CSV."""
    source, path, resolver = reading.source, reading.path, reading.resolver
    builder = reading.builder()
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise BallotFileError("no header line", path=str(path), line=1)
            columns: list[tuple[int, int, int]] = []  # (column, rank, code)
            for col, rank, choice in _choices(header, source, path):
                field = f"column {col + 1} ({header[col]})"
                builder.check_rank(rank, line=1, field=field)
                try:
                    code = (
                        resolver.write_in()
                        if choice == source.undeclared_write_in_label
                        else resolver.token(choice)
                    )
                except TokenError as err:
                    raise located(err, path, line=1, field=field) from None
                columns.append((col, rank, code))
            for row in reader:
                if not row:
                    continue
                line = reader.line_num
                marks: list[tuple[int, int]] = []
                for col, rank, code in columns:
                    cell = row[col].strip() if col < len(row) else ""
                    if cell == "1":
                        marks.append((rank, code))
                    elif cell not in ("", "0"):
                        raise BallotFileError(
                            "a choice cell must be 0 or 1",
                            path=str(path),
                            line=line,
                            field=f"column {col + 1} ({header[col]})",
                            value=cell,
                        )
                builder.add(
                    marks,
                    line=line,
                    precinct=_cell(row, _PRECINCT_ID),
                    record_id=_cell(row, _BALLOT_ID),
                )
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise unreadable_csv(path, exc) from exc
    return builder.build()


def declared_candidates(source: CvrSource) -> list[CandidateConfig]:
    """The contest's choices in header order (write-in label left out)."""
    path = source.file_path
    header = csv_header(path)
    names = dict.fromkeys(
        choice
        for _, _, choice in _choices(header, source, path)
        if choice != source.undeclared_write_in_label
    )
    return [CandidateConfig(name=n) for n in names]


PROVIDER = CvrProvider(read_records=read, read_candidates=declared_candidates)


def _choices(header: list[str], source: CvrSource, path: object) -> list[tuple[int, int, str]]:
    """(column, rank, choice name) of the contest's choice columns."""
    if len(header) <= _FIRST_CHOICE:
        raise BallotFileError("no choice columns in the header", path=str(path), line=1)
    out: list[tuple[int, int, str]] = []
    for col in range(_FIRST_CHOICE, len(header)):
        fields = header[col].split(":")
        if len(fields) != 6:
            raise BallotFileError(
                "a choice column header must have 6 ':'-separated fields",
                path=str(path),
                line=1,
                field=f"column {col + 1}",
                value=header[col],
            )
        if fields[1] != source.contest_id:
            continue
        try:
            rank = int(fields[2])
        except ValueError:
            raise BallotFileError(
                "the rank field of a choice column is not a whole number",
                path=str(path),
                line=1,
                field=f"column {col + 1}",
                value=header[col],
            ) from None
        out.append((col, rank, fields[4]))
    return out


def _cell(row: list[str], col: int) -> str | None:
    if col < len(row) and row[col].strip():
        return row[col]
    return None
