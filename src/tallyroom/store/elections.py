"""Elections: the definition, its SHA-256, and the lifecycle state, one step at a time.

The lifecycle (:class:`~tallyroom.store.schema.ElectionState`) only moves forward, one step
per :func:`advance`, as a compare-and-set (``UPDATE ... WHERE state = <expected>``): of two
officers closing the poll at once, one succeeds and the other is told the poll is already
closed. Every step appends its audit event in the same transaction.

:func:`require_state` is how other store functions guard on the state. On PostgreSQL it takes
a share lock on the election's row (``FOR SHARE``) for the rest of the transaction, so a
cast that saw the poll open finishes before the close can commit, and a close waits for the
casts in flight: no ballot is accepted after the close is committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.audit import box
from tallyroom.audit.chain import ChainedEvent
from tallyroom.audit.events import Action, JsonValue
from tallyroom.errors import InputError, LifecycleError, NotFound
from tallyroom.store import audit
from tallyroom.store.eligibility import eligibility_digest
from tallyroom.store.schema import BOX_SHARDS, ElectionState, ballot_box, elections, metadata

__all__ = [
    "ElectionRecord",
    "advance",
    "amend_definition",
    "create_election",
    "delete_draft",
    "find_election",
    "get_election",
    "list_elections",
    "replace_definition",
    "require_state",
    "set_ballot_public_key",
    "set_credential_key_path",
    "set_election_key",
    "states_before",
]

# The audit action each lifecycle step records.
STEP_ACTIONS: Mapping[ElectionState, Action] = {
    ElectionState.REGISTER_FROZEN: Action.REGISTER_FREEZE,
    ElectionState.NOMINATIONS_CLOSED: Action.NOMINATIONS,
    ElectionState.CREDENTIALS_ISSUED: Action.CREDENTIALS_ISSUE,
    ElectionState.OPEN: Action.POLL_OPEN,
    ElectionState.CLOSED: Action.POLL_CLOSE,
    ElectionState.COUNTED: Action.COUNT,
    ElectionState.DECLARED: Action.DECLARATION,
}


@dataclass(frozen=True, slots=True)
class ElectionRecord:
    id: int
    slug: str
    definition: str
    definition_sha256: str
    state: ElectionState
    ballot_public_key: bytes | None
    credential_key_path: str | None = None
    election_key: bytes | None = None  # a verifiable election's ElectionKey (canonical JSON)


def _sha256(definition: str) -> str:
    return hashlib.sha256(definition.encode("utf-8")).hexdigest()


def _record(row: sa.Row[tuple[object, ...]]) -> ElectionRecord:
    m = row._mapping
    key = m["ballot_public_key"]
    return ElectionRecord(
        id=m["id"],
        slug=m["slug"],
        definition=m["definition"],
        definition_sha256=m["definition_sha256"],
        state=m["state"],
        ballot_public_key=bytes(key) if key is not None else None,
        credential_key_path=m["credential_key_path"],
        election_key=bytes(m["election_key"]) if m["election_key"] is not None else None,
    )


def create_election(
    conn: Connection,
    slug: str,
    definition: str,
    *,
    actor: str,
    reason: str = "",
    at: datetime | None = None,
) -> ElectionRecord:
    """Create a draft election from its definition text; its chain starts with the definition."""
    digest = _sha256(definition)
    election_id = conn.execute(
        elections.insert()
        .values(
            slug=slug,
            definition=definition,
            definition_sha256=digest,
            state=ElectionState.DRAFT,
        )
        .returning(elections.c.id)
    ).scalar_one()
    audit.start_chain(conn, election_id)
    _start_box(conn, election_id)
    audit.append(
        conn,
        election_id,
        Action.DEFINITION,
        actor=actor,
        reason=reason,
        payload={"slug": slug, "definition_sha256": digest},
        at=at,
    )
    return get_election(conn, election_id)


def _start_box(conn: Connection, election_id: int) -> None:
    """The election's ballot box digest, empty: every shard holds the empty multiset's
    digest (see :mod:`tallyroom.store.ballots`)."""
    empty = box.to_bytes(box.EMPTY)
    conn.execute(
        ballot_box.insert(),
        [
            {
                "election_id": election_id,
                "shard": shard,
                "ballots_digest": empty,
                "casts_digest": empty,
                "ballot_count": 0,
                "cast_count": 0,
            }
            for shard in range(BOX_SHARDS)
        ],
    )


def get_election(conn: Connection, election_id: int) -> ElectionRecord:
    row = conn.execute(sa.select(elections).where(elections.c.id == election_id)).one_or_none()
    if row is None:
        raise NotFound("no such election", election=election_id)
    return _record(row)


def find_election(conn: Connection, slug: str) -> ElectionRecord | None:
    row = conn.execute(sa.select(elections).where(elections.c.slug == slug)).one_or_none()
    return None if row is None else _record(row)


def list_elections(conn: Connection) -> list[ElectionRecord]:
    """Every election, by slug."""
    rows = conn.execute(sa.select(elections).order_by(elections.c.slug))
    return [_record(row) for row in rows]


def delete_draft(conn: Connection, election_id: int) -> int:
    """Delete a draft election and every row that belongs to it (its register, its audit log,
    its box); refused (:class:`LifecycleError`, naming the state) once the register is frozen,
    since from then on the election's record is evidence. The number of rows deleted."""
    require_state(
        conn, election_id, ElectionState.DRAFT, doing="delete the election", exclusive=True
    )
    deleted = 0
    # children before parents: every table that names an election, in reverse dependency order
    for table in reversed(metadata.sorted_tables):
        if table is not elections and "election_id" in table.c:
            result = conn.execute(table.delete().where(table.c.election_id == election_id))
            deleted += max(result.rowcount, 0)
    conn.execute(elections.delete().where(elections.c.id == election_id))
    return deleted + 1


def states_before(state: ElectionState) -> tuple[ElectionState, ...]:
    """Every state earlier in the lifecycle than ``state``."""
    order = list(ElectionState)
    return tuple(order[: order.index(state)])


# Built once: require_state runs in every casting transaction (see ballots._live_query).
_STATE = sa.select(elections.c.state).where(elections.c.id == sa.bindparam("e"))
_STATE_SHARED = _STATE.with_for_update(read=True)
_STATE_EXCLUSIVE = _STATE.with_for_update()


def require_state(
    conn: Connection,
    election_id: int,
    *allowed: ElectionState,
    doing: str,
    exclusive: bool = False,
) -> ElectionState:
    """The election's state, locked for the transaction; LifecycleError unless allowed.

    ``doing`` names the operation for the message ("cast a ballot"). The lock is shared
    unless ``exclusive`` (taken by whoever will change the state: two share locks that both
    try to upgrade would deadlock).
    """
    query = _STATE_EXCLUSIVE if exclusive else _STATE_SHARED
    state = conn.execute(query, {"e": election_id}).scalar_one_or_none()
    if state is None:
        raise NotFound("no such election", election=election_id)
    if state not in allowed:
        wanted = " or ".join(s.words for s in allowed)
        raise LifecycleError(
            f"cannot {doing} while the election is {state.words} (needs {wanted})",
            election=election_id,
            field="state",
            value=state.value,
        )
    return ElectionState(state)


def replace_definition(
    conn: Connection,
    election_id: int,
    definition: str,
    *,
    actor: str,
    reason: str,
    at: datetime | None = None,
) -> ElectionRecord:
    """Replace a draft election's definition (never after the register is frozen)."""
    return amend_definition(
        conn,
        election_id,
        definition,
        ElectionState.DRAFT,
        doing="change the definition",
        actor=actor,
        reason=reason,
        payload={},
        at=at,
    )


def set_ballot_public_key(
    conn: Connection,
    election_id: int,
    public_key: bytes,
    *,
    actor: str,
    reason: str = "",
    at: datetime | None = None,
) -> ElectionRecord:
    """Record the public key ballots are sealed to: once, and before the poll opens."""
    if len(public_key) != 32:
        raise InputError(
            "a ballot public key is 32 bytes", field="ballot_public_key", value=public_key.hex()
        )
    before_open = states_before(ElectionState.OPEN)
    require_state(conn, election_id, *before_open, doing="set the ballot key", exclusive=True)
    changed = conn.execute(
        elections.update()
        .where(elections.c.id == election_id)
        .where(elections.c.ballot_public_key.is_(None))
        .values(ballot_public_key=public_key)
    ).rowcount
    if changed != 1:
        raise LifecycleError("the ballot key is already set", election=election_id)
    audit.append(
        conn,
        election_id,
        Action.BALLOT_KEY,
        actor=actor,
        reason=reason,
        payload={"public_key": public_key.hex()},
        at=at,
    )
    return get_election(conn, election_id)


def set_election_key(
    conn: Connection,
    election_id: int,
    key_json: bytes,
    *,
    public_key: bytes,
    actor: str,
    reason: str = "",
    at: datetime | None = None,
) -> ElectionRecord:
    """Record a verifiable election's key (its ceremony's ElectionKey as canonical JSON, with
    ``public_key`` the election public key in it): once, and before the poll opens; the
    audit log records its SHA-256 (``election_key``), so a key swapped later is seen."""
    if len(public_key) != 32 or not key_json:
        raise InputError(
            "an election key is its ceremony's JSON and a 32-byte public key",
            field="election_key",
            value=public_key.hex(),
        )
    before_open = states_before(ElectionState.OPEN)
    require_state(conn, election_id, *before_open, doing="set the election key", exclusive=True)
    changed = conn.execute(
        elections.update()
        .where(elections.c.id == election_id)
        .where(elections.c.election_key.is_(None))
        .values(election_key=key_json)
    ).rowcount
    if changed != 1:
        raise LifecycleError("the election key is already set", election=election_id)
    audit.append(
        conn,
        election_id,
        Action.ELECTION_KEY,
        actor=actor,
        reason=reason,
        payload={
            "public_key": public_key.hex(),
            "sha256": hashlib.sha256(key_json).hexdigest(),
        },
        at=at,
    )
    return get_election(conn, election_id)


def advance(
    conn: Connection,
    election_id: int,
    to: ElectionState,
    *,
    actor: str,
    reason: str = "",
    payload: Mapping[str, JsonValue] | None = None,
    at: datetime | None = None,
) -> ChainedEvent:
    """Move the election one step forward to ``to`` and record it; return the audit event.

    ``payload`` adds facts to the event (the count's digest at ``counted``, say). The freeze
    also records the digest of the register's eligibility decisions (``eligibility_sha256``).
    """
    previous = [s for s in ElectionState if s.next is to]
    if not previous:
        raise LifecycleError(
            "no step leads to this state", election=election_id, field="state", value=to.value
        )
    current = require_state(conn, election_id, previous[0], doing=to.step, exclusive=True)
    moved = conn.execute(
        elections.update()
        .where(elections.c.id == election_id)
        .where(elections.c.state == current)
        .values(state=to)
    ).rowcount
    if moved != 1:
        raise LifecycleError(
            f"the election left {current.words} while moving to {to.words}", election=election_id
        )
    facts: dict[str, JsonValue] = {"from": current.value, "to": to.value}
    if to is ElectionState.REGISTER_FROZEN:
        facts["eligibility_sha256"] = eligibility_digest(conn, election_id)
    facts.update(payload or {})
    return audit.append(
        conn, election_id, STEP_ACTIONS[to], actor=actor, reason=reason, payload=facts, at=at
    )


def amend_definition(
    conn: Connection,
    election_id: int,
    definition: str,
    *allowed: ElectionState,
    doing: str,
    actor: str,
    reason: str,
    payload: Mapping[str, JsonValue],
    at: datetime | None = None,
) -> ElectionRecord:
    """Replace the definition in one of the ``allowed`` states (a timetable extension while
    the poll runs, say); the audit event records the new digest, ``payload`` (what changed,
    old and new) and the reason."""
    require_state(conn, election_id, *allowed, doing=doing, exclusive=True)
    digest = _sha256(definition)
    conn.execute(
        elections.update()
        .where(elections.c.id == election_id)
        .values(definition=definition, definition_sha256=digest)
    )
    audit.append(
        conn,
        election_id,
        Action.DEFINITION,
        actor=actor,
        reason=reason,
        payload={**payload, "definition_sha256": digest},
        at=at,
    )
    return get_election(conn, election_id)


def set_credential_key_path(conn: Connection, election_id: int, path: str) -> None:
    """Record where the election's credential key file is (an absolute path; the key itself
    never enters the database)."""
    conn.execute(
        elections.update().where(elections.c.id == election_id).values(credential_key_path=path)
    )
