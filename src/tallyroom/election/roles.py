"""Who may do what in the officers' console."""

from __future__ import annotations

import enum

__all__ = ["ConsoleRole"]


class ConsoleRole(enum.Enum):
    """Who may do what in the web console: the returning officer acts, the others read."""

    RETURNING_OFFICER = "returning_officer"
    SCRUTINEER = "scrutineer"
    OBSERVER = "observer"
