"""The credentials service: one credential per eligible voter, shown once, kept only hashed.

The election's credential key (HMAC key) is a secret kept **outside** the database, in a
key file the service creates on first use with mode 0600 (:func:`load_or_create_key`); a
key file that others can read is refused. The store refuses a different key for an election
that already has credentials (``CredentialKeyMismatch``).

:func:`issue_credentials` derives a credential for every eligible entry from a new
*delivery secret* (:mod:`tallyroom.crypto.delivery_secret`; the secret lives in a 0600 file
beside the key until delivery ends) and stores only its HMAC: the credentials are never
written anywhere, and the delivery commands (:mod:`tallyroom.services.delivery`) derive them
again to send them. For an external mail house the credentials may be written **once** to a
CSV the officer names (``person_id,section,credential``), an export the audit log records
(its count). The CSV is written beside its final name and renamed only after the transaction
commits, so a failed issue leaves neither credentials in the store, nor a secret file, nor a
file that looks complete.
A credential is hashed in its canonical form (:func:`canonical`): a login must hash
``canonical(typed)`` too.
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tallyroom.audit.events import Action
from tallyroom.crypto.credential_key import KEY_SIZE, CredentialKey
from tallyroom.crypto.credentials import new_credential, normalise_credential
from tallyroom.errors import InputError
from tallyroom.services import delivery_rounds
from tallyroom.services.elections import get_election
from tallyroom.services.register import find_entry
from tallyroom.store import ElectionState, Store, audit, credentials, elections, register
from tallyroom.store.credentials import CredentialRecord
from tallyroom.store.delivery import entry_keys

__all__ = [
    "IssuedCredential",
    "canonical",
    "issue_credentials",
    "load_or_create_key",
    "reissue_credential",
    "revoke_credential",
]

EXPORT_HEADER = ("person_id", "section", "credential")


def canonical(typed: str) -> str:
    """The form a credential is hashed in (what the voter typed, normalised)."""
    return normalise_credential(typed)


def _private_create(path: Path, what: str) -> int:
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"the {what} already exists (not overwritten)", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot create the {what}: {exc.strerror}", path=str(path)) from None


def load_or_create_key(path: str | Path, *, create: bool = True) -> CredentialKey:
    """The credential key in ``path`` (hex), created with mode 0600 if the file is absent
    (unless ``create`` is false: reissuing under a fresh key would only be refused)."""
    p = Path(path)
    if not p.exists() and not create:
        raise InputError("no such credential key file", path=str(p))
    if not p.exists():
        key = CredentialKey.generate()
        fd = _private_create(p, "credential key file")
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.secret.hex() + "\n")
        return key
    mode = p.stat().st_mode & 0o777
    if mode & 0o077:
        raise InputError(
            "the credential key file is readable by others (chmod 600 it)",
            path=str(p),
            value=oct(mode),
        )
    text = p.read_text(encoding="ascii").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise InputError("not a credential key file (hex expected)", path=str(p)) from None
    if len(secret) < KEY_SIZE:
        raise InputError("the credential key is too short", path=str(p), value=len(secret))
    return CredentialKey(secret)


def issue_credentials(
    store: Store,
    slug: str,
    *,
    key_path: str | Path,
    export_path: str | Path | None = None,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Issue a first credential to every eligible entry, derived from a new delivery secret.

    The election must be at ``nominations_closed``; it moves to ``credentials_issued`` in the
    same transaction, which also opens delivery round 1 (the secret's file is written beside
    the key, :mod:`tallyroom.services.delivery_rounds`). With ``export_path`` the credentials
    are also written once to that CSV for an external mail house, and the export is logged
    (its count only). Returns how many were issued.
    """
    record = get_election(store, slug)
    key = load_or_create_key(key_path)
    final = None if export_path is None else Path(export_path)
    if final is not None and final.exists():
        raise InputError("the export file already exists (not overwritten)", path=str(final))
    partial = None if final is None else final.with_name(final.name + ".partial")
    fd = None if partial is None else _private_create(partial, "partial export file")
    started = False
    try:
        with contextlib.ExitStack() as stack:
            handle = (
                None
                if fd is None
                else stack.enter_context(os.fdopen(fd, "w", newline="", encoding="utf-8"))
            )
            conn = stack.enter_context(store.begin())
            elections.require_state(
                conn,
                record.id,
                ElectionState.NOMINATIONS_CLOSED,
                doing="issue credentials",
                exclusive=True,
            )
            # read first: PostgreSQL cannot page a cursor while the COPY runs
            voters = register.eligible_voters(conn, record.id)
            keys = entry_keys(conn, record.id)
            secret, _ = delivery_rounds.start_round(conn, record.id, key_path, actor=actor)
            started = True
            writer = None if handle is None else csv.writer(handle)
            if writer is not None:
                writer.writerow(EXPORT_HEADER)

            derived = secret.credentials((keys[entry_id], 1) for entry_id, _, _ in voters)

            def items() -> Iterator[tuple[int, str]]:
                for n, ((entry_id, person, section), credential) in enumerate(
                    zip(voters, derived, strict=True)
                ):
                    if writer is not None:
                        writer.writerow((person, section, credential))
                    if progress is not None and n % 10_000 == 0:
                        progress(n)
                    yield entry_id, credential.replace("-", "")  # its canonical form

            issued = credentials.issue_many(conn, record.id, key, items(), actor=actor)
            elections.advance(conn, record.id, ElectionState.CREDENTIALS_ISSUED, actor=actor)
            if handle is not None:
                audit.append(
                    conn,
                    record.id,
                    Action.CREDENTIALS_EXPORT,
                    actor=actor,
                    payload={"credentials": issued, "round": 1},
                )
                handle.flush()
                os.fsync(handle.fileno())
        if partial is not None and final is not None:
            partial.replace(final)
    except BaseException:
        if partial is not None:
            partial.unlink(missing_ok=True)
        if started:
            delivery_rounds.destroy_secret_file(delivery_rounds.secret_path(key_path))
        raise
    if progress is not None:
        progress(issued)
    return issued


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A credential just (re)issued: shown once, to be sent to the voter, never stored."""

    person_id: str
    section: str
    credential: str
    issue_number: int


def reissue_credential(
    store: Store, slug: str, who: str, *, key_path: str | Path, actor: str, reason: str
) -> IssuedCredential:
    """Revoke ``who``'s live credential and issue a new one (``who``: entry key or person).

    Whatever the old credential cast stands, and it cannot vote again in those contests.
    """
    if not reason.strip():
        raise InputError("a reissue needs a reason", field="reason", value=reason)
    record = get_election(store, slug)
    key = load_or_create_key(key_path, create=False)
    entry = find_entry(store, slug, who)
    if not entry.eligible:
        raise InputError("this entry is not eligible to vote", field="who", value=who)
    with store.begin() as conn:
        # during a delivery round the new credential is derived, so a message resent for it
        # carries the same one; otherwise it is drawn at random
        live = delivery_rounds.round_secret(conn, record.id, key_path)
        number = credentials.next_issue_number(conn, entry.id)
        credential = (
            new_credential() if live is None else live[0].credential(entry.person_id, number)
        )
        new = credentials.reissue(
            conn, record.id, key, entry.id, canonical(credential), actor=actor, reason=reason
        )
    person = entry.fields.get("person", entry.person_id)
    return IssuedCredential(person, entry.section, credential, new.issue_number)


def revoke_credential(
    store: Store, slug: str, credential: str, *, key_path: str | Path, actor: str, reason: str
) -> CredentialRecord:
    """Revoke the credential ``credential`` (as the voter has it): it casts nothing more."""
    if not reason.strip():
        raise InputError("a revocation needs a reason", field="reason", value=reason)
    record = get_election(store, slug)
    key = load_or_create_key(key_path, create=False)
    with store.begin() as conn:
        credentials.bind_key(conn, record.id, key)
        found = credentials.authenticate(conn, record.id, key, canonical(credential))
        return credentials.revoke(conn, record.id, found.id, actor=actor, reason=reason)
