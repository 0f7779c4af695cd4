"""Where the server's secrets live: one data folder, whatever created the election.

Every key the server needs is found through **one** setting, the data folder (``--data-dir``,
or the ``TALLYROOM_DATA_DIR`` environment variable; ``tallyroom-data`` by default):

* ``<slug>.credential-key``: the HMAC key credentials are checked with. ``credentials issue``
  (CLI or console) writes it there by default. When the officer gives ``--key-file`` elsewhere
  (an encrypted volume, say), the key stays in that one file and the data folder gets
  ``<slug>.credential-key.where``: one line holding the key file's absolute path, so that
  ``serve`` and every later command find it. A secret is never copied: a second copy is a
  second thing to guard and to destroy;
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
from tallyroom.store import Store, elections

__all__ = [
    "KEY_NEEDED",
    "SESSION_SECRET_ENV",
    "KeyFolder",
    "MissingKey",
    "missing_keys",
]

SESSION_SECRET_ENV = "TALLYROOM_SESSION_SECRET"
_WHERE = ".where"

# states in which the booth, revocation and reissue need the credential key
KEY_NEEDED = (ElectionState.CREDENTIALS_ISSUED, ElectionState.OPEN)


@dataclass(frozen=True, slots=True)
class MissingKey:
    """An election that needs its credential key now and whose key file is not there."""

    slug: str
    state: ElectionState
    expected: Path

    def render(self) -> str:
        return (
            f"election {self.slug} is {self.state.words} but its credential key is missing: "
            f"expected at {self.expected}; voters cannot vote until it is back"
        )


@dataclass(frozen=True, slots=True)
class KeyFolder:
    """The data folder and the files each election's secrets live in."""

    root: Path

    def _pointer(self, slug: str) -> Path:
        return self.root / f"{slug}.credential-key{_WHERE}"

    def credential_key(self, slug: str) -> Path:
        """Where ``slug``'s credential key is: the path a ``.where`` file names, else
        ``<root>/<slug>.credential-key``."""
        pointer = self._pointer(slug)
        if pointer.is_file():
            named = pointer.read_text(encoding="utf-8").strip()
            if named:
                return Path(named)
        return self.root / f"{slug}.credential-key"

    def remember_credential_key(self, slug: str, key_file: Path) -> Path:
        """Record that ``slug``'s credential key is ``key_file`` (outside the folder): the
        pointer file the server reads. Nothing is written when it is the folder's own file."""
        own = self.root / f"{slug}.credential-key"
        target = key_file.absolute()
        if target == own.absolute():
            return own
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        pointer = self._pointer(slug)
        current = self.credential_key(slug)
        if pointer.is_file() and current.absolute() != target and current.exists():
            raise InputError(
                f"the data folder already names another credential key for {slug} ({current})",
                field="key_file",
                value=str(key_file),
            )
        pointer.write_text(f"{target}\n", encoding="utf-8")
        pointer.chmod(0o600)
        return target

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


def missing_keys(store: Store, folder: KeyFolder, overrides: dict[str, Path]) -> list[MissingKey]:
    """The elections needing their credential key now whose key file does not exist
    (``overrides``: slug -> key file named one by one, as the web settings allow)."""
    with store.read() as conn:
        records = elections.list_elections(conn)
    out = []
    for record in records:
        if record.state not in KEY_NEEDED:
            continue
        path = overrides.get(record.slug) or folder.credential_key(record.slug)
        if not path.is_file():
            out.append(MissingKey(record.slug, record.state, path))
    return out
