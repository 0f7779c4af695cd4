"""The key ceremony's published messages (``ceremony_messages``), in the caller's transaction.

A message is stored with its kind, its trustee (the sender; 0 for the officer's drill
challenge and the drill's transcript), its recipient (0 where there is none), its canonical
bytes and their SHA-256, and its audit event appended in the same transaction: action
``ceremony_message`` (``key_drill`` for the drill's transcript) with the message's name, kind,
trustee, recipient and SHA-256, so ``audit verify`` (check ``ceremony``,
:mod:`tallyroom.audit.record`) sees a message edited, deleted or added in the database.

Checking a message is the service's (services/ceremony.py); the table's unique key (one
message per election, kind, trustee and recipient) makes a second message of the same kind
from the same trustee impossible even without it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.audit.events import Action
from tallyroom.store import audit
from tallyroom.store.schema import ceremony_messages

__all__ = ["StoredMessage", "add", "message_name", "messages"]


def message_name(kind: str, trustee: int, recipient: int) -> str:
    """A message's name, which is also its file's name without ``.json`` (docs/trustees.md):
    ``communication-key-1``, ``sealed-share-1-to-2``, ``complaint-1-by-2``, ``drill-share-3``,
    ``drill-challenge``, ``key-drill``..."""
    if trustee == 0:
        return kind
    if recipient == 0:
        return f"{kind}-{trustee}"
    if kind == "complaint":  # trustee is the dealer complained about, recipient the complainer
        return f"{kind}-{trustee}-by-{recipient}"
    return f"{kind}-{trustee}-to-{recipient}"


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One stored message: what it is and its bytes."""

    kind: str
    trustee: int
    recipient: int
    body: bytes
    sha256: str

    @property
    def name(self) -> str:
        return message_name(self.kind, self.trustee, self.recipient)


def messages(conn: Connection, election_id: int) -> list[StoredMessage]:
    """The election's messages in the order they were stored."""
    rows = conn.execute(
        sa.select(
            ceremony_messages.c.kind,
            ceremony_messages.c.trustee,
            ceremony_messages.c.recipient,
            ceremony_messages.c.body,
            ceremony_messages.c.sha256,
        )
        .where(ceremony_messages.c.election_id == election_id)
        .order_by(ceremony_messages.c.id)
    )
    return [StoredMessage(str(k), int(t), int(r), bytes(b), str(s)) for k, t, r, b, s in rows]


def add(
    conn: Connection,
    election_id: int,
    kind: str,
    trustee: int,
    recipient: int,
    body: bytes,
    *,
    actor: str,
    reason: str = "",
) -> StoredMessage:
    """Store one (already checked) message and log it."""
    digest = hashlib.sha256(body).hexdigest()
    conn.execute(
        ceremony_messages.insert().values(
            election_id=election_id,
            kind=kind,
            trustee=trustee,
            recipient=recipient,
            body=body,
            sha256=digest,
        )
    )
    stored = StoredMessage(kind, trustee, recipient, body, digest)
    audit.append(
        conn,
        election_id,
        Action.KEY_DRILL if kind == "key-drill" else Action.CEREMONY_MESSAGE,
        actor=actor,
        reason=reason,
        payload={
            "name": stored.name,
            "kind": kind,
            "trustee": trustee,
            "recipient": recipient,
            "sha256": digest,
        },
    )
    return stored
