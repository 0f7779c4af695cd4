"""Progress on a terminal (and silence elsewhere) for long reads and counts."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress", "StageProgress"]


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


class StageProgress:
    """Stages of a long job on stderr: a line per finished stage, always; while a stage runs,
    a bar (when its total is known) or a counter, redrawn on a terminal only."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()
        self._label = ""
        self._total: int | None = None
        self._last = 0.0

    def start(self, label: str, total: int | None = None) -> None:
        self._label, self._total, self._last = label, total, 0.0
        if self.live:
            self._draw(0)

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.live and now - self._last >= 0.1:
            self._last = now
            self._draw(done)

    def finish(self, summary: str) -> None:
        clear = "\r\x1b[2K" if self.live else ""
        self.stream.write(f"{clear}  {summary}\n")
        self.stream.flush()

    def _draw(self, done: int) -> None:
        if self._total:
            filled = min(self.WIDTH, self.WIDTH * done // self._total)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            text = f"{self._label} [{bar}] {done:,}/{self._total:,}"
        else:
            text = f"{self._label}: {done:,}" if done else f"{self._label} ..."
        self.stream.write(f"\r\x1b[2K{text}")
        self.stream.flush()
