"""Sending through any SMTP server: a URL, a few connections, a rate, and per-message answers.

``smtp://user@host:port`` upgrades with STARTTLS when the server offers it (``?starttls=
require`` refuses a server that does not, ``?starttls=never`` never asks); ``smtps://...``
is TLS from the first byte (RFC 8314). The server's certificate is checked against the
system's CAs, or ``?cafile=PATH`` for a relay with a private CA. The password is never in
the URL: it comes from the environment (``TALLYROOM_SMTP_PASSWORD``) or a 0600 file
(:func:`read_password`, the web server's ``smtp_password_file``), so it is in no definition
file, shell history, process list or page.

:func:`send_all` sends over ``connections`` connections (threads, each with its own SMTP
session), started no faster than ``rate`` messages a second over all of them (one shared
schedule, so a burst is never sent). A message the server refuses (``550 no such user``)
is an outcome: :class:`Refused` with the server's code and text. A connection lost is
reconnected once; a server that cannot be reached stops the run (its reason in the result's
``stopped``), and the messages not attempted are left as they were.
"""

from __future__ import annotations

import enum
import os
import queue
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from tallyroom.errors import InputError

__all__ = [
    "Outgoing",
    "Refused",
    "Schedule",
    "SendRun",
    "SmtpServer",
    "StartTls",
    "parse_smtp_url",
    "read_password",
    "send_all",
]

PASSWORD_ENV = "TALLYROOM_SMTP_PASSWORD"


class StartTls(enum.Enum):
    AUTO = "auto"
    REQUIRE = "require"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    starttls: StartTls
    user: str | None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None  # a private CA the server's certificate is checked against

    def where(self) -> str:
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port}"


def parse_smtp_url(url: str, password: str | None = None) -> SmtpServer:
    """An SMTP server from its URL (see the module docstring)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise InputError(
            "an SMTP URL is smtp://[user@]host[:port] or smtps://...", field="smtp", value=url
        )
    if parts.password is not None:
        raise InputError(
            f"no password in the URL: give it in {PASSWORD_ENV}", field="smtp", value=parts.hostname
        )
    implicit = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if implicit else 587)
    except ValueError:
        raise InputError("not a port number", field="smtp", value=url) from None
    options = parse_qs(parts.query)
    unknown = set(options) - {"starttls", "cafile"}
    if unknown:
        raise InputError("unknown SMTP URL option", field="smtp", value=", ".join(sorted(unknown)))
    try:
        starttls = StartTls(options.get("starttls", ["auto"])[-1])
    except ValueError:
        raise InputError("starttls is auto, require or never", field="smtp", value=url) from None
    user = unquote(parts.username) if parts.username else None
    if user is not None and password is None:
        raise InputError(
            f"a user is given: put the password in {PASSWORD_ENV}", field="smtp", value=user
        )
    cafile = options.get("cafile", [None])[-1]
    if cafile is not None and not Path(cafile).is_file():
        raise InputError("no such CA file", path=cafile, field="smtp")
    return SmtpServer(parts.hostname, port, implicit, starttls, user, password, cafile)


def read_password(path: Path | None) -> str | None:
    """The SMTP password: from the file ``path`` (its first line; refused when others may
    read it), else from :data:`PASSWORD_ENV`, else None."""
    if path is None:
        return os.environ.get(PASSWORD_ENV)
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise InputError(
                "the SMTP password file is readable by others (chmod 600 it)",
                path=str(path),
                value=oct(mode),
            )
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(
            f"cannot read the SMTP password file: {exc.strerror}", path=str(path)
        ) from None
    if not lines or not lines[0]:
        raise InputError("the SMTP password file is empty", path=str(path))
    return lines[0]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message as the SMTP client sends it: envelope sender, recipient, and the bytes
    (lines ending in CRLF; smtplib dot-stuffs them)."""

    sender: str
    recipient: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Refused:
    """The server's refusal of one message: its reply code and text."""

    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


class _Unreachable(Exception):
    """Raised inside :func:`send_all`'s workers; reported as :attr:`SendRun.stopped`."""


@dataclass(slots=True)
class SendRun:
    """What :func:`send_all` did: each attempted message's outcome (None: accepted)."""

    outcomes: dict[int, Refused | None] = field(default_factory=dict)
    stopped: str | None = None


def _connect(server: SmtpServer, timeout: float) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=server.cafile)
    try:
        if server.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host, server.port, timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        client.ehlo()
        if not server.implicit_tls and server.starttls is not StartTls.NEVER:
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif server.starttls is StartTls.REQUIRE:
                client.close()
                raise _Unreachable(f"{server.where()} does not offer STARTTLS")
        if server.user is not None:
            _login(client, server.user, server.password or "")
    except smtplib.SMTPAuthenticationError as exc:
        raise _Unreachable(
            f"{server.where()} refused the login as {server.user}: {_said(exc)}"
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise _Unreachable(f"{server.where()} answered: {_said(exc)}") from None
    except ssl.SSLError as exc:
        raise _Unreachable(f"{server.where()}: TLS failed: {exc.reason or exc}") from None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise _Unreachable(f"{server.where()} cannot be reached: {reason}") from None
    except smtplib.SMTPException as exc:
        raise _Unreachable(f"{server.where()}: {exc}") from None
    return client


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with one mechanism, PLAIN (RFC 4616) or else LOGIN, whichever the server offers
    first in that order: a refusal is the server's answer to that one attempt (smtplib's
    ``login`` tries the next mechanism after a refusal, so a wrong password would count
    twice against the server's limit of failed logins)."""
    offered = client.esmtp_features.get("auth", "").upper().split()
    client.user, client.password = user, password  # what smtplib's auth_* methods send
    if "PLAIN" in offered:
        client.auth("PLAIN", client.auth_plain)
    elif "LOGIN" in offered:
        client.auth("LOGIN", client.auth_login)
    else:
        client.login(user, password)  # smtplib's own choice (CRAM-MD5), or its error


def _said(exc: smtplib.SMTPResponseException) -> str:
    """The server's answer as it gave it: ``535 5.7.8 Authentication credentials invalid``."""
    error: object = exc.smtp_error
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return f"{exc.smtp_code} {' '.join(text.split())}"


def _answer(exc: smtplib.SMTPException) -> Refused | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, said = next(iter(exc.recipients.values()))
        return Refused(code, said.decode("utf-8", "replace"))
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 400:
        error: object = exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        return Refused(exc.smtp_code, text)
    return None


class Schedule:
    """One start time after another, ``1/rate`` apart, shared by every connection (and by
    the batches of a run: give :func:`send_all` the same one each time)."""

    def __init__(self, rate: float) -> None:
        self.gap = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.gap:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next)
            self.next = slot + self.gap
        if slot > now:
            time.sleep(slot - now)


def send_all(
    server: SmtpServer,
    messages: Sequence[tuple[int, Outgoing]],
    *,
    connections: int = 4,
    rate: float = 0.0,
    timeout: float = 30.0,
    progress: Callable[[int], None] | None = None,
    schedule: Schedule | None = None,
) -> SendRun:
    """Send ``(id, message)`` pairs; each id's outcome in the result (see the module)."""
    run = SendRun()
    todo: queue.SimpleQueue[tuple[int, Outgoing]] = queue.SimpleQueue()
    for item in messages:
        todo.put(item)
    schedule = schedule if schedule is not None else Schedule(rate)
    lock = threading.Lock()
    stop = threading.Event()

    def work() -> None:
        client: smtplib.SMTP | None = None
        try:
            while not stop.is_set():
                try:
                    ident, message = todo.get_nowait()
                except queue.Empty:
                    return
                schedule.wait()
                outcome: Refused | None = None
                for attempt in (1, 2):
                    try:
                        if client is None:
                            client = _connect(server, timeout)
                        client.sendmail(message.sender, [message.recipient], message.data)
                        break
                    except smtplib.SMTPException as exc:
                        # (an OSError too: refusals are told apart from a lost connection)
                        outcome = _answer(exc)
                        if outcome is not None:
                            break
                        client = None
                        if attempt == 2:
                            raise _Unreachable(f"{server.where()}: {exc}") from None
                    except OSError as exc:
                        client = None
                        if attempt == 2:
                            raise _Unreachable(f"{server.where()}: {exc}") from None
                with lock:
                    run.outcomes[ident] = outcome
                    if progress is not None:
                        progress(len(run.outcomes))
        except _Unreachable as exc:
            with lock:
                run.stopped = run.stopped or str(exc)
            stop.set()
        finally:
            if client is not None:
                try:
                    client.quit()
                except (OSError, smtplib.SMTPException):
                    client.close()

    workers = [threading.Thread(target=work, daemon=True) for _ in range(max(1, connections))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return run
