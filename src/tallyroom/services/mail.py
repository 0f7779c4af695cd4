"""Messages to voters, rendered from editable Jinja2 templates: plain text with an HTML
alternative.

Each kind of message (``credential``, ``reminder``, ``notice``) has three templates in
``services/mail/``: ``<kind>.subject``, ``<kind>.txt`` and ``<kind>.html``. An officer's
folder (``--templates``) is searched first, so copying one file there and editing it
changes that part only. The HTML is autoescaped; the text and subject are not (they are
not HTML), and a subject is one line.

Every message carries ``Message-ID``, ``Date`` (RFC 5322) and ``Auto-Submitted:
auto-generated`` (RFC 3834: automatic replies must not answer it). A link to the booth
carries the credential in the URL *fragment* (``#credential=...``), which a browser never
sends to a server, so it reaches no server log; the booth's page reads it with a few lines
of script.
"""

from __future__ import annotations

import binascii
import re
import secrets
from dataclasses import dataclass
from email.header import Header
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import jinja2

from tallyroom.errors import InputError
from tallyroom.services.smtp import Outgoing

__all__ = ["KINDS", "Mailer", "Rendered", "booth_link"]

KINDS = ("credential", "reminder", "notice")
_PACKAGED = Path(__file__).with_name("mail")


def booth_link(booth_url: str, slug: str, credential: str | None = None) -> str:
    """The booth's address for ``slug``; with ``credential``, in the link's fragment."""
    base = f"{booth_url.rstrip('/')}/e/{slug}/vote"
    return base if credential is None else f"{base}#credential={credential}"


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


class Mailer:
    """Renders and builds the messages of one sender (``From``) from one template set."""

    def __init__(self, sender: str, templates: Path | None = None) -> None:
        try:
            parsed = SMTP.header_factory("from", sender)
            (self.sender,) = parsed.addresses
        except (ValueError, IndexError):
            raise InputError(
                "not one sender address (e.g. 'Returning Officer <ro@example.org>')",
                field="from",
                value=sender,
            ) from None
        if not self.sender.domain:
            raise InputError("the sender address needs a domain", field="from", value=sender)
        # formatted once, RFC 2047 where needed
        self._from = parsed.fold(policy=SMTP)[len("from: ") :].rstrip("\r\n")
        folders = [str(templates)] if templates is not None else []
        if templates is not None and not templates.is_dir():
            raise InputError("no such templates folder", path=str(templates))
        loader = jinja2.FileSystemLoader([*folders, str(_PACKAGED)])
        self._text = jinja2.Environment(
            loader=loader,
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self._html = jinja2.Environment(
            loader=loader, autoescape=True, undefined=jinja2.StrictUndefined
        )
        self._cache: dict[str, tuple[jinja2.Template, jinja2.Template, jinja2.Template]] = {}

    def _templates(self, kind: str) -> tuple[jinja2.Template, jinja2.Template, jinja2.Template]:
        if kind not in self._cache:
            try:
                self._cache[kind] = (
                    self._text.get_template(f"{kind}.subject"),
                    self._text.get_template(f"{kind}.txt"),
                    self._html.get_template(f"{kind}.html"),
                )
            except jinja2.TemplateError as exc:
                raise InputError(f"a message template cannot be read: {exc}", field=kind) from None
        return self._cache[kind]

    def render(self, kind: str, context: dict[str, Any]) -> Rendered:
        subject, text, html = self._templates(kind)
        try:
            line = " ".join(subject.render(context).split())
            return Rendered(line, text.render(context), html.render(context))
        except jinja2.TemplateError as exc:
            raise InputError(f"a message template failed: {exc}", field=kind) from None

    def message(self, to: str, name: str | None, rendered: Rendered) -> Outgoing:
        """The message to ``to``, ready to send: MIME written directly (``email``'s own
        builder spends ~4 ms a message on header objects; this is ~0.1 ms), in the form it
        would write: ``multipart/alternative``, each part UTF-8 quoted-printable."""
        boundary = f"==tallyroom-{secrets.token_hex(12)}"
        head = (
            f"From: {self._from}\n"
            f"To: {_address(name, to)}\n"
            f"Subject: {_header_text(rendered.subject)}\n"
            f"Date: {formatdate(usegmt=True)}\n"
            f"Message-ID: {make_msgid(domain=self.sender.domain)}\n"
            "Auto-Submitted: auto-generated\n"
            "MIME-Version: 1.0\n"
            f'Content-Type: multipart/alternative;\n boundary="{boundary}"\n\n'
        ).encode("ascii")
        parts = [head]
        for subtype, body in (("plain", rendered.text), ("html", rendered.html)):
            parts.append(
                f"--{boundary}\nContent-Type: text/{subtype}; charset=utf-8\n"
                "Content-Transfer-Encoding: quoted-printable\n\n".encode("ascii")
            )
            parts.append(_quoted_printable(body))
            parts.append(b"\n")
        parts.append(f"--{boundary}--\n".encode("ascii"))
        # CRLF line ends: smtplib converts them for a str message only, not for bytes
        return Outgoing(self.sender.addr_spec, to, b"".join(parts).replace(b"\n", b"\r\n"))


_PLAIN_NAME = re.compile(r"[A-Za-z0-9 !#$%&'*+/=?^_`{|}~-]*")  # atext and spaces


def _address(name: str | None, addr: str) -> str:
    """``name <addr>`` for a header: the name as is, quoted, or RFC 2047-encoded."""
    name = " ".join((name or "").split())  # a line break in a name cannot start a header
    if not name:
        return addr
    if name.isascii() and name.isprintable():
        if _PLAIN_NAME.fullmatch(name):
            return f"{name} <{addr}>"
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{addr}>'
    return f"{Header(name, 'utf-8').encode()} <{addr}>"


def _header_text(text: str) -> str:
    """Unstructured header text: as is when short ASCII, else RFC 2047 (folded)."""
    if text.isascii() and text.isprintable() and len(text) < 900:
        return text
    return Header(text, "utf-8", maxlinelen=76).encode(linesep="\n")


def _quoted_printable(text: str) -> bytes:
    """UTF-8 quoted-printable (RFC 2045), lines ending in LF."""
    body = text.replace("\r\n", "\n").encode("utf-8")
    return binascii.b2a_qp(body, istext=True).replace(b"\r\n", b"\n")
