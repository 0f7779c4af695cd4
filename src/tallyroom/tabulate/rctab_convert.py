"""RCTab's CVR conversions: a contest's cast vote records as RCTab's CSV table or as CDF JSON.

``convert_contest(config, out_dir, "csv")`` writes ``rctab_cvr.csv`` (see
:mod:`tallyroom.formats.rctab.cvr_csv`); ``"cdf"`` writes ``cvr_cdf.json``, the records as
NIST CDF with one original snapshot each (see :mod:`tallyroom.tabulate.rctab_cdf`). Nothing is
counted.

What the table says about each record, following RCTab's readers and its test files:

* ``Source Filepath`` and ``CVR Provider`` as the config writes them (not resolved);
* ``RCTab CVR Id``: RCTab's id (:func:`~tallyroom.tabulate.rctab_cdf.rctab_record_ids`);
  ``Vendor Id``: the file's own id (Dominion ``RecordId``, CDF ``BallotPrePrintedId`` /
  ``UniqueId``, an ES&S or CSV id column), else empty;
* ``Contest Id``, ``Tabulator Id``, ``Precinct Portion``: Dominion only (RCTab's other readers
  leave them empty, even where the config names a contest); the portion is the
  ``PrecinctPortionManifest`` description of the session's ``PrecinctPortionId``, which this
  module reads from the export files itself;
* ``Batch Id`` / ``Precinct``: the record's batch and precinct, when its reader gives them.

Only ES&S, CDF and Dominion sources are checked against RCTab output (its test suite has no
conversion of the other providers).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from tallyroom.count.ballots import CastVoteRecords, Codes
from tallyroom.errors import BallotFileError, ConfigError, FormatError
from tallyroom.formats.rctab.config import ContestConfig, CvrSource, Provider, load_config
from tallyroom.formats.rctab.cvr import candidate_table, rank_limit, read_source
from tallyroom.formats.rctab.cvr.dominion import cvr_files
from tallyroom.formats.rctab.cvr_csv import (
    CvrTableLayout,
    RecordColumns,
    SourceColumns,
    write_rctab_cvr_csv,
)
from tallyroom.tabulate.rctab_cdf import rctab_record_ids, write_records_cdf

__all__ = [
    "CDF_FILE",
    "CSV_FILE",
    "convert_contest",
    "cvr_table_columns",
    "read_contest_keeping_ids",
    "write_contest_cvr_csv",
]

CSV_FILE = "rctab_cvr.csv"
CDF_FILE = "cvr_cdf.json"


def convert_contest(
    config_path: str | Path,
    out_dir: str | Path,
    to: Literal["csv", "cdf"],
    *,
    layout: CvrTableLayout = CvrTableLayout.RCTAB_ID,
    generated: datetime | None = None,
) -> Path:
    """Read every source of the contest and write it as ``to``; returns the file written.

    ``layout`` picks the CSV header; ``generated`` the CDF report's date (default: now).
    """
    if to not in ("csv", "cdf"):
        raise FormatError(f"cannot convert cast vote records to {to!r}: use 'csv' or 'cdf'")
    config = load_config(config_path)
    records = read_contest_keeping_ids(config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if to == "cdf":
        return write_records_cdf(config, records, out / CDF_FILE, generated=generated)
    return write_contest_cvr_csv(config, records, out / CSV_FILE, layout)


def read_contest_keeping_ids(config: ContestConfig) -> CastVoteRecords:
    """Every source's records, joined in config order, keeping the ids of the sources that have
    them (``CastVoteRecords.concat`` keeps ids only when every source has them, and RCTab's
    Dominion ids are needed whatever the other sources are)."""
    table = candidate_table(config)
    parts = [read_source(source, table, config) for source in config.sources]
    if not parts:
        raise ConfigError("the config lists no cast vote record sources", path=str(config.path))
    records = CastVoteRecords.concat(parts)
    if records.ids is None and any(p.ids is not None for p in parts):
        ids = tuple(i for p in parts for i in (p.ids if p.ids is not None else [""] * len(p)))
        records = replace(records, ids=ids)
    return records


def write_contest_cvr_csv(
    config: ContestConfig,
    records: CastVoteRecords,
    out_path: str | Path,
    layout: CvrTableLayout = CvrTableLayout.RCTAB_ID,
) -> Path:
    """Write RCTab's CVR table of the contest's records (as read, all sources, config order)."""
    sources, columns = cvr_table_columns(config, records)
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_rctab_cvr_csv(path, records, sources, columns, rank_limit(config), layout)
    return path


def cvr_table_columns(
    config: ContestConfig, records: CastVoteRecords
) -> tuple[list[SourceColumns], RecordColumns]:
    """The table's columns besides the rankings: per source and per record."""
    raw = _raw_sources(config)
    sources: list[SourceColumns] = []
    for k, source in enumerate(config.sources):
        entry = raw[k] if k < len(raw) else {}
        sources.append(
            SourceColumns(
                file_path=_text(entry.get("filePath"), str(source.file_path)),
                provider=_text(entry.get("provider"), source.provider.value),
                undeclared_write_in_label=source.undeclared_write_in_label,
            )
        )
    n = len(records)
    index = records.source_index.tolist() if records.source_index is not None else [0] * n
    ids = list(records.ids) if records.ids is not None else [""] * n
    portions = {
        k: _dominion_portions(s)
        for k, s in enumerate(config.sources)
        if s.provider is Provider.DOMINION
    }
    vendor: list[str] = []
    contest: list[str] = []
    tabulator: list[str] = []
    portion: list[str] = []
    for k, ident in zip(index, ids, strict=True):
        source = config.sources[k]
        if source.provider is Provider.DOMINION:
            tab, _, record = _dominion_ident(ident, source)
            vendor.append(record)
            contest.append(source.contest_id)
            tabulator.append(tab)
            portion.append(portions[k].get(ident, ""))
        else:
            vendor.append(ident)
            contest.append("")
            tabulator.append("")
            portion.append("")
    columns = RecordColumns(
        rctab_id=rctab_record_ids(config, records),
        vendor_id=vendor,
        contest_id=contest,
        tabulator_id=tabulator,
        batch_id=_labels(records.batches, records.batch_names, n),
        precinct=_labels(records.precincts, records.precinct_names, n),
        precinct_portion=portion,
    )
    return sources, columns


def _labels(column: Codes | None, names: tuple[str, ...], n: int) -> list[str]:
    if column is None:
        return [""] * n
    return [names[k] if k >= 0 else "" for k in column.tolist()]


def _text(value: object, default: str) -> str:
    return value if isinstance(value, str) else default


def _raw_sources(config: ContestConfig) -> list[dict[str, Any]]:
    """The ``cvrFileSources`` entries as written (RCTab prints paths unresolved)."""
    try:
        raw = json.loads(config.path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return []
    entries = raw.get("cvrFileSources") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        return []
    return [e if isinstance(e, dict) else {} for e in entries]


def _dominion_ident(ident: str, source: CvrSource) -> tuple[str, str, str]:
    """Tabulator, batch and record of a Dominion id (all empty when the id was lost: records
    joined with a source that has no ids)."""
    if not ident:
        return "", "", ""
    parts = ident.split("-")
    if len(parts) != 3:
        raise BallotFileError(
            "a Dominion record id is not TabulatorId-BatchId-RecordId",
            path=str(source.file_path),
            field="record id",
            value=ident,
        )
    return parts[0], parts[1], parts[2]


def _dominion_portions(source: CvrSource) -> dict[str, str]:
    """``TabulatorId-BatchId-RecordId`` -> the description of the session's precinct portion,
    taken from the session version the reader uses (``Original``, else ``Modified``)."""
    folder = source.file_path
    manifest = folder / "PrecinctPortionManifest.json"
    if not manifest.exists():
        return {}
    items = _load(manifest).get("List")
    if not isinstance(items, list):
        raise BallotFileError("a manifest without a List", path=str(manifest))
    names = {str(p.get("Id")): str(p.get("Description", "")) for p in items if isinstance(p, dict)}
    out: dict[str, str] = {}
    for export in cvr_files(folder):
        sessions = _load(export).get("Sessions")
        if not isinstance(sessions, list):
            raise BallotFileError("no Sessions list", path=str(export))
        for session in sessions:
            if not isinstance(session, dict):
                continue
            data = session.get("Original") or {}
            if not data.get("IsCurrent", True):
                data = session.get("Modified")
                if data is None:
                    continue
            portion = data.get("PrecinctPortionId")
            if portion is None:
                continue
            ident = (
                f"{session.get('TabulatorId')}-{session.get('BatchId')}-{session.get('RecordId')}"
            )
            out[ident] = names.get(str(portion), "")
    return out


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise BallotFileError("file not found", path=str(path)) from None
    except (OSError, ValueError) as exc:
        raise BallotFileError(f"not readable JSON ({exc})", path=str(path)) from exc
    except RecursionError:
        raise BallotFileError("not readable JSON (nested too deeply)", path=str(path)) from None
    if not isinstance(doc, dict):
        raise BallotFileError("a JSON object was expected", path=str(path))
    return doc
