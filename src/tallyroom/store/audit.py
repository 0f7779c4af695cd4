"""Appending to and reading an election's audit chain, inside the caller's transaction.

An event is appended in the same transaction as the change it records, so either both are
committed or neither is. Appends to one election's chain are serialised by a row lock on
its ``audit_heads`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has one writer at a
time anyway), and the ``(election_id, sequence)`` primary key makes a fork impossible even
if that lock were bypassed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.audit.chain import EMPTY_HEAD, HASH_SIZE, ChainedEvent, Head, link
from tallyroom.audit.events import Action, AuditEvent, JsonValue
from tallyroom.audit.verify import (
    ChainFailure,
    Check,
    Unreadable,
    VerificationResult,
    verify_chain,
)
from tallyroom.errors import NotFound, StoreError
from tallyroom.store.schema import audit_events, audit_heads

__all__ = ["append", "events", "head", "lock_head", "start_chain", "verify"]


def start_chain(conn: Connection, election_id: int) -> None:
    """Create an election's empty chain (called once, when the election is created)."""
    conn.execute(
        audit_heads.insert().values(
            election_id=election_id, sequence=EMPTY_HEAD.sequence, hash=EMPTY_HEAD.hash
        )
    )


def _locked_head(conn: Connection, election_id: int) -> Head:
    row = conn.execute(
        sa.select(audit_heads.c.sequence, audit_heads.c.hash)
        .where(audit_heads.c.election_id == election_id)
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise NotFound("no such election (it has no audit chain)", election=election_id)
    return Head(row.sequence, bytes(row.hash))


def lock_head(conn: Connection, election_id: int) -> Head:
    """The tip of the election's chain, locked until the transaction ends: what a use case
    takes first when it must not interleave with another (extending the ballot board)."""
    return _locked_head(conn, election_id)


def append(
    conn: Connection,
    election_id: int,
    action: Action,
    *,
    actor: str,
    reason: str = "",
    payload: Mapping[str, JsonValue] | None = None,
    at: datetime | None = None,
) -> ChainedEvent:
    """Append one event to the election's chain; return it with its hash."""
    tip = _locked_head(conn, election_id)
    event = AuditEvent.create(
        sequence=tip.sequence + 1,
        election=election_id,
        action=action,
        actor=actor,
        reason=reason,
        payload=payload,
        at=at,
    )
    digest = link(tip.hash, event)
    conn.execute(
        audit_events.insert().values(
            election_id=election_id,
            sequence=event.sequence,
            action=event.action.value,
            actor=event.actor,
            reason=event.reason,
            payload=event.payload,
            recorded_at=event.recorded_at,
            hash=digest,
        )
    )
    moved = conn.execute(
        audit_heads.update()
        .where(audit_heads.c.election_id == election_id)
        .where(audit_heads.c.sequence == tip.sequence)
        .values(sequence=event.sequence, hash=digest)
    ).rowcount
    if moved != 1:
        raise StoreError("the audit chain moved during an append", election=election_id)
    return ChainedEvent(event, digest)


def head(conn: Connection, election_id: int) -> Head:
    """The tip of the election's chain as the store records it."""
    row = conn.execute(
        sa.select(audit_heads.c.sequence, audit_heads.c.hash).where(
            audit_heads.c.election_id == election_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound("no such election (it has no audit chain)", election=election_id)
    return Head(row.sequence, bytes(row.hash))


def _rows(conn: Connection, election_id: int) -> Iterator[sa.Row[tuple[object, ...]]]:
    result = conn.execute(
        sa.select(audit_events)
        .where(audit_events.c.election_id == election_id)
        .order_by(audit_events.c.sequence)
        .execution_options(yield_per=1000)
    )
    yield from result


def _read(row: sa.Row[tuple[object, ...]]) -> ChainedEvent | Unreadable:
    m = row._mapping
    raw_hash = m["hash"]
    digest = bytes(raw_hash) if isinstance(raw_hash, (bytes, memoryview)) else None
    sequence = m["sequence"] if isinstance(m["sequence"], int) else None
    try:
        event = AuditEvent.from_fields(m, election="election_id")
        if digest is None or len(digest) != HASH_SIZE:
            raise ValueError(f"hash: not {HASH_SIZE} bytes ({raw_hash!r})")
        return ChainedEvent(event, digest)
    except ValueError as exc:
        return Unreadable(sequence, digest, str(exc))


def events(conn: Connection, election_id: int) -> Iterator[ChainedEvent]:
    """The election's events in order; a row that is not a valid event raises StoreError."""
    for row in _rows(conn, election_id):
        item = _read(row)
        if isinstance(item, Unreadable):
            raise StoreError(
                f"audit event {item.sequence} cannot be read: {item.problem}",
                election=election_id,
            )
        yield item


def verify(
    conn: Connection, election_id: int, *, published_head: Head | None = None
) -> VerificationResult:
    """Verify the election's stored chain against the store's head and, if given, a published one.

    The store's own head catches events cut from the end. ``published_head`` (a head made
    public earlier, e.g. with the declaration) must still be in the log, at its sequence:
    that catches a log rewritten from some point on with every later hash recomputed.
    """
    recorded = head(conn, election_id)
    seen: dict[int, bytes | None] = {}

    def read_all() -> Iterator[ChainedEvent | Unreadable]:
        for row in _rows(conn, election_id):
            item = _read(row)
            if published_head is not None:
                sequence = item.sequence if isinstance(item, Unreadable) else item.event.sequence
                if sequence == published_head.sequence:
                    seen[sequence] = item.hash
            yield item

    result = verify_chain(read_all(), election=election_id, expected_head=recorded)
    if published_head is not None and published_head.sequence > 0:
        found = seen.get(published_head.sequence)
        if found != published_head.hash:
            shown = found.hex()[:16] + "…" if found else "nothing"
            result = result.with_failures(
                ChainFailure(
                    Check.HEAD,
                    f"the published head is {published_head} but the log has {shown}"
                    f" at sequence {published_head.sequence}",
                )
            )
    return result
