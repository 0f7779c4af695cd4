"""CVR conversions checked against RCTab's own output, cell by cell.

The CSV tables (three ``conversions_from_*`` cases in the current layout, and the table RCTab
wrote while tabulating ``2024_alaska_dominion``, in the earlier ``Record Id`` layout) must be
identical, down to the bytes. The CDF reports must match after the normalisation of
``test_rctab_cdf``: RCTab names a selection read through an alias by that alias (every Dominion
selection, ``cs-9`` for Bloomberg; the second file's names in ``conversions_from_cdf``), where
tallyroom names it by the candidate.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from test_rctab_cdf import CASES, case_config, comparable, rctab_alias_naming

from tallyroom.count.ballots import OVERVOTE, SKIP, CandidateTable, CastVoteRecords
from tallyroom.errors import BallotFileError, FormatError
from tallyroom.formats.rctab.cvr_csv import (
    CvrTableLayout,
    RecordColumns,
    SourceColumns,
    rctab_cvr_rows,
    write_rctab_cvr_csv,
)
from tallyroom.tabulate.rctab_convert import (
    CDF_FILE,
    CSV_FILE,
    convert_contest,
    read_contest_keeping_ids,
    write_contest_cvr_csv,
)

CURRENT, EARLIER = CvrTableLayout.RCTAB_ID, CvrTableLayout.RECORD_ID
TABLES = [
    ("conversions_from_cdf", "conversions_from_cdf_expected.csv", CURRENT),
    ("conversions_from_dominion", "conversions_from_dominion_expected.csv", CURRENT),
    ("conversions_from_ess", "conversions_from_ess_expected.csv", CURRENT),
    ("2024_alaska_dominion", "2024_alaska_dominion_expected_rctab_cvr.csv", EARLIER),
]
CONVERSIONS = ["conversions_from_cdf", "conversions_from_dominion", "conversions_from_ess"]
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/conformance missing")


def config_path(case: str) -> Path:
    return next((CASES / case).glob("*config.json"))


@needs_cases
@pytest.mark.parametrize(("case", "expected", "layout"), TABLES, ids=[t[0] for t in TABLES])
def test_csv_table_matches_rctab(
    case: str, expected: str, layout: CvrTableLayout, tmp_path: Path
) -> None:
    path = convert_contest(config_path(case), tmp_path, "csv", layout=layout)
    assert path == tmp_path / CSV_FILE
    want_file = CASES / case / expected
    with path.open(newline="", encoding="utf-8") as fh:
        got = list(csv.reader(fh))
    with want_file.open(newline="", encoding="utf-8") as fh:
        want = list(csv.reader(fh))
    assert len(got) == len(want)
    for line, (g, w) in enumerate(zip(got, want, strict=True), start=1):
        assert g == w, f"{case} line {line}"
    assert path.read_bytes() == want_file.read_bytes()


@needs_cases
@pytest.mark.parametrize("case", CONVERSIONS)
def test_cdf_report_matches_rctab(case: str, tmp_path: Path) -> None:
    expected = json.loads((CASES / case / f"{case}_expected_cdf_cvr.json").read_text())
    when = datetime.fromisoformat(expected["GeneratedDate"])
    path = convert_contest(config_path(case), tmp_path, "cdf", generated=when)
    assert path == tmp_path / CDF_FILE
    ours = json.loads(path.read_text(encoding="utf-8"))
    assert ours["GeneratedDate"] == expected["GeneratedDate"]
    assert {len(c["CVRSnapshot"]) for c in ours["CVR"]} == {1}  # nothing is counted
    ours, expected, renamed = rctab_alias_naming(ours, expected, case_config(case))
    assert (renamed > 0) == (case != "conversions_from_ess")
    assert comparable(ours) == comparable(expected)


@needs_cases
def test_table_from_already_read_records(tmp_path: Path) -> None:
    """``run_contest`` can write the table from the records it counts (RCTab writes it while
    loading the CVRs of a tabulation)."""
    config = case_config("2024_alaska_dominion")
    records = read_contest_keeping_ids(config)
    path = write_contest_cvr_csv(config, records, tmp_path / "x" / CSV_FILE, EARLIER)
    want = CASES / "2024_alaska_dominion" / "2024_alaska_dominion_expected_rctab_cvr.csv"
    assert path.read_bytes() == want.read_bytes()


@needs_cases
def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="'xml'"):
        convert_contest(config_path("conversions_from_ess"), tmp_path, "xml")  # type: ignore[arg-type]
    config = case_config("conversions_from_dominion")
    records = read_contest_keeping_ids(config)
    assert records.ids is not None
    bad = CastVoteRecords(
        candidates=records.candidates,
        ranks=records.ranks,
        ids=("42-1", *records.ids[1:]),
        source_index=records.source_index,
    )
    with pytest.raises(BallotFileError, match="TabulatorId-BatchId-RecordId"):
        write_contest_cvr_csv(config, bad, tmp_path / CSV_FILE)


# -- the writer on its own ----------------------------------------------------------------------
def small() -> tuple[CastVoteRecords, list[SourceColumns]]:
    records = CastVoteRecords(
        candidates=CandidateTable(
            names=("Ann, Jr.", "#1 Bob", "Cy ", "Undeclared Write-ins"), undeclared_write_in=3
        ),
        ranks=np.array([[0, -3, SKIP, SKIP], [3, OVERVOTE, 1, 2]], dtype=np.int32),
        overvote_sets=((0, 1, 3),),
        source_index=np.array([0, 1], dtype=np.int32),
    )
    sources = [
        SourceColumns("a.xlsx", "ess", undeclared_write_in_label="UWI"),
        SourceColumns("", "cdf", undeclared_write_in_label='say "x"'),
    ]
    return records, sources


def test_rank_cells_and_quoting() -> None:
    """Write-ins print their source's own label, overvoted candidates are joined by newlines;
    quoting as Commons CSV's minimal mode: separators, quotes and line breaks, a leading
    character up to '#', a trailing one up to ' ', and an empty first field."""
    records, sources = small()
    columns = RecordColumns(rctab_id=("a-1", "b(1)"), vendor_id=("", "v2"))
    out = io.StringIO()
    write_rctab_cvr_csv(out, records, sources, columns, max_rank=5)
    assert out.getvalue() == (
        "Source Filepath,CVR Provider,Contest Id,RCTab CVR Id,Tabulator Id,Batch Id,Vendor Id,"
        "Precinct,Precinct Portion,Rank 1,Rank 2,Rank 3,Rank 4,Rank 5\n"
        'a.xlsx,ess,,a-1,,,,,,"Ann, Jr.","Ann, Jr.\n#1 Bob\nUWI",undervote,undervote,undervote\n'
        '"",cdf,,b(1),,,v2,,,"say ""x""",overvote,"#1 Bob","Cy ",undervote\n'
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1][9:11] == ["Ann, Jr.", "Ann, Jr.\n#1 Bob\nUWI"]
    assert rows[2][9:] == ['say "x"', "overvote", "#1 Bob", "Cy ", "undervote"]


def test_record_id_layout_prefers_the_vendor_id() -> None:
    records, sources = small()
    columns = RecordColumns(rctab_id=("a-1", "b(1)"), vendor_id=("", "v2"), batch_id=("7", ""))
    rows = list(rctab_cvr_rows(records, sources, columns, 2, CvrTableLayout.RECORD_ID))
    assert rows[0][:8] == list(CvrTableLayout.RECORD_ID.header)
    assert [r[3:6] for r in rows[1:]] == [["", "7", "a-1"], ["", "", "v2"]]
    assert rows[2][8:] == ['say "x"', "overvote"]
    assert len(rows[1]) == 8 + 2  # ranks beyond max_rank are not written


def test_writer_refusals(tmp_path: Path) -> None:
    records, sources = small()
    with pytest.raises(FormatError, match="rctab_id column has 1 entries for 2"):
        write_rctab_cvr_csv(tmp_path / "t.csv", records, sources, RecordColumns(("x",)), 3)
    with pytest.raises(FormatError, match="at least one rank"):
        write_rctab_cvr_csv(tmp_path / "t.csv", records, sources, RecordColumns(), 0)
    with pytest.raises(FormatError, match="source 2 of 1"):
        write_rctab_cvr_csv(tmp_path / "t.csv", records, sources[:1], RecordColumns(), 3)
