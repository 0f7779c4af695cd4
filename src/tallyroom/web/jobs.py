"""Long console tasks (a register import) run in a thread; their progress is a small JSON file.

The file lives under ``data_dir/jobs``, so any worker process can show it: the page that
follows a job reads the file, whichever worker started the thread. A job's state is
``running`` (with the rows stored so far), ``done`` (with the summary) or ``failed`` (with
every problem the import found, one per line).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tallyroom.errors import NotFound, TallyroomError

__all__ = ["read_job", "start_job"]

_ID_CHARS = 22


def _folder(data_dir: Path) -> Path:
    folder = data_dir / "jobs"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _write(path: Path, doc: dict[str, Any]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


def start_job(
    data_dir: Path,
    kind: str,
    slug: str,
    work: Callable[[Callable[[int], None]], dict[str, Any]],
) -> str:
    """Run ``work(progress)`` in a thread; the job's id (for :func:`read_job`)."""
    job_id = secrets.token_urlsafe(16)
    path = _folder(data_dir) / f"{job_id}.json"
    base = {"id": job_id, "kind": kind, "election": slug, "started": time.time()}
    _write(path, {**base, "state": "running", "done": 0})
    last = [0.0]

    def progress(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.2:
            last[0] = now
            _write(path, {**base, "state": "running", "done": done})

    def run() -> None:
        try:
            result = work(progress)
        except TallyroomError as exc:
            _write(path, {**base, "state": "failed", "problems": str(exc).splitlines()})
        except Exception as exc:  # the job must end in a state the page can show
            _write(path, {**base, "state": "failed", "problems": [f"unexpected error: {exc}"]})
        else:
            _write(path, {**base, "state": "done", "result": result})

    threading.Thread(target=run, name=f"job-{job_id}", daemon=True).start()
    return job_id


def read_job(data_dir: Path, slug: str, job_id: str) -> dict[str, Any]:
    """The job's state, or :class:`NotFound` (also for another election's job)."""
    if len(job_id) != _ID_CHARS or not all(c.isalnum() or c in "-_" for c in job_id):
        raise NotFound("no such job", field="job", value=job_id)
    path = _folder(data_dir) / f"{job_id}.json"
    try:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound("no such job", field="job", value=job_id) from None
    if doc.get("election") != slug:
        raise NotFound("no such job", field="job", value=job_id)
    return doc
