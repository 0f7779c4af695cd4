"""Run a contest as RCTab would: config file in, detailed reports out.

``run_contest`` reads an RCTab contest config, reads every cast-vote-record source it names,
counts under its rules and writes ``detailed_report.json`` / ``.csv`` (multi-pass IRV:
``detailed_report_1.json``, ``_2`` ...), plus one report per precinct or batch when the config
asks for them (under ``Tabulate by Precinct/`` or ``Tabulate by Batch/``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tallyroom.count.ballots import BallotStore, CandidateTable, CastVoteRecords, Codes
from tallyroom.count.options import RctabOptions, TieDecider, WinnerMode
from tallyroom.count.record import Count
from tallyroom.count.rules.rctab import RoundState, SliceLabels, tabulate
from tallyroom.errors import ConfigError
from tallyroom.formats.rctab.config import ContestConfig, load_config
from tallyroom.report.rctab_csv import count_to_csv
from tallyroom.report.rctab_json import ReportLabels, count_to_json

__all__ = [
    "ContestRun",
    "TracedPass",
    "count_contest",
    "count_contest_traced",
    "options_from_config",
    "run_contest",
    "slicing",
]


@dataclass(frozen=True, slots=True)
class ContestRun:
    """The counts of one contest (several for multi-pass IRV) and the files written."""

    config: ContestConfig
    counts: tuple[Count, ...]
    files: tuple[Path, ...]


def options_from_config(
    config: ContestConfig, tie_decider: TieDecider | None = None
) -> RctabOptions:
    r = config.rules
    return RctabOptions(
        winner_mode=r.winner_mode,
        seats=r.number_of_winners,
        tiebreak_mode=r.tiebreak_mode,
        random_seed=r.random_seed,
        overvote_rule=r.overvote_rule,
        decimal_places=r.decimal_places,
        max_skipped_ranks_allowed=r.max_skipped_ranks_allowed,
        exhaust_on_duplicate_candidate=r.exhaust_on_duplicate_candidate,
        batch_elimination=r.batch_elimination,
        continue_until_two_candidates_remain=r.continue_until_two_candidates_remain,
        first_round_determines_threshold=r.first_round_determines_threshold,
        non_integer_winning_threshold=r.non_integer_winning_threshold,
        hare_quota=r.hare_quota,
        cutoff_elimination=r.cutoff_elimination,
        percentage_threshold=r.bottoms_up_percentage_threshold,
        stop_after_round=r.stop_tabulation_early_after_round,
        tie_decider=tie_decider,
    )


def _labels(config: ContestConfig) -> ReportLabels:
    o = config.output
    return ReportLabels(
        contest=o.contest_name,
        date=o.contest_date,
        jurisdiction=o.contest_jurisdiction,
        office=o.contest_office,
    )


def slicing(
    config: ContestConfig, records: CastVoteRecords
) -> tuple[SliceLabels | None, Codes | None]:
    """The precinct or batch slices the config asks for, and each record's slice."""
    out = config.output
    if out.tabulate_by_precinct:
        if records.precincts is None or not records.precinct_names:
            raise ConfigError(
                "tabulateByPrecinct is set but the cast vote records name no precincts",
                path=str(config.path),
                field="outputSettings.tabulateByPrecinct",
            )
        return SliceLabels("precinct", records.precinct_names), records.precincts
    if out.tabulate_by_batch:
        if records.batches is None or not records.batch_names:
            raise ConfigError(
                "tabulateByBatch is set but the cast vote records name no batches",
                path=str(config.path),
                field="outputSettings.tabulateByBatch",
            )
        return SliceLabels("batch", records.batch_names), records.batches
    return None, None


@dataclass(frozen=True, slots=True)
class TracedPass:
    """One count (one per seat in multi-pass IRV) with the state of every round."""

    count: Count
    states: tuple[RoundState, ...]


def count_contest_traced(
    config: ContestConfig,
    records: CastVoteRecords,
    table: CandidateTable,
    *,
    tie_decider: TieDecider | None = None,
) -> tuple[tuple[TracedPass, ...], Codes]:
    """As :func:`count_contest`, keeping each round's state and each record's group."""
    slices, key = slicing(config, records)
    if len(records):
        store, group_of = records.grouped_with_index(key)
    else:
        store, group_of = records.grouped(key), np.empty(0, dtype=np.int32)
    passes = _passes(config, store, table, slices, tie_decider, trace=True)
    return passes, group_of


def count_contest(
    config: ContestConfig,
    records: CastVoteRecords,
    table: CandidateTable,
    *,
    tie_decider: TieDecider | None = None,
) -> tuple[Count, ...]:
    """Count already-read records under the config's rules (one count per pass)."""
    slices, key = slicing(config, records)
    store = records.grouped(key)
    return tuple(p.count for p in _passes(config, store, table, slices, tie_decider, trace=False))


def _passes(
    config: ContestConfig,
    store: BallotStore,
    table: CandidateTable,
    slices: SliceLabels | None,
    tie_decider: TieDecider | None,
    *,
    trace: bool,
) -> tuple[TracedPass, ...]:
    options = options_from_config(config, tie_decider)

    def one(pass_table: CandidateTable, pass_options: RctabOptions) -> TracedPass:
        states: list[RoundState] = []
        count = tabulate(
            store,
            pass_table,
            pass_options,
            slices=slices,
            observer=states.append if trace else None,
        )
        return TracedPass(count, tuple(states))

    if options.winner_mode is not WinnerMode.MULTI_PASS_IRV:
        return (one(table, options),)
    # [RCTab multiPassIrv] one single-seat IRV count per seat, earlier winners excluded
    passes: list[TracedPass] = []
    single = replace(options, winner_mode=WinnerMode.SINGLE_WINNER_MAJORITY, seats=1)
    excluded = set(table.excluded)
    for _ in range(options.seats):
        if len(table) - len(excluded) - (table.undeclared_write_in is not None) <= 0:
            break
        done = one(replace(table, excluded=frozenset(excluded)), single)
        passes.append(done)
        excluded.update(table.code(w) for w in done.count.winners)
    return tuple(passes)


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
    from tallyroom.formats.rctab.cvr import candidate_table, read_contest

    config = load_config(config_path)
    table = candidate_table(config)
    records = read_contest(config, progress=progress)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    if config.output.generate_cdf_json:
        from tallyroom.tabulate.rctab_cdf import write_contest_cdf

        cdf = write_contest_cdf(
            config, records, table, out / "cvr_cdf.json", tie_decider=tie_decider
        )
        counts, files = cdf.counts, list(cdf.files)
    else:
        counts = count_contest(config, records, table, tie_decider=tie_decider)
    labels = _labels(config)
    multi = len(counts) > 1 or config.rules.winner_mode is WinnerMode.MULTI_PASS_IRV
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
    slice_count: object = None,
) -> list[Path]:
    from tallyroom.count.record import SliceCount

    sl = slice_count if isinstance(slice_count, SliceCount) else None
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
