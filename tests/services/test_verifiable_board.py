"""The ballot board of a verifiable election, live (issue 15, item 3) on SQLite and
PostgreSQL: extended by serve's schedule thread, a last time by the close (casts racing the
close never leave a ballot off the final board), checked by ``tallyroom board verify`` and
``audit verify``, which see the board edited, reordered or truncated in the database."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from test_voting import Poll, open_poll, save_keys
from verifiable_poll import Trustees, open_verifiable_poll

from tallyroom.audit.board import chain_board
from tallyroom.audit.record import RecordCheck
from tallyroom.cli.main import main
from tallyroom.errors import TallyroomError
from tallyroom.services import audit_log
from tallyroom.services.board import (
    board_head,
    board_page,
    check_board,
    extend_board,
    extend_open_boards,
    find_on_board,
)
from tallyroom.services.polling import close_voting
from tallyroom.services.voting import CastRequest, cast_ballot, cast_ballots
from tallyroom.store import LifecycleError, Store
from tallyroom.store import board as board_rows
from tallyroom.store.schema import ballots, board_links
from tallyroom.web.schedule import ScheduleThread

LEADER = {"leader": ["Cat", "Bob"]}


@pytest.fixture
def verifiable(store: Store) -> tuple[Poll, Trustees]:
    return open_verifiable_poll(store, members=12, affiliated=4)


def _cast(poll: Poll, *people: str) -> list[bytes]:
    out: list[bytes] = []
    for person in people:
        out += [
            r.digest
            for r in cast_ballot(
                poll.store, poll.id, poll.credential[person], LEADER, credential_key=poll.key
            )
        ]
    return out


def _db(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _board_verify(store: Store, slug: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["board", "verify", "--election", slug, "--db", _db(store)])
    return res.exit_code, res.output


def test_the_close_puts_every_ballot_on_the_board_and_records_its_head(
    verifiable: tuple[Poll, Trustees],
) -> None:
    poll, _ = verifiable
    receipts = _cast(poll, "M0", "M1")
    res = CliRunner().invoke(
        main, ["board", "extend", "--election", poll.slug, "--db", _db(poll.store)]
    )
    assert res.exit_code == 0 and "the board is at position 2" in res.output, res.output
    receipts += _cast(poll, "M2", "A0", "A1")  # cast after the last extension
    close_voting(poll.store, poll.slug, actor="ro")
    head = board_head(poll.store, poll.slug)
    assert head.position == len(receipts) == 5
    assert {r[2] for r in board_page(poll.store, poll.slug)} == set(receipts)
    events = [c.event for c in audit_log.audit_events(poll.store, poll.slug)]
    close = events[-1]
    assert close.action.value == "poll_close"
    assert '"board":{"head":"' + head.hash.hex() in close.payload
    assert events[-2].action.value == "board_head"  # the final head, logged before the close
    assert check_board(poll.store, poll.slug).ok
    assert audit_log.verify_record(poll.store, poll.slug).ok
    code, out = _board_verify(poll.store, poll.slug)
    assert code == 0 and "verifies" in out and str(head.position) in out


def test_casts_racing_the_close_never_leave_a_ballot_off_the_final_board(store: Store) -> None:
    """Four voters' threads cast in small batches, a fifth extends the board without pause
    (serve's schedule thread, and a second worker's), and the poll closes in the middle: no
    deadlock between the close and an extension, no ballot left off the final board."""
    poll, _ = open_verifiable_poll(store, members=121, affiliated=0)
    people = [f"M{i}" for i in range(120)]
    accepted: list[bytes] = []
    refused: list[Exception] = []
    lock = threading.Lock()
    started = threading.Event()

    def caster(mine: list[str]) -> None:
        for k in range(0, len(mine), 3):
            batch = [CastRequest(poll.credential[p], LEADER) for p in mine[k : k + 3]]
            try:
                outcomes = cast_ballots(store, poll.id, batch, credential_key=poll.key)
            except TallyroomError as exc:  # the poll closed under it
                with lock:
                    refused.append(exc)
                continue
            with lock:
                for o in outcomes:
                    assert isinstance(o, list), o
                    accepted.extend(r.digest for r in o)
                if len(accepted) >= 15:
                    started.set()
            time.sleep(0.01)  # voters arrive over time, not all at once

    closed = threading.Event()
    extended: list[int] = []

    def extender() -> None:
        while not closed.is_set():
            extended.append(extend_board(store, poll.slug, actor="board").position)

    threads = [threading.Thread(target=caster, args=(people[i::4],)) for i in range(4)]
    threads += [threading.Thread(target=extender) for _ in range(2)]
    for t in threads:
        t.start()
    started.wait(30)
    try:
        close_voting(store, poll.slug, actor="ro")
    finally:
        closed.set()
        for t in threads:
            t.join()
    assert accepted
    with pytest.raises(LifecycleError):  # after the close no ballot is taken: M120 never cast
        _cast(poll, "M120")
    assert extended and max(extended) > 0  # and while the board was being extended
    with store.read() as conn:
        stored = conn.execute(
            sa.select(sa.func.count()).where(ballots.c.election_id == poll.id)
        ).scalar_one()
        assert board_rows.pending_count(conn, poll.id) == 0
    head = board_head(store, poll.slug)
    assert head.position == stored == len(accepted)
    assert all(find_on_board(store, poll.slug, r) is not None for r in accepted)
    assert check_board(store, poll.slug).ok
    assert audit_log.verify_record(store, poll.slug).ok


def _tamper_cases(poll: Poll) -> None:
    _cast(poll, "M0", "M1", "M2")
    extend_board(poll.store, poll.slug, actor="board")
    _cast(poll, "A0", "A1")
    extend_board(poll.store, poll.slug, actor="board")
    assert check_board(poll.store, poll.slug).ok


def _assert_caught(poll: Poll) -> None:
    assert not check_board(poll.store, poll.slug).ok
    result = audit_log.verify_record(poll.store, poll.slug)
    assert RecordCheck.BOARD in {f.check for f in result.failures}
    code, out = _board_verify(poll.store, poll.slug)
    assert code == 1 and "FAILS" in out
    audit = CliRunner().invoke(
        main, ["audit", "verify", "--election", poll.slug, "--db", _db(poll.store)]
    )
    assert audit.exit_code == 1 and "board" in audit.output, audit.output


def test_a_board_link_edited_in_the_database_fails_board_verify_and_audit_verify(
    verifiable: tuple[Poll, Trustees],
) -> None:
    poll, _ = verifiable
    _tamper_cases(poll)
    with poll.store.begin() as conn:
        conn.execute(
            board_links.update()
            .where(board_links.c.election_id == poll.id, board_links.c.position == 3)
            .values(link=b"\x01" * 32)
        )
    _assert_caught(poll)


def test_a_board_truncated_in_the_database_fails_board_verify_and_audit_verify(
    verifiable: tuple[Poll, Trustees],
) -> None:
    poll, _ = verifiable
    _tamper_cases(poll)
    with poll.store.begin() as conn:
        conn.execute(
            board_links.delete().where(
                board_links.c.election_id == poll.id, board_links.c.position == 5
            )
        )
    _assert_caught(poll)


def test_a_board_reordered_in_the_database_fails_board_verify_and_audit_verify(
    verifiable: tuple[Poll, Trustees],
) -> None:
    poll, _ = verifiable
    _tamper_cases(poll)
    where = board_links.c.election_id == poll.id
    with poll.store.begin() as conn:  # positions 1 and 2 swap their ballots, links kept
        rows = conn.execute(sa.select(board_links).where(where, board_links.c.position <= 2)).all()
        conn.execute(board_links.delete().where(where, board_links.c.position <= 2))
        first, second = sorted(rows, key=lambda r: r.position)
        conn.execute(
            board_links.insert(),
            [
                {
                    "election_id": poll.id,
                    "position": 1,
                    "receipt": second.receipt,
                    "link": first.link,
                },
                {
                    "election_id": poll.id,
                    "position": 2,
                    "receipt": first.receipt,
                    "link": second.link,
                },
            ],
        )
    _assert_caught(poll)


def test_a_ballot_dropped_from_a_closed_board_is_detected(
    verifiable: tuple[Poll, Trustees],
) -> None:
    """Every position and link removed for one ballot after the close, the later ones
    renumbered and relinked: the heads the log and the close recorded no longer match, and
    the box still holds the ballot that is no longer on the board."""
    poll, _ = verifiable
    _cast(poll, "M0", "M1", "M2")
    close_voting(poll.store, poll.slug, actor="ro")
    with poll.store.begin() as conn:
        rows = list(board_rows.entries(conn, poll.id))
        conn.execute(board_links.delete().where(board_links.c.election_id == poll.id))
        kept = rows[1:]
        links = list(chain_board([r[1] for r in kept]))
        board_rows.append(conn, poll.id, 1, [(r[2], k) for r, k in zip(kept, links, strict=True)])
    checked = check_board(poll.store, poll.slug)
    problems = " ".join(str(f) for f in checked.failures)
    assert "not on the closed board" in problems and "ends at 2" in problems
    assert not audit_log.verify_record(poll.store, poll.slug).ok


def test_open_boards_are_extended_by_the_schedule_thread(
    verifiable: tuple[Poll, Trustees],
) -> None:
    poll, _ = verifiable
    receipts = _cast(poll, "M0", "M1")
    thread = ScheduleThread(poll.store, 0, board_every=1)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while board_head(poll.store, poll.slug).position < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(find_on_board(poll.store, poll.slug, r) for r in receipts)
        receipts += _cast(poll, "M2")
        while board_head(poll.store, poll.slug).position < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert find_on_board(poll.store, poll.slug, receipts[-1]) is not None
    finally:
        thread.stop()
    assert check_board(poll.store, poll.slug).ok


def test_only_open_verifiable_boards_are_extended(store: Store, tmp_path: Path) -> None:
    verifiable, _ = open_verifiable_poll(store)
    sealed = open_poll(store, *save_keys(tmp_path))
    closed, _ = open_verifiable_poll(store)
    for poll in (verifiable, sealed, closed):
        _cast(poll, "M0")
    close_voting(store, closed.slug, actor="ro")
    heads = extend_open_boards(store)
    assert set(heads) == {verifiable.slug} and heads[verifiable.slug].position == 1
    assert board_head(store, sealed.slug).position == 0  # the sealed path: left alone
