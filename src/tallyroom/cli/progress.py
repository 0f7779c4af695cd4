"""Progress for long reads and counts: redrawn in place on a terminal; elsewhere (a log file,
a pipe, CI) as whole lines, a few per stage, so that a log shows how far a job got."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress", "StageProgress"]


LINE_EVERY = 5.0  # seconds between progress lines when the stream is not a terminal


class Progress:
    """A counter on stderr: a line redrawn at most ten times a second on a terminal;
    elsewhere a line every five seconds. The count reached is printed at the end."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()
        self._last = time.monotonic()
        self._count = 0

    def __enter__(self) -> Progress:
        return self

    def update(self, done: int) -> None:
        self._count = done
        now = time.monotonic()
        if self.live and now - self._last >= 0.1:
            self._last = now
            self.stream.write(f"\r{self.label}: {done:,}")
            self.stream.flush()
        elif not self.live and now - self._last >= LINE_EVERY:
            self._last = now
            self.stream.write(f"{self.label}: {done:,}\n")
            self.stream.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._count:
            start = "\r" if self.live else ""
            self.stream.write(f"{start}{self.label}: {self._count:,} done\n")
            self.stream.flush()


class StageProgress:
    """Stages of a long job on stderr: a line per finished stage, always; while a stage runs,
    on a terminal a bar (when its total is known) or a counter, redrawn in place; elsewhere a
    line when the stage starts and one at each tenth of its total (or every five seconds)."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()
        self._label = ""
        self._total: int | None = None
        self._last = 0.0
        self._tenth = 0

    def start(self, label: str, total: int | None = None) -> None:
        self._label, self._total, self._last = label, total, 0.0
        self._tenth = 0
        if self.live:
            self._draw(0)
        else:
            size = f" ({total:,})" if total else ""
            self.stream.write(f"{label}{size} ...\n")
            self.stream.flush()

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.live:
            if now - self._last >= 0.1:
                self._last = now
                self._draw(done)
            return
        # a line at each tenth of a known total, or every few seconds for an unknown one
        if self._total:
            tenth = min(10, 10 * done // self._total)
            if tenth > self._tenth and tenth < 10:
                self._tenth = tenth
                self.stream.write(f"{self._label}: {done:,}/{self._total:,} ({tenth * 10}%)\n")
                self.stream.flush()
        elif now - self._last >= LINE_EVERY:
            self._last = now
            self.stream.write(f"{self._label}: {done:,}\n")
            self.stream.flush()

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
