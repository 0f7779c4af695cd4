"""A real SMTP server for tests: aiosmtpd on a free local port, collecting what it accepts.

``refuse`` holds addresses answered ``550 5.1.1`` at RCPT TO, as a server refuses an
unknown mailbox. With ``tls`` the server speaks STARTTLS (and requires it) or TLS from the
first byte, with a self-signed certificate made by ``openssl`` (:func:`certificate`); with
``password`` it requires a login (user ``ro``) over TLS.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

CREDENTIAL = re.compile(r"#credential=([0-9A-Z-]{27})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.refuse: set[str] = set()
        self.over_tls: list[bool] = []
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append((rcpt, bytes(envelope.original_content)))
                self.over_tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 Message accepted"

    def messages(self) -> list[tuple[str, EmailMessage]]:
        with self.lock:
            got = list(self.received)
        return [
            (rcpt, email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[misc]
            for rcpt, raw in got
        ]

    def credentials(self) -> dict[str, list[str]]:
        """Recipient -> the credentials of the messages they received (in the link)."""
        found: dict[str, list[str]] = {}
        for rcpt, msg in self.messages():
            body = msg.get_body(("plain",))
            assert body is not None
            m = CREDENTIAL.search(body.get_content())
            assert m is not None
            found.setdefault(rcpt, []).append(m.group(1))
        return found


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1: (certificate, key)."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@contextmanager
def smtp_sink(
    *, tls: str = "none", folder: Path | None = None, password: str | None = None
) -> Iterator[tuple[Sink, int]]:
    """A sink on a free port; ``tls`` "none", "starttls" or "implicit" (then ``folder`` gets
    the certificate, ``smtp-cert.pem``)."""
    sink = Sink()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if tls != "none":
        assert folder is not None
        cert, key = certificate(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        if tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        else:
            # aiosmtpd does not count TLS from the first byte as TLS for AUTH: it is
            kwargs.update(ssl_context=context, auth_require_tls=False)
    if password is not None:

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = isinstance(data, LoginPassword) and data == (b"ro", password.encode())
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

        kwargs.update(authenticator=authenticate, auth_required=True)
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()
