"""The web app's settings, declared as data: each has a name, a default and a line of help.

:class:`WebSettings` is what :func:`tallyroom.web.app.create_app` and
:func:`tallyroom.web.server.serve` take. ``docs/web.md`` lists every setting (a test checks
that none is missing), and :meth:`WebSettings.to_json` / :meth:`WebSettings.from_json` carry
them to uvicorn's worker processes.

Files kept per election, under ``data_dir`` unless a setting names them one by one:

* ``<slug>.credential-key``: the HMAC key credentials are checked with (created at issue),
  or wherever ``<slug>.credential-key.where`` points (:mod:`tallyroom.services.key_files`);
* ``<slug>.private-key``: the sealing key written when the console creates the election
  (encrypted under the officer's passphrase). The officer may instead upload the key file
  with the count, and move it off the server once the election exists;
* ``<slug>.delivery-secret``: beside the credential key while delivery runs (destroyed when
  it ends); no credential is ever written here in plain text (the console streams letters
  to the officer's browser, and keeps no copy).

The SMTP password is in no setting: :attr:`WebSettings.smtp_password_file` names a file that
holds it, else it is read from ``TALLYROOM_SMTP_PASSWORD`` when a message is sent; so it is
never in the settings that reach the workers, a page, or the store.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tallyroom.errors import ConfigError
from tallyroom.services.key_files import KeyFolder

__all__ = ["WebSettings"]


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True, slots=True)
class WebSettings:
    """Everything the web app needs to know; constructing it does no work."""

    database: str = field(
        default="sqlite:///tallyroom.db", metadata=_help("Store URL (sqlite:/// or postgresql://).")
    )
    data_dir: Path = field(
        default=Path("tallyroom-data"),
        metadata=_help("Folder of per-election key files and credential exports (0700)."),
    )
    credential_key_files: dict[str, Path] = field(
        default_factory=dict,
        metadata=_help("Election slug -> credential key file, instead of data_dir's."),
    )
    private_key_files: dict[str, Path] = field(
        default_factory=dict,
        metadata=_help("Election slug -> sealing private key file, instead of data_dir's."),
    )
    session_secret: str = field(
        default_factory=lambda: secrets.token_urlsafe(32),
        metadata=_help("Key signing session cookies; every worker must share it."),
    )
    session_max_age: int = field(
        default=8 * 3600, metadata=_help("Seconds a console sign-in lasts.")
    )
    https_only: bool = field(
        default=False, metadata=_help("Send cookies only over HTTPS (set behind TLS).")
    )
    credential_attempts: int = field(
        default=10, metadata=_help("Wrong credentials allowed per browser per window.")
    )
    credential_attempts_per_address: int = field(
        default=100, metadata=_help("Wrong credentials allowed per address per window.")
    )
    sign_in_attempts: int = field(
        default=10,
        metadata=_help("Failed console sign-ins allowed per user and address per window."),
    )
    sign_in_attempts_per_address: int = field(
        default=50, metadata=_help("Failed console sign-ins allowed per address per window.")
    )
    sign_in_attempts_per_account: int = field(
        default=100,
        metadata=_help("Failed console sign-ins allowed per user, from anywhere, per window."),
    )
    attempt_window: int = field(
        default=600, metadata=_help("Seconds of the attempt limits' sliding window.")
    )
    sign_in_concurrency: int = field(
        default=1,
        metadata=_help("Passwords each worker checks at once (argon2: 64 MiB each)."),
    )
    sign_in_wait: int = field(
        default=2, metadata=_help("Seconds a sign-in may wait for a check before a 429.")
    )
    trusted_proxies: tuple[str, ...] = field(
        default=(),
        metadata=_help(
            "Addresses of reverse proxies whose X-Forwarded-For is believed (none by default)."
        ),
    )
    upload_limit: int = field(
        default=200 * 1024 * 1024, metadata=_help("Largest upload accepted, in bytes.")
    )
    schedule_interval: int = field(
        default=0,
        metadata=_help(
            "Seconds between checks of the timetables, opening and closing polls on time "
            "(serve: 30; 0, the app's default, turns the schedule off)."
        ),
    )
    board_every: int = field(
        default=0,
        metadata=_help(
            "Seconds between extensions of the ballot board of every open verifiable election "
            "(serve: 10; 0, the app's default, leaves it to the close and the CLI)."
        ),
    )
    smtp: str = field(
        default="",
        metadata=_help(
            "SMTP server the console sends through: smtp://[user@]host[:port][?starttls=auto|"
            "require|never] or smtps://... (empty: the console sends no mail)."
        ),
    )
    smtp_password_file: Path | None = field(
        default=None,
        metadata=_help(
            "File (0600) holding the SMTP user's password; else TALLYROOM_SMTP_PASSWORD."
        ),
    )
    mail_from: str = field(
        default="", metadata=_help("Sender of the console's messages, 'RO <ro@example.org>'.")
    )
    public_url: str = field(
        default="",
        metadata=_help("The site's public address (https://...): the links in messages."),
    )
    mail_templates: Path | None = field(
        default=None, metadata=_help("Folder of edited message templates (searched first).")
    )
    read_only: bool = field(
        default=False,
        metadata=_help(
            "Serve only the public pages from a read-only replica: no migration (the schema "
            "must be at head), no schedule, every write answered 503 (serve --read-only)."
        ),
    )
    primary_url: str = field(
        default="",
        metadata=_help(
            "With read_only: the primary server's address (https://...), named in the 503 "
            "and where the booth and the console are redirected."
        ),
    )

    def __post_init__(self) -> None:
        for name in (
            "session_max_age",
            "credential_attempts",
            "credential_attempts_per_address",
            "sign_in_attempts",
            "sign_in_attempts_per_address",
            "sign_in_attempts_per_account",
            "attempt_window",
            "sign_in_concurrency",
            "sign_in_wait",
        ):
            if getattr(self, name) < 1:
                raise ConfigError("must be at least 1", field=name, value=getattr(self, name))
        for name in ("schedule_interval", "board_every"):
            if getattr(self, name) < 0:
                raise ConfigError("must not be negative", field=name, value=getattr(self, name))
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(
                    "not an IP address or network", field="trusted_proxies", value=proxy
                ) from None
        for name in ("public_url", "primary_url"):
            address = getattr(self, name)
            if address and not address.startswith(("https://", "http://")):
                raise ConfigError(
                    "the address starts https:// (or http://)", field=name, value=address
                )
        if len(self.session_secret) < 16:
            raise ConfigError(
                "the session secret needs 16 characters or more", field="session_secret"
            )

    @property
    def keys(self) -> KeyFolder:
        return KeyFolder(self.data_dir)

    def credential_key_file(self, slug: str) -> Path:
        return self.credential_key_files.get(slug) or self.keys.credential_key(slug)

    def private_key_file(self, slug: str) -> Path:
        return self.private_key_files.get(slug) or self.keys.private_key(slug)

    @property
    def records_dir(self) -> Path:
        """Where published election records are kept (services/record_publishing.py)."""
        return self.data_dir / "records"

    @classmethod
    def described(cls) -> list[tuple[str, str]]:
        """Each setting's name and help, in order (for the docs and ``--help``)."""
        return [(f.name, f.metadata["help"]) for f in dataclasses.fields(cls)]

    def to_json(self) -> str:
        doc: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, dict):
                value = {k: str(v) for k, v in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            doc[f.name] = value
        return json.dumps(doc, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WebSettings:
        doc = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ConfigError("unknown web settings", field="settings", value=unknown)
        doc["data_dir"] = Path(doc.get("data_dir", "tallyroom-data"))
        for name in ("credential_key_files", "private_key_files"):
            doc[name] = {k: Path(v) for k, v in doc.get(name, {}).items()}
        doc["trusted_proxies"] = tuple(doc.get("trusted_proxies", ()))
        for name in ("smtp_password_file", "mail_templates"):
            if doc.get(name) is not None:
                doc[name] = Path(doc[name])
        return cls(**doc)
