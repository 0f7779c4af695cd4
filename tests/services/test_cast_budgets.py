"""The attempt budgets of a casting batch whose credentials are all live (the busy booth's
usual batch), on SQLite and PostgreSQL: decided in order, exactly as places taken one after
another would be; refused once committed failures fill the budget; a wrong credential still
counts, however many batches guess at once from several processes; and, on PostgreSQL,
never blocked by nor refused for the places another batch holds in flight (the places of a
batch that has not committed yet, which its voters would all give back)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_voting import Poll, open_poll, save_keys

from tallyroom.errors import CredentialRejected, TooManyAttempts
from tallyroom.services.attempts import Budget, Claim, take_places
from tallyroom.services.voting import CastOutcome, CastRequest, cast_ballots
from tallyroom.store import Store, ballots
from tallyroom.store.schema import attempt_counts

ADDRESS = "203.0.113.77"
WRONG = "A" * 22


@pytest.fixture
def poll(store: Store, tmp_path: Path) -> Poll:
    keys, key_file = save_keys(tmp_path)
    return open_poll(store, keys, key_file, members=8, affiliated=0)


def _budget(limit: int) -> Budget:
    return Budget("cast-address", limit, 600, "too many from your network")


def _count(store: Store, budget: Budget) -> int:
    with store.read() as conn:
        rows = conn.execute(
            attempt_counts.select().where(
                attempt_counts.c.budget == budget.name, attempt_counts.c.key == ADDRESS
            )
        ).all()
    return sum(int(r.n) for r in rows)


def _casts(poll: Poll) -> int:
    with poll.store.read() as conn:
        return sum(t.casts for t in ballots.totals(conn, poll.id))


def _cast(poll: Poll, credentials: list[str], budget: Budget) -> list[CastOutcome]:
    requests = [CastRequest(c, {"leader": ["Ann"]}) for c in credentials]
    claims = [[Claim(budget, ADDRESS)] for _ in requests]
    return cast_ballots(poll.store, poll.id, requests, credential_key=poll.key, claims=claims)


def test_a_batch_of_voters_past_the_budget_is_refused_in_order(poll: Poll) -> None:
    """Six voters in one batch against a budget of four: the batch's own places count while
    it is decided (as for six requests at once), so the last two are refused and store
    nothing; no place is left behind, and the two get in afterwards."""
    budget = _budget(4)
    voters = list(poll.credential.values())[:6]
    out = _cast(poll, voters, budget)
    assert [isinstance(o, list) for o in out] == [True] * 4 + [False] * 2
    assert all(isinstance(o, TooManyAttempts) for o in out[4:])
    assert _casts(poll) == 4 and _count(poll.store, budget) == 0
    again = _cast(poll, voters[4:], budget)
    assert all(isinstance(o, list) for o in again)
    assert _casts(poll) == 6 and _count(poll.store, budget) == 0


def test_committed_failures_refuse_a_batch_of_voters(poll: Poll) -> None:
    """Three wrong credentials fill a budget of three; a batch of live credentials from the
    same address is then refused whole, before anything is stored, and so is one more
    guess."""
    budget = _budget(3)
    guesses = _cast(poll, [WRONG] * 3, budget)
    assert all(isinstance(o, CredentialRejected) for o in guesses)
    assert _count(poll.store, budget) == 3
    out = _cast(poll, list(poll.credential.values())[:2], budget)
    assert all(isinstance(o, TooManyAttempts) for o in out)
    assert _casts(poll) == 0
    (late,) = _cast(poll, [WRONG], budget)
    assert isinstance(late, TooManyAttempts)
    assert _count(poll.store, budget) == 3


def test_guesses_from_many_processes_at_once_share_one_budget(poll: Poll) -> None:
    """Four processes each casting three batches of five wrong credentials at once, against a
    budget of seven: exactly seven wrong credentials are answered as such, every other gets
    TooManyAttempts, and the counter holds seven."""
    url = poll.store.engine.url.render_as_string(hide_password=False)
    code = f"""
from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.errors import CredentialRejected
from tallyroom.services.attempts import Budget, Claim
from tallyroom.services.voting import CastRequest, cast_ballots
from tallyroom.store.engine import open_store
store = open_store({url!r})
key = CredentialKey(bytes.fromhex({poll.key.secret.hex()!r}))
claim = Claim(Budget("cast-address", 7, 600, "no"), {ADDRESS!r})
answered = 0
for _ in range(3):
    requests = [CastRequest({WRONG!r}, {{"leader": ["Ann"]}})] * 5
    out = cast_ballots(store, {poll.id}, requests, credential_key=key, claims=[[claim]] * 5)
    answered += sum(isinstance(o, CredentialRejected) for o in out)
print(answered)
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    assert sum(int(p.communicate(timeout=120)[0]) for p in procs) == 7
    assert _count(poll.store, _budget(7)) == 7


def test_places_in_flight_elsewhere_neither_block_nor_refuse_voters(poll: Poll) -> None:
    """Another transaction holds the whole budget's places on the address and has not
    committed (a batch in flight in another worker). A batch of live voters from the same
    address is cast at once: it neither waits for that transaction's row lock nor counts its
    places. (PostgreSQL only: SQLite has one writer at a time, so there another batch is
    never in flight while this one is decided.)"""
    if poll.store.backend != "postgresql":
        pytest.skip("SQLite runs one casting transaction at a time")
    budget = _budget(4)
    holding, release = threading.Event(), threading.Event()

    class Abandon(Exception):
        pass

    def hold() -> None:
        try:
            with poll.store.begin() as conn:
                taken = take_places(conn, [[Claim(budget, ADDRESS)]] * 4)
                assert not any(isinstance(t, TooManyAttempts) for t in taken)
                holding.set()
                release.wait(60)
                raise Abandon  # roll back: the places were never kept
        except Abandon:
            pass

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        result: list[list[CastOutcome]] = []
        caster = threading.Thread(
            target=lambda: result.append(_cast(poll, list(poll.credential.values())[:3], budget))
        )
        caster.start()
        caster.join(20)
        assert not caster.is_alive(), "the batch waited for another transaction's counter"
        (out,) = result
        assert all(isinstance(o, list) for o in out), out
    finally:
        release.set()
        holder.join(60)
    assert _casts(poll) == 3 and _count(poll.store, budget) == 0
