"""Migrations build the schema that schema.py describes, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from conftest import MakeElection
from tallyroom.errors import ConfigError
from tallyroom.store import Store, ballots, open_store
from tallyroom.store.migrations import current_revision, downgrade, head_revision, upgrade
from tallyroom.store.schema import metadata


def _differences(store: Store) -> list[object]:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _tables(store: Store) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names()) - {"alembic_version"}


def test_migrations_build_the_schema(empty_url: str) -> None:
    store = open_store(empty_url)
    try:
        assert current_revision(store.engine) is None
        upgrade(store.engine)
        assert current_revision(store.engine) == head_revision()
        assert _tables(store) == set(metadata.tables)
        assert _differences(store) == []
    finally:
        store.close()


def test_downgrade_then_upgrade_round_trip(empty_url: str) -> None:
    store = open_store(empty_url, upgrade=True)
    try:
        downgrade(store.engine, "base")
        assert current_revision(store.engine) is None
        assert _tables(store) == set()
        upgrade(store.engine)
        assert current_revision(store.engine) == head_revision()
        assert _differences(store) == []
        upgrade(store.engine)  # at head already: nothing to do, no error
    finally:
        store.close()


def test_ballots_hold_no_voter_reference_and_no_time(store: Store) -> None:
    inspector = sa.inspect(store.engine)
    columns = {c["name"]: c["type"] for c in inspector.get_columns("ballots")}
    # section and unit are coarse tags (a part of the electorate, a branch), never a voter
    assert set(columns) == {
        "id", "election_id", "contest", "sealed", "receipt", "section", "unit", "weight"
    }  # fmt: skip
    assert not any(isinstance(t, (sa.DateTime, sa.Date, sa.Time)) for t in columns.values())
    cast_columns = {c["name"] for c in inspector.get_columns("ballot_casts")}
    assert cast_columns == {"credential_id", "entry_id", "contest", "channel", "postal_batch_id"}


def test_one_cast_per_credential_and_contest_is_a_database_constraint(store: Store) -> None:
    inspector = sa.inspect(store.engine)
    keys = inspector.get_pk_constraint("ballot_casts")["constrained_columns"]
    assert keys == ["credential_id", "contest"]
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("ballot_casts")}
    assert ("entry_id", "contest") in uniques


def test_sqlite_is_durable_and_checks_foreign_keys(sqlite_store: Store) -> None:
    with sqlite_store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_secret_tables_have_no_rowid(sqlite_store: Store) -> None:
    with sqlite_store.read() as conn:
        for table in ("ballots", "ballot_casts"):
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar_one()
            assert "WITHOUT ROWID" in sql, table


def test_enum_columns_are_checked_by_the_database(store: Store) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO elections (slug, definition, definition_sha256, state)"
                " VALUES ('x', '', :digest, 'bogus')"
            ),
            {"digest": "0" * 64},
        )


def test_open_store_reads_paths_and_urls(tmp_path: object) -> None:
    assert open_store(f"{tmp_path}/a.db").backend == "sqlite"
    pg = open_store("postgresql://user:secret@localhost/db")
    assert pg.engine.url.drivername == "postgresql+psycopg"
    assert "secret" not in repr(pg)
    with pytest.raises(ConfigError, match="unsupported database"):
        open_store("mysql://user:secret@localhost/db")


def test_migration_0004_gives_existing_elections_the_box_they_hold(
    store: Store, make_election: MakeElection
) -> None:
    """An election with ballots cast before 0004: downgraded to 0003 (no ballot_box) and
    upgraded again, its box's digest is computed from the ballots and casts it holds."""
    election = make_election(voters=3)
    items = [
        ballots.CastItem(election.key.digest(s), {"leader": f"sealed {k}".encode()})
        for k, s in enumerate(election.secrets)
    ]
    with store.begin() as conn:
        ballots.cast_many(conn, election.id, items)
        kept = ballots.box_kept(conn, election.id)
    downgrade(store.engine, "0003")
    upgrade(store.engine)
    with store.read() as conn:
        rows, _counts, bad = ballots.box_rows(conn, election.id)
        assert ballots.box_kept(conn, election.id) == rows == kept and bad == 0
        assert rows.ballot_count == rows.cast_count == 3
