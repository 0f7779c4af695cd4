"""Progress on a terminal (and silence elsewhere) for long reads and counts."""

from __future__ import annotations

import sys
import time
from types import TracebackType


class Progress:
    """A one-line counter on stderr, redrawn at most ten times a second, only on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty()
        self._last = 0.0
        self._count = 0

    def __enter__(self) -> Progress:
        return self

    def update(self, done: int) -> None:
        self._count = done
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= 0.1:
            self._last = now
            sys.stderr.write(f"\r{self.label}: {done:,}")
            sys.stderr.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.enabled and self._count:
            sys.stderr.write(f"\r{self.label}: {self._count:,} done\n")
            sys.stderr.flush()
