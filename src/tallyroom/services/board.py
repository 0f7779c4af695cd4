"""The public ballot board: extended in batches, its head in the audit log, checked whole.

* :func:`extend_board` places every ballot not yet on the board after its last position (in
  receipt order) and appends a ``board_head`` event with the new position and head, in one
  transaction under the audit chain's lock: the head the log records is the board's
  (:func:`extend_board_in` does it in the caller's transaction: the close of a verifiable
  poll extends the board a last time in its own, after every cast in flight has committed
  and before the state changes, so no ballot is left off the final board;
  :func:`extend_open_boards` is what serve's schedule thread runs every few seconds).
* :func:`board_page`, :func:`find_on_board`: the board as published, a page at a time, and
  one receipt looked up (a voter finding their ballot).
* :func:`export_board`: the whole board as JSON Lines (one entry a line: position, contest,
  section, the ballot's bytes in base64, receipt and link in hex), for anybody to re-check.
* :func:`check_board`: the board recomputed from its rows against the stored links and every
  head the audit log recorded (:func:`tallyroom.audit.board.verify_board`).

The chain, its encoding and why its order is not the order of casting are in
:mod:`tallyroom.audit.board`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from tallyroom.audit.board import (
    HASH_SIZE,
    BoardFailure,
    BoardHead,
    chain_board,
    closed_head,
    verify_board,
)
from tallyroom.audit.board import logged_heads as heads_in_log
from tallyroom.audit.events import Action
from tallyroom.errors import InputError
from tallyroom.services.elections import definition_of, get_election, list_elections
from tallyroom.store import audit, board, elections
from tallyroom.store.board import BoardRow
from tallyroom.store.engine import Store
from tallyroom.store.schema import ElectionState

__all__ = [
    "BOARD_ACTOR",
    "BoardCheck",
    "board_head",
    "board_page",
    "check_board",
    "check_board_in",
    "export_board",
    "extend_board",
    "extend_board_in",
    "extend_open_boards",
    "find_on_board",
    "logged_heads",
    "parse_receipt",
    "row_json",
]

#: Rows on one published page of the board.
PAGE_SIZE = 500
_HEX = re.compile(r"[0-9a-fA-F]{64}")
#: Who extends the board in the audit log when serve's schedule thread does.
BOARD_ACTOR = "board"


def extend_board_in(conn: Connection, election_id: int, *, actor: str) -> BoardHead:
    """:func:`extend_board` in the caller's transaction.

    Locks in the lifecycle's order: the election's row first (shared: in whatever state),
    then the audit chain's head. The close takes the row exclusively and then the head; an
    extension that took the head first would then wait for the row (the board's and the
    log's rows reference it) while the close waited for the head: a deadlock on PostgreSQL.
    """
    elections.require_state(conn, election_id, *ElectionState, doing="extend the ballot board")
    audit.lock_head(conn, election_id)
    tip = board.head(conn, election_id)
    waiting = board.pending(conn, election_id)
    if not waiting:
        return tip
    links = list(chain_board(waiting, tip))
    board.append(
        conn,
        election_id,
        tip.position + 1,
        [(entry.receipt, link) for entry, link in zip(waiting, links, strict=True)],
    )
    new = BoardHead(tip.position + len(waiting), links[-1])
    audit.append(
        conn,
        election_id,
        Action.BOARD_HEAD,
        actor=actor,
        payload={"position": new.position, "head": new.hash.hex(), "added": len(waiting)},
    )
    return new


def extend_board(store: Store, slug: str, *, actor: str) -> BoardHead:
    """Put every pending ballot on the board; log the new head (nothing logged if none)."""
    election = get_election(store, slug)
    with store.begin() as conn:
        return extend_board_in(conn, election.id, actor=actor)


def extend_open_boards(store: Store, *, actor: str = BOARD_ACTOR) -> dict[str, BoardHead]:
    """Extend the board of every open verifiable election (serve's schedule thread, every
    few seconds); slug -> its head. Several workers may each run it: the audit chain's lock
    queues them and the later ones find nothing pending."""
    heads: dict[str, BoardHead] = {}
    for record in list_elections(store):
        if record.state is ElectionState.OPEN and definition_of(record).verifiable is not None:
            heads[record.slug] = extend_board(store, record.slug, actor=actor)
    return heads


def board_head(store: Store, slug: str) -> BoardHead:
    """The board's last position and link as stored."""
    election = get_election(store, slug)
    with store.read() as conn:
        return board.head(conn, election.id)


def board_page(
    store: Store, slug: str, *, after: int = 0, limit: int = PAGE_SIZE
) -> list[BoardRow]:
    """Up to ``limit`` entries from position ``after + 1``."""
    election = get_election(store, slug)
    with store.read() as conn:
        return list(board.entries(conn, election.id, after=after, limit=limit))


#: The longest receipt text a look-up reads (64 hex digits, dashes and spaces between them).
RECEIPT_TEXT_MAX = 160


def parse_receipt(text: str) -> bytes:
    """A receipt as a voter types or pastes it (64 hex digits; dashes, spaces, any case) as
    its 32 bytes; :class:`InputError` otherwise, naming at most the first 80 characters."""
    digest = b""
    if len(text) <= RECEIPT_TEXT_MAX:
        cleaned = text.strip().replace("-", "").replace(" ", "")
        if _HEX.fullmatch(cleaned):
            digest = bytes.fromhex(cleaned)
    if len(digest) != HASH_SIZE:
        shown = text if len(text) <= 80 else text[:80] + "..."
        raise InputError("a receipt is 64 hexadecimal digits", field="receipt", value=shown)
    return digest


def find_on_board(store: Store, slug: str, receipt: bytes) -> BoardRow | None:
    """The board's entry for a receipt, or None if it is not on the board (yet)."""
    election = get_election(store, slug)
    with store.read() as conn:
        return board.find(conn, election.id, receipt)


def row_json(row: BoardRow) -> dict[str, object]:
    """One published line of the board."""
    position, entry, receipt, link = row
    return {
        "position": position,
        "contest": entry.contest,
        "section": entry.section,
        "ballot": base64.b64encode(entry.ballot).decode("ascii"),
        "receipt": receipt.hex(),
        "link": link.hex(),
        "weight": entry.weight,
        "unit": entry.unit,
    }


def export_board(store: Store, slug: str) -> Iterator[str]:
    """The whole board as JSON Lines, in position order, from one consistent snapshot."""
    election = get_election(store, slug)
    with store.read() as conn:
        for row in board.entries(conn, election.id):
            yield json.dumps(row_json(row), sort_keys=True, separators=(",", ":")) + "\n"


def logged_heads(store: Store, slug: str) -> dict[int, bytes]:
    """position -> head, for every ``board_head`` event in the audit log."""
    election = get_election(store, slug)
    with store.read() as conn:
        return heads_in_log(chained.event for chained in audit.events(conn, election.id))


@dataclass(frozen=True, slots=True)
class BoardCheck:
    """The board recomputed: its head and every failure found."""

    head: BoardHead
    failures: tuple[BoardFailure, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def check_board_in(conn: Connection, election_id: int) -> BoardCheck:
    """:func:`check_board` in the caller's transaction. After the close of a verifiable poll
    also: the head the close recorded is the board's, the board ends there, and every ballot
    in the box is on it."""
    events = [chained.event for chained in audit.events(conn, election_id)]
    heads = heads_in_log(events)
    closed = closed_head(events)
    if closed is not None and closed.position > 0:
        heads.setdefault(closed.position, closed.hash)
    recomputed, failures = verify_board(board.entries(conn, election_id), heads)
    if closed is not None:
        if heads.get(closed.position, closed.hash) != closed.hash:
            failures.append(
                BoardFailure(closed.position, "the close recorded another head than the log's")
            )
        if recomputed.position != closed.position:
            failures.append(
                BoardFailure(
                    0,
                    f"the close recorded the board at position {closed.position};"
                    f" it now ends at {recomputed.position}",
                )
            )
        left = board.pending_count(conn, election_id)
        if left:
            failures.append(
                BoardFailure(0, f"{left} ballot(s) in the box are not on the closed board")
            )
    return BoardCheck(recomputed, tuple(failures))


def check_board(store: Store, slug: str) -> BoardCheck:
    """The stored board recomputed against its links and the heads the log recorded."""
    election = get_election(store, slug)
    with store.read() as conn:
        return check_board_in(conn, election.id)
