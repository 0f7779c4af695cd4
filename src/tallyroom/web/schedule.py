"""The server's clock: a thread that runs the timetable's steps and extends the ballot boards.

Started by the app's lifespan when ``schedule_interval`` or ``board_every`` is above 0
(``serve`` sets 30 and 10):

* every ``schedule_interval`` seconds it calls :func:`tallyroom.services.timetable.run_schedule`,
  which opens and closes polls through the same service calls as the officer's commands;
* every ``board_every`` seconds it calls :func:`tallyroom.services.board.extend_open_boards`,
  which puts the ballots cast since the last time on the board of every open verifiable
  election and logs each new head (a voter finds their receipt there within that time; the
  close extends the board a last time itself).

Several workers may each run one: the lifecycle's exclusive lock lets one act on a step, the
audit chain's lock queues the boards' extensions, and the others find the work done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from tallyroom.services.board import extend_open_boards
from tallyroom.services.timetable import run_schedule
from tallyroom.store.engine import Store

__all__ = ["ScheduleThread"]

log = logging.getLogger("tallyroom.schedule")


class ScheduleThread:
    """Runs :func:`run_schedule` every ``interval`` seconds and :func:`extend_open_boards`
    every ``board_every`` seconds (0: never) until :meth:`stop`."""

    def __init__(self, store: Store, interval: int, board_every: int = 0) -> None:
        self._store = store
        self._jobs: list[tuple[str, float, Callable[[], object]]] = []
        if interval > 0:
            self._jobs.append(("the schedule's tick", interval, lambda: run_schedule(store)))
        if board_every > 0:
            self._jobs.append(
                ("the boards' extension", board_every, lambda: extend_open_boards(store))
            )
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tallyroom-schedule", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        if not self._jobs:
            return
        due = [time.monotonic()] * len(self._jobs)
        while True:
            now = time.monotonic()
            for k, (what, every, job) in enumerate(self._jobs):
                if now < due[k]:
                    continue
                try:
                    job()
                except Exception:  # the database away for a moment: try again next time
                    log.exception("%s failed", what)
                due[k] = time.monotonic() + every
            if self._stopped.wait(max(0.0, min(due) - time.monotonic())):
                return

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)
