"""Attempt budgets shared by every web worker: atomic, per key, refunded on success.

A :class:`Budget` allows ``limit`` failed attempts per key in a sliding window of ``window``
seconds. Before a guarded action (checking a credential, a console password) the caller
:func:`takes <begin_attempt>` one place in each budget that applies, in one transaction:
the count is incremented in the store first and compared after, so concurrent requests, in
one worker or many, can never all see room for the last place (each increment is atomic:
a row lock on PostgreSQL, the database's write lock on SQLite). When any budget is full the
whole transaction rolls back (a refused attempt costs nothing more) and
:class:`~tallyroom.errors.TooManyAttempts` says how long to wait. An attempt that succeeds is
:func:`given back <attempt_succeeded>`, so a crowd of voters who type their credentials
correctly behind one address spends none of its budget: only failures count.

The window slides by weighting the previous fixed window's count by the share of it still
inside the sliding window (the estimate used by Cloudflare's and nginx's limiters), so a
client cannot spend two budgets across a window's boundary. Counters are written with
:meth:`~tallyroom.store.engine.Store.begin_unsynced` (no fsync: a power cut may forget the
last moments of failures, never a ballot) and windows two or more old are dropped now and
then.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from tallyroom.errors import TooManyAttempts
from tallyroom.store import attempts
from tallyroom.store.engine import Store

__all__ = ["Attempt", "Budget", "Claim", "attempt_succeeded", "begin_attempt"]

# One attempt in this many also drops the budget's stale windows.
_PRUNE_ONE_IN = 256


@dataclass(frozen=True, slots=True)
class Budget:
    """``limit`` failures per key in ``window`` seconds; ``refusal`` says whose they are."""

    name: str
    limit: int
    window: int
    refusal: str

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window < 1:
            raise ValueError(f"budget {self.name}: limit and window must be at least 1")


@dataclass(frozen=True, slots=True)
class Claim:
    """One place in ``budget`` for ``key`` (an address, a browser, an account)."""

    budget: Budget
    key: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """The places taken for one attempt, and the window each was taken in."""

    taken: tuple[tuple[Claim, int], ...]


def _wait(budget: Budget, now: float, current: int, previous: int) -> int:
    """Seconds until the sliding estimate drops back under the limit."""
    elapsed = now % budget.window
    if current > budget.limit:
        # Next window: current * (1 - f) must fall to the limit.
        share = 1 - budget.limit / current
        return math.ceil(budget.window - elapsed + budget.window * share)
    # This window: previous * (1 - f) + current must fall to the limit.
    share = 1 - (budget.limit - current) / previous if previous else 0.0
    return math.ceil(max(1.0, budget.window * share - elapsed))


def begin_attempt(store: Store, claims: Sequence[Claim], *, now: float | None = None) -> Attempt:
    """Take a place in every budget of ``claims``, or none: :class:`TooManyAttempts`."""
    moment = time.time() if now is None else now
    taken: list[tuple[Claim, int]] = []
    with store.begin_unsynced() as conn:
        for claim in claims:
            budget = claim.budget
            bucket = int(moment // budget.window)
            current, previous = attempts.take(conn, budget.name, claim.key, bucket)
            share_left = 1 - (moment % budget.window) / budget.window
            if current + previous * share_left > budget.limit:
                # Raising rolls back every place this attempt took.
                raise TooManyAttempts(budget.refusal, _wait(budget, moment, current, previous))
            taken.append((claim, bucket))
        if secrets.randbelow(_PRUNE_ONE_IN) == 0:
            for claim, bucket in taken:
                attempts.forget_before(conn, claim.budget.name, bucket - 1)
    return Attempt(tuple(taken))


def attempt_succeeded(store: Store, attempt: Attempt) -> None:
    """Give back the places an attempt took: it did not fail."""
    if not attempt.taken:
        return
    with store.begin_unsynced() as conn:
        for claim, bucket in attempt.taken:
            attempts.give_back(conn, claim.budget.name, claim.key, bucket)
