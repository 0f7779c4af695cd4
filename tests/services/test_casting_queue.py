"""The booth's group commit on SQLite and PostgreSQL: many request threads casting at once
share durable commits, each voter gets their own receipts or their own refusal, a second
ballot is refused even inside one batch, and a closed poll refuses everybody waiting."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_voting import Poll, open_poll, save_keys

from tallyroom.errors import TallyroomError
from tallyroom.services.casting_queue import CastingQueue
from tallyroom.services.polling import close_voting
from tallyroom.services.voting import CastRequest
from tallyroom.store import AlreadyCast, CredentialRejected, LifecycleError, Store, ballots
from tallyroom.store.ballots import Receipt


@pytest.fixture
def crowd(store: Store, tmp_path: Path) -> Poll:
    keys, key_file = save_keys(tmp_path)
    return open_poll(store, keys, key_file, members=60, affiliated=20)


def _try(queue: CastingQueue, poll: Poll, credential: str) -> list[Receipt] | TallyroomError:
    try:
        return queue.cast(
            poll.id, CastRequest(credential, {"leader": ["Cat", "Ann"]}), credential_key=poll.key
        )
    except TallyroomError as exc:
        return exc


def test_a_crowd_shares_commits_and_each_voter_gets_their_own_answer(crowd: Poll) -> None:
    queue = CastingQueue(crowd.store, max_batch=16)
    voters = list(crowd.credential.values())
    attempts = [*voters, *voters[:10], "0000-0000-0000-0000-0000-00"]  # 10 try twice
    try:
        with ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(lambda c: _try(queue, crowd, c), attempts))
    finally:
        queue.close()
    receipts = [a for a in answers if isinstance(a, list)]
    assert len(receipts) == len(voters) == 80
    assert len({r[0].digest for r in receipts}) == 80
    refused = [a for a in answers if not isinstance(a, list)]
    assert sum(isinstance(a, AlreadyCast) for a in refused) == 10
    assert sum(isinstance(a, CredentialRejected) for a in refused) == 1
    with crowd.store.read() as conn:
        (totals,) = ballots.totals(conn, crowd.id)
        assert (totals.casts, totals.ballots) == (80, 80)
        for r in receipts:
            assert ballots.find_receipt(conn, crowd.id, r[0].digest) == "leader"


def test_a_closed_poll_refuses_the_waiting_voters(crowd: Poll) -> None:
    queue = CastingQueue(crowd.store)
    try:
        close_voting(crowd.store, crowd.slug, actor="ro")
        answer = _try(queue, crowd, crowd.credential["M0"])
    finally:
        queue.close()
    assert isinstance(answer, LifecycleError)
    with pytest.raises(RuntimeError, match="closed"):
        queue.cast(crowd.id, CastRequest("x", {}), credential_key=crowd.key)


def test_a_lone_voter_casts_at_once(crowd: Poll) -> None:
    queue = CastingQueue(crowd.store)
    try:
        answer = _try(queue, crowd, crowd.credential["A3"])
    finally:
        queue.close()
    assert isinstance(answer, list) and [r.contest for r in answer] == ["leader"]


def test_keys_of_other_elections_are_not_mixed(store: Store, tmp_path: Path) -> None:
    keys, key_file = save_keys(tmp_path)
    first, second = (open_poll(store, keys, key_file) for _ in range(2))
    queue = CastingQueue(store)
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda pc: _try(queue, pc[0], pc[1]),
                    [(p, c) for p in (first, second) for c in p.credential.values()],
                )
            )
    finally:
        queue.close()
    assert all(isinstance(a, list) for a in answers), answers
