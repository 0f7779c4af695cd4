"""An election's slug: its short name in addresses (``/e/<slug>/results``) and file names.

A slug is 1 to 64 ASCII letters, digits, ``-`` and ``_``, starting with a letter or digit: it
goes into URLs, into the names of key files beside the data folder, and onto the command
line, so nothing in it may need quoting or escaping, or look like an option or a path.
"""

from __future__ import annotations

import re

from tallyroom.errors import InputError

__all__ = ["SLUG_MAX", "check_slug"]

SLUG_MAX = 64
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def check_slug(text: str) -> str:
    """``text`` stripped, if it is a valid slug; else :class:`InputError` naming the value."""
    slug = text.strip()
    if not _SLUG.fullmatch(slug) or len(slug) > SLUG_MAX:
        raise InputError(
            f"a slug is 1 to {SLUG_MAX} letters, digits, - and _ (ASCII), starting with a letter "
            "or digit",
            field="slug",
            value=slug,
        )
    return slug
