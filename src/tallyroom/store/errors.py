"""Errors the store raises on purpose, rooted in :class:`tallyroom.errors.TallyroomError`.

They extend the one tree drawn in ``tallyroom/errors.py``::

    TallyroomError
    ├── InputError                  (a register line that cannot be stored: line, field, value)
    └── StoreError                  the database refuses: where (election, table.field) and what
        ├── NotFound                no such election, entry, credential or batch
        ├── LifecycleError          the election is not in a state that allows this
        ├── AlreadyCast             this credential already cast a ballot in this contest
        ├── CredentialRejected      unknown, revoked or another election's credential
        └── CredentialKeyMismatch   not the key this election's credentials were issued under

Import problems in a register (a duplicate person id, say) are :class:`InputError`, since
they are problems of the input and say which line.
"""

from __future__ import annotations

from tallyroom.errors import TallyroomError

__all__ = [
    "AlreadyCast",
    "CredentialKeyMismatch",
    "CredentialRejected",
    "LifecycleError",
    "NotFound",
    "NotInContest",
    "StoreError",
]


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
        where = f"election {self.election}: " if self.election is not None else ""
        field = f"{self.field}: " if self.field else ""
        value = f" ({self.value!r})" if self.value is not None else ""
        return f"{where}{field}{self.problem}{value}"


class NotFound(StoreError):
    """No such election, register entry, credential or postal batch."""


class LifecycleError(StoreError):
    """The election's lifecycle state does not allow the operation."""


class AlreadyCast(StoreError):
    """The credential has already cast a ballot in the contest (the database refused it)."""


class CredentialRejected(StoreError):
    """The credential is unknown, revoked, or belongs to another election."""


class CredentialKeyMismatch(StoreError):
    """The credential key given is not the one this election's credentials were issued under."""


class NotInContest(StoreError):
    """The voter's section does not vote in the contest."""
