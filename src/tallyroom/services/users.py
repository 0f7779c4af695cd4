"""Console users: create them, list them, and check a password at sign-in.

Passwords are hashed with argon2id (``argon2-cffi``'s :class:`~argon2.PasswordHasher`, its
RFC 9106 "low memory" profile: 3 passes over 64 MiB, 4 lanes) and stored as the PHC string,
which carries its own salt and parameters. When the parameters change, a user's hash is
upgraded the next time they sign in.

:func:`authenticate` spends the same work whether or not the username exists (it verifies
against a fixed dummy hash), so the time a refusal takes does not say which names are users.
A refusal is :class:`SignInRefused`, the same for an unknown name and a wrong password.

A sign-in starts a session kept on the server (:func:`start_session`): the browser holds a
random token, the store its SHA-256 and expiry. :func:`end_session` (sign-out) and a new
password end sessions on the server, so a copied cookie stops working at once.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tallyroom.audit.events import timestamp
from tallyroom.election.roles import ConsoleRole
from tallyroom.errors import InputError, SignInRefused
from tallyroom.store import sessions, users
from tallyroom.store.engine import Store

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ConsoleUser",
    "SignInRefused",
    "authenticate",
    "create_user",
    "end_session",
    "get_user",
    "list_users",
    "remove_user",
    "session_user",
    "set_password",
    "start_session",
]

log = logging.getLogger("tallyroom.users")

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verified when the name is unknown, so that a refusal takes as long either way.
_DUMMY_HASH = _hasher.hash("tallyroom: no such user")


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """A console user as the web sees it: never the password hash."""

    id: int
    username: str
    role: ConsoleRole
    created_at: str

    @property
    def may_act(self) -> bool:
        """Only the returning officer changes anything; scrutineers and observers read."""
        return self.role is ConsoleRole.RETURNING_OFFICER


def _public(record: users.UserRecord) -> ConsoleUser:
    return ConsoleUser(record.id, record.username, record.role, record.created_at)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        # the value is not echoed: it is a password
        raise InputError(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


def create_user(store: Store, username: str, password: str, role: ConsoleRole) -> ConsoleUser:
    """Add a console user; :class:`InputError` for a short password or a taken name."""
    username = username.strip()
    _check_password(password)
    password_hash = _hasher.hash(password)
    with store.begin() as conn:
        record = users.insert_user(conn, username, password_hash, role, timestamp())
    return _public(record)


def set_password(store: Store, username: str, password: str) -> ConsoleUser:
    """Give ``username`` a new password."""
    _check_password(password)
    password_hash = _hasher.hash(password)
    with store.begin() as conn:
        record = users.find_user(conn, username)
        if record is None:
            raise InputError("no such console user", field="username", value=username)
        users.set_password_hash(conn, record.id, password_hash)
        sessions.end_user_sessions(conn, record.id)  # a new password signs every browser out
    return _public(record)


def authenticate(store: Store, username: str, password: str) -> ConsoleUser:
    """The user whose name and password these are, or :class:`SignInRefused`."""
    with store.read() as conn:
        record = users.find_user(conn, username.strip())
    stored = record.password_hash if record is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        raise SignInRefused("wrong username or password", field="username") from None
    if record is None:  # the dummy hash matched: impossible unless someone typed its text
        raise SignInRefused("wrong username or password", field="username")
    if _hasher.check_needs_rehash(record.password_hash):
        with store.begin() as conn:
            users.set_password_hash(conn, record.id, _hasher.hash(password))
    return _public(record)


def get_user(store: Store, user_id: int) -> ConsoleUser:
    """The user with this id (:class:`~tallyroom.store.NotFound` when there is none)."""
    with store.read() as conn:
        return _public(users.get_user(conn, user_id))


def list_users(store: Store) -> list[ConsoleUser]:
    """Every console user, by name."""
    with store.read() as conn:
        return [_public(r) for r in users.list_users(conn)]


def start_session(store: Store, user: ConsoleUser, max_age: int) -> str:
    """A new server-side session for ``user`` lasting ``max_age`` seconds: its token."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.begin() as conn:
        sessions.forget_expired(conn, timestamp(now))
        sessions.start_session(
            conn, token, user.id, timestamp(now), timestamp(now + timedelta(seconds=max_age))
        )
    return token


def session_user(store: Store, token: str) -> ConsoleUser | None:
    """The user signed in with this session token, or None when it has ended or expired."""
    with store.read() as conn:
        user_id = sessions.session_user(conn, token, timestamp())
        if user_id is None:
            return None
        return _public(users.get_user(conn, user_id))


def end_session(store: Store, token: str) -> None:
    """Sign out: the session's token opens nothing from now on."""
    with store.begin() as conn:
        sessions.end_session(conn, token)


def remove_user(store: Store, username: str, *, actor: str) -> ConsoleRole:
    """Remove ``username`` (:class:`~tallyroom.errors.NotFound` when there is none); the role
    they had. Their sessions go with them (the foreign key cascades), so a cookie of theirs
    opens nothing, even if a later user is given the same id. Users belong to the
    installation, not to an election: the removal is logged on ``tallyroom.users``."""
    with store.begin() as conn:
        record = users.find_user(conn, username.strip())
        if record is not None:
            sessions.end_user_sessions(conn, record.id)  # explicit, whatever the backend
        record = users.delete_user(conn, username.strip())
    log.warning("removed console user %s (%s), by %s", record.username, record.role.value, actor)
    return record.role
