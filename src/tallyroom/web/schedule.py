"""The server's clock: a thread that runs the timetable's steps every few seconds.

Started by the app's lifespan when ``schedule_interval`` is above 0 (``serve`` sets 30);
each tick calls :func:`tallyroom.services.timetable.run_schedule`, which opens and closes
polls through the same service calls as the officer's commands. Several workers may each
run one: the lifecycle's exclusive lock lets one act, the others find the step done.
"""

from __future__ import annotations

import logging
import threading

from tallyroom.services.timetable import run_schedule
from tallyroom.store.engine import Store

__all__ = ["ScheduleThread"]

log = logging.getLogger("tallyroom.schedule")


class ScheduleThread:
    """Runs :func:`run_schedule` every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, store: Store, interval: int) -> None:
        self._store = store
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tallyroom-schedule", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                run_schedule(self._store)
            except Exception:  # the database away for a moment: try again next tick
                log.exception("the schedule's tick failed")
            if self._stopped.wait(self._interval):
                return

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)
