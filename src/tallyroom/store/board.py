"""The ballot board's rows: positions and links over the ballots table, in the caller's
transaction (the chain itself is :mod:`tallyroom.audit.board`).

A ballot is *pending* until it has a ``board_links`` row. Extending the board reads the
pending ballots in receipt order and gives them the next positions; the caller holds the
election's audit-head lock while it does (:func:`tallyroom.store.audit.lock_head`), so two
processes extending one board queue up, and the ``(election_id, position)`` key and the
unique receipt make a fork or a ballot placed twice impossible even without it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.audit.board import EMPTY_BOARD, BoardEntry, BoardHead
from tallyroom.store.schema import ballots, board_links

__all__ = ["BoardRow", "append", "entries", "find", "head", "pending", "pending_count"]

BoardRow = tuple[int, BoardEntry, bytes, bytes]
"""position, the entry, its stored receipt, its stored link."""


def head(conn: Connection, election_id: int) -> BoardHead:
    """The board's last position and link (:data:`EMPTY_BOARD` before the first)."""
    row = conn.execute(
        sa.select(board_links.c.position, board_links.c.link)
        .where(board_links.c.election_id == election_id)
        .order_by(board_links.c.position.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return EMPTY_BOARD
    return BoardHead(int(row.position), bytes(row.link))


def pending(conn: Connection, election_id: int) -> list[BoardEntry]:
    """The election's ballots not yet on the board, in receipt order."""
    query = (
        sa.select(
            ballots.c.contest, ballots.c.section, ballots.c.sealed, ballots.c.weight, ballots.c.unit
        )
        .select_from(ballots.outerjoin(board_links, board_links.c.receipt == ballots.c.receipt))
        .where(ballots.c.election_id == election_id, board_links.c.receipt.is_(None))
        .order_by(ballots.c.receipt)
    )
    return [
        BoardEntry(
            str(contest),
            None if section is None else str(section),
            bytes(sealed),
            None if weight is None else str(weight),
            None if unit is None else str(unit),
        )
        for contest, section, sealed, weight, unit in conn.execute(query)
    ]


def pending_count(conn: Connection, election_id: int) -> int:
    """How many of the election's ballots are not on the board."""
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(ballots.outerjoin(board_links, board_links.c.receipt == ballots.c.receipt))
            .where(ballots.c.election_id == election_id, board_links.c.receipt.is_(None))
        ).scalar_one()
    )


def append(
    conn: Connection, election_id: int, first: int, placed: Sequence[tuple[bytes, bytes]]
) -> None:
    """Store ``placed`` (receipt, link) at positions ``first``, ``first + 1``, ..."""
    if placed:
        conn.execute(
            board_links.insert(),
            [
                {"election_id": election_id, "position": first + i, "receipt": r, "link": k}
                for i, (r, k) in enumerate(placed)
            ],
        )


def _rows(where: sa.ColumnElement[bool]) -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(
            board_links.c.position,
            ballots.c.contest,
            ballots.c.section,
            ballots.c.sealed,
            ballots.c.weight,
            ballots.c.unit,
            board_links.c.receipt,
            board_links.c.link,
        )
        .select_from(board_links.join(ballots, ballots.c.receipt == board_links.c.receipt))
        .where(where)
    )


def _row(row: sa.Row[tuple[object, ...]]) -> BoardRow:
    m = row._mapping
    section = m["section"]
    weight, unit = m["weight"], m["unit"]
    entry = BoardEntry(
        str(m["contest"]),
        None if section is None else str(section),
        bytes(m["sealed"]),
        None if weight is None else str(weight),
        None if unit is None else str(unit),
    )
    return int(m["position"]), entry, bytes(m["receipt"]), bytes(m["link"])


def entries(
    conn: Connection, election_id: int, *, after: int = 0, limit: int | None = None
) -> Iterator[BoardRow]:
    """The board from position ``after + 1`` on, in order (``limit`` rows at most)."""
    query = _rows(
        sa.and_(board_links.c.election_id == election_id, board_links.c.position > after)
    ).order_by(board_links.c.position)
    if limit is not None:
        query = query.limit(limit)
    for row in conn.execute(query.execution_options(yield_per=2000)):
        yield _row(row)


def find(conn: Connection, election_id: int, receipt: bytes) -> BoardRow | None:
    """The board's row for ``receipt``, or None if it is not (yet) on the board."""
    row = conn.execute(
        _rows(sa.and_(board_links.c.election_id == election_id, board_links.c.receipt == receipt))
    ).one_or_none()
    return None if row is None else _row(row)
