"""What the cast path needs about an election, held in memory: its id and credential key.

Casting used to read the election from the database and the credential key file from disk on
every request. Neither is needed each time:

* the election's id never changes for its slug, and the poll's state is checked where it
  matters, inside every casting transaction (:func:`tallyroom.store.ballots.cast_many`), so a
  poll closed by another worker or another machine refuses the next batch all the same; an
  entry is dropped when a cast is refused for the election's state or existence, so the
  next request reads it afresh;
* the credential key file is kept with its ``stat`` (inode, size, modification and change
  times), looked at again at most every :data:`KEY_RECHECK_SECONDS`, and read again when
  any of them changed (a replaced key, a ``chmod`` that makes it readable by others and so
  refused): every worker notices within that second. A ``stat`` per request would cost a
  system call, and under load the wait for the interpreter lock after it, on every cast.
  A missing file means voting has not started (:class:`~tallyroom.errors.LifecycleError`),
  as before.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.errors import LifecycleError
from tallyroom.services.credentials import load_or_create_key
from tallyroom.services.elections import get_election
from tallyroom.store.engine import Store

__all__ = ["KEY_RECHECK_SECONDS", "PollCache"]

KEY_RECHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _KeyFile:
    stat: tuple[int, int, int, int]
    key: CredentialKey
    checked: float


class PollCache:
    """Election ids by slug and credential keys by file, for the cast path (thread-safe)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._ids: dict[str, int] = {}
        self._keys: dict[Path, _KeyFile] = {}
        self._lock = threading.Lock()

    def known_id(self, slug: str) -> int | None:
        """The election's id if held (no database call: safe on the event loop)."""
        return self._ids.get(slug)

    def election_id(self, slug: str) -> int:
        """The election's id (read once; :class:`~tallyroom.errors.NotFound` if none)."""
        found = self._ids.get(slug)
        if found is None:
            found = get_election(self._store, slug).id
            with self._lock:
                self._ids[slug] = found
        return found

    def forget(self, slug: str) -> None:
        """Drop the election's entry (its state or existence refused a cast)."""
        with self._lock:
            self._ids.pop(slug, None)

    def credential_key(self, path: Path, slug: str) -> CredentialKey:
        """The key in ``path``, read again whenever the file changes on disk."""
        held = self._keys.get(path)
        now = time.monotonic()
        if held is not None and now - held.checked < KEY_RECHECK_SECONDS:
            return held.key
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise LifecycleError(
                "voting has not started: no credentials exist yet", election=slug
            ) from None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        key = held.key if held is not None and held.stat == stamp else None
        if key is None:
            key = load_or_create_key(path, create=False)
        with self._lock:
            self._keys[path] = _KeyFile(stamp, key, now)
        return key
