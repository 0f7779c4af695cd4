"""Attempt budgets taken for a whole batch (the casting queue's path), on SQLite and
PostgreSQL: a batch decides exactly as the same attempts one after the other would; a batch
is atomic across processes; a fresh key costs nothing until its attempt fails; and casting
with claims refuses the requests over budget, keeps the places of wrong credentials and
gives back every other."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_voting import Poll, open_poll, save_keys

from tallyroom.errors import CredentialRejected, InputError, TooManyAttempts
from tallyroom.services.attempts import (
    Attempt,
    Budget,
    Claim,
    attempts_settled,
    begin_attempt,
    begin_attempts,
)
from tallyroom.services.voting import CastRequest, cast_ballots
from tallyroom.store import Store, ballots
from tallyroom.store.schema import attempt_counts

NOW = 1_800_000_000.0  # a fixed instant: every place in one window
ADDRESS = Budget("address", 5, 600, "too many from your network")
BROWSER = Budget("browser", 2, 600, "too many from this device")


def _count(store: Store, budget: Budget, key: str) -> int:
    with store.read() as conn:
        rows = conn.execute(
            attempt_counts.select().where(
                attempt_counts.c.budget == budget.name, attempt_counts.c.key == key
            )
        ).all()
    return sum(int(r.n) for r in rows)


def test_a_batch_decides_as_the_attempts_one_after_the_other(store: Store) -> None:
    """Eight attempts from one address, from browsers a, a, b, a, b, b, c, c: the browser
    budget (2) refuses the third of a and of b, the address budget (5) everything past its
    fifth place; the counts left are those of the sequence."""
    browsers = ["a", "a", "b", "a", "b", "b", "c", "c"]
    each = [[Claim(ADDRESS, "192.0.2.1"), Claim(BROWSER, b)] for b in browsers]
    batch = begin_attempts(store, each, now=NOW)
    refused = [isinstance(a, TooManyAttempts) for a in batch]
    assert refused == [False, False, False, True, False, True, False, True]
    assert "network" in str(batch[7]) and "device" in str(batch[3])
    assert _count(store, ADDRESS, "192.0.2.1") == 5
    assert (_count(store, BROWSER, "a"), _count(store, BROWSER, "b")) == (2, 2)
    assert _count(store, BROWSER, "c") == 1
    # and one more, alone, meets the same full budget
    with pytest.raises(TooManyAttempts):
        begin_attempt(store, [Claim(ADDRESS, "192.0.2.1")], now=NOW)


def test_a_fresh_key_is_written_only_when_its_attempt_fails(store: Store) -> None:
    """A browser id made for this request: no place taken up front, none left after a
    success, one written after a failure."""
    ok = Claim(BROWSER, "new-ok", fresh=True)
    bad = Claim(BROWSER, "new-bad", fresh=True)
    each = [[Claim(ADDRESS, "192.0.2.2"), ok], [Claim(ADDRESS, "192.0.2.2"), bad]]
    taken = begin_attempts(store, each, now=NOW)
    assert all(isinstance(a, Attempt) for a in taken)
    assert _count(store, BROWSER, "new-ok") == _count(store, BROWSER, "new-bad") == 0
    assert _count(store, ADDRESS, "192.0.2.2") == 2
    attempts_settled(store, [a for a in taken if isinstance(a, Attempt)], [False, True])
    assert _count(store, BROWSER, "new-ok") == 0
    assert _count(store, BROWSER, "new-bad") == 1
    assert _count(store, ADDRESS, "192.0.2.2") == 1  # the failure's place only


def test_batches_are_atomic_across_processes(store: Store) -> None:
    """Four processes, each taking batches of 5 places on one key at once: exactly the
    limit are granted in all."""
    budget = {"name": "shared", "limit": 7, "window": 600, "refusal": "no"}
    url = store.engine.url.render_as_string(hide_password=False)
    code = f"""
from tallyroom.errors import TooManyAttempts
from tallyroom.services.attempts import Budget, Claim, begin_attempts
from tallyroom.store.engine import open_store
store = open_store({url!r})
claim = Claim(Budget(**{budget!r}), "198.51.100.7")
granted = 0
for _ in range(3):
    granted += sum(not isinstance(a, TooManyAttempts) for a in begin_attempts(store, [[claim]] * 5))
print(granted)
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    assert sum(int(p.communicate(timeout=120)[0]) for p in procs) == 7


@pytest.fixture
def poll(store: Store, tmp_path: Path) -> Poll:
    keys, key_file = save_keys(tmp_path)
    return open_poll(store, keys, key_file, members=6, affiliated=0)


def test_casting_with_claims_keeps_only_the_guesses_places(poll: Poll) -> None:
    """A batch of voters, wrong credentials and a malformed one behind one address: the
    wrong and malformed keep their places, the voters' (and a ballot mistake's) go back,
    and a request past the budget is refused before its credential is looked at."""
    store = poll.store
    voters = list(poll.credential.values())
    address = Budget("cast-address", 4, 600, "too many from your network")
    wrong = "A" * 22
    requests = [
        CastRequest(voters[0], {"leader": ["Cat", "Ann"]}),
        CastRequest(wrong, {"leader": ["Cat"]}),
        CastRequest(voters[1], {"leader": ["Nobody"]}),  # a ballot mistake: not a guess
        CastRequest("not a credential!", {"leader": ["Cat"]}),
        CastRequest(voters[2], {"leader": ["Ann"]}),
        CastRequest(voters[3], {"leader": ["Ann"]}),
    ]
    claims = [[Claim(address, "203.0.113.50")] for _ in requests]
    out = cast_ballots(store, poll.id, requests, credential_key=poll.key, claims=claims)
    assert isinstance(out[0], list)
    assert isinstance(out[1], CredentialRejected)
    assert isinstance(out[2], InputError) and out[2].field != "credential"
    assert isinstance(out[3], InputError) and out[3].field == "credential"
    assert isinstance(out[4], TooManyAttempts) and isinstance(out[5], TooManyAttempts)
    assert _count(store, address, "203.0.113.50") == 2  # the two guesses
    with store.read() as conn:
        (totals,) = ballots.totals(conn, poll.id)
    assert totals.casts == 1  # the refused voters stored nothing
    # the places given back let the two refused voters in now
    again = cast_ballots(store, poll.id, requests[4:], credential_key=poll.key, claims=claims[4:])
    assert all(isinstance(o, list) for o in again)
    assert _count(store, address, "203.0.113.50") == 2
