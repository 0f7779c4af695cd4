"""Console users: who may sign in to the web console, with which role.

A user row holds the username, an argon2id hash of the password in PHC string form (the
password itself is never stored, and hashing is the service's job, not the store's), the
role (:class:`~tallyroom.store.schema.ConsoleRole`) and when the user was created. Users
belong to the installation, not to one election, so their changes are not in an election's
audit chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.errors import InputError, NotFound
from tallyroom.store.schema import NAME_MAX, ConsoleRole, console_users

__all__ = [
    "UserRecord",
    "delete_user",
    "find_user",
    "get_user",
    "insert_user",
    "list_users",
    "set_password_hash",
]


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    password_hash: str
    role: ConsoleRole
    created_at: str


def _record(row: sa.Row[tuple[object, ...]]) -> UserRecord:
    m = row._mapping
    return UserRecord(
        id=int(m["id"]),
        username=str(m["username"]),
        password_hash=str(m["password_hash"]),
        role=ConsoleRole(m["role"]) if not isinstance(m["role"], ConsoleRole) else m["role"],
        created_at=str(m["created_at"]),
    )


def insert_user(
    conn: Connection, username: str, password_hash: str, role: ConsoleRole, created_at: str
) -> UserRecord:
    """Add a user; :class:`InputError` when the name is empty, too long or taken."""
    if not username or len(username) > NAME_MAX:
        raise InputError(
            f"a username has 1 to {NAME_MAX} characters", field="username", value=username
        )
    if find_user(conn, username) is not None:
        raise InputError("a console user with this name exists", field="username", value=username)
    result = conn.execute(
        console_users.insert().values(
            username=username, password_hash=password_hash, role=role, created_at=created_at
        )
    )
    (user_id,) = result.inserted_primary_key or (None,)
    return UserRecord(int(str(user_id)), username, password_hash, role, created_at)


def find_user(conn: Connection, username: str) -> UserRecord | None:
    row = conn.execute(
        sa.select(console_users).where(console_users.c.username == username)
    ).one_or_none()
    return None if row is None else _record(row)


def get_user(conn: Connection, user_id: int) -> UserRecord:
    row = conn.execute(sa.select(console_users).where(console_users.c.id == user_id)).one_or_none()
    if row is None:
        raise NotFound("no such console user", field="console_users.id", value=user_id)
    return _record(row)


def list_users(conn: Connection) -> list[UserRecord]:
    rows = conn.execute(sa.select(console_users).order_by(console_users.c.username))
    return [_record(row) for row in rows]


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    """Replace a user's hash (a new password, or the same one rehashed with new parameters)."""
    result = conn.execute(
        console_users.update()
        .where(console_users.c.id == user_id)
        .values(password_hash=password_hash)
    )
    if result.rowcount != 1:
        raise NotFound("no such console user", field="console_users.id", value=user_id)


def delete_user(conn: Connection, username: str) -> UserRecord:
    """Remove the user called ``username`` (:class:`NotFound` when there is none)."""
    record = find_user(conn, username)
    if record is None:
        raise NotFound("no such console user", field="username", value=username)
    conn.execute(console_users.delete().where(console_users.c.id == record.id))
    return record
