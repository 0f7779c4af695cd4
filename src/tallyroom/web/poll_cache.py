"""What the cast path needs about an election, held in memory: its id, its election key (on
the verifiable path) and its credential key.

Casting used to read the election from the database and the credential key file from disk on
every request. Neither is needed each time:

* the election's id never changes for its slug, and the poll's state is checked where it
  matters, inside every casting transaction (:func:`tallyroom.store.ballots.cast_many`), so a
  poll closed by another worker or another machine refuses the next batch all the same; an
  entry is dropped when a cast is refused for the election's state or existence, so the
  next request reads it afresh;
* a verifiable election's key (its ``ElectionKey`` JSON, stored once before the poll opens
  and never changed) is parsed when the id is read and held with it
  (:class:`~tallyroom.services.ballot_encryption.CastingKey`), dropped with it; casting uses
  it only if it is, byte for byte, the key stored (read in the casting batch anyway), so a
  held key can never encrypt a ballot under anything but the stored key. An election
  without a key holds none, and casting refuses it
  (:class:`~tallyroom.errors.ElectionKeyMissing`, a 503);
* the credential key file is kept with its ``stat`` (inode, size, modification and change
  times), looked at again at most every :data:`KEY_RECHECK_SECONDS`, and read again when
  any of them changed (a replaced key, a ``chmod`` that makes it readable by others and so
  refused): every worker notices within that second. A ``stat`` per request would cost a
  system call, and under load the wait for the interpreter lock after it, on every cast.
  Within that second the key last found for an election is returned by its slug
  (:meth:`PollCache.recent_key`), without even building its file's path (building and
  hashing a new ``Path`` per request was a tenth of a worker's time on the cast path).
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
from tallyroom.services.ballot_encryption import CastingKey
from tallyroom.services.credentials import load_or_create_key
from tallyroom.services.elections import definition_of, get_election
from tallyroom.store.engine import Store

__all__ = ["KEY_RECHECK_SECONDS", "HeldPoll", "PollCache"]

KEY_RECHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _KeyFile:
    stat: tuple[int, int, int, int]
    key: CredentialKey
    checked: float


@dataclass(frozen=True, slots=True)
class HeldPoll:
    """An election as the cast path holds it: its id and, on the verifiable path, its key."""

    id: int
    election_key: CastingKey | None = None
    verifiable: bool = False  # a verifiable election (with or without its key yet)


class PollCache:
    """Elections (id, election key) by slug and credential keys by file, for the cast path
    (thread-safe)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._polls: dict[str, HeldPoll] = {}
        self._keys: dict[Path, _KeyFile] = {}
        self._recent: dict[str, _KeyFile] = {}  # by slug: the key last found for it
        self._lock = threading.Lock()

    def known(self, slug: str) -> HeldPoll | None:
        """The election if held (no database call: safe on the event loop)."""
        return self._polls.get(slug)

    def known_id(self, slug: str) -> int | None:
        """The election's id if held (no database call: safe on the event loop)."""
        held = self._polls.get(slug)
        return None if held is None else held.id

    def poll(self, slug: str) -> HeldPoll:
        """The election's id and key (read once; :class:`~tallyroom.errors.NotFound` if none)."""
        found = self._polls.get(slug)
        if found is None:
            record = get_election(self._store, slug)
            verifiable = definition_of(record).verifiable is not None
            key = None
            if record.election_key is not None and verifiable:
                key = CastingKey.parse(record.election_key, election=slug)
            found = HeldPoll(record.id, key, verifiable)
            with self._lock:
                self._polls[slug] = found
        return found

    def election_id(self, slug: str) -> int:
        """The election's id (read once; :class:`~tallyroom.errors.NotFound` if none)."""
        return self.poll(slug).id

    def forget(self, slug: str) -> None:
        """Drop the election's entry (its state or existence refused a cast)."""
        with self._lock:
            self._polls.pop(slug, None)

    def recent_key(self, slug: str) -> CredentialKey | None:
        """The credential key last found for ``slug`` (:meth:`credential_key`) if its file was
        looked at less than :data:`KEY_RECHECK_SECONDS` ago, else ``None``."""
        held = self._recent.get(slug)
        if held is not None and time.monotonic() - held.checked < KEY_RECHECK_SECONDS:
            return held.key
        return None

    def credential_key(self, path: Path, slug: str) -> CredentialKey:
        """The key in ``path``, read again whenever the file changes on disk."""
        held = self._keys.get(path)
        now = time.monotonic()
        if held is not None and now - held.checked < KEY_RECHECK_SECONDS:
            with self._lock:
                self._recent[slug] = held
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
            self._keys[path] = self._recent[slug] = _KeyFile(stamp, key, now)
        return key
