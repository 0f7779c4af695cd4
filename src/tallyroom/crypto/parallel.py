"""Spreading proof work over the machine's cores: chunks of bytes to worker processes.

Group arithmetic runs in libsodium but each call goes through Python, which holds its global
lock, so threads do not help: the batch functions of crypto/encrypted_ballot.py and
crypto/threshold.py send chunks of their work (group elements and proofs are bytes, which
pickle cheaply) to a :class:`~concurrent.futures.ProcessPoolExecutor`, and put the answers
back in order. A worker runs a module-level function on one chunk; small batches run in the
calling process, where starting workers would cost more than it saves.

Workers start through a fork server (a clean process forked before any thread of the caller
exists, so a threaded web server can call these functions safely); starting a pool costs a
few tenths of a second, so a service that checks ballots all day passes its own long-lived
pool (:func:`make_pool`) instead of paying that per batch.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TypeVar

__all__ = ["DEFAULT_CHUNK", "make_pool", "map_chunks", "worker_count"]

T = TypeVar("T")
R = TypeVar("R")

#: Items a worker takes at a time: large enough that pickling is a small share of the work.
DEFAULT_CHUNK = 2048


def worker_count(workers: int | None = None) -> int:
    """``workers`` if given, else the cores this process may use."""
    if workers is not None:
        return max(1, workers)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def make_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A pool of worker processes started through a fork server (see the module docstring)."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(
        worker_count(workers), mp_context=multiprocessing.get_context(method)
    )


def map_chunks(
    func: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    *,
    workers: int | None = None,
    chunk: int | None = None,
    pool: Executor | None = None,
) -> list[R]:
    """``func`` applied to consecutive chunks of ``items`` on ``workers`` processes; the
    results concatenated in the order of the items. ``func`` must be a module-level function
    (it is pickled by name) returning one result per item. ``pool``, if given, does the work
    (and is left running); otherwise a pool of ``workers`` processes lives for this call."""
    chunk = chunk or DEFAULT_CHUNK
    if len(items) <= chunk or (pool is None and worker_count(workers) <= 1):
        return func(items)
    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    if pool is not None:
        return [result for part in pool.map(func, chunks) for result in part]
    with make_pool(workers) as own:
        return [result for part in own.map(func, chunks) for result in part]
