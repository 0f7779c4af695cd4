"""Console sessions kept on the server: the SHA-256 of each session's token, its user, expiry.

The browser's cookie carries a random token; only its SHA-256 is stored, so a copy of the
database does not yield a working cookie. A session ends when its row goes: at sign-out,
when the user's password changes, when the user is removed (the foreign key cascades), or
when it expires.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.store.schema import console_sessions

__all__ = ["end_session", "end_user_sessions", "forget_expired", "session_user", "start_session"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    conn: Connection, token: str, user_id: int, created_at: str, expires_at: str
) -> None:
    conn.execute(
        console_sessions.insert().values(
            token_sha256=_digest(token),
            user_id=user_id,
            created_at=created_at,
            expires_at=expires_at,
        )
    )


def session_user(conn: Connection, token: str, now: str) -> int | None:
    """The user whose live session this token opens, or None (unknown, ended or expired)."""
    return conn.execute(
        sa.select(console_sessions.c.user_id).where(
            console_sessions.c.token_sha256 == _digest(token),
            console_sessions.c.expires_at > now,
        )
    ).scalar_one_or_none()


def end_session(conn: Connection, token: str) -> None:
    conn.execute(console_sessions.delete().where(console_sessions.c.token_sha256 == _digest(token)))


def end_user_sessions(conn: Connection, user_id: int) -> int:
    """End every session of one user; how many there were."""
    result = conn.execute(console_sessions.delete().where(console_sessions.c.user_id == user_id))
    return int(result.rowcount or 0)


def forget_expired(conn: Connection, now: str) -> int:
    result = conn.execute(console_sessions.delete().where(console_sessions.c.expires_at <= now))
    return int(result.rowcount or 0)
