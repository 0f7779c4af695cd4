"""Verifying an audit chain: a result that says which event failed which check, and why.

:func:`verify_chain` never stops at the first problem and never answers with a bare bool. It
checks every event against the hash *recorded* for the event before it, so a failure stays
on the event that was changed instead of running down the rest of the log:

* ``election`` - every event belongs to the same election (the one asked for, if any);
* ``sequence`` - sequences run 1, 2, 3... with no gap, repeat or reordering;
* ``hash`` - the recorded hash equals ``SHA-256(previous recorded hash || event)``;
* ``head`` - the last event is the expected head (the store's own record of the tip, or a
  published one), which catches events removed from the end of the log;
* ``readable`` - a stored row could be read as an event at all (reported by the store).

A :class:`VerificationResult` refuses to be used as a bool (``if result:`` would always be
true for an object), so callers must say ``result.ok``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from tallyroom.audit.chain import EMPTY_HEAD, HASH_SIZE, ChainedEvent, Head, link

__all__ = ["ChainFailure", "Check", "Unreadable", "VerificationResult", "verify_chain"]


class Check(enum.Enum):
    ELECTION = "election"
    SEQUENCE = "sequence"
    HASH = "hash"
    HEAD = "head"
    READABLE = "readable"


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A stored event that could not be read as an :class:`~tallyroom.audit.AuditEvent`.

    A store passes it to :func:`verify_chain` in the event's place, with what it could read
    (the sequence, the recorded hash), so the failure is reported at the right position and
    the events after it are still checked.
    """

    sequence: int | None
    hash: bytes | None
    problem: str


@dataclass(frozen=True, slots=True)
class ChainFailure:
    """One failed check. ``position`` is the 0-based index of the event in the log as given;
    ``sequence`` the sequence the event claims. Both are ``None`` for a check of the whole log.
    """

    check: Check
    detail: str
    position: int | None = None
    sequence: int | None = None

    def __str__(self) -> str:
        if self.position is None:
            where = "log"
        else:
            where = f"event #{self.position}"
            if self.sequence is not None:
                where += f" (sequence {self.sequence})"
        return f"{where}: {self.check.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """What verifying a log found: how many events were checked, the head reached, failures."""

    checked: int
    head: Head
    failures: tuple[ChainFailure, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def first_failure(self) -> ChainFailure | None:
        return self.failures[0] if self.failures else None

    @property
    def failed_positions(self) -> tuple[int, ...]:
        """Positions of the events that failed any check, in order, each once."""
        seen: dict[int, None] = {}
        for failure in self.failures:
            if failure.position is not None:
                seen.setdefault(failure.position, None)
        return tuple(seen)

    def __bool__(self) -> bool:
        raise TypeError("a VerificationResult is not a bool: test result.ok")

    def summary(self) -> str:
        if self.ok:
            return f"audit chain verified: {self.checked} events, head {self.head}"
        lines = [f"audit chain FAILED: {len(self.failures)} problem(s) in {self.checked} events"]
        lines.extend(f"  {failure}" for failure in self.failures)
        return "\n".join(lines)

    def with_failures(self, *failures: ChainFailure) -> VerificationResult:
        """This result with more failures appended (a store adds what it found while reading)."""
        return VerificationResult(self.checked, self.head, self.failures + failures)


def _short(digest: bytes) -> str:
    return digest.hex()[:16]


def verify_chain(
    events: Iterable[ChainedEvent | Unreadable],
    *,
    election: int | None = None,
    expected_head: Head | None = None,
) -> VerificationResult:
    """Check ``events`` (in log order) and say which event failed which check and why.

    ``election``: the election every event must belong to (default: the first event's).
    ``expected_head``: the tip the log must end at (sequence and hash); omit to skip.
    """
    failures: list[ChainFailure] = []
    previous = EMPTY_HEAD.hash
    # The sequences the next event may carry. After a mismatch both readings stay open (the
    # number was altered, so count on; or events are missing, so resume from the number),
    # which keeps a single failure from spilling onto the events after it.
    acceptable = {1}
    checked = 0
    last = EMPTY_HEAD
    for position, chained in enumerate(events):
        checked += 1
        if isinstance(chained, Unreadable):
            failures.append(
                ChainFailure(Check.READABLE, chained.problem, position, chained.sequence)
            )
            if chained.hash is not None and len(chained.hash) == HASH_SIZE:
                previous = chained.hash
            if chained.sequence is not None:
                acceptable = {chained.sequence + 1}
                last = Head(max(chained.sequence, 0), previous)
            continue
        event = chained.event

        problems: list[tuple[Check, str]] = []
        if election is None:
            election = event.election
        elif event.election != election:
            detail = f"belongs to election {event.election}, not {election}"
            problems.append((Check.ELECTION, detail))
        if event.sequence in acceptable:
            acceptable = {event.sequence + 1}
        else:
            wanted = " or ".join(str(n) for n in sorted(acceptable))
            problems.append((Check.SEQUENCE, f"expected sequence {wanted}, found {event.sequence}"))
            acceptable = {n + 1 for n in acceptable} | {event.sequence + 1}
        computed = link(previous, event)
        if computed != chained.hash:
            problems.append(
                (
                    Check.HASH,
                    f"{event.action.value} by {event.actor!r}: recorded hash"
                    f" {_short(chained.hash)}… but the event hashes to {_short(computed)}…",
                )
            )
        failures.extend(ChainFailure(c, d, position, event.sequence) for c, d in problems)
        previous = chained.hash
        last = Head(event.sequence, chained.hash)
    if expected_head is not None and last != expected_head:
        failures.append(
            ChainFailure(
                Check.HEAD,
                f"the log ends at {last.sequence} ({_short(last.hash)}…) but the expected head"
                f" is {expected_head.sequence} ({_short(expected_head.hash)}…)",
            )
        )
    return VerificationResult(checked, last, tuple(failures))
