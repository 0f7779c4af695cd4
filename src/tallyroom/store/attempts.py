"""Attempt counters: failures per budget and key in fixed time windows, shared by workers.

A row ``(budget, key, bucket) -> n`` counts the attempts a key has made against a budget in
the window numbered ``bucket`` (seconds since the epoch divided by the window's length).
:func:`take` adds one and returns the new count with the previous window's in the same
statement pair, inside the caller's transaction: on PostgreSQL the upsert locks the row
until the transaction ends, on SQLite the transaction holds the write lock, so two workers
can never both see a count below the limit for the same last place. The policy (limits,
keys, refunds) is :mod:`tallyroom.services.attempts`'.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from tallyroom.store.schema import attempt_counts

__all__ = ["counts", "forget_before", "give_back", "take"]

KEY_MAX = 128


def take(conn: Connection, budget: str, key: str, bucket: int, n: int = 1) -> tuple[int, int]:
    """``n`` more attempts for ``key`` in window ``bucket``: (this window's count, the last's)."""
    key = key[:KEY_MAX]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(attempt_counts)
        .values(budget=budget, key=key, bucket=bucket, n=n)
        .on_conflict_do_update(
            index_elements=["budget", "key", "bucket"], set_={"n": attempt_counts.c.n + n}
        )
        .returning(attempt_counts.c.n)
    )
    # The last window first, then the upsert, whose row lock (PostgreSQL) is then held only
    # until the transaction ends, not across one more round trip. The last window's row is
    # read without a lock either way; the guarantee is this window's count, which comes
    # from the atomic upsert, as before.
    before = conn.execute(
        sa.select(attempt_counts.c.n).where(
            attempt_counts.c.budget == budget,
            attempt_counts.c.key == key,
            attempt_counts.c.bucket == bucket - 1,
        )
    ).scalar_one_or_none()
    now = int(conn.execute(statement).scalar_one())
    return now, int(before or 0)


# Built once (it runs in every casting transaction on PostgreSQL).
_COUNTS = sa.select(
    attempt_counts.c.budget, attempt_counts.c.key, attempt_counts.c.bucket, attempt_counts.c.n
).where(
    sa.tuple_(attempt_counts.c.budget, attempt_counts.c.key, attempt_counts.c.bucket).in_(
        sa.bindparam("w", expanding=True)
    )
)


def counts(
    conn: Connection, wanted: Sequence[tuple[str, str, int]]
) -> dict[tuple[str, str, int], int]:
    """The committed counts of the ``(budget, key, bucket)`` windows in ``wanted``, read in one
    statement without a lock (a window never written is left out: its count is 0)."""
    if not wanted:
        return {}
    rows = conn.execute(
        _COUNTS, {"w": [(budget, key[:KEY_MAX], bucket) for budget, key, bucket in wanted]}
    )
    return {(str(b), str(k), int(w)): int(n) for b, k, w, n in rows}


def give_back(conn: Connection, budget: str, key: str, bucket: int, n: int = 1) -> None:
    """Undo ``n`` :func:`take` calls (an attempt that succeeded costs nothing); never below 0."""
    conn.execute(
        attempt_counts.update()
        .where(
            attempt_counts.c.budget == budget,
            attempt_counts.c.key == key[:KEY_MAX],
            attempt_counts.c.bucket == bucket,
            attempt_counts.c.n > 0,
        )
        .values(n=sa.case((attempt_counts.c.n > n, attempt_counts.c.n - n), else_=0))
    )


def forget_before(conn: Connection, budget: str, bucket: int) -> int:
    """Drop ``budget``'s windows older than ``bucket``; how many rows went."""
    result = conn.execute(
        attempt_counts.delete().where(
            attempt_counts.c.budget == budget, attempt_counts.c.bucket < bucket
        )
    )
    return int(result.rowcount or 0)
