"""The one exception tree of tallyroom.

Every error tallyroom raises on purpose derives from :class:`TallyroomError`, so a caller (the
CLI, the web app) catches one class and prints one line::

    TallyroomError                  anything tallyroom refuses to do
    ├── InputError                  bad input: where (file, line, field) and what (the value)
    │   ├── ConfigError             a contest config or election definition is invalid
    │   ├── BallotFileError         a ballot / cast-vote-record file cannot be read as declared
    │   ├── RecordUnreadable        an election record's file is not in its documented format
    │   └── SignInRefused           a console user name and password do not match
    ├── CountError                  the count cannot proceed (e.g. an unresolvable tie)
    │   └── TieUnresolved           a tie that needs an operator's decision and none was given
    ├── FormatError                 a result cannot be written in the requested format
    ├── ProofRejected               a proof or a ceremony step fails a named check
    ├── StoreError                  the database refuses: where (election, field) and what
    │   ├── NotFound                no such election, entry, credential or batch
    │   ├── LifecycleError          the election is not in a state that allows this
    │   │   └── ElectionKeyMissing  a verifiable election has no election key to cast under
    │   ├── AlreadyCast             this credential already cast a ballot in this contest
    │   │   └── DuplicateBallot     these exact sealed bytes were already cast (a copy)
    │   ├── CredentialRejected      unknown, revoked or another election's credential
    │   ├── CredentialKeyMismatch   not the key this election's credentials were issued under
    │   └── NotInContest            the voter's section does not vote in this contest
    ├── PostgresMissing             no PostgreSQL server binaries for a throwaway cluster
    ├── KeyMissing                  a key the server needs is not where the data folder says
    ├── NotSignedIn                 the console needs a signed-in user
    ├── Forbidden                   the signed-in user's role does not allow this
    ├── CsrfRejected                a form or API call without the session's CSRF token
    └── TooManyAttempts             too many attempts (or the server is busy): wait

Messages name the offending value; :class:`InputError` also carries its location so that the
one-line message reads ``path:line: field: problem (value)``, and :class:`StoreError` its
election and field. ``tests/test_errors.py`` checks this drawing against the classes.
"""

from __future__ import annotations

import copy

__all__ = [
    "AlreadyCast",
    "BallotFileError",
    "ConfigError",
    "CountError",
    "CredentialKeyMismatch",
    "CredentialRejected",
    "CsrfRejected",
    "DuplicateBallot",
    "ElectionKeyMissing",
    "Forbidden",
    "FormatError",
    "InputError",
    "KeyMissing",
    "LifecycleError",
    "NotFound",
    "NotInContest",
    "NotSignedIn",
    "PostgresMissing",
    "ProofRejected",
    "RecordUnreadable",
    "SignInRefused",
    "StoreError",
    "TallyroomError",
    "TieUnresolved",
    "TooManyAttempts",
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

    def shown_as(self, path: str) -> InputError:
        """The same error naming ``path`` instead of its own: an uploaded file by the name
        the user gave it, not the private temporary file it was saved to."""
        shown = copy.copy(self)
        shown.path = path
        shown.args = (shown._render(),)
        return shown

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


class RecordUnreadable(InputError):
    """An election record's file is not in the format docs/election-record.md gives it."""


class SignInRefused(InputError):
    """The username and password do not match a console user (which of the two is not said)."""


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


class ProofRejected(TallyroomError):
    """A zero-knowledge proof, a share or a ceremony message fails a check of the verifiable
    ballot's cryptography; ``check`` names the check (``"challenge"``, ``"encoding"``,
    ``"share"``...) and ``subject`` what was checked (a ballot, a trustee, a dealer)."""

    def __init__(self, check: str, problem: str, *, subject: str | None = None) -> None:
        self.check = check
        self.problem = problem
        self.subject = subject
        where = f"{subject}: " if subject else ""
        super().__init__(f"{where}{check}: {problem}")

    def __reduce__(self) -> tuple[object, ...]:
        # keep the fields when the error crosses a process boundary (batch verification)
        return (_rebuild_proof_rejected, (self.check, self.problem, self.subject))


def _rebuild_proof_rejected(check: str, problem: str, subject: str | None) -> ProofRejected:
    return ProofRejected(check, problem, subject=subject)


class StoreError(TallyroomError):
    """The database refuses an operation; says where (election, table.field) and what."""

    def __init__(
        self,
        problem: str,
        *,
        election: int | str | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        self.problem = problem
        self.election = election
        self.field = field
        self.value = value
        super().__init__(self._render())

    def _render(self) -> str:
        # An election's number is the database's, not a name anybody uses: only a slug is
        # shown, and not twice ("no such election ('nope')").
        named = isinstance(self.election, str) and self.election != self.value
        where = f"election {self.election}: " if named else ""
        field = f"{self.field}: " if self.field else ""
        value = f" ({self.value!r})" if self.value is not None else ""
        return f"{where}{field}{self.problem}{value}"


class NotFound(StoreError):
    """No such election, register entry, credential or postal batch."""


class LifecycleError(StoreError):
    """The election's lifecycle state does not allow the operation; the message says what
    was refused and the state in words ("cannot open the poll while the election is
    nominations closed (needs credentials issued)"), without field or value."""

    def _render(self) -> str:
        where = f"election {self.election}: " if isinstance(self.election, str) else ""
        return f"{where}{self.problem}"


class ElectionKeyMissing(LifecycleError):
    """A verifiable election has no election key yet (its trustees' ceremony has not stored
    one): it cannot take a ballot, and never falls back to sealing one. Voters are told the
    ballot cannot take votes now (503), never that it is closed."""


class AlreadyCast(StoreError):
    """The credential has already cast a ballot in the contest (the database refused it)."""


class CredentialRejected(StoreError):
    """The credential is unknown, revoked, or belongs to another election."""


class CredentialKeyMismatch(StoreError):
    """The credential key given is not the one this election's credentials were issued under."""


class NotInContest(StoreError):
    """The voter's section does not vote in the contest."""


class DuplicateBallot(AlreadyCast):
    """These exact sealed bytes were already cast (a copied ballot)."""


class PostgresMissing(TallyroomError):
    """No PostgreSQL server binaries (initdb, pg_ctl) on this machine."""


class KeyMissing(TallyroomError):
    """A key the server needs now (an election's credential key) is not where the data
    folder says it is: the election and the expected path are named; voters are told the
    ballot cannot take votes now (503), never that it is closed."""

    def __init__(self, problem: str, *, election: str, path: str) -> None:
        self.problem = problem
        self.election = election
        self.path = path
        super().__init__(f"election {election}: {problem} (expected at {path})")


class NotSignedIn(TallyroomError):
    """The console needs a signed-in user."""


class Forbidden(TallyroomError):
    """The signed-in user's role does not allow this."""


class CsrfRejected(TallyroomError):
    """A form or API call without the session's CSRF token."""


class TooManyAttempts(TallyroomError):
    """Too many failed attempts from a device, a network or on an account (or the server is
    busy with others' sign-ins): wait ``retry_after`` seconds, then try again."""

    def __init__(self, problem: str, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        wait = (
            f"{self.retry_after} seconds"
            if self.retry_after < 120
            else f"{(self.retry_after + 59) // 60} minutes"
        )
        super().__init__(f"{problem}; try again in {wait}")
