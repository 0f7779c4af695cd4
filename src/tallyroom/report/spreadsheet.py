"""CSV cells a spreadsheet will not run: text that opens like a formula is neutralised.

Spreadsheet programs treat a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula ("CSV injection", OWASP), so a candidate named ``=cmd|' /C
calc'!A0`` could run a command on the computer of whoever opens ``results.csv``. Every CSV
tallyroom publishes writes its cells through :func:`csv_writer`, which prefixes such a text
cell with an apostrophe (shown by spreadsheets as text, the apostrophe hidden). A number,
negative ones included (``-1234.5``, a transfer in RCTab's summary), is written as it is.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

__all__ = ["SafeWriter", "csv_writer", "neutralise"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d[\d,]*)?(\.\d+)?%?")


def neutralise(value: object) -> object:
    """``value`` as a CSV cell that no spreadsheet runs as a formula."""
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_START)
        and not (any(ch.isdigit() for ch in value) and _NUMBER.fullmatch(value))
    ):
        return "'" + value
    return value


class SafeWriter:
    """A ``csv.writer`` whose every text cell goes through :func:`neutralise`."""

    __slots__ = ("_writer",)

    def __init__(self, target: TextIO) -> None:
        self._writer = csv.writer(target, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])


def csv_writer(target: TextIO) -> SafeWriter:
    """The writer for every published CSV (``\\n`` line endings)."""
    return SafeWriter(target)
