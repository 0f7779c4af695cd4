"""How a ballot file is read: the options a user gives (strict or lenient, a CSV's layout) and
the notes a reader returns for what it took leniently."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_FIELD", "CsvLayout", "ReadNote", "ReadOptions", "shown"]

# The longest field (a name, a cell, a BLT line's token) any reader takes: the csv module's
# own default limit, applied to every format so that none of them chokes on a runaway field.
MAX_FIELD = 131_072
_SHOWN = 60


@dataclass(frozen=True, slots=True)
class ReadNote:
    """Something a reader did leniently: what, on how many lines, the first of them.

    Notes never change a ballot silently: each tolerance a reader applies is reported here
    (the CLI prints them on stderr), and ``strict`` reading refuses the file instead.
    """

    path: str | None
    what: str
    lines: int = 0
    first_line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        if not self.lines:
            return f"{where}{self.what}"
        plural = "s" if self.lines != 1 else ""
        first = f", the first on line {self.first_line}" if self.first_line else ""
        return f"{where}{self.what} ({self.lines} line{plural}{first})"


def shown(value: str) -> str:
    """A value short enough for a one-line message (long ones cut, their length said)."""
    if len(value) <= _SHOWN:
        return value
    return f"{value[:_SHOWN]}... ({len(value):,} characters)"


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """How to read a ballot CSV, as the user said it (``None``: let the reader decide)."""

    header: bool | None = None  # True: the first row is a header; False: it is a ballot
    columns: str | None = None  # which columns hold preferences, e.g. "3-7" or "C:G" or names
    candidates: tuple[str, ...] | None = None  # the names allowed, in candidate order
    new_names: bool = False  # names not among ``candidates``: a warning instead of an error


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read a ballot file: ``strict`` refuses every leniency; ``csv`` lays out a CSV."""

    strict: bool = False
    csv: CsvLayout = CsvLayout()
