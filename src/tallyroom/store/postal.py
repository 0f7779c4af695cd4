"""Postal batches: envelopes opened together, counted by hand, then cast one by one.

A batch is opened with the number of envelopes counted by hand (``declared_count``); its
postal ballots are cast through :func:`tallyroom.store.ballots.cast_many` (the one casting
path) with ``channel=POSTAL`` and the batch id, so a postal voter who also tried online (or
the other way round) is refused by the same ``ballot_casts`` constraints. Sealing the batch records
the casts it received against the declared count and refuses further casts into it.
Ballots do not name their batch: a batch of one envelope would otherwise name its voter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.audit.events import Action
from tallyroom.errors import InputError, LifecycleError, NotFound
from tallyroom.store import audit
from tallyroom.store.elections import require_state
from tallyroom.store.schema import (
    LABEL_MAX,
    BatchStatus,
    ElectionState,
    ballot_casts,
    postal_batches,
)

__all__ = ["PostalBatch", "get_batch", "open_batch", "seal_batch"]


@dataclass(frozen=True, slots=True)
class PostalBatch:
    id: int
    election_id: int
    label: str
    declared_count: int
    status: BatchStatus
    casts: int

    @property
    def reconciled(self) -> bool:
        return self.casts == self.declared_count


def get_batch(conn: Connection, election_id: int, batch_id: int) -> PostalBatch:
    row = conn.execute(
        sa.select(postal_batches)
        .where(postal_batches.c.id == batch_id)
        .where(postal_batches.c.election_id == election_id)
    ).one_or_none()
    if row is None:
        raise NotFound("no such postal batch", election=election_id, value=batch_id)
    casts = conn.execute(
        sa.select(sa.func.count())
        .select_from(ballot_casts)
        .where(ballot_casts.c.postal_batch_id == batch_id)
    ).scalar_one()
    m = row._mapping
    return PostalBatch(
        m["id"], m["election_id"], m["label"], m["declared_count"], m["status"], int(casts)
    )


def open_batch(
    conn: Connection,
    election_id: int,
    label: str,
    declared_count: int,
    *,
    actor: str,
    reason: str = "",
    at: datetime | None = None,
) -> PostalBatch:
    """Open a batch of ``declared_count`` envelopes while the poll is open."""
    if not label or len(label) > LABEL_MAX:
        raise InputError(
            f"a batch label is 1 to {LABEL_MAX} characters", field="label", value=label
        )
    if declared_count < 0:
        raise InputError("a batch cannot hold fewer than 0 envelopes", value=declared_count)
    require_state(conn, election_id, ElectionState.OPEN, doing="open a postal batch")
    batch_id = conn.execute(
        postal_batches.insert()
        .values(
            election_id=election_id,
            label=label,
            declared_count=declared_count,
            status=BatchStatus.OPEN,
        )
        .returning(postal_batches.c.id)
    ).scalar_one()
    audit.append(
        conn,
        election_id,
        Action.POSTAL_BATCH,
        actor=actor,
        reason=reason,
        payload={"label": label, "declared_count": declared_count, "status": "open"},
        at=at,
    )
    return get_batch(conn, election_id, batch_id)


def seal_batch(
    conn: Connection,
    election_id: int,
    batch_id: int,
    *,
    actor: str,
    reason: str = "",
    at: datetime | None = None,
) -> PostalBatch:
    """Seal a batch: no more casts into it; the audit event records casts against declared."""
    changed = conn.execute(
        postal_batches.update()
        .where(postal_batches.c.id == batch_id)
        .where(postal_batches.c.election_id == election_id)
        .where(postal_batches.c.status == BatchStatus.OPEN)
        .values(status=BatchStatus.SEALED)
    ).rowcount
    if changed != 1:
        get_batch(conn, election_id, batch_id)  # NotFound if it does not exist
        raise LifecycleError(
            "the postal batch is already sealed", election=election_id, value=batch_id
        )
    batch = get_batch(conn, election_id, batch_id)
    audit.append(
        conn,
        election_id,
        Action.POSTAL_BATCH,
        actor=actor,
        reason=reason,
        payload={
            "label": batch.label,
            "declared_count": batch.declared_count,
            "casts": batch.casts,
            "status": "sealed",
        },
        at=at,
    )
    return batch
