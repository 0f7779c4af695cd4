"""Removing a console user, from the command line (``tallyroom users remove``).

Users belong to the installation, not to an election, so the removal is not in any
election's audit chain; it is logged on the ``tallyroom.users`` logger. A removed user's
session cookie names a user that no longer exists, so the console refuses it at the next
request (the guards load the user on every request).
"""

from __future__ import annotations

import logging

from tallyroom.election.roles import ConsoleRole
from tallyroom.store import users
from tallyroom.store.engine import Store

__all__ = ["remove_user"]

log = logging.getLogger("tallyroom.users")


def remove_user(store: Store, username: str, *, actor: str) -> ConsoleRole:
    """Remove ``username`` (:class:`~tallyroom.errors.NotFound` when there is none); the
    role they had."""
    with store.begin() as conn:
        record = users.delete_user(conn, username.strip())
    log.warning("removed console user %s (%s), by %s", record.username, record.role.value, actor)
    return record.role
