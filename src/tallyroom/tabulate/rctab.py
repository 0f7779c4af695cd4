"""Run a contest as RCTab would: config file in, detailed reports out.

``run_contest`` reads an RCTab contest config, reads every cast-vote-record source it names,
counts under its rules (:mod:`~tallyroom.tabulate.rctab_count`) and writes
``detailed_report.json`` / ``.csv`` (multi-pass IRV: ``detailed_report_1.json``, ``_2`` ...),
plus one report per precinct or batch when the config asks for them (under
``Tabulate by Precinct/`` or ``Tabulate by Batch/``); with ``generateCdfJson``, the CDF report
too (:mod:`~tallyroom.tabulate.rctab_cdf`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tallyroom.count.options import TieDecider, WinnerMode
from tallyroom.count.record import Count, SliceCount
from tallyroom.formats.rctab.config import ContestConfig, load_config
from tallyroom.formats.rctab.cvr import candidate_table, read_contest
from tallyroom.report.rctab_csv import count_to_csv
from tallyroom.report.rctab_json import ReportLabels, count_to_json
from tallyroom.tabulate.rctab_cdf import write_contest_cdf
from tallyroom.tabulate.rctab_count import count_contest

__all__ = ["ContestRun", "run_contest"]


@dataclass(frozen=True, slots=True)
class ContestRun:
    """The counts of one contest (several for multi-pass IRV) and the files written."""

    config: ContestConfig
    counts: tuple[Count, ...]
    files: tuple[Path, ...]


def _labels(config: ContestConfig) -> ReportLabels:
    o = config.output
    return ReportLabels(
        contest=o.contest_name,
        date=o.contest_date,
        jurisdiction=o.contest_jurisdiction,
        office=o.contest_office,
    )


def _slice_file(name: str, kind: str, used: set[str]) -> str:
    base = re.sub(r"[^a-zA-Z0-9_\-.]", "_", name) + f"_{kind}"
    stem, n = base, 2
    while stem in used:
        stem, n = f"{base}_{n}", n + 1
    used.add(stem)
    return stem


def run_contest(
    config_path: str | Path,
    output_dir: str | Path,
    *,
    progress: Callable[[int], None] | None = None,
    tie_decider: TieDecider | None = None,
) -> ContestRun:
    """Read, count and write the reports of the contest described by ``config_path``."""
    config = load_config(config_path)
    table = candidate_table(config)
    records = read_contest(config, progress=progress)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    if config.output.generate_cdf_json:
        cdf = write_contest_cdf(
            config, records, table, out / "cvr_cdf.json", tie_decider=tie_decider
        )
        counts, files = cdf.counts, list(cdf.files)
    else:
        counts = count_contest(config, records, table, tie_decider=tie_decider)
    labels = _labels(config)
    multi = len(counts) > 1 or config.rules.counting.winner_mode is WinnerMode.MULTI_PASS_IRV
    for i, count in enumerate(counts, start=1):
        suffix = f"_{i}" if multi else ""
        seats = 1 if multi else None
        files += _write_pair(out / f"detailed_report{suffix}", count, labels, seats)
        if count.slices:
            used: set[str] = set()
            kind = count.slices[0].kind
            folder = out / f"Tabulate by {kind.capitalize()}"
            folder.mkdir(exist_ok=True)
            for sl in count.slices:
                stem = _slice_file(sl.name, kind, used)
                files += _write_pair(
                    folder / f"{stem}_detailed_report{suffix}", count, labels, seats, sl
                )
    return ContestRun(config=config, counts=counts, files=tuple(files))


def _write_pair(
    stem: Path,
    count: Count,
    labels: ReportLabels,
    seats: int | None,
    sl: SliceCount | None = None,
) -> list[Path]:
    js = stem.with_name(stem.name + ".json")
    cs = stem.with_name(stem.name + ".csv")
    js.write_text(
        json.dumps(
            count_to_json(count, labels, seats=seats, slice_count=sl),
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    cs.write_text(count_to_csv(count, labels, seats=seats, slice_count=sl), encoding="utf-8")
    return [js, cs]
