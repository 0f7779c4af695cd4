"""The one exception tree of tallyroom.

Every error tallyroom raises on purpose derives from :class:`TallyroomError`, so a caller (the
CLI, the web app) catches one class and prints one line::

    TallyroomError                  anything tallyroom refuses to do
    ├── InputError                  bad input: where (file, line, field) and what (the value)
    │   ├── ConfigError             a contest config or election definition is invalid
    │   └── BallotFileError         a ballot / cast-vote-record file cannot be read as declared
    ├── CountError                  the count cannot proceed (e.g. an unresolvable tie)
    │   └── TieUnresolved           a tie that needs an operator's decision and none was given
    └── FormatError                 a result cannot be written in the requested format

Messages name the offending value; :class:`InputError` also carries its location so that the
one-line message reads ``path:line: field: problem (value)``.
"""

from __future__ import annotations

__all__ = [
    "BallotFileError",
    "ConfigError",
    "CountError",
    "FormatError",
    "InputError",
    "TallyroomError",
    "TieUnresolved",
]


class TallyroomError(Exception):
    """Root of every error tallyroom raises deliberately."""


class InputError(TallyroomError):
    """Input that cannot be accepted, with where it is and what it was."""

    def __init__(
        self,
        problem: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        self.problem = problem
        self.path = path
        self.line = line
        self.field = field
        self.value = value
        super().__init__(self._render())

    def __reduce__(self) -> tuple[object, ...]:
        # keep the fields when the error crosses a process boundary (parallel readers)
        return (
            _rebuild_input_error,
            (type(self), self.problem, self.path, self.line, self.field, self.value),
        )

    def _render(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        field = f"{self.field}: " if self.field else ""
        value = f" ({self.value!r})" if self.value is not None else ""
        return f"{where}{field}{self.problem}{value}"


def _rebuild_input_error(
    cls: type[InputError],
    problem: str,
    path: str | None,
    line: int | None,
    field: str | None,
    value: object,
) -> InputError:
    return cls(problem, path=path, line=line, field=field, value=value)


class ConfigError(InputError):
    """A contest configuration or election definition is invalid."""


class BallotFileError(InputError):
    """A ballot or cast-vote-record file cannot be read as declared."""


class CountError(TallyroomError):
    """The count cannot go on."""


class TieUnresolved(CountError):
    """A tie needs a decision (an "ask" tie-break mode) and none was supplied."""

    def __init__(self, tied: list[str], purpose: str) -> None:
        self.tied = tied
        self.purpose = purpose
        super().__init__(f"tie for {purpose} between {', '.join(tied)} needs a decision")


class FormatError(TallyroomError):
    """A result cannot be written in the requested format."""
