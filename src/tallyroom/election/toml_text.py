"""An election definition as a TOML document: read as a table, changed, written back.

The console's set-up forms and the timetable extension change a definition by changing its
document (``tomllib``'s tables and arrays) and writing it back with ``tomli_w``; the text is
then read by :func:`~tallyroom.election.reader.parse_definition` like any uploaded file, so a
form-built election passes through the one reader and its checks, and can be downloaded as
the file it is. Writing back keeps every value but not the comments of an uploaded file.
"""

from __future__ import annotations

import tomllib
from typing import Any

import tomli_w

from tallyroom.errors import ConfigError

__all__ = ["Document", "read_document", "write_document"]

Document = dict[str, Any]


def read_document(text: str) -> Document:
    """The TOML ``text`` as nested tables (refused with its line when it is not TOML)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}") from None


def write_document(doc: Document) -> str:
    """``doc`` as TOML text, the tables in the order a definition is read."""
    order = ["election", "timetable", "sections", "nominations", "contests", "eligibility"]
    ordered = {k: doc[k] for k in order if k in doc}
    ordered.update({k: v for k, v in doc.items() if k not in ordered})
    return tomli_w.dumps(ordered)
