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

Every transaction that writes counters locks their rows in one order, by budget and key
(:func:`begin_attempt`, the batches, the refunds), so that two of them, an attempt and a
refund say, may queue on a row but never deadlock (on PostgreSQL the loser of a deadlock
is rolled back: a 503). The casting queue takes and refunds a whole batch's places at once
(:func:`take_places`, :func:`settle_places`) inside the casting transaction, so that no other
transaction ever sees the places of attempts still in flight. On PostgreSQL a batch in which
no attempt can fail (every credential live and well formed) takes no place at all: it makes
the same decisions from the committed counts (:func:`admit_places`), writes nothing and locks
no counter, so the casting transactions of a busy booth behind one address do not queue on
that address's row; only a batch holding a guess takes its places (with the row lock until
its commit), as on SQLite.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from tallyroom.errors import CredentialRejected, InputError, TooManyAttempts
from tallyroom.store import attempts
from tallyroom.store.engine import Store

__all__ = [
    "Attempt",
    "Budget",
    "Claim",
    "admit_places",
    "attempt_succeeded",
    "attempts_settled",
    "attempts_succeeded",
    "begin_attempt",
    "begin_attempts",
    "counts_as_failure",
    "settle_places",
    "take_places",
]

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
    """One place in ``budget`` for ``key`` (an address, a browser, an account).

    ``fresh``: the key was made by the server for this very request (a browser id minted
    because the request carried none), so no attempt can have counted against it yet: a
    batch (:func:`take_places`) neither checks nor writes it up front, and writes its place
    only if the attempt fails. Same budget, one write fewer per success; only the server
    sets it, never a client.
    """

    budget: Budget
    key: str
    fresh: bool = False


@dataclass(frozen=True, slots=True)
class Attempt:
    """The places taken for one attempt, and the window each was taken in; ``owed``: the
    places of fresh keys, written only if the attempt fails (:func:`settle_places`)."""

    taken: tuple[tuple[Claim, int], ...]
    owed: tuple[tuple[Claim, int], ...] = ()


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
        # every place taken first, in the one order every transaction locks counters in
        # (budget, key), so that two attempts never wait on each other's rows; then compared
        # in the claims' order (the first full budget is the one named)
        counts = {
            (c.budget.name, c.key): attempts.take(
                conn, c.budget.name, c.key, int(moment // c.budget.window)
            )
            for c in sorted(claims, key=lambda c: (c.budget.name, c.key))
        }
        for claim in claims:
            budget = claim.budget
            bucket = int(moment // budget.window)
            current, previous = counts[budget.name, claim.key]
            share_left = 1 - (moment % budget.window) / budget.window
            if current + previous * share_left > budget.limit:
                # Raising rolls back every place this attempt took.
                raise TooManyAttempts(budget.refusal, _wait(budget, moment, current, previous))
            taken.append((claim, bucket))
        if secrets.randbelow(_PRUNE_ONE_IN) == 0:
            for claim, bucket in taken:
                attempts.forget_before(conn, claim.budget.name, bucket - 1)
    return Attempt(tuple(taken))


def begin_attempts(
    store: Store, each: Sequence[Sequence[Claim]], *, now: float | None = None
) -> list[Attempt | TooManyAttempts]:
    """:func:`begin_attempt` for many attempts in one transaction, as if run one after the
    other in order: per attempt its places, or the :class:`TooManyAttempts` that refused it
    (a refused attempt keeps no place).

    One upsert per key takes the places of every attempt naming it, atomically (the counts
    are compared after the increment, exactly as :func:`begin_attempt` does, so concurrent
    batches in several workers cannot both see room for the last place); the places of the
    refused attempts are given back before the transaction ends. A busy booth therefore
    writes its counters once per key per batch instead of twice per request.
    """
    if not any(each):
        return [Attempt(()) for _ in each]
    with store.begin_unsynced() as conn:
        return take_places(conn, each, now=now)


def take_places(
    conn: Connection, each: Sequence[Sequence[Claim]], *, now: float | None = None
) -> list[Attempt | TooManyAttempts]:
    """:func:`begin_attempts` in the caller's transaction (the casting transaction, on
    SQLite, whose write lock makes the whole batch one atomic step)."""
    moment = time.time() if now is None else now
    wanted: Counter[tuple[Budget, str]] = Counter()
    for claims in each:
        for claim in claims:
            if not claim.fresh:
                wanted[claim.budget, claim.key] += 1
    if not wanted:
        return [
            Attempt((), tuple((c, int(moment // c.budget.window)) for c in claims))
            for claims in each
        ]
    running: dict[tuple[Budget, str], int] = {}
    previous: dict[tuple[Budget, str], int] = {}
    for (budget, key), n in sorted(wanted.items(), key=lambda kv: (kv[0][0].name, kv[0][1])):
        bucket = int(moment // budget.window)
        after, before = attempts.take(conn, budget.name, key, bucket, n)
        running[budget, key] = after - n  # the count before this batch's places
        previous[budget, key] = before
    outcomes, kept = _decide(each, moment, running, previous)
    for (budget, key), n in wanted.items():
        unused = n - kept[budget, key]
        if unused:
            attempts.give_back(conn, budget.name, key, int(moment // budget.window), unused)
    if any(secrets.randbelow(_PRUNE_ONE_IN) == 0 for _ in each):
        for budget, _key in wanted:
            attempts.forget_before(conn, budget.name, int(moment // budget.window) - 1)
    return outcomes


def admit_places(
    conn: Connection, each: Sequence[Sequence[Claim]], *, now: float | None = None
) -> list[Attempt | TooManyAttempts]:
    """:func:`take_places`' decisions for a batch none of whose attempts can fail, from the
    counts committed now, taking no place (one read, no write, no lock).

    Only for a batch that will give every place back: every credential live and well formed
    (PostgreSQL's casting path, which has looked them up in its transaction). The budgets
    still hold: a place matters only once it is kept, and only a failed attempt keeps one,
    always taken atomically (:func:`take_places`). Each request is refused exactly as in
    :func:`take_places` (the batch's earlier attempts hold their places while it is decided),
    but the places of other batches still in flight, which would all be given back, are not
    seen. The :class:`Attempt` of an admitted request holds nothing to give back.
    """
    moment = time.time() if now is None else now
    keys = {(claim.budget, claim.key) for claims in each for claim in claims if not claim.fresh}
    if not keys:
        return [Attempt(()) for _ in each]
    found = attempts.counts(
        conn,
        [
            (budget.name, key, int(moment // budget.window) - back)
            for budget, key in sorted(keys, key=lambda k: (k[0].name, k[1]))
            for back in (0, 1)
        ],
    )
    running: dict[tuple[Budget, str], int] = {}
    previous: dict[tuple[Budget, str], int] = {}
    for budget, key in keys:
        bucket = int(moment // budget.window)
        running[budget, key] = found.get((budget.name, key[: attempts.KEY_MAX], bucket), 0)
        previous[budget, key] = found.get((budget.name, key[: attempts.KEY_MAX], bucket - 1), 0)
    decided, _kept = _decide(each, moment, running, previous)
    return [Attempt(()) if isinstance(d, Attempt) else d for d in decided]


def _decide(
    each: Sequence[Sequence[Claim]],
    moment: float,
    running: dict[tuple[Budget, str], int],
    previous: dict[tuple[Budget, str], int],
) -> tuple[list[Attempt | TooManyAttempts], Counter[tuple[Budget, str]]]:
    """Each attempt in order against the counts before the batch (``running``, updated as
    places are kept) and the last window's: its places or its refusal; the places kept per
    key."""
    outcomes: list[Attempt | TooManyAttempts] = []
    kept: Counter[tuple[Budget, str]] = Counter()
    for claims in each:
        refusal: TooManyAttempts | None = None
        for claim in claims:
            if claim.fresh:
                continue  # a new key: nothing counted against it yet
            budget = claim.budget
            which = (budget, claim.key)
            current = running[which] + 1
            share_left = 1 - (moment % budget.window) / budget.window
            if current + previous[which] * share_left > budget.limit:
                refusal = TooManyAttempts(
                    budget.refusal, _wait(budget, moment, current, previous[which])
                )
                break
        if refusal is not None:
            outcomes.append(refusal)
            continue
        for claim in claims:
            if not claim.fresh:
                running[claim.budget, claim.key] += 1
                kept[claim.budget, claim.key] += 1
        places = [(c, int(moment // c.budget.window)) for c in claims]
        outcomes.append(
            Attempt(
                tuple(p for p in places if not p[0].fresh), tuple(p for p in places if p[0].fresh)
            )
        )
    return outcomes, kept


def attempt_succeeded(store: Store, attempt: Attempt) -> None:
    """Give back the places an attempt took: it did not fail."""
    attempts_succeeded(store, [attempt])


def attempts_succeeded(store: Store, done: Sequence[Attempt]) -> None:
    """Give back the places of many attempts that did not fail, in one transaction (one
    statement per key)."""
    if not any(a.taken for a in done):
        return
    with store.begin_unsynced() as conn:
        _give_back(conn, done)


def _give_back(conn: Connection, done: Sequence[Attempt]) -> None:
    places: Counter[tuple[str, str, int]] = Counter()
    for attempt in done:
        for claim, bucket in attempt.taken:
            places[claim.budget.name, claim.key, bucket] += 1
    for (name, key, bucket), n in sorted(places.items()):  # the one locking order
        attempts.give_back(conn, name, key, bucket, n)


def settle_places(conn: Connection, done: Sequence[Attempt], failed: Sequence[bool]) -> None:
    """After a batch, in the caller's transaction: the places of each attempt that did not
    fail go back; each failed one keeps its places and has its fresh keys' written."""
    if len(done) != len(failed):
        raise ValueError(f"{len(failed)} outcomes for {len(done)} attempts")
    change: Counter[tuple[str, str, int]] = Counter()
    for attempt, f in zip(done, failed, strict=True):
        for claim, bucket in attempt.owed if f else attempt.taken:
            change[claim.budget.name, claim.key, bucket] += 1 if f else -1
    for (name, key, bucket), n in sorted(change.items()):  # the one locking order
        if n > 0:
            attempts.take(conn, name, key, bucket, n)
        elif n < 0:
            attempts.give_back(conn, name, key, bucket, -n)


def attempts_settled(store: Store, done: Sequence[Attempt], failed: Sequence[bool]) -> None:
    """:func:`settle_places` in a transaction of its own (unsynced, like every counter)."""
    if not any(a.owed if f else a.taken for a, f in zip(done, failed, strict=True)):
        return
    with store.begin_unsynced() as conn:
        settle_places(conn, done, failed)


def counts_as_failure(exc: BaseException) -> bool:
    """Whether a refusal spends a credential budget: the credential itself was refused
    (unknown, revoked, another election's) or could not be read as one. Anything else (an
    invalid ballot, a closed poll, a second ballot) is not a guess and is given back."""
    if isinstance(exc, CredentialRejected):
        return True
    return isinstance(exc, InputError) and exc.field == "credential"
