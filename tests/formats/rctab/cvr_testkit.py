"""Shared helpers for the CVR reader tests: where the RCTab cases are, and small real files.

``write_xlsx`` writes a genuine (minimal) .xlsx workbook, in the different shapes writers use:
shared or inline strings, with or without cell addresses, and with empty ``<row>`` elements.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from tallyroom.count.ballots import OVERVOTE_SET_BASE, CastVoteRecords
from tallyroom.formats.rctab.config import ContestConfig, CvrSource, load_config

CASES = Path(__file__).resolve().parents[4] / "shared" / "conformance" / "rctab" / "cases"

Cell = str | int | float | None


def case_config(case: str) -> ContestConfig:
    return load_config(CASES / case / f"{case}_config.json")


def with_source(config: ContestConfig, **changes: Any) -> ContestConfig:
    """The config with its (first and only) source changed."""
    source: CvrSource = replace(config.sources[0], **changes)
    return replace(config, sources=(source,))


def expected_summary(case: str) -> dict[str, Any] | None:
    reports = sorted((CASES / case).glob("*_expected_detailed_report.json"))
    if not reports:
        return None
    summary: dict[str, Any] = json.loads(reports[0].read_text())["summary"]
    return summary


def decoded(records: CastVoteRecords) -> list[list[object]]:
    """Each record's ranks with overvote-set codes replaced by their member tuples,
    trailing skipped ranks dropped."""
    out: list[list[object]] = []
    for row in records.ranks.tolist():
        ranks: list[object] = [
            records.overvote_sets[OVERVOTE_SET_BASE - c] if c <= OVERVOTE_SET_BASE else c
            for c in row
        ]
        while ranks and ranks[-1] == -1:
            ranks.pop()
        out.append(ranks)
    return out


def by_name(records: CastVoteRecords) -> list[list[object]]:
    """:func:`decoded` with candidate codes replaced by names (comparable across tables)."""
    names = records.candidates.names

    def name(c: object) -> object:
        if isinstance(c, tuple):
            return tuple(sorted(names[x] for x in c))
        assert isinstance(c, int)
        return names[c] if c >= 0 else c

    return [[name(c) for c in row] for row in decoded(records)]


def _col(c: int) -> str:
    out = ""
    n = c + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def write_xlsx(
    path: Path,
    rows: dict[int, list[Cell]],
    *,
    inline: bool = False,
    addresses: bool = True,
    prefix: str = "",
) -> Path:
    """A workbook whose first sheet has ``rows`` (1-based row number -> cells, ``None`` = no
    cell). ``inline`` writes text as inline strings; ``addresses=False`` omits ``r``
    attributes (legal when cells are consecutive); ``prefix`` namespaces the tags (``x:``)."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    shared: dict[str, int] = {}
    body: list[str] = []
    p = prefix
    for r in sorted(rows):
        cells: list[str] = []
        for c, value in enumerate(rows[r]):
            ref = f' r="{_col(c)}{r}"' if addresses else ""
            if value is None:
                if addresses:
                    continue
                cells.append(f"<{p}c{ref}/>")
            elif isinstance(value, str) and inline:
                cells.append(
                    f'<{p}c{ref} t="inlineStr"><{p}is><{p}t>{escape(value)}</{p}t></{p}is></{p}c>'
                )
            elif isinstance(value, str):
                k = shared.setdefault(value, len(shared))
                cells.append(f'<{p}c{ref} t="s"><{p}v>{k}</{p}v></{p}c>')
            else:
                cells.append(f"<{p}c{ref}><{p}v>{value}</{p}v></{p}c>")
        row_ref = f' r="{r}"' if addresses else ""
        body.append(f"<{p}row{row_ref}>{''.join(cells)}</{p}row>")
    xmlns = f'xmlns:{p[:-1]}="{ns}"' if p else f'xmlns="{ns}"'
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {xmlns}>'
        f"<{p}sheetData>{''.join(body)}</{p}sheetData></{p}worksheet>"
    )
    sst = "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}" xmlns:r="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="CVR" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
            '" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
            "openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
            '" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{ns}" count="{len(shared)}" '
            f'uniqueCount="{len(shared)}">{sst}</sst>'
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path
