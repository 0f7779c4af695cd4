"""A register line's contact columns read and checked: name, email, postal address, channel.

The columns are optional and mapped like the others (``--column email=E-mail``). What is
checked, each problem naming its file, line, field and value:

* ``email``: one address ``local@domain`` (RFC 5321's dot-atom local part, a domain of
  dot-separated labels of letters, digits and hyphens with at least one dot; at most 254
  characters); anything else, a display name or two addresses included, is refused;
* ``channel``: ``email`` or ``post`` (any case); empty means email when an email is given,
  post when only an address is; a channel needs its address (an email to be sent email);
* ``address``: kept as typed; a ``|`` or a line break separates its lines (for the window
  of an envelope, at most six lines).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tallyroom.store.contacts import Contact
from tallyroom.store.schema import EMAIL_MAX, NAME_MAX, ContactChannel

__all__ = ["ADDRESS_LINES_MAX", "address_lines", "check_email", "read_contact"]

ADDRESS_LINES_MAX = 6
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")

Problem = Callable[[str, str, object], None]


def check_email(text: str) -> str | None:
    """What is wrong with ``text`` as an email address, or None."""
    if len(text) > EMAIL_MAX:
        return f"an email address is at most {EMAIL_MAX} characters"
    if not _EMAIL.fullmatch(text):
        return "not an email address (local@domain, nothing else)"
    return None


def address_lines(address: str) -> list[str]:
    """A postal address's lines (split at ``|`` and line breaks, blank lines dropped)."""
    return [part.strip() for part in re.split(r"[|\n]", address) if part.strip()]


def read_contact(
    name: str, email: str, address: str, channel: str, problem: Problem
) -> Contact | None:
    """The contact of one line from its (stripped) cells, or None when it gives none; each
    problem reported through ``problem(field, what, value)``."""
    if not (name or email or address or channel):
        return None
    bad = False
    if len(name) > NAME_MAX:
        problem("name", f"a name is at most {NAME_MAX} characters", name)
        bad = True
    if email:
        wrong = check_email(email)
        if wrong is not None:
            problem("email", wrong, email)
            bad = True
    if address and len(address_lines(address)) > ADDRESS_LINES_MAX:
        problem("address", f"an address is at most {ADDRESS_LINES_MAX} lines", address)
        bad = True
    chosen: ContactChannel | None = None
    if channel:
        try:
            chosen = ContactChannel(channel.lower())
        except ValueError:
            problem("channel", "must be email or post", channel)
            return None
    elif email:
        chosen = ContactChannel.EMAIL
    elif address:
        chosen = ContactChannel.POST
    if chosen is ContactChannel.EMAIL and not email:
        problem("channel", "email was asked for but the line gives no email address", channel)
        bad = True
    if chosen is ContactChannel.POST and not address:
        problem("channel", "post was asked for but the line gives no postal address", channel)
        bad = True
    if bad:
        return None
    return Contact(name or None, email or None, address or None, chosen)
