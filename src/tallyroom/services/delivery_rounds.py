"""The delivery secret's file and its round: made at issue, destroyed when delivery ends.

The secret (:class:`~tallyroom.crypto.delivery_secret.DeliverySecret`) is kept in a 0600 file
beside the credential key, named after it: ``leader.credential-key`` has its secret in
``leader.delivery-secret`` (:func:`secret_path`). :func:`start_round` creates the file and
records the round in the caller's transaction (the file is removed again if that fails);
:func:`round_secret` loads it and checks it against the open round; :func:`end_round`
records the end and destroys the file (overwritten, synced, then removed).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Connection

from tallyroom.audit.events import Action
from tallyroom.crypto.delivery_secret import SECRET_SIZE, DeliverySecret
from tallyroom.errors import InputError
from tallyroom.store import audit
from tallyroom.store import delivery as queue

__all__ = ["destroy_secret_file", "end_round", "round_secret", "secret_path", "start_round"]


def secret_path(key_path: str | Path) -> Path:
    """Where the delivery secret of the election with this credential key file lives."""
    key = Path(key_path)
    return key.with_name(f"{key.stem}.delivery-secret")


def _write(path: Path, secret: DeliverySecret) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(
            "a delivery secret file exists already (end that delivery first)", path=str(path)
        ) from None
    except OSError as exc:
        raise InputError(
            f"cannot create the delivery secret file: {exc.strerror}", path=str(path)
        ) from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret.secret.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _read(path: Path) -> DeliverySecret:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise InputError(
            "the delivery secret file is readable by others (chmod 600 it)",
            path=str(path),
            value=oct(mode),
        )
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except ValueError:
        raise InputError("not a delivery secret file (hex expected)", path=str(path)) from None
    if len(secret) != SECRET_SIZE:
        raise InputError("not a delivery secret file", path=str(path), value=len(secret))
    return DeliverySecret(secret)


def start_round(
    conn: Connection,
    election_id: int,
    key_path: str | Path,
    *,
    actor: str,
    reason: str = "",
    at: datetime | None = None,
) -> tuple[DeliverySecret, int]:
    """A new secret in its file and a new round recorded, in the caller's transaction.

    The caller must call :func:`destroy_secret_file` if the transaction then fails."""
    path = secret_path(key_path)
    secret = DeliverySecret.generate()
    _write(path, secret)
    try:
        started = queue.open_round(conn, election_id, secret.check_value(), at=at)
        audit.append(
            conn,
            election_id,
            Action.DELIVERY_OPEN,
            actor=actor,
            reason=reason,
            payload={"round": started.number},
            at=at,
        )
    except BaseException:
        destroy_secret_file(path)
        raise
    return secret, started.number


def round_secret(
    conn: Connection, election_id: int, key_path: str | Path
) -> tuple[DeliverySecret, int] | None:
    """The open round's secret and number; None when no round is open. A missing or wrong
    secret file for an open round is an error naming the file."""
    path = secret_path(key_path)
    found = queue.round_open(conn, election_id)
    if found is None:
        return None
    if not path.exists():
        raise InputError(
            f"delivery round {found.number} is open but its secret file is missing",
            path=str(path),
        )
    secret = _read(path)
    try:
        queue.require_round(conn, election_id, secret.check_value())
    except InputError as exc:
        raise InputError(exc.problem, path=str(path), field="delivery_secret") from None
    return secret, found.number


def destroy_secret_file(path: Path) -> None:
    """Overwrite the secret file, sync it and remove it (no copy left in the file system's
    page of it, as far as the file system allows)."""
    if not path.exists():
        return
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.write(b"\0" * size)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()


def end_round(
    conn: Connection,
    election_id: int,
    key_path: str | Path,
    *,
    actor: str,
    reason: str = "",
    payload: dict[str, int] | None = None,
    at: datetime | None = None,
) -> int:
    """Record the open round's end (the caller commits, then destroys the file with
    :func:`destroy_secret_file`, so a failed commit never leaves a round open without its
    secret). Returns the round's number."""
    ended = queue.end_round(conn, election_id, at=at)
    audit.append(
        conn,
        election_id,
        Action.DELIVERY_END,
        actor=actor,
        reason=reason,
        payload={"round": ended.number, **(payload or {})},
        at=at,
    )
    return ended.number
