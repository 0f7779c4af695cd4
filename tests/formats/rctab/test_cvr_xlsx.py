"""The worksheet reader: the vectorised scan, the exact lxml reader and calamine must agree."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from cvr_testkit import CASES, write_xlsx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from tallyroom.errors import BallotFileError
from tallyroom.formats.rctab.cvr import xlsx


def _distinct_workbooks() -> list[Path]:
    """RCTab's workbooks, one per distinct content (the 13 scale files are one file)."""
    seen: dict[str, Path] = {}
    for p in sorted(CASES.glob("**/*.xlsx")) if CASES.is_dir() else []:
        seen.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), p)
    return sorted(seen.values())


WORKBOOKS = _distinct_workbooks()
BIG = 1 << 20  # the exact reader takes ~3 s on an 80,000-row sheet: compare it on one only


def _texts(sheet: xlsx.SheetColumns, col: int) -> list[str | None]:
    return [sheet.texts[k] if k >= 0 else None for k in sheet.columns[col].tolist()]


def _parts(path: Path) -> tuple[bytes, list[str]]:
    with zipfile.ZipFile(path) as zf:
        name = xlsx._first_sheet_name(zf)
        return xlsx._member(zf, name), xlsx._shared_strings(zf)


@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda p: p.name)
def test_fast_scan_equals_lxml_and_calamine(path: Path) -> None:
    sheet, shared = _parts(path)
    width = xlsx._scan_sheet(sheet, shared, [], 1).width
    cols = list(range(width + 1))
    fast = xlsx._scan_sheet(sheet, shared, cols, 1)  # must not fall back on RCTab's files
    big = [p for p in WORKBOOKS if p.stat().st_size > BIG]
    if path.stat().st_size <= BIG or path == big[0]:
        slow = xlsx._read_sheet_lxml(sheet, shared, cols, 1)
        assert np.array_equal(fast.rows, slow.rows)
        assert fast.width == slow.width
        for c in cols:
            assert _texts(fast, c) == _texts(slow, c)
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    for c in cols:
        got_column = _texts(fast, c)
        for r, got in zip(fast.rows.tolist(), got_column, strict=True):
            row = grid[r - 1] if r - 1 < len(grid) else []
            want = xlsx._calamine_text(row[c]) if c < len(row) else None
            assert got == want or (got == "" and want is None), (path.name, r, c)


def test_rows_without_cells_are_rows_and_missing_rows_are_not(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "gaps.xlsx",
        {1: ["id", "r1"], 2: [1, "A"], 3: [], 7: [None, "B"], 1048576: []},
    )
    sheet = xlsx.read_sheet(path, [0, 1], 2)
    assert sheet.rows.tolist() == [2, 3, 7, 1048576]
    assert _texts(sheet, 0) == ["1", None, None, None]
    assert _texts(sheet, 1) == ["A", None, "B", None]


def test_first_sheet_follows_workbook_order(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "one.xlsx", {1: ["x"]})
    with zipfile.ZipFile(path) as zf:
        assert xlsx._first_sheet_name(zf) == "xl/worksheets/sheet1.xml"


def test_not_a_workbook_is_a_ballot_file_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(BallotFileError) as info:
        xlsx.read_sheet(bad, [0], 1)
    assert info.value.path == str(bad)


def test_column_letters() -> None:
    assert [xlsx.column_letter(c) for c in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), max_size=8
).filter(lambda s: "_x" not in s)
_cell = st.one_of(st.none(), _text, st.integers(-5, 10**6))
_grid = st.dictionaries(st.integers(1, 40), st.lists(_cell, max_size=6), min_size=1, max_size=12)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_grid, inline=st.booleans(), first=st.integers(1, 5))
def test_any_workbook_shape_reads_the_same(
    tmp_path: Path, rows: dict[int, list[str | int | None]], inline: bool, first: int
) -> None:
    """Shared or inline strings, numbers, missing cells, empty rows: the scanner (with its
    one-cell fallback) and the lxml reader return the same records and texts."""
    path = write_xlsx(tmp_path / "h.xlsx", rows, inline=inline)
    sheet, shared = _parts(path)
    cols = list(range(6))
    fast = xlsx._scan_sheet(sheet, shared, cols, first)
    slow = xlsx._read_sheet_lxml(sheet, shared, cols, first)
    assert fast.rows.tolist() == [r for r in sorted(rows) if r >= first]
    assert np.array_equal(fast.rows, slow.rows)
    for c in cols:
        assert _texts(fast, c) == _texts(slow, c)
        want = [
            (None if (v := rows[r][c] if c < len(rows[r]) else None) is None else str(v))
            for r in sorted(rows)
            if r >= first
        ]
        assert _texts(fast, c) == want


@pytest.mark.parametrize("shape", ["no-addresses", "prefixed"])
def test_unusual_writers_fall_back_to_the_exact_reader(tmp_path: Path, shape: str) -> None:
    rows: dict[int, list[str | int | None]] = {1: ["h1", "h2"], 2: ["A", 5], 3: [None, "B"]}
    if shape == "no-addresses":
        path = write_xlsx(tmp_path / "n.xlsx", rows, addresses=False)
    else:
        path = write_xlsx(tmp_path / "p.xlsx", rows, prefix="x:")
    sheet, shared = _parts(path)
    with pytest.raises(xlsx._Unexpected):
        xlsx._scan_sheet(sheet, shared, [0, 1], 2)
    got = xlsx.read_sheet(path, [0, 1], 2)
    assert got.rows.tolist() == [2, 3]
    assert _texts(got, 0) == ["A", None]
    assert _texts(got, 1) == ["5", "B"]
