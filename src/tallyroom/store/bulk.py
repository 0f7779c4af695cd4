"""Loading many rows at once, inside the caller's transaction, the fastest way each backend has.

* SQLite: ``executemany`` of one prepared ``INSERT`` over plain tuples, in chunks, so a
  streamed input is never held in memory whole.
* PostgreSQL: ``COPY ... FROM STDIN`` through psycopg's ``cursor.copy()``, one row at a time
  into one stream (psycopg batches the network writes).

Both run on the connection of the caller's transaction: if anything fails, the caller's
rollback removes every row already sent, so a failed load leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["CHUNK_SIZE", "insert_rows", "update_rows"]

CHUNK_SIZE = 50_000
SQLITE_IMPORT_CACHE_KIB = 256 * 1024


def _driver(conn: Connection) -> Any:
    return conn.connection.driver_connection


def _copy(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> int:
    pg = cast("psycopg.Connection[Any]", _driver(conn))
    count = 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with pg.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _executemany(
    conn: Connection, sql: str, rows: Iterable[Sequence[object]], chunk_size: int
) -> int:
    cursor = _driver(conn).cursor()
    count = 0
    # A page cache big enough for the indexes being built: with SQLite's default (2 MiB),
    # inserting random keys (credential hashes) into a large index spills pages constantly.
    # Durability is unchanged (synchronous=FULL, one commit); the size is restored after.
    previous = cursor.execute("PRAGMA cache_size").fetchone()[0]
    cursor.execute(f"PRAGMA cache_size={-SQLITE_IMPORT_CACHE_KIB}")
    try:
        # Two stages in step: while SQLite inserts one chunk (without Python's global lock),
        # this thread builds the next from ``rows``. The statements still run one after
        # another on the caller's connection and transaction.
        iterator = iter(rows)
        with ThreadPoolExecutor(1, thread_name_prefix="bulk-insert") as inserter:
            pending: Future[object] | None = None
            while chunk := list(islice(iterator, chunk_size)):
                if pending is not None:
                    pending.result()
                pending = inserter.submit(cursor.executemany, sql, chunk)
                count += len(chunk)
            if pending is not None:
                pending.result()
    finally:
        cursor.execute(f"PRAGMA cache_size={int(previous)}")
        cursor.close()
    return count


def insert_rows(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    chunk_size: int = CHUNK_SIZE,
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; return how many."""
    for column in columns:
        if column not in table.c:
            raise ValueError(f"{table.name} has no column {column!r}")
    if conn.dialect.name == "postgresql":
        return _copy(conn, table.name, columns, rows)
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
    return _executemany(conn, sql, rows, chunk_size)


def update_rows(
    conn: Connection,
    table: sa.Table,
    keys: Sequence[str],
    values: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    chunk_size: int = CHUNK_SIZE,
) -> int:
    """Set ``values`` columns of the rows matched by ``keys``; each row is ``(*keys, *values)``.

    Returns how many input rows were sent (a row matching nothing is not an error here: the
    caller checks counts when it matters). On PostgreSQL the rows are copied into a
    temporary table and applied with one ``UPDATE ... FROM``.
    """
    for column in (*keys, *values):
        if column not in table.c:
            raise ValueError(f"{table.name} has no column {column!r}")
    if conn.dialect.name == "postgresql":
        temp = f"tmp_update_{table.name}"
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS"
            f" SELECT {', '.join((*keys, *values))} FROM {table.name} WITH NO DATA"
        )
        count = _copy(conn, temp, (*keys, *values), rows)
        assignments = ", ".join(f"{v} = {temp}.{v}" for v in values)
        matches = " AND ".join(f"{table.name}.{k} = {temp}.{k}" for k in keys)
        conn.exec_driver_sql(f"UPDATE {table.name} SET {assignments} FROM {temp} WHERE {matches}")
        conn.exec_driver_sql(f"DROP TABLE {temp}")
        return count
    assignments = ", ".join(f"{v} = ?" for v in values)
    matches = " AND ".join(f"{k} = ?" for k in keys)
    sql = f"UPDATE {table.name} SET {assignments} WHERE {matches}"
    reordered = ((*row[len(keys) :], *row[: len(keys)]) for row in rows)
    return _executemany(conn, sql, reordered, chunk_size)
