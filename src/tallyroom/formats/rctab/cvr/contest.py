"""Reading every source of a contest: each with its provider, in parallel when it pays.

:func:`read_source` reads one ``cvrFileSources`` entry with its provider (:mod:`.registry`);
:func:`read_contest` reads them all and joins them in config order with
:meth:`CastVoteRecords.concat`.

Large multi-file contests (the 13-workbook Minneapolis benchmark) are read by a pool of worker
processes, one per idle core (judged from the 1-minute load average), when the sources add up
to more than :data:`PARALLEL_BYTES`: each worker returns compact numpy arrays, so the cost is
mostly the reading itself. An error raised in a worker travels back as itself (pickled: an
:class:`~tallyroom.errors.InputError` keeps its class, file, line, field and value) and is
raised again in the caller.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from tallyroom.count.ballots import CandidateTable, CastVoteRecords
from tallyroom.formats.rctab.config import ContestConfig, CvrSource
from tallyroom.formats.rctab.cvr.candidates import candidate_table, declared_candidates, rank_limit
from tallyroom.formats.rctab.cvr.provider import Progress, SourceReading
from tallyroom.formats.rctab.cvr.registry import provider_of

__all__ = ["PARALLEL_BYTES", "read_contest", "read_source"]

PARALLEL_BYTES = 8 * 1024 * 1024


def read_source(
    source: CvrSource,
    table: CandidateTable,
    config: ContestConfig,
    *,
    progress: Progress | None = None,
) -> CastVoteRecords:
    """Read one CVR source into records coded against ``table``.

    ``progress`` is called now and then with the number of records read so far.
    """
    reading = SourceReading.of(
        source,
        config,
        table,
        declared=declared_candidates(config),
        rank_limit=rank_limit(config),
        progress=progress,
    )
    return provider_of(source).read_records(reading)


def read_contest(
    config: ContestConfig,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
) -> CastVoteRecords:
    """Read every source of ``config`` (config order) and join them into one record set.

    ``workers``: processes to read with; ``None`` picks one per core when the sources are big
    enough to gain from it, ``1`` reads in this process.
    """
    table = candidate_table(config)
    sources = config.sources
    if workers is None:
        workers = _auto_workers(sources)
    parts: list[CastVoteRecords] | None = None
    if workers > 1 and len(sources) > 1:
        parts = _read_parallel(config, table, workers, progress)
    if parts is None:
        parts = []
        done = 0
        for source in sources:
            part = read_source(source, table, config, progress=_offset(progress, done))
            done += len(part)
            parts.append(part)
    return CastVoteRecords.concat(parts)


def _offset(progress: Progress | None, base: int) -> Progress | None:
    if progress is None:
        return None
    report = progress
    return lambda n: report(base + n)


def _auto_workers(sources: tuple[CvrSource, ...]) -> int:
    cores = os.cpu_count() or 1
    if cores < 2 or len(sources) < 2 or multiprocessing.current_process().daemon:
        return 1
    total = sum(_size(s.file_path) for s in sources)
    if total <= PARALLEL_BYTES:
        return 1
    # Cores already busy with other work make a pool slower than reading here (measured: 2
    # cores, one taken -> 3.5 s pooled vs 2.7 s serial for the 13-workbook benchmark).
    with contextlib.suppress(OSError, AttributeError):
        busy = os.getloadavg()[0]
        cores = min(cores, max(1, int(cores + 0.9 - busy)))
    return min(cores, len(sources))


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


# --- worker processes ---------------------------------------------------------------------


def _read_parallel(
    config: ContestConfig, table: CandidateTable, workers: int, progress: Progress | None
) -> list[CastVoteRecords] | None:
    """Read the sources in worker processes; ``None`` when no pool can be had (read serially).

    Workers are forked where the platform allows (no re-import, ~10 ms to start). The standard
    streams are flushed first so that a child never writes the parent's pending output twice.
    Callers that run threads of their own may prefer ``workers=1``.
    """
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        return _run_pool(config, table, workers, progress, context)
    except (BrokenProcessPool, OSError):
        return None


def _run_pool(
    config: ContestConfig,
    table: CandidateTable,
    workers: int,
    progress: Progress | None,
    context: Any,
) -> list[CastVoteRecords]:
    results: list[CastVoteRecords] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: list[Future[CastVoteRecords]] = [
            pool.submit(read_source, source, table, config) for source in config.sources
        ]
        done = 0
        try:
            for future in futures:
                records = future.result()  # a worker's error is raised here, as itself
                results.append(records)
                done += len(records)
                if progress is not None:
                    progress(done)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return results
