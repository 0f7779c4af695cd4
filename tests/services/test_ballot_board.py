"""The public ballot board against a database writer, concurrent extenders and a voter looking.

The board is extended in batches while the poll is open; each batch's head is logged. A
writer who edits a ballot, a link, a position or the board's rows, even one who recomputes
every link after the edit, no longer reaches the heads the audit log recorded
(:func:`tallyroom.services.board.check_board` names the position). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from test_voting import Poll, open_poll, save_keys

from tallyroom.audit.board import BOARD_GENESIS, BoardEntry, chain_board, verify_board
from tallyroom.audit.record import RecordCheck
from tallyroom.crypto.sealing import ElectionKeys
from tallyroom.services import audit_log
from tallyroom.services.board import (
    board_head,
    board_page,
    check_board,
    export_board,
    extend_board,
    find_on_board,
    logged_heads,
)
from tallyroom.services.voting import cast_ballot
from tallyroom.store import Store
from tallyroom.store.schema import ballots, board_links

FIRST = {"M0": ["Ann", "Bob"], "M1": ["Bob"], "M2": ["Cat", "Ann"]}
SECOND = {"M3": ["Ann"], "A0": ["Bob", "Cat"]}


@pytest.fixture(scope="module")
def election_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[ElectionKeys, Path]:
    return save_keys(tmp_path_factory.mktemp("board-keys"))


def _cast(poll: Poll, votes: dict[str, list[str]]) -> list[bytes]:
    out = []
    for person, ranking in votes.items():
        for receipt in cast_ballot(
            poll.store,
            poll.id,
            poll.credential[person],
            {"leader": ranking},
            credential_key=poll.key,
        ):
            out.append(receipt.digest)
    return out


@pytest.fixture
def boarded(store: Store, election_keys: tuple[ElectionKeys, Path]) -> tuple[Poll, list[bytes]]:
    poll = open_poll(store, *election_keys, members=8, affiliated=2)
    receipts = _cast(poll, FIRST)
    extend_board(store, poll.slug, actor="ro")
    receipts += _cast(poll, SECOND)
    extend_board(store, poll.slug, actor="ro")
    return poll, receipts


def test_the_board_holds_every_ballot_once_chained_and_logged(
    boarded: tuple[Poll, list[bytes]],
) -> None:
    poll, receipts = boarded
    rows = board_page(poll.store, poll.slug)
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    assert sorted(r[2] for r in rows) == sorted(receipts)
    # within a batch the order is the receipts' order, not the order of casting
    assert [r[2] for r in rows[:3]] == sorted(receipts[:3])
    assert [r[2] for r in rows[3:]] == sorted(receipts[3:])
    heads = logged_heads(poll.store, poll.slug)
    assert sorted(heads) == [3, 5]
    assert heads[5] == board_head(poll.store, poll.slug).hash == rows[-1][3]
    assert check_board(poll.store, poll.slug).ok
    record = audit_log.verify_record(poll.store, poll.slug)
    assert record.ok and RecordCheck.BOARD in record.checked
    # extending with nothing pending logs nothing
    before = len(list(audit_log.audit_events(poll.store, poll.slug)))
    assert extend_board(poll.store, poll.slug, actor="ro").position == 5
    assert len(list(audit_log.audit_events(poll.store, poll.slug))) == before
    assert audit_log.verify_log(poll.store, poll.slug).ok


def test_a_voter_finds_their_receipt_and_anyone_can_recompute_the_export(
    boarded: tuple[Poll, list[bytes]],
) -> None:
    poll, receipts = boarded
    found = find_on_board(poll.store, poll.slug, receipts[0])
    assert found is not None and found[2] == receipts[0]
    assert find_on_board(poll.store, poll.slug, hashlib.sha256(b"nobody").digest()) is None
    lines = [json.loads(line) for line in export_board(poll.store, poll.slug)]
    entries = [
        (
            line["position"],
            BoardEntry(
                line["contest"],
                line["section"],
                base64.b64decode(line["ballot"]),
                line["weight"],
                line["unit"],
            ),
            bytes.fromhex(line["receipt"]),
            bytes.fromhex(line["link"]),
        )
        for line in lines
    ]
    head, failures = verify_board(entries, logged_heads(poll.store, poll.slug))
    assert failures == [] and head.position == 5
    # the chain is what the module documents: SHA-256(previous || encode(entry))
    first = entries[0][1]
    assert entries[0][3] == hashlib.sha256(BOARD_GENESIS + first.encode()).digest()


def _first(conn: Connection, poll: Poll) -> bytes:
    return bytes(
        conn.execute(
            sa.select(board_links.c.receipt).where(
                board_links.c.election_id == poll.id, board_links.c.position == 1
            )
        ).scalar_one()
    )


def edit_a_link(conn: Connection, poll: Poll) -> None:
    conn.execute(
        board_links.update()
        .where(board_links.c.election_id == poll.id, board_links.c.position == 2)
        .values(link=bytes(32))
    )


def swap_two_positions(conn: Connection, poll: Poll) -> None:
    where = board_links.c.election_id == poll.id
    conn.execute(board_links.update().where(where, board_links.c.position == 1).values(position=99))
    conn.execute(board_links.update().where(where, board_links.c.position == 2).values(position=1))
    conn.execute(board_links.update().where(where, board_links.c.position == 99).values(position=2))


def delete_the_last_entry(conn: Connection, poll: Poll) -> None:
    conn.execute(
        board_links.delete().where(
            board_links.c.election_id == poll.id, board_links.c.position == 5
        )
    )


def edit_a_ballot_on_the_board(conn: Connection, poll: Poll) -> None:
    receipt = _first(conn, poll)
    sealed = conn.execute(
        sa.select(ballots.c.sealed).where(ballots.c.receipt == receipt)
    ).scalar_one()
    forged = bytes(sealed[:-1]) + bytes([sealed[-1] ^ 1])
    conn.execute(ballots.update().where(ballots.c.receipt == receipt).values(sealed=forged))


def rewrite_the_whole_chain(conn: Connection, poll: Poll) -> None:
    """Edit a ballot and recompute every link after it, so the stored chain is consistent."""
    edit_a_ballot_on_the_board(conn, poll)
    rows = conn.execute(
        sa.select(board_links.c.position, ballots.c.contest, ballots.c.section, ballots.c.sealed)
        .select_from(board_links.join(ballots, ballots.c.receipt == board_links.c.receipt))
        .where(board_links.c.election_id == poll.id)
        .order_by(board_links.c.position)
    ).all()
    entries = [BoardEntry(r.contest, r.section, bytes(r.sealed)) for r in rows]
    for row, link in zip(rows, chain_board(entries), strict=True):
        conn.execute(
            board_links.update()
            .where(board_links.c.election_id == poll.id, board_links.c.position == row.position)
            .values(link=link)
        )


ATTACKS: dict[str, Callable[[Connection, Poll], None]] = {
    f.__name__: f
    for f in (
        edit_a_link,
        swap_two_positions,
        delete_the_last_entry,
        edit_a_ballot_on_the_board,
        rewrite_the_whole_chain,
    )
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_database_writer_is_detected(boarded: tuple[Poll, list[bytes]], attack: str) -> None:
    poll, _ = boarded
    with poll.store.begin() as conn:
        ATTACKS[attack](conn, poll)
    result = check_board(poll.store, poll.slug)
    assert not result.ok, attack
    assert all(str(f) for f in result.failures)
    # `tallyroom audit verify` names the board among the failed checks
    assert RecordCheck.BOARD in audit_log.verify_record(poll.store, poll.slug).failed_checks


def test_concurrent_extenders_never_fork_the_board(
    store: Store, election_keys: tuple[ElectionKeys, Path]
) -> None:
    poll = open_poll(store, *election_keys, members=8, affiliated=2)
    receipts = _cast(poll, {**FIRST, **SECOND})
    errors: list[BaseException] = []

    def extend() -> None:
        try:
            extend_board(store, poll.slug, actor="ro")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=extend) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = board_page(store, poll.slug)
    assert [r[0] for r in rows] == list(range(1, len(receipts) + 1))
    assert sorted(r[2] for r in rows) == sorted(receipts)
    assert check_board(store, poll.slug).ok
    assert sorted(logged_heads(store, poll.slug)) == [len(receipts)]


def test_a_weighted_ballot_s_weight_is_chained() -> None:
    plain = BoardEntry("leader", "members", b"ballot")
    assert plain.encode() == BoardEntry("leader", "members", b"ballot", None).encode()
    heavy = BoardEntry("leader", "members", b"ballot", "2.5")
    assert (
        len(
            {
                plain.encode(),
                heavy.encode(),
                BoardEntry("leader", "members", b"ballot", "25").encode(),
            }
        )
        == 3
    )
    # a weight cannot be smuggled into the ballot's bytes: the ballot's length is encoded
    assert BoardEntry("leader", "members", b"ballotw").encode() != heavy.encode()
