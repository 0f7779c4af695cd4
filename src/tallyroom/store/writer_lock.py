"""One writer at a time on a SQLite file, queued fairly across threads and processes.

SQLite lets one transaction write at a time; a writer that finds the lock taken sleeps in
SQLite's busy handler, in steps of up to 100 ms, and tries again. With several web workers
each committing a batch every few milliseconds, a waiter that wakes just after the lock was
taken again sleeps another step: throughput falls and latency climbs (two workers cast
fewer ballots a second than one). :class:`WriterLock` queues this store's writers on an
advisory lock (``flock``) on a file beside the database, ``<database>.writer-lock``, before
they begin: a waiter is woken by the kernel the moment the lock is released. Threads of one
process queue on a mutex first (``flock`` is held per open file, not per thread).

It is advisory: a process without it (an older tallyroom, the ``sqlite3`` shell) still
queues on SQLite's own lock and busy timeout, which remain the guarantee; this only makes
tallyroom's own writers wait their turn without sleeping past it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["WriterLock"]


class WriterLock:
    """The writer lock of one SQLite database file (see the module docstring)."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".writer-lock")
        self._mutex = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        # opened lazily, and again in a forked child (a shared open file shares the lock)
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block (blocks until it is this writer's turn)."""
        with self._mutex:
            fd = self._file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._mutex:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
