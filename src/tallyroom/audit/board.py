"""The public ballot board: every accepted ballot, in one order, hash-chained.

The board lists each ballot the box accepted (its contest, the voter's section, the ballot's
bytes as cast — a sealed box today, a ciphertext with its proof on the verifiable path — and
its receipt, the SHA-256 of those bytes) at a *position* from 1. Each entry's link is

    ``link(n) = SHA-256(link(n - 1) || encode(entry n))``, ``link(0) = BOARD_GENESIS``

where :meth:`BoardEntry.encode` is a length-prefixed, unambiguous encoding (below). The last
link, the *head*, commits to the whole board: the service records the head in the election's
audit log each time it extends the board and at the close, so a board edited afterwards no
longer reaches a head the log recorded, and the log's own chain cannot be rewritten without
its published head giving it away (:mod:`tallyroom.audit.chain`).

The order is not the order of casting. Entries are chained in batches (each time the service
extends the board), and within a batch in receipt order, which is as random as the ballots'
bytes: the board says nothing about when a ballot was cast, so it cannot be laid beside a
list of who voted when (the reason casting is never an audit event, audit/events.py).

Encoding of an entry (all integers big-endian)::

    u32 len(contest) || contest (UTF-8) || u32 len(section) || section (UTF-8, empty if none)
    || u64 len(ballot) || ballot bytes
    [ || "w" || u32 len(weight) || weight (ASCII decimal text) ]   only for a weighted ballot
    [ || "u" || u32 len(unit) || unit (UTF-8) ]   only for a contest counted by unit

(the ballot's length is given, so the optional weight cannot be confused with its bytes).

The receipt is not encoded: it is derived, ``SHA-256(ballot bytes)``, and a verifier checks it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from tallyroom.audit.events import Action, AuditEvent

__all__ = [
    "BOARD_GENESIS",
    "EMPTY_BOARD",
    "BoardEntry",
    "BoardFailure",
    "BoardHead",
    "chain_board",
    "closed_head",
    "link",
    "logged_heads",
    "verify_board",
]

HASH_SIZE = 32
BOARD_GENESIS = hashlib.sha256(b"tallyroom ballot board v1 genesis").digest()


@dataclass(frozen=True, slots=True)
class BoardEntry:
    """One ballot on the board."""

    contest: str
    section: str | None
    ballot: bytes
    weight: str | None = None  # the voter's weight in a weighted election (decimal text)
    unit: str | None = None  # the voter's unit, for a contest counted by unit

    @property
    def receipt(self) -> bytes:
        """The voter's receipt: SHA-256 of the ballot's bytes."""
        return hashlib.sha256(self.ballot).digest()

    def encode(self) -> bytes:
        contest = self.contest.encode("utf-8")
        section = (self.section or "").encode("utf-8")
        parts = [
            len(contest).to_bytes(4, "big"),
            contest,
            len(section).to_bytes(4, "big"),
            section,
            len(self.ballot).to_bytes(8, "big"),
            self.ballot,
        ]
        if self.weight is not None:
            weight = self.weight.encode("ascii")
            parts += [b"w", len(weight).to_bytes(4, "big"), weight]
        if self.unit is not None:
            unit = self.unit.encode("utf-8")
            parts += [b"u", len(unit).to_bytes(4, "big"), unit]
        return b"".join(parts)


@dataclass(frozen=True, slots=True)
class BoardHead:
    """The board's last position and link (0 and :data:`BOARD_GENESIS` when empty)."""

    position: int
    hash: bytes

    def __post_init__(self) -> None:
        if self.position < 0:
            raise ValueError(f"position: must be 0 or more ({self.position})")
        if len(self.hash) != HASH_SIZE:
            raise ValueError(f"hash: must be {HASH_SIZE} bytes ({self.hash!r})")

    def __str__(self) -> str:
        return f"position {self.position}, hash {self.hash.hex()}"


EMPTY_BOARD = BoardHead(0, BOARD_GENESIS)


def link(previous: bytes, entry: BoardEntry) -> bytes:
    """The link of ``entry`` following the link ``previous``."""
    return hashlib.sha256(previous + entry.encode()).digest()


def chain_board(entries: Iterable[BoardEntry], after: BoardHead = EMPTY_BOARD) -> Iterator[bytes]:
    """The links of ``entries`` placed after ``after``, in order."""
    previous = after.hash
    for entry in entries:
        previous = link(previous, entry)
        yield previous


@dataclass(frozen=True, slots=True)
class BoardFailure:
    """One thing wrong with a board: where (position, 0 for the board as a whole) and what."""

    position: int
    problem: str

    def __str__(self) -> str:
        where = f"position {self.position}: " if self.position else ""
        return f"{where}{self.problem}"


def verify_board(
    entries: Iterable[tuple[int, BoardEntry, bytes, bytes]],
    heads: Mapping[int, bytes],
) -> tuple[BoardHead, list[BoardFailure]]:
    """Recompute the chain over ``entries`` (position, entry, stored receipt, stored link, in
    position order) and compare it with what was stored and with ``heads`` (position -> the
    head the audit log recorded at that position). Returns the recomputed head and every
    failure: a gap or repeat in the positions, a receipt that is not the SHA-256 of its
    ballot, a stored link that is not the recomputed one, a logged head the board does not
    reach, or one beyond its end."""
    failures: list[BoardFailure] = []
    previous, position = BOARD_GENESIS, 0
    seen_receipts: set[bytes] = set()
    for at, entry, receipt, stored in entries:
        if at != position + 1:
            failures.append(BoardFailure(at, f"expected position {position + 1}"))
        position = at
        if receipt != entry.receipt:
            failures.append(BoardFailure(at, "the receipt is not the SHA-256 of the ballot"))
        if receipt in seen_receipts:
            failures.append(BoardFailure(at, "this receipt is already on the board"))
        seen_receipts.add(receipt)
        previous = link(previous, entry)
        if stored != previous:
            failures.append(BoardFailure(at, "the stored link is not the chain's"))
        logged = heads.get(at)
        if logged is not None and logged != previous:
            failures.append(
                BoardFailure(
                    at,
                    f"the audit log recorded head {logged.hex()} here;"
                    f" the board gives {previous.hex()}",
                )
            )
    for at in sorted(heads):
        if at > position:
            failures.append(
                BoardFailure(
                    at, f"the audit log recorded a head here but the board ends at {position}"
                )
            )
    return BoardHead(position, previous), failures


def logged_heads(events: Iterable[AuditEvent]) -> dict[int, bytes]:
    """position -> head, for every ``board_head`` event among ``events``."""
    heads: dict[int, bytes] = {}
    for event in events:
        if event.action is Action.BOARD_HEAD:
            payload = json.loads(event.payload)
            heads[int(payload["position"])] = bytes.fromhex(str(payload["head"]))
    return heads


def closed_head(events: Iterable[AuditEvent]) -> BoardHead | None:
    """The board's head recorded by the close of a verifiable poll (the ``board`` of the
    ``poll_close`` event), or None (no close yet, or a sealed-path election)."""
    for event in events:
        if event.action is Action.POLL_CLOSE:
            board = json.loads(event.payload).get("board")
            if isinstance(board, dict):
                return BoardHead(int(board["position"]), bytes.fromhex(str(board["head"])))
    return None
