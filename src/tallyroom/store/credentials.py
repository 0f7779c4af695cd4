"""Voting credentials: issued, reissued, revoked, and checked, never stored in the clear.

A credential (the secret a voter logs in or signs a postal paper with) is stored only as its
HMAC-SHA256 under the election's :class:`CredentialKey`. The key is not in the database: a
stolen database alone does not let anyone test guesses against the hashes, which matters
when credentials are short enough to type. The election row keeps an HMAC of a fixed message
under the key (``credential_key_check``) so that a wrong key is refused
(:class:`CredentialKeyMismatch`) instead of silently failing every login.

The store hashes exactly the text it is given: normalising what a voter typed (case,
spaces, dashes) is the caller's job, done the same way at issue and at login.

A register entry has at most one live (``issued``) credential; :func:`reissue` revokes the
live one and issues the next ``issue_number`` in one step. Whether a credential was used is
per contest and lives in ``ballot_casts`` (:func:`contests_cast`).
"""

from __future__ import annotations

import hmac
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.audit.events import Action
from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.errors import CredentialKeyMismatch, CredentialRejected, InputError, NotFound
from tallyroom.store import audit
from tallyroom.store.bulk import CHUNK_SIZE, insert_rows
from tallyroom.store.elections import require_state, states_before
from tallyroom.store.schema import (
    CredentialStatus,
    ElectionState,
    ballot_casts,
    credentials,
    elections,
    register_entries,
)

__all__ = [
    "CredentialKey",
    "CredentialRecord",
    "authenticate",
    "bind_key",
    "contests_cast",
    "find",
    "issue_many",
    "live_credentials",
    "next_issue_number",
    "reissue",
    "revoke",
]

_ISSUE_COLUMNS = ("election_id", "entry_id", "issue_number", "credential_hash", "status")
# Credentials may be issued and reissued until the poll closes.
_ISSUING = states_before(ElectionState.CLOSED)


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    id: int
    election_id: int
    entry_id: int
    issue_number: int
    status: CredentialStatus


def _record(row: sa.Row[tuple[object, ...]]) -> CredentialRecord:
    m = row._mapping
    return CredentialRecord(
        id=m["id"],
        election_id=m["election_id"],
        entry_id=m["entry_id"],
        issue_number=m["issue_number"],
        status=m["status"],
    )


def bind_key(conn: Connection, election_id: int, key: CredentialKey) -> None:
    """Tie ``key`` to the election on first use; afterwards refuse any other key."""
    check = key.check_value()
    stored = conn.execute(
        sa.select(elections.c.credential_key_check).where(elections.c.id == election_id)
    ).one_or_none()
    if stored is None:
        raise NotFound("no such election", election=election_id)
    if stored.credential_key_check is None:
        conn.execute(
            elections.update()
            .where(elections.c.id == election_id)
            .where(elections.c.credential_key_check.is_(None))
            .values(credential_key_check=check)
        )
        stored_check = conn.execute(
            sa.select(elections.c.credential_key_check).where(elections.c.id == election_id)
        ).scalar_one()
    else:
        stored_check = stored.credential_key_check
    if not hmac.compare_digest(bytes(stored_check), check):
        raise CredentialKeyMismatch(
            "this is not the key the election's credentials are issued under",
            election=election_id,
        )


def issue_many(
    conn: Connection,
    election_id: int,
    key: CredentialKey,
    items: Iterable[tuple[int, str]],
    *,
    actor: str,
    reason: str = "",
    chunk_size: int = CHUNK_SIZE,
    at: datetime | None = None,
) -> int:
    """Issue first credentials: ``(entry_id, credential)`` pairs; return how many.

    An entry that already has a credential is refused by the database (as an InputError),
    and the caller's transaction must roll back.
    """
    require_state(conn, election_id, *_ISSUING, doing="issue credentials")
    bind_key(conn, election_id, key)
    issued = CredentialStatus.ISSUED.value

    def rows() -> Iterator[tuple[object, ...]]:
        for entry_id, credential in items:
            yield (election_id, entry_id, 1, key.digest(credential), issued)

    try:
        count = insert_rows(conn, credentials, _ISSUE_COLUMNS, rows(), chunk_size=chunk_size)
    except (sqlite3.IntegrityError, psycopg.IntegrityError) as exc:
        raise InputError(
            "a credential could not be issued (entry unknown or already holding one)",
            field="entry_id",
            value=str(exc).strip(),
        ) from exc
    audit.append(
        conn,
        election_id,
        Action.CREDENTIALS_ISSUE,
        actor=actor,
        reason=reason,
        payload={"credentials": count},
        at=at,
    )
    return count


def _person(conn: Connection, election_id: int, entry_id: int) -> str:
    person = conn.execute(
        sa.select(register_entries.c.person_id)
        .where(register_entries.c.id == entry_id)
        .where(register_entries.c.election_id == election_id)
    ).scalar_one_or_none()
    if person is None:
        raise NotFound("no such register entry", election=election_id, value=entry_id)
    return str(person)


def next_issue_number(conn: Connection, entry_id: int) -> int:
    """The issue number the entry's next credential will have (1 if it has none)."""
    last = conn.execute(
        sa.select(sa.func.max(credentials.c.issue_number)).where(credentials.c.entry_id == entry_id)
    ).scalar_one()
    return int(last or 0) + 1


def live_credentials(
    conn: Connection, election_id: int, entry_ids: Iterable[int]
) -> dict[int, tuple[int, bytes]]:
    """entry id -> (issue number, hash) of each given entry's live credential."""
    c = credentials.c
    ids = list(entry_ids)
    found: dict[int, tuple[int, bytes]] = {}
    for start in range(0, len(ids), 5_000):
        rows = conn.execute(
            sa.select(c.entry_id, c.issue_number, c.credential_hash)
            .where(c.election_id == election_id)
            .where(c.status == CredentialStatus.ISSUED)
            .where(c.entry_id.in_(ids[start : start + 5_000]))
        )
        found.update((int(e), (int(n), bytes(h))) for e, n, h in rows)
    return found


def reissue(
    conn: Connection,
    election_id: int,
    key: CredentialKey,
    entry_id: int,
    credential: str,
    *,
    actor: str,
    reason: str,
    at: datetime | None = None,
) -> CredentialRecord:
    """Revoke the entry's live credential (if any) and issue ``credential`` in its place.

    Ballots already cast with the old credential stand, and the contests it was used for
    stay used: a reissue gives a lost credential back, not a second vote.
    """
    require_state(conn, election_id, *_ISSUING, doing="reissue a credential")
    bind_key(conn, election_id, key)
    person = _person(conn, election_id, entry_id)
    previous = conn.execute(
        sa.select(credentials)
        .where(credentials.c.entry_id == entry_id)
        .order_by(credentials.c.issue_number.desc())
        .limit(1)
        .with_for_update()
    ).one_or_none()
    number = 1
    if previous is not None:
        number = previous.issue_number + 1
        conn.execute(
            credentials.update()
            .where(credentials.c.id == previous.id)
            .values(status=CredentialStatus.REVOKED)
        )
    new_id = conn.execute(
        credentials.insert()
        .values(
            election_id=election_id,
            entry_id=entry_id,
            issue_number=number,
            credential_hash=key.digest(credential),
            status=CredentialStatus.ISSUED,
        )
        .returning(credentials.c.id)
    ).scalar_one()
    audit.append(
        conn,
        election_id,
        Action.CREDENTIAL_REISSUE,
        actor=actor,
        reason=reason,
        payload={"person_id": person, "issue_number": number},
        at=at,
    )
    return CredentialRecord(new_id, election_id, entry_id, number, CredentialStatus.ISSUED)


def revoke(
    conn: Connection,
    election_id: int,
    credential_id: int,
    *,
    actor: str,
    reason: str,
    at: datetime | None = None,
) -> CredentialRecord:
    """Revoke a credential: it can cast nothing more (what it already cast stands)."""
    changed = conn.execute(
        credentials.update()
        .where(credentials.c.id == credential_id)
        .where(credentials.c.election_id == election_id)
        .where(credentials.c.status == CredentialStatus.ISSUED)
        .values(status=CredentialStatus.REVOKED)
        .returning(*credentials.c)
    ).one_or_none()
    if changed is None:
        raise CredentialRejected(
            "no live credential with this id", election=election_id, value=credential_id
        )
    record = _record(changed)
    audit.append(
        conn,
        election_id,
        Action.CREDENTIAL_REVOKE,
        actor=actor,
        reason=reason,
        payload={
            "person_id": _person(conn, election_id, record.entry_id),
            "issue_number": record.issue_number,
        },
        at=at,
    )
    return record


def find(
    conn: Connection, election_id: int, key: CredentialKey, credential: str
) -> CredentialRecord | None:
    """The credential record for ``credential`` in this election (live or not), if any."""
    row = conn.execute(
        sa.select(credentials)
        .where(credentials.c.credential_hash == key.digest(credential))
        .where(credentials.c.election_id == election_id)
    ).one_or_none()
    return None if row is None else _record(row)


def authenticate(
    conn: Connection, election_id: int, key: CredentialKey, credential: str
) -> CredentialRecord:
    """The live credential record for ``credential``, or :class:`CredentialRejected`.

    The message does not say whether the credential was unknown or revoked (a voter is
    told to ask for a new one either way; an attacker learns nothing).
    """
    record = find(conn, election_id, key, credential)
    if record is None or record.status is not CredentialStatus.ISSUED:
        raise CredentialRejected("credential not recognised", election=election_id)
    return record


def contests_cast(conn: Connection, credential_id: int) -> frozenset[str]:
    """The contests this credential has cast a ballot in."""
    rows = conn.execute(
        sa.select(ballot_casts.c.contest).where(ballot_casts.c.credential_id == credential_id)
    )
    return frozenset(str(contest) for contest in rows.scalars())
