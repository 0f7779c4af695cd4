"""The hash chain over an election's audit events.

Each event's hash is ``SHA-256(previous hash || event.encode())``; the first event's previous
hash is :data:`GENESIS`, a fixed constant (so a verifier needs nothing but the events). The
hash of the last event, the *head*, commits to the whole log: publish it (with the
declaration, say) and nobody can rewrite the log afterwards without the published head
giving them away. Without such an anchor a chain only proves that it was not edited *in
place*; whoever can rewrite every later hash can rewrite history, which is why
:func:`tallyroom.audit.verify.verify_chain` takes an ``expected_head``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tallyroom.audit.events import AuditEvent

__all__ = ["EMPTY_HEAD", "GENESIS", "HASH_SIZE", "ChainedEvent", "Head", "chain", "link"]

HASH_SIZE = 32
GENESIS = hashlib.sha256(b"tallyroom audit chain v1 genesis").digest()


def link(previous: bytes, event: AuditEvent) -> bytes:
    """The hash of ``event`` following an event (or :data:`GENESIS`) whose hash is ``previous``."""
    if len(previous) != HASH_SIZE:
        raise ValueError(f"previous hash must be {HASH_SIZE} bytes ({previous.hex()})")
    return hashlib.sha256(previous + event.encode()).digest()


@dataclass(frozen=True, slots=True)
class ChainedEvent:
    """An event with the hash that was recorded for it."""

    event: AuditEvent
    hash: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.hash, bytes) or len(self.hash) != HASH_SIZE:
            raise ValueError(f"hash: must be {HASH_SIZE} bytes ({self.hash!r})")


@dataclass(frozen=True, slots=True)
class Head:
    """The tip of a chain: the last event's sequence and hash (0 and :data:`GENESIS` if empty)."""

    sequence: int
    hash: bytes

    def __post_init__(self) -> None:
        if self.sequence < 0:
            raise ValueError(f"sequence: must be 0 or more ({self.sequence})")
        if len(self.hash) != HASH_SIZE:
            raise ValueError(f"hash: must be {HASH_SIZE} bytes ({self.hash!r})")

    def __str__(self) -> str:
        return f"sequence {self.sequence}, hash {self.hash.hex()}"


EMPTY_HEAD = Head(0, GENESIS)


def chain(events: Iterable[AuditEvent], previous: bytes = GENESIS) -> Iterator[ChainedEvent]:
    """Hash ``events`` in order, starting after ``previous``."""
    for event in events:
        previous = link(previous, event)
        yield ChainedEvent(event, previous)
