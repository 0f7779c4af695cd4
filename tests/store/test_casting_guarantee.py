"""One ballot per credential per contest is a database guarantee, under real concurrency.

Every cast goes through :func:`tallyroom.store.ballots.cast_many`, the one casting path (the
service's ``cast_ballots`` and the casting queue call it). Every test runs on SQLite and on
PostgreSQL. The concurrent ones use threads, each with its
own connection and transaction, released together by a barrier; the interleaved ones hold
one transaction open while another tries, and watch the second wait and then be refused.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from conftest import Election, MakeElection
from tallyroom.errors import DuplicateBallot, StoreError
from tallyroom.store import (
    AlreadyCast,
    CastChannel,
    CredentialRejected,
    ElectionState,
    LifecycleError,
    Store,
    ballots,
    credentials,
    elections,
    postal,
)
from tallyroom.store.ballots import CastItem, Receipt
from tallyroom.store.schema import ballot_casts

CONTEST = "leader"
WAIT = 0.5  # seconds a blocked transaction is watched to still be waiting


def _cast_in(
    conn: Connection,
    election: Election,
    secret: str,
    contest: str,
    sealed: bytes,
    *,
    channel: CastChannel = CastChannel.ONLINE,
    postal_batch_id: int | None = None,
) -> Receipt:
    """One voter, one contest, through cast_many; its error raised as the service does."""
    item = CastItem(election.key.digest(secret), {contest: sealed})
    (outcome,) = ballots.cast_many(
        conn, election.id, [item], channel=channel, postal_batch_id=postal_batch_id
    )
    if isinstance(outcome, StoreError):
        raise outcome
    (receipt,) = outcome
    return receipt


def _cast(election: Election, voter: int, sealed: bytes, contest: str = CONTEST) -> bytes:
    with election.store.begin() as conn:
        receipt = _cast_in(conn, election, election.secrets[voter], contest, sealed)
    return receipt.digest


def _totals(election: Election) -> list[tuple[str, int, int]]:
    with election.store.read() as conn:
        return [(t.contest, t.casts, t.ballots) for t in ballots.totals(conn, election.id)]


def test_the_constraint_itself_refuses_a_second_cast_row(
    store: Store, make_election: MakeElection
) -> None:
    """Bypassing the store's code: the database alone refuses the duplicate row."""
    election = make_election(voters=1)
    row = {
        "credential_id": election.credential_ids[0],
        "entry_id": election.entry_ids[0],
        "contest": CONTEST,
        "channel": "online",
    }
    with store.begin() as conn:
        conn.execute(ballot_casts.insert().values(**row))
    with pytest.raises(sa.exc.IntegrityError), store.begin() as conn:
        conn.execute(ballot_casts.insert().values(**row))


def test_a_second_cast_is_refused_and_leaves_nothing(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=2)
    receipt = _cast(election, 0, b"first ballot")
    with pytest.raises(AlreadyCast, match="already cast"):
        _cast(election, 0, b"second ballot")
    _cast(election, 0, b"another contest", contest="deputy")
    _cast(election, 1, b"someone else")
    assert _totals(election) == [("deputy", 1, 1), (CONTEST, 2, 2)]
    with store.read() as conn:
        assert ballots.find_receipt(conn, election.id, receipt) == CONTEST
        cast_in = credentials.contests_cast(conn, election.credential_ids[0])
        assert cast_in == frozenset({CONTEST, "deputy"})


def test_a_reissued_credential_cannot_vote_again(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=1)
    _cast(election, 0, b"with the first credential")
    with store.begin() as conn:
        new = credentials.reissue(
            conn, election.id, election.key, election.entry_ids[0], "new-secret",
            actor="helpdesk", reason="voter lost the first email",
        )  # fmt: skip
    with store.begin() as conn:
        assert credentials.authenticate(conn, election.id, election.key, "new-secret") == new
        with pytest.raises(CredentialRejected):
            credentials.authenticate(conn, election.id, election.key, election.secrets[0])
    with pytest.raises(AlreadyCast), store.begin() as conn:
        _cast_in(conn, election, "new-secret", CONTEST, b"second try, new credential")
    with store.begin() as conn:
        _cast_in(conn, election, "new-secret", "deputy", b"a contest not yet voted in")
    assert _totals(election) == [("deputy", 1, 1), (CONTEST, 1, 1)]


def test_a_copied_sealed_ballot_is_refused(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=2)
    _cast(election, 0, b"sealed bytes seen on the wire")
    with pytest.raises(DuplicateBallot):
        _cast(election, 1, b"sealed bytes seen on the wire")
    assert _totals(election) == [(CONTEST, 1, 1)]


def test_postal_and_online_share_the_guarantee(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=2)
    with store.begin() as conn:
        batch = postal.open_batch(conn, election.id, "batch 001", 2, actor="postal team")
        _cast_in(
            conn, election, election.secrets[0], CONTEST, b"postal paper 1",
            channel=CastChannel.POSTAL, postal_batch_id=batch.id,
        )  # fmt: skip
    with pytest.raises(AlreadyCast):
        _cast(election, 0, b"then online")
    with store.begin() as conn:
        sealed = postal.seal_batch(conn, election.id, batch.id, actor="postal team")
    assert (sealed.casts, sealed.declared_count, sealed.reconciled) == (1, 2, False)
    with pytest.raises(LifecycleError, match="sealed"), store.begin() as conn:
        _cast_in(
            conn, election, election.secrets[1], CONTEST, b"postal paper 2",
            channel=CastChannel.POSTAL, postal_batch_id=batch.id,
        )  # fmt: skip


def test_revoked_credentials_and_closed_polls_cast_nothing(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=2)
    with store.begin() as conn:
        credentials.revoke(
            conn, election.id, election.credential_ids[0], actor="ro", reason="reported stolen"
        )
    with pytest.raises(CredentialRejected):
        _cast(election, 0, b"with a revoked credential")
    with store.begin() as conn:
        elections.advance(conn, election.id, ElectionState.CLOSED, actor="ro")
    with pytest.raises(LifecycleError, match="closed"):
        _cast(election, 1, b"after the close")
    assert _totals(election) == []


@pytest.mark.parametrize("contenders", [2, 8])
def test_concurrent_casts_with_one_credential_store_exactly_one(
    store: Store, make_election: MakeElection, contenders: int
) -> None:
    election = make_election(voters=1)
    barrier = threading.Barrier(contenders)

    def attempt(n: int) -> str:
        barrier.wait()
        try:
            _cast(election, 0, f"ballot from thread {n}".encode())
        except AlreadyCast:
            return "refused"
        return "stored"

    with ThreadPoolExecutor(contenders) as pool:
        outcomes = sorted(pool.map(attempt, range(contenders)))
    assert outcomes == ["refused"] * (contenders - 1) + ["stored"]
    assert _totals(election) == [(CONTEST, 1, 1)]


def test_concurrent_casts_by_many_voters_all_land(
    store: Store, make_election: MakeElection
) -> None:
    voters = 40
    election = make_election(voters=voters)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda v: _cast(election, v, f"ballot {v}".encode()), range(voters)))
    assert _totals(election) == [(CONTEST, voters, voters)]


def test_concurrent_batches_with_the_same_voters_store_each_voter_once(
    store: Store, make_election: MakeElection
) -> None:
    """Batches racing each other, every batch holding the same voters in another order: each
    voter lands exactly once, every other copy is refused, and the box's digest, kept by the
    batches as they commit (shards on PostgreSQL), is the box's."""
    voters, contenders = 12, 4
    election = make_election(voters=voters)
    barrier = threading.Barrier(contenders)

    def attempt(n: int) -> list[list[Receipt] | StoreError]:
        order = list(range(voters))[n:] + list(range(voters))[:n]
        items = [
            CastItem(election.key.digest(election.secrets[v]), {CONTEST: f"{n}/{v}".encode()})
            for v in order
        ]
        barrier.wait()
        with store.begin() as conn:
            return ballots.cast_many(conn, election.id, items)

    with ThreadPoolExecutor(contenders) as pool:
        results = [o for batch in pool.map(attempt, range(contenders)) for o in batch]
    assert sum(isinstance(o, list) for o in results) == voters
    assert sum(isinstance(o, AlreadyCast) for o in results) == voters * (contenders - 1)
    assert _totals(election) == [(CONTEST, voters, voters)]
    with store.read() as conn:
        rows, _counts, bad = ballots.box_rows(conn, election.id)
        assert ballots.box_kept(conn, election.id) == rows and bad == 0


def test_batches_in_opposite_orders_never_deadlock(
    store: Store, make_election: MakeElection
) -> None:
    """Two batches holding the same voters in opposite orders, raced again and again: on
    PostgreSQL each waits on the other's uncommitted rows in the unique indexes, which would
    deadlock (and refuse a whole batch) unless every batch inserts in one order."""
    voters = 40
    for race in range(6):
        election = make_election(voters=voters)
        barrier = threading.Barrier(2)

        def attempt(
            n: int, election: Any = election, barrier: Any = barrier, race: int = race
        ) -> list[object]:
            order = list(range(voters)) if n == 0 else list(reversed(range(voters)))
            items = [
                CastItem(
                    election.key.digest(election.secrets[v]),
                    {CONTEST: f"{race}/{n}/{v}".encode()},
                )
                for v in order
            ]
            barrier.wait()
            with store.begin() as conn:
                return list(ballots.cast_many(conn, election.id, items))

        with ThreadPoolExecutor(2) as pool:
            results = [o for batch in pool.map(attempt, range(2)) for o in batch]
        assert sum(isinstance(o, list) for o in results) == voters
        assert sum(isinstance(o, AlreadyCast) for o in results) == voters
        assert _totals(election) == [(CONTEST, voters, voters)]


def _in_thread(fn: Callable[[], object]) -> Future[object]:
    pool = ThreadPoolExecutor(1)
    future = pool.submit(fn)
    pool.shutdown(wait=False)
    return future


@pytest.mark.parametrize("first_commits", [True, False])
def test_a_cast_waits_for_an_uncommitted_cast_of_the_same_credential(
    store: Store, make_election: MakeElection, first_commits: bool
) -> None:
    election = make_election(voters=1)
    with store.begin() as conn:
        _cast_in(conn, election, election.secrets[0], CONTEST, b"first, held open")
        second = _in_thread(lambda: _cast(election, 0, b"second, concurrent"))
        time.sleep(WAIT)
        assert not second.done(), "the second cast must wait for the first transaction"
        if not first_commits:
            conn.rollback()
    if first_commits:
        with pytest.raises(AlreadyCast):
            second.result(timeout=30)
    else:
        receipt = second.result(timeout=30)
        assert isinstance(receipt, bytes) and len(receipt) == 32
    assert _totals(election) == [(CONTEST, 1, 1)]


def test_closing_waits_for_casts_in_flight_and_then_refuses_casts(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=2)

    def close() -> object:
        with store.begin() as conn:
            return elections.advance(conn, election.id, ElectionState.CLOSED, actor="ro")

    with store.begin() as conn:
        _cast_in(conn, election, election.secrets[0], CONTEST, b"in flight")
        closing = _in_thread(close)
        time.sleep(WAIT)
        assert not closing.done(), "the close must wait for the cast in flight"
    closing.result(timeout=30)
    with pytest.raises(LifecycleError):
        _cast(election, 1, b"after the close")
    assert _totals(election) == [(CONTEST, 1, 1)]


def test_the_box_digest_does_not_make_casting_transactions_queue_on_postgresql(
    store: Store, make_election: MakeElection
) -> None:
    """Every casting transaction updates the box's digest, but on PostgreSQL each takes a
    shard no other holds: a second cast commits while the first is still open, as before the
    digest existed (casts of different voters never waited on each other). SQLite has one
    writer at a time, digest or not: the second waits for the first's commit."""
    election = make_election(voters=2)
    with store.begin() as conn:
        _cast_in(conn, election, election.secrets[0], CONTEST, b"held open")
        second = _in_thread(lambda: _cast(election, 1, b"meanwhile"))
        time.sleep(WAIT)
        if store.backend == "postgresql":
            assert second.result(timeout=30), "the second cast must not wait for the first"
        else:
            assert not second.done(), "SQLite serialises writers"
    second.result(timeout=30)
    with store.read() as conn:
        rows, _counts, _bad = ballots.box_rows(conn, election.id)
        assert ballots.box_kept(conn, election.id) == rows and rows.ballot_count == 2
