"""Opening a store: one SQLAlchemy engine, set up for SQLite or PostgreSQL, and its transactions.

:func:`open_store` takes a URL or a plain file path (which means SQLite):

* ``path/to/election.db`` or ``sqlite:///path/to/election.db``: SQLite, in WAL mode with
  ``synchronous=FULL`` (a commit is on disk when it returns, power cut included), foreign
  keys enforced, and a busy timeout so writers queue instead of failing.
* ``postgresql://...`` or ``postgresql+psycopg://...``: PostgreSQL through psycopg 3.

Transactions: :meth:`Store.begin` is a write transaction, :meth:`Store.read` a read-only one
on a consistent snapshot, :meth:`Store.begin_unsynced` a write transaction whose commit need not
reach the disk before it returns (for counters that may forget their last moments in a power
cut, never for election data).
A store opened ``read_only`` (``serve --read-only`` on a replica) cannot write at all, so a
write path that was missed fails instead of writing: on PostgreSQL every transaction of its
connections is read-only by default (``default_transaction_read_only=on``, set when each
connection opens; a hot standby refuses writes anyway, and this also covers a read-only
server pointed at a primary by mistake); on SQLite each connection runs with
``PRAGMA query_only=ON`` and the file's journal mode is left as it is (a replica's copy is not
changed by being read). :func:`is_read_only_refusal` recognises the refusal.

On SQLite a write transaction starts with ``BEGIN IMMEDIATE``, taking the write lock at once:
a transaction that reads and then writes can otherwise fail with ``SQLITE_BUSY`` when another
writer committed in between, and the lock is what makes concurrent casts queue. (Python's
``sqlite3`` module is told to leave transactions alone, and the store issues ``BEGIN``
itself: the recipe in SQLAlchemy's SQLite documentation.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

from tallyroom.errors import ConfigError
from tallyroom.store.writer_lock import WriterLock

__all__ = ["Backend", "Store", "is_read_only_refusal", "is_unavailable", "open_store"]

Backend = Literal["sqlite", "postgresql"]

# A connection execution option naming how SQLite should BEGIN (IMMEDIATE or DEFERRED).
_SQLITE_BEGIN = "tallyroom_sqlite_begin"
# How each backend says "this transaction or database is read-only": PostgreSQL's SQLSTATE
# read_only_sql_transaction (a standby's refusal too), SQLite's primary result code
# SQLITE_READONLY.
_PG_READ_ONLY = "25006"
_SQLITE_READONLY = 8
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Page cache per connection (KiB). SQLite's default, 2 MiB, is far smaller than the indexes
# of a national ballot (a random receipt and a random id per ballot, a credential hash per
# voter): every insert then reads and writes pages the cache has just dropped. 64 MiB holds
# them for a few million ballots. Durability is unchanged.
SQLITE_CACHE_KIB = 64 * 1024
# WAL pages before a commit also checkpoints them into the database file (SQLite's default is
# 1,000, 4 MiB). Casting dirties index pages all over a large file; checkpointing ten times
# less often writes each such page once instead of many times, and the fsync of the WAL at
# every commit (synchronous=FULL) keeps each commit durable either way.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000
# The connection pool: a fixed number of connections, kept open. SQLAlchemy's default,
# 5 kept + 10 more at a peak, each of the 10 closed as soon as it is returned, is smaller
# than a web worker's thread pool (40 threads): under load nearly every request opened and
# closed a connection of its own (thousands of new PostgreSQL sessions a minute; on SQLite a
# new connection also starts with a cold page cache). Now the pool keeps POOL_SIZE and never
# opens more: a thread beyond them waits for one to come back (as a thread past the old 15
# did). The cast path needs one (the casting queue's writer); a worker's other pages share
# the rest. 16 per worker keeps 4 workers (64) under PostgreSQL's default max_connections
# (100) with room for the command line and a replica's connections.
POOL_SIZE = 16
POOL_OVERFLOW = 0


def _sqlite_engine(url: sa.URL, read_only: bool) -> Engine:
    engine = sa.create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        hide_parameters=True,
        **_pool_options(url),
    )
    memory = url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Leave BEGIN to _on_begin; sqlite3 still sends COMMIT and ROLLBACK.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if read_only:
                cursor.execute("PRAGMA query_only=ON")
            elif not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA cache_size={-SQLITE_CACHE_KIB}")
            cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN, "IMMEDIATE")
        if read_only:  # no write lock: it would only queue behind the writers
            mode = "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _pool_options(url: sa.URL) -> dict[str, int]:
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return {}  # one connection, held by SQLAlchemy's own pool for in-memory databases
    return {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}


def _normalise(url: str | os.PathLike[str]) -> sa.URL:
    text = os.fspath(url)
    if "://" not in text:
        return sa.URL.create("sqlite", database=text)
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise ConfigError("not a database URL", field="url", value=text) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise ConfigError(
        "unsupported database (use sqlite:///PATH or postgresql://...)",
        field="url",
        value=parsed.render_as_string(hide_password=True),
    )


class Store:
    """The database: an engine plus the transactions tallyroom runs on it.

    Every store function takes the :class:`~sqlalchemy.engine.Connection` of a transaction
    opened here, so a use case decides where its transaction starts and ends.
    """

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        name = engine.dialect.name
        if name not in ("sqlite", "postgresql"):
            raise ConfigError("unsupported database", field="url", value=name)
        self.engine = engine
        self.backend: Backend = "sqlite" if name == "sqlite" else "postgresql"
        self.read_only = read_only
        database = engine.url.database
        self._writers: WriterLock | None = None
        if self.backend == "sqlite" and not read_only and database not in (None, "", ":memory:"):
            assert database is not None
            self._writers = WriterLock(Path(database))

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """This writer's turn on a SQLite file (:mod:`tallyroom.store.writer_lock`)."""
        if self._writers is None:
            yield
            return
        with self._writers.held():
            yield

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: commits when the block ends, rolls back if it raises."""
        with self._turn(), self.engine.connect() as conn:
            conn.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                yield conn

    @contextmanager
    def begin_unsynced(self) -> Iterator[Connection]:
        """A write transaction whose commit does not wait for the disk.

        For data that may lose its last commits in a power cut or an operating-system crash
        (never in a crash of the process): attempt counters. PostgreSQL:
        ``synchronous_commit = off`` for this transaction only; SQLite: ``synchronous=NORMAL``
        on this connection for this transaction (in WAL mode a commit then skips its fsync),
        set back to ``FULL`` before the connection returns to the pool.
        """
        with self._turn(), self.engine.connect() as conn:
            if self.backend == "postgresql":
                with conn.begin():
                    conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    yield conn
                return
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA synchronous=NORMAL")
            try:
                conn.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
                with conn.begin():
                    yield conn
            finally:
                raw.execute("PRAGMA synchronous=FULL")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction on one consistent snapshot; rolled back at the end.

        (PostgreSQL: ``REPEATABLE READ, READ ONLY``, so totals, the register and the audit
        log read in one block agree with each other; SQLite: a deferred transaction.)

        On PostgreSQL the transaction ends with ``COMMIT``, which in a read-only transaction
        changes nothing either: psycopg forgets every statement it has prepared on a
        connection at each ``ROLLBACK``, so a rollback here made the next casting
        transactions on that connection parse and plan their statements again.
        """
        with self.engine.connect() as conn:
            if self.backend == "postgresql" and self.read_only:
                # Read-only already by the connection's default. Not postgresql_readonly:
                # psycopg is then reset to read_only=False, and every later transaction on
                # the pooled connection starts "BEGIN READ WRITE", overriding the default
                # (and refused outright by a hot standby).
                conn.execution_options(isolation_level="REPEATABLE READ")
            elif self.backend == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            else:
                conn.execution_options(**{_SQLITE_BEGIN: "DEFERRED"})
            with conn.begin() as transaction:
                yield conn
                if self.backend == "postgresql":
                    transaction.commit()  # READ ONLY: nothing to commit (see above)
                else:
                    transaction.rollback()

    def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to ``revision`` (see :mod:`tallyroom.store.migrations`);
        :class:`ConfigError` on a read-only store or a hot standby (migrate the primary)."""
        from tallyroom.store.migrations import upgrade

        if self.read_only or self.is_standby():
            raise ConfigError(
                "this database is read-only (a replica, or opened read-only): migrations and "
                "writes go to the primary",
                field="url",
                value=self.engine.url.render_as_string(hide_password=True),
            )
        upgrade(self.engine, revision)

    def is_standby(self) -> bool:
        """Whether the database is a PostgreSQL hot standby (a replica replaying the
        primary's WAL, which refuses every write); never on SQLite."""
        if self.backend != "postgresql":
            return False
        with self.engine.connect() as conn:
            return bool(conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar_one())

    def schema_revisions(self) -> tuple[str | None, str]:
        """The migration revision the database is at (``None``: no schema), and the head
        revision this code's schema is at (they are equal once migrated)."""
        from tallyroom.store.migrations import current_revision, head_revision

        return current_revision(self.engine), head_revision()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_store(
    url: str | os.PathLike[str], *, upgrade: bool = False, read_only: bool = False
) -> Store:
    """Open the database at ``url`` (a plain path means SQLite); ``upgrade`` migrates to head.

    Nothing is created or changed unless ``upgrade`` is set (SQLite creates an empty file).
    ``read_only``: every connection refuses writes (see the module docstring).
    """
    parsed = _normalise(url)
    if parsed.get_backend_name() == "sqlite":
        store = Store(_sqlite_engine(parsed, read_only), read_only=read_only)
    else:
        connect: dict[str, Any] = {}
        if read_only:
            connect["options"] = "-c default_transaction_read_only=on"
        store = Store(
            sa.create_engine(
                parsed,
                pool_pre_ping=True,
                hide_parameters=True,
                connect_args=connect,
                **_pool_options(parsed),
            ),
            read_only=read_only,
        )
    if upgrade:
        store.upgrade()
    return store


def is_read_only_refusal(exc: BaseException) -> bool:
    """Whether ``exc`` is the database refusing a write because it is read-only (a store
    opened ``read_only``, or a PostgreSQL hot standby)."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == _PG_READ_ONLY:
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF == _SQLITE_READONLY


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached (down, restarting, refusing)."""
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError) or (
        isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated
    )
