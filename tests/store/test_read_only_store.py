"""A store opened read-only (``serve --read-only``) refuses every write at the connection, on
SQLite and PostgreSQL, even when the database itself is writable: a write path the web
guard missed fails instead of writing. And it is never migrated."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tallyroom.errors import ConfigError
from tallyroom.store import Store, open_store
from tallyroom.store.engine import is_read_only_refusal
from tallyroom.store.schema import console_users


def _users(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(console_users)).scalar())


def _insert(conn: sa.Connection) -> None:
    conn.execute(
        console_users.insert().values(
            username="intruder", password_hash="x", role="observer", created_at="2026-01-01"
        )
    )


def test_every_transaction_of_a_read_only_store_refuses_writes(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    before = _users(store)
    reader = open_store(url, read_only=True)
    try:
        # a read first: on PostgreSQL the pooled connection must not come back read-write
        # (psycopg's reset after a READ ONLY transaction sends "BEGIN READ WRITE" next)
        for _ in range(3):
            assert _users(reader) == before
            for begin in (reader.begin, reader.begin_unsynced):
                with pytest.raises(sa.exc.DBAPIError) as refused, begin() as conn:
                    _insert(conn)
                assert is_read_only_refusal(refused.value), refused.value
        with pytest.raises(ConfigError, match="read-only"):
            reader.upgrade()
        assert reader.schema_revisions()[0] == reader.schema_revisions()[1]
    finally:
        reader.close()
    assert _users(store) == before


def test_a_writable_store_is_not_a_standby_and_its_refusals_are_told_apart(store: Store) -> None:
    assert not store.is_standby()
    with pytest.raises(sa.exc.IntegrityError) as other, store.begin() as conn:
        conn.execute(console_users.insert().values(username=None))
    assert not is_read_only_refusal(other.value)
