"""A verifiable election's key in the store (``elections.election_key``, migration 0016): set
once and before the poll, its SHA-256 in the audit log, and a key swapped in the database by a
writer without the service seen by ``audit verify`` (check ``election-key``)."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from tallyroom.audit.events import Action
from tallyroom.audit.record import RecordCheck
from tallyroom.errors import InputError, LifecycleError
from tallyroom.services.audit_log import check_record
from tallyroom.store import audit, elections
from tallyroom.store.engine import Store
from tallyroom.store.schema import elections as elections_table

DEFINITION = "[election]\nname = 'x'\n"
KEY = b'{"kind":"election-key","public_key":"aa"}'
PUBLIC = bytes(range(32))


def _new(store: Store) -> int:
    with store.begin() as conn:
        return elections.create_election(conn, "keyed", DEFINITION, actor="ro").id


def test_the_key_is_set_once_and_logged(store: Store) -> None:
    election_id = _new(store)
    with store.begin() as conn:
        record = elections.set_election_key(conn, election_id, KEY, public_key=PUBLIC, actor="ro")
    assert record.election_key == KEY
    with store.begin() as conn:
        events = [c.event for c in audit.events(conn, election_id)]
        (logged,) = [e for e in events if e.action is Action.ELECTION_KEY]
        assert hashlib.sha256(KEY).hexdigest() in logged.payload
        with pytest.raises(LifecycleError, match="already set"):
            elections.set_election_key(conn, election_id, KEY, public_key=PUBLIC, actor="ro")
    with store.begin() as conn:
        assert check_record(conn, election_id).ok


def test_a_malformed_key_is_refused(store: Store) -> None:
    election_id = _new(store)
    with store.begin() as conn, pytest.raises(InputError, match="election key"):
        elections.set_election_key(conn, election_id, KEY, public_key=b"short", actor="ro")


def test_a_key_swapped_in_the_database_fails_the_check(store: Store) -> None:
    election_id = _new(store)
    with store.begin() as conn:
        elections.set_election_key(conn, election_id, KEY, public_key=PUBLIC, actor="ro")
    with store.begin() as conn:  # a writer with database access, not the service
        conn.execute(
            sa.update(elections_table)
            .where(elections_table.c.id == election_id)
            .values(election_key=KEY.replace(b"aa", b"bb"))
        )
    with store.begin() as conn:
        result = check_record(conn, election_id)
    assert RecordCheck.ELECTION_KEY in result.failed_checks


def test_a_key_written_without_the_log_fails_the_check(store: Store) -> None:
    election_id = _new(store)
    with store.begin() as conn:
        conn.execute(
            sa.update(elections_table)
            .where(elections_table.c.id == election_id)
            .values(election_key=KEY)
        )
    with store.begin() as conn:
        result = check_record(conn, election_id)
    assert RecordCheck.ELECTION_KEY in result.failed_checks
