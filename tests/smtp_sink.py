"""A real SMTP server for tests: aiosmtpd on a free local port, collecting what it accepts.

``refuse`` holds addresses answered ``550 5.1.1`` at RCPT TO, as a server refuses an
unknown mailbox.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

CREDENTIAL = re.compile(r"#credential=([0-9A-Z-]{27})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.refuse: set[str] = set()
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


@contextmanager
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()
