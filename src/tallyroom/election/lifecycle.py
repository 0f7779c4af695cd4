"""An election's lifecycle: the states it passes through, in order, one step at a time.

The store keeps the state (``elections.state``) and refuses an operation in the wrong state;
the services say which state each step needs. Nothing moves backwards: a state set back by a
database writer is caught by ``tallyroom audit verify``, which replays the logged changes.
"""

from __future__ import annotations

import enum

__all__ = ["ElectionState"]


class ElectionState(enum.Enum):
    """An election's lifecycle, in order; an election only ever moves one step forward."""

    DRAFT = "draft"
    REGISTER_FROZEN = "register_frozen"
    NOMINATIONS_CLOSED = "nominations_closed"
    CREDENTIALS_ISSUED = "credentials_issued"
    OPEN = "open"
    CLOSED = "closed"
    COUNTED = "counted"
    DECLARED = "declared"

    @property
    def next(self) -> ElectionState | None:
        states = list(ElectionState)
        index = states.index(self)
        return states[index + 1] if index + 1 < len(states) else None

    @property
    def words(self) -> str:
        """The state as a person says it: ``nominations closed``, not ``nominations_closed``."""
        return self.value.replace("_", " ")

    @property
    def step(self) -> str:
        """The step that reaches this state, as an officer would name it."""
        return _STEPS[self]


_STEPS = {
    ElectionState.DRAFT: "create the election",
    ElectionState.REGISTER_FROZEN: "freeze the register",
    ElectionState.NOMINATIONS_CLOSED: "close nominations",
    ElectionState.CREDENTIALS_ISSUED: "issue the credentials",
    ElectionState.OPEN: "open the poll",
    ElectionState.CLOSED: "close the poll",
    ElectionState.COUNTED: "record the count",
    ElectionState.DECLARED: "declare the result",
}
