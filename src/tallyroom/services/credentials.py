"""The credentials service: one credential per eligible voter, shown once, kept only hashed.

The election's credential key (HMAC key) is a secret kept **outside** the database, in a
key file the service creates on first use with mode 0600 (:func:`load_or_create_key`); a
key file that others can read is refused. The store refuses a different key for an election
that already has credentials (``CredentialKeyMismatch``).

:func:`issue_credentials` generates a credential for every eligible entry
(:func:`tallyroom.crypto.credentials.new_credential`), stores its HMAC, and writes the
plaintext credentials **once** to a CSV for the mail merge (``person_id,section,credential``).
The CSV is written beside its final name and renamed only after the transaction commits, so
a failed issue leaves neither credentials in the store nor a file that looks complete.
A credential is hashed in its canonical form (:func:`canonical`): a login must hash
``canonical(typed)`` too.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tallyroom.crypto.credential_key import KEY_SIZE, CredentialKey
from tallyroom.crypto.credentials import new_credential, new_credentials, normalise_credential
from tallyroom.errors import InputError
from tallyroom.services.elections import get_election
from tallyroom.services.register import find_entry
from tallyroom.store import ElectionState, Store, credentials, elections, register
from tallyroom.store.credentials import CredentialRecord

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
    export_path: str | Path,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Issue a first credential to every eligible entry; write them once to ``export_path``.

    The election must be at ``nominations_closed``; it moves to ``credentials_issued`` in the
    same transaction. Returns how many were issued.
    """
    record = get_election(store, slug)
    key = load_or_create_key(key_path)
    final = Path(export_path)
    if final.exists():
        raise InputError("the export file already exists (not overwritten)", path=str(final))
    partial = final.with_name(final.name + ".partial")
    fd = _private_create(partial, "partial export file")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle, store.begin() as conn:
            elections.require_state(
                conn,
                record.id,
                ElectionState.NOMINATIONS_CLOSED,
                doing="issue credentials",
                exclusive=True,
            )
            # read first: PostgreSQL cannot page a cursor while the COPY runs
            voters = register.eligible_voters(conn, record.id)
            writer = csv.writer(handle)
            writer.writerow(EXPORT_HEADER)

            fresh = new_credentials(len(voters))

            def items() -> Iterator[tuple[int, str]]:
                for n, ((entry_id, person, section), credential) in enumerate(
                    zip(voters, fresh, strict=True)
                ):
                    writer.writerow((person, section, credential))
                    if progress is not None and n % 10_000 == 0:
                        progress(n)
                    yield entry_id, credential.replace("-", "")  # its canonical form

            issued = credentials.issue_many(conn, record.id, key, items(), actor=actor)
            elections.advance(conn, record.id, ElectionState.CREDENTIALS_ISSUED, actor=actor)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(final)
    except BaseException:
        partial.unlink(missing_ok=True)
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
    credential = new_credential()
    with store.begin() as conn:
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
