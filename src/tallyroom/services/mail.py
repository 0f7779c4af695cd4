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

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import jinja2

from tallyroom.errors import InputError

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

    def message(self, to: str, name: str | None, rendered: Rendered) -> EmailMessage:
        """The message to ``to``, ready to send."""
        msg = EmailMessage(policy=SMTP)
        msg["From"] = self.sender
        msg["To"] = Address(display_name=name or "", addr_spec=to)
        msg["Subject"] = rendered.subject
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain=self.sender.domain)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(rendered.text)
        msg.add_alternative(rendered.html, subtype="html")
        return msg
