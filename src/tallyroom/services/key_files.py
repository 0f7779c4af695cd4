"""Where the server's secrets live: one data folder, whatever created the election.

Every key the server needs is found through **one** setting, the data folder (``--data-dir``,
or the ``TALLYROOM_DATA_DIR`` environment variable; ``tallyroom-data`` by default):

* ``<slug>.credential-key``: the HMAC key credentials are checked with. ``credentials issue``
  (CLI or console) writes it there by default. Wherever it was written (``--key-file``
  elsewhere: an encrypted volume, say), issuing records the file's absolute path in the
  election's row (:func:`remember_credential_key`; the key itself never enters the
  database), so that ``serve``, whatever data folder it was started with, and every later
  command find it (:func:`find_credential_key`). A secret is never copied: a second copy is
  a second thing to guard and to destroy;
* ``<slug>.private-key``: the sealing key the console writes at creation (the CLI writes it
  where ``--private-key`` says; the count takes it as a file or an upload);
* ``session-secret``: the key signing console session cookies, created (0600) at the first
  ``serve`` so that a restart or a second worker keeps everyone signed in. The environment
  variable ``TALLYROOM_SESSION_SECRET`` or ``serve --session-secret-file`` overrides it.

:func:`missing_keys` lists the elections that need their credential key now (credentials
issued, or the poll open) and cannot find it: ``serve`` says so at start, the console shows
a red banner, and the booth answers 503 ("cannot take votes now") instead of pretending the
ballot is closed.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from tallyroom.election.lifecycle import ElectionState
from tallyroom.errors import InputError
from tallyroom.services.elections import get_election
from tallyroom.store import Store, elections
from tallyroom.store.elections import ElectionRecord

__all__ = [
    "KEY_NEEDED",
    "SESSION_SECRET_ENV",
    "KeyFolder",
    "MissingKey",
    "find_credential_key",
    "missing_keys",
    "remember_credential_key",
]

SESSION_SECRET_ENV = "TALLYROOM_SESSION_SECRET"

# states in which the booth, revocation and reissue need the credential key
KEY_NEEDED = (ElectionState.CREDENTIALS_ISSUED, ElectionState.OPEN)


@dataclass(frozen=True, slots=True)
class MissingKey:
    """An election that needs its credential key now and whose key file is not there."""

    slug: str
    state: ElectionState
    expected: Path
    recorded: Path | None = None

    def render(self) -> str:
        also = f" (or at {self.recorded}, where it was issued)" if self.recorded else ""
        return (
            f"election {self.slug} is {self.state.words} but its credential key is missing: "
            f"expected at {self.expected}{also}; voters cannot vote until it is back"
        )


@dataclass(frozen=True, slots=True)
class KeyFolder:
    """The data folder and the files each election's secrets live in."""

    root: Path

    def credential_key(self, slug: str) -> Path:
        """The folder's own file for ``slug``'s credential key."""
        return self.root / f"{slug}.credential-key"

    def private_key(self, slug: str) -> Path:
        return self.root / f"{slug}.private-key"

    def session_secret(self) -> str:
        """The session signing key: ``TALLYROOM_SESSION_SECRET``, else ``<root>/session-secret``
        (created, 0600, at first use)."""
        given = os.environ.get(SESSION_SECRET_ENV, "").strip()
        if given:
            return given
        path = self.root / "session-secret"
        if not path.exists():
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another worker made it first: read theirs
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(secrets.token_urlsafe(32) + "\n")
        if path.stat().st_mode & 0o077:
            raise InputError(
                "the session secret file is readable by others (chmod 600 it)", path=str(path)
            )
        text = path.read_text(encoding="utf-8").strip()
        if len(text) < 16:
            raise InputError("the session secret file holds too short a key", path=str(path))
        return text


def _found(record: ElectionRecord, folder: KeyFolder, overrides: dict[str, Path]) -> Path:
    named = overrides.get(record.slug)
    if named is not None:
        return named
    own = folder.credential_key(record.slug)
    if own.is_file() or record.credential_key_path is None:
        return own
    return Path(record.credential_key_path)


def find_credential_key(
    store: Store, folder: KeyFolder, slug: str, overrides: dict[str, Path] | None = None
) -> Path:
    """Where ``slug``'s credential key is: a file named in ``overrides`` (the web settings'
    one-by-one files), else the data folder's own file if it is there, else the path
    recorded at issue, else the data folder's file (where a new key goes)."""
    return _found(get_election(store, slug), folder, overrides or {})


def remember_credential_key(store: Store, slug: str, key_file: Path) -> Path:
    """Record where ``slug``'s credential key was written (after ``credentials issue``);
    refused when the election already records another key file that still exists."""
    record = get_election(store, slug)
    target = key_file.absolute()
    known = record.credential_key_path
    if known is not None and Path(known) != target and Path(known).is_file():
        raise InputError(
            f"election {slug} already has its credential key in {known}",
            field="key_file",
            value=str(key_file),
        )
    with store.begin() as conn:
        elections.set_credential_key_path(conn, record.id, str(target))
    return target


def missing_keys(store: Store, folder: KeyFolder, overrides: dict[str, Path]) -> list[MissingKey]:
    """The elections needing their credential key now whose key file does not exist
    (``overrides``: slug -> key file named one by one, as the web settings allow)."""
    with store.read() as conn:
        records = elections.list_elections(conn)
    out = []
    for record in records:
        if record.state not in KEY_NEEDED:
            continue
        if not _found(record, folder, overrides).is_file():
            recorded = record.credential_key_path
            out.append(
                MissingKey(
                    record.slug,
                    record.state,
                    overrides.get(record.slug) or folder.credential_key(record.slug),
                    Path(recorded) if recorded else None,
                )
            )
    return out
