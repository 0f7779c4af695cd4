"""RCTab's ``generateCdfJson``: the contest's cast vote records as a NIST CDF report, with what
each ballot counted for in every round of the count.

RCTab (``ResultsWriter.generateCdfCvrs``) writes one *snapshot* per ballot and round: what the
ballot counted for then. The count and those snapshots come from
:func:`tallyroom.tabulate.rctab_count.count_with_allocations`; this module is the format work.

The report is written by :func:`tallyroom.formats.cdf_json.write_cdf_json` from the records as
RCTab presents them (:func:`rctab_cdf_records`):

* candidates sorted by name in Java's ``String`` order (UTF-16 code units), with RCTab's
  ``overvote`` pseudo-candidate among them when any source has an ``overvoteLabel``;
* ballot ids are RCTab's own (:func:`rctab_record_ids`) made file-name safe;
* precinct units and ``BallotStyleUnitId`` only with ``tabulateByPrecinct``.

Known differences from RCTab's file (see ``tests/tabulate/test_rctab_cdf.py``): RCTab names a
selection by the text the CVR file used, so a candidate read through an alias appears as
``cs-<alias>`` -- an id the report's ``Election`` does not declare -- and, since its allocations
are keyed by the candidate's name, that selection is never marked allocable. Here selections are
always named by the candidate and allocations follow them. Precinct units are numbered in
first-seen order (RCTab: hash order), and the generating device is tallyroom.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from tallyroom.count.ballots import (
    OVERVOTE,
    CandidateTable,
    CastVoteRecords,
    Codes,
)
from tallyroom.count.numbers import Scale
from tallyroom.count.options import TieDecider, WinnerMode
from tallyroom.count.record import Count
from tallyroom.formats.cdf_json import CdfReport, RoundAllocation, write_cdf_json
from tallyroom.formats.rctab.config import ContestConfig, Provider
from tallyroom.tabulate.rctab_count import count_with_allocations

__all__ = [
    "OVERVOTE_LABEL",
    "CdfRun",
    "rctab_cdf_records",
    "rctab_record_ids",
    "sanitize",
    "write_contest_cdf",
    "write_records_cdf",
]

OVERVOTE_LABEL = "overvote"  # RCTab's Tabulator.EXPLICIT_OVERVOTE_LABEL
_UNSAFE = re.compile(r"[^a-zA-Z0-9_\-.]")


@dataclass(frozen=True, slots=True)
class CdfRun:
    """The counts behind a CDF report (the same as ``count_contest`` gives) and its files."""

    counts: tuple[Count, ...]
    files: tuple[Path, ...]


def sanitize(text: str) -> str:
    """RCTab's ``sanitizeStringForOutput``: every character but ``[a-zA-Z0-9_-.]`` to ``_``."""
    return _UNSAFE.sub("_", text)


# -- the report ---------------------------------------------------------------------------------
def write_contest_cdf(
    config: ContestConfig,
    records: CastVoteRecords,
    table: CandidateTable,
    out_path: str | Path,
    *,
    tie_decider: TieDecider | None = None,
    generated: datetime | None = None,
) -> CdfRun:
    """Count the contest and write its CDF report with one interpreted snapshot per round.

    Multi-pass IRV writes one report per pass, ``<stem>_1<suffix>``, ``<stem>_2<suffix>`` ...
    (RCTab's sequential file naming).
    """
    path = Path(out_path)
    passes = count_with_allocations(config, records, table, tie_decider=tie_decider)
    multi = config.rules.counting.winner_mode is WinnerMode.MULTI_PASS_IRV
    files: list[Path] = []
    for k, done in enumerate(passes, start=1):
        target = path.with_name(f"{path.stem}_{k}{path.suffix}") if multi else path
        write_records_cdf(config, records, target, done.rounds, generated=generated)
        files.append(target)
    return CdfRun(counts=tuple(p.count for p in passes), files=tuple(files))


def write_records_cdf(
    config: ContestConfig,
    records: CastVoteRecords,
    out_path: str | Path,
    rounds: Sequence[RoundAllocation] = (),
    *,
    generated: datetime | None = None,
) -> Path:
    """Write ``records`` as RCTab's CDF report (no rounds: original snapshots only)."""
    view, recode = rctab_cdf_records(config, records)
    moved = [
        RoundAllocation(r.record, recode[r.candidate].astype(np.int32), r.units) for r in rounds
    ]
    report = CdfReport(
        contest_name=config.output.contest_name,
        jurisdiction=config.output.contest_jurisdiction,
        scale=Scale(config.rules.counting.decimal_places),
    )
    if generated is not None:
        report = replace(report, generated=generated)
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_cdf_json(path, view, report, moved)
    return path


def rctab_cdf_records(
    config: ContestConfig, records: CastVoteRecords
) -> tuple[CastVoteRecords, Codes]:
    """``records`` as RCTab's CDF report shows them, and the map from old to new candidate code.

    Candidates are sorted by name (Java ``String`` order), the ``overvote`` pseudo-candidate
    joins them when a source has an overvote label, ids are RCTab's (sanitized), and precincts
    are kept only with ``tabulateByPrecinct``.
    """
    names = list(records.candidates.names)
    overvote_code: int | None = None
    if any(s.overvote_label for s in config.sources):
        if OVERVOTE_LABEL not in names:
            names.append(OVERVOTE_LABEL)
        overvote_code = names.index(OVERVOTE_LABEL)
    order = sorted(range(len(names)), key=lambda c: names[c].encode("utf-16-be"))
    recode = np.empty(len(names), dtype=np.int32)
    recode[order] = np.arange(len(names), dtype=np.int32)
    ranks = records.ranks.copy()
    marked = ranks >= 0
    ranks[marked] = recode[ranks[marked]]
    if overvote_code is not None:
        ranks[ranks == OVERVOTE] = recode[overvote_code]
    old = records.candidates
    uwi = old.undeclared_write_in
    table = CandidateTable(
        names=tuple(names[c] for c in order),
        undeclared_write_in=None if uwi is None else int(recode[uwi]),
        excluded=frozenset(int(recode[c]) for c in old.excluded),
    )
    by_precinct = config.output.tabulate_by_precinct
    view = CastVoteRecords(
        candidates=table,
        ranks=ranks,
        overvote_sets=tuple(
            tuple(sorted(int(recode[c]) for c in members)) for members in records.overvote_sets
        ),
        precincts=records.precincts if by_precinct else None,
        precinct_names=records.precinct_names if by_precinct else (),
        batches=records.batches,
        batch_names=records.batch_names,
        ids=tuple(sanitize(i) for i in rctab_record_ids(config, records)),
        sources=records.sources,
        source_index=records.source_index,
    )
    return view, recode


def rctab_record_ids(config: ContestConfig, records: CastVoteRecords) -> tuple[str, ...]:
    """RCTab's id of each record (its ``computedId``), as its CVR table and CDF report use it.

    ES&S: ``<file name, sanitized>-<k>``; CDF: ``<file name>(<k>)`` (``k``: the record's
    1-based position in its source file); Dominion: ``<tabulator>-<batch>-<record>`` (the
    reader's id). Other providers (not checked against RCTab output): the reader's id, else
    ``<file name>-<k>``.
    """
    n = len(records)
    index = records.source_index
    if index is None:
        index = np.zeros(n, dtype=np.int32)
    if n and int(index.max()) >= len(config.sources):
        raise ValueError("the records come from more sources than the config lists")
    position = np.zeros(n, dtype=np.int64)
    for k in range(len(config.sources)):
        mine = np.flatnonzero(index == k)
        position[mine] = np.arange(1, mine.size + 1)
    ids = records.ids
    out: list[str] = []
    for i, (k, pos) in enumerate(zip(index.tolist(), position.tolist(), strict=True)):
        source = config.sources[k]
        name = source.file_path.name
        supplied = ids[i] if ids is not None else ""
        if source.provider is Provider.ESS:
            out.append(f"{sanitize(name)}-{pos}")
        elif source.provider is Provider.CDF:
            out.append(f"{name}({pos})")
        else:
            out.append(supplied or f"{name}-{pos}")
    return tuple(out)
