"""Group commit for the booth: voters who cast at the same moment share one durable commit.

A durable commit costs an fsync, a few milliseconds on most disks, and SQLite commits one
transaction at a time: one voter a commit caps the booth at a few hundred ballots a second
however many requests wait. :class:`CastingQueue` lets each request thread hand its voter
to one writer thread and wait; the writer takes every voter waiting (up to ``max_batch``)
and casts them with :func:`tallyroom.services.voting.cast_ballots`, one transaction for all,
each voter all or nothing, then wakes each request with its own receipts or its own error.
A lone voter waits for one commit, as before; a crowd shares commits.

Attempt budgets ride along: a request may name the budgets its credential counts against
(:class:`~tallyroom.services.attempts.Claim`), and :func:`cast_ballots` takes and gives back
the places of the whole batch at once (a request over its budget is refused with
:class:`~tallyroom.errors.TooManyAttempts` and its credential is not checked). The web's
JSON cast thus writes its counters once per batch instead of twice per request.

On the verifiable path a request may bring the election's parsed key (the web's poll cache
holds it, :class:`~tallyroom.services.ballot_encryption.CastingKey`), so that a batch does
not parse it again; the cast uses it only if it is the election's stored key.

Waiting: :meth:`CastingQueue.cast` blocks the calling thread; :meth:`CastingQueue.submit`
returns the future, which an event loop awaits without a thread per request
(``asyncio.wrap_future``).

Nothing is acknowledged before its commit: a request returns only when the transaction
holding its ballot has committed, and a failed batch (the database gone, the poll closed)
fails every request in it with that error, none with a receipt.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.errors import TallyroomError
from tallyroom.services.attempts import Claim
from tallyroom.services.ballot_encryption import CastingKey
from tallyroom.services.voting import CastOutcome, CastRequest, cast_ballots
from tallyroom.store.ballots import Receipt
from tallyroom.store.engine import Store

__all__ = ["CastingQueue", "receipts_of"]


@dataclass(frozen=True, slots=True)
class _Waiting:
    election_id: int
    request: CastRequest
    credential_key: CredentialKey
    claims: tuple[Claim, ...] = ()
    election_key: CastingKey | None = None
    done: Future[CastOutcome] = field(default_factory=Future)


def receipts_of(outcome: CastOutcome) -> list[Receipt]:
    """A finished cast's receipts, or its error raised."""
    if isinstance(outcome, TallyroomError):
        raise outcome
    return outcome


class CastingQueue:
    """One writer thread casting the waiting voters in batches (see the module docstring)."""

    def __init__(self, store: Store, *, max_batch: int = 500) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1 ({max_batch})")
        self._store = store
        self._max_batch = max_batch
        self._waiting: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._closed = False

    def cast(
        self,
        election_id: int,
        request: CastRequest,
        *,
        credential_key: CredentialKey,
        claims: Sequence[Claim] = (),
        election_key: CastingKey | None = None,
    ) -> list[Receipt]:
        """Cast one voter's ballots; their receipts once committed, or the error that refused
        them (as :func:`tallyroom.services.voting.cast_ballot` raises it, or
        :class:`TooManyAttempts` when a budget of ``claims`` is spent)."""
        future = self.submit(
            election_id,
            request,
            credential_key=credential_key,
            claims=claims,
            election_key=election_key,
        )
        return receipts_of(future.result())

    def submit(
        self,
        election_id: int,
        request: CastRequest,
        *,
        credential_key: CredentialKey,
        claims: Sequence[Claim] = (),
        election_key: CastingKey | None = None,
    ) -> Future[CastOutcome]:
        """Queue one voter; the future holds their receipts or the error that refused them
        (see :func:`receipts_of`), set once the batch has committed or failed."""
        waiting = _Waiting(election_id, request, credential_key, tuple(claims), election_key)
        with self._lock:
            if self._closed:
                raise RuntimeError("the casting queue is closed")
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name="casting-queue", daemon=True)
                self._writer.start()
            self._waiting.put(waiting)
        return waiting.done

    def close(self) -> None:
        """Cast what is waiting, then stop the writer."""
        with self._lock:
            self._closed = True
            writer = self._writer
            if writer is not None:
                self._waiting.put(None)
        if writer is not None:
            writer.join()

    def _take(self) -> tuple[list[_Waiting], bool]:
        """The voters waiting now (at least one: it blocks for the first); and whether the
        queue was told to stop."""
        first = self._waiting.get()
        if first is None:
            return [], True
        batch = [first]
        while len(batch) < self._max_batch:
            try:
                item = self._waiting.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._take()
            # one transaction per election and key (a server may run several polls at once);
            # a key is told apart by its check value (an HMAC of a fixed text), not its secret
            groups: dict[tuple[int, bytes], list[_Waiting]] = {}
            for item in batch:
                which = (item.election_id, item.credential_key.check_value())
                groups.setdefault(which, []).append(item)
            for items in groups.values():
                self._cast(items)

    def _cast(self, items: list[_Waiting]) -> None:
        first = items[0]
        try:
            outcomes = cast_ballots(
                self._store,
                first.election_id,
                [i.request for i in items],
                credential_key=first.credential_key,
                claims=[i.claims for i in items] if any(i.claims for i in items) else None,
                election_key=next((i.election_key for i in items if i.election_key), None),
            )
        except Exception as exc:  # the whole batch failed: nobody gets a receipt
            for item in items:
                item.done.set_exception(exc)
            return
        for item, outcome in zip(items, outcomes, strict=True):
            item.done.set_result(outcome)
