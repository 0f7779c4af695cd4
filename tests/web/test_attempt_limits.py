"""Attempt limits under attack, against the real server (uvicorn, several worker processes)
on SQLite and PostgreSQL: simultaneous guesses, a changing X-Forwarded-For, a crowd behind
one address, a sign-in flood, and a cookie kept after signing out."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from test_app import SLUG, prepare

from conftest import PASSWORD, free_port
from tallyroom.election.roles import ConsoleRole
from tallyroom.services import users
from tallyroom.services.attempts import Budget, Claim, begin_attempt
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

WRONG = "A" * 22


@contextmanager
def served(settings: WebSettings, workers: int = 2) -> Iterator[tuple[str, int]]:
    """``tallyroom.web.server.serve`` in its own process; (base URL, the process id)."""
    port = free_port()
    code = (
        "import sys; from tallyroom.web.server import serve; "
        "from tallyroom.web.settings import WebSettings; "
        f"serve(WebSettings.from_json(sys.argv[1]), port={port}, workers={workers})"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, settings.to_json()],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _statuses(calls: list[object], send: object) -> Counter[int]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return Counter(pool.map(send, calls))  # type: ignore[arg-type]


def test_budget_is_atomic_across_processes(store: Store) -> None:
    """40 attempts at once from 4 processes of 10 threads: exactly the limit get a place."""
    budget = {"name": "test", "limit": 7, "window": 600, "refusal": "no"}
    url = store.engine.url.render_as_string(hide_password=False)
    code = f"""
import json, sys
from concurrent.futures import ThreadPoolExecutor
from tallyroom.errors import TooManyAttempts
from tallyroom.services.attempts import Budget, Claim, begin_attempt
from tallyroom.store.engine import open_store
store = open_store({url!r})
claim = Claim(Budget(**{budget!r}), "203.0.113.9")
def one(_):
    try:
        begin_attempt(store, [claim])
        return 1
    except TooManyAttempts:
        return 0
with ThreadPoolExecutor(10) as pool:
    print(sum(pool.map(one, range(10))))
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    granted = sum(int(p.communicate(timeout=120)[0]) for p in procs)
    assert granted == 7
    with pytest.raises(Exception, match="try again"):
        begin_attempt(store, [Claim(Budget(**budget), "203.0.113.9")])  # type: ignore[arg-type]


def test_simultaneous_guesses_share_one_budget(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    """40 wrong passwords at once, and 60 wrong credentials at once from one browser, against
    two worker processes: no more than the limit are checked, the rest get 429 at once."""
    prepare(store, web_settings, tmp_path)
    with served(web_settings) as (base, _pid):

        def sign_in(_: object) -> int:
            body = {"username": "officer", "password": "not the password"}
            return httpx.post(f"{base}/api/session", json=body, timeout=60).status_code

        signs = _statuses(list(range(40)), sign_in)
        assert signs[401] <= web_settings.sign_in_attempts, signs
        assert signs[429] >= 40 - web_settings.sign_in_attempts, signs

        browser = httpx.Client(base_url=base, timeout=60)
        assert browser.get(f"/e/{SLUG}/vote").status_code == 200  # its cookie, as a browser

        def guess(_: object) -> int:
            body = {"credential": WRONG}
            return browser.post(f"/api/elections/{SLUG}/ballot", json=body).status_code

        guesses = _statuses(list(range(60)), guess)
        assert guesses[403] <= web_settings.credential_attempts, guesses
        assert guesses[429] >= 60 - web_settings.credential_attempts, guesses


def test_a_forwarded_header_is_believed_only_from_a_trusted_proxy(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    """A script that drops its cookie and changes X-Forwarded-For each time meets the
    address's budget; behind a configured proxy, the header names the client."""
    prepare(store, web_settings, tmp_path)
    tight = replace(web_settings, credential_attempts_per_address=15)

    def guesses(base: str) -> Counter[int]:
        seen: Counter[int] = Counter()
        for k in range(40):
            res = httpx.post(
                f"{base}/api/elections/{SLUG}/ballot",
                json={"credential": WRONG},
                headers={"X-Forwarded-For": f"198.51.100.{k}"},
                timeout=30,
            )
            seen[res.status_code] += 1
        return seen

    with served(tight, workers=1) as (base, _pid):
        seen = guesses(base)
    assert seen[403] == 15 and seen[429] == 25, seen
    with served(replace(tight, trusted_proxies=("127.0.0.1",)), workers=1) as (base, _pid):
        seen = guesses(base)
    assert seen[403] == 40, seen  # forty clients behind the proxy, one guess each


def test_a_voter_behind_a_busy_address_is_not_locked_out(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    secrets = prepare(store, web_settings, tmp_path)
    app = create_app(web_settings)
    typist = TestClient(app)
    for _ in range(web_settings.credential_attempts):
        res = typist.post(f"/api/elections/{SLUG}/ballot", json={"credential": WRONG})
        assert res.status_code == 403
    res = typist.post(f"/api/elections/{SLUG}/ballot", json={"credential": secrets[0]})
    assert res.status_code == 429 and "this device" in res.json()["message"]
    neighbour = TestClient(app)  # same address, another browser, a valid credential
    res = neighbour.post(f"/api/elections/{SLUG}/ballot", json={"credential": secrets[1]})
    assert res.status_code == 200, res.text
    # and a voter's own successes cost nothing: many look-ups, no lock-out
    for _ in range(3 * web_settings.credential_attempts):
        res = neighbour.post(f"/api/elections/{SLUG}/ballot", json={"credential": secrets[1]})
        assert res.status_code == 200


def _rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, in MiB (from /proc)."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line[:6] == "VmRSS:")
        pids.extend(int(c) for c in children)
    return total / 1024


def test_a_sign_in_flood_is_bounded(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    """40 sign-ins at once (different names, one address): password checks run one at a time
    per worker, the excess gets 429 quickly, memory stays flat and the booth answers."""
    secrets = prepare(store, web_settings, tmp_path)
    with served(web_settings) as (base, pid):
        httpx.get(f"{base}/e/{SLUG}/vote", timeout=30)
        before = _rss_mib(pid)

        def sign_in(k: object) -> tuple[int, str]:
            body = {"username": f"user{k}", "password": "guessing away"}
            res = httpx.post(f"{base}/api/session", json=body, timeout=60)
            return res.status_code, res.headers.get("retry-after", "")

        def look_up(_: object) -> int:
            body = {"credential": secrets[0]}
            return httpx.post(
                f"{base}/api/elections/{SLUG}/ballot", json=body, timeout=60
            ).status_code

        with ThreadPoolExecutor(max_workers=48) as pool:
            flood = pool.map(sign_in, range(40))
            booth = pool.map(look_up, range(8))
            answers = list(flood)
            booth_answers = list(booth)
        after = _rss_mib(pid)
    assert all(status in (401, 429) for status, _ in answers), answers
    assert all(retry for status, retry in answers if status == 429)
    assert booth_answers == [200] * 8
    # argon2id takes 64 MiB per check: 40 at once took 2.7 GiB before the bound
    assert after - before < 400, (before, after)


def test_signing_out_ends_the_session_on_the_server(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    prepare(store, web_settings, tmp_path)
    app = create_app(web_settings)
    client = TestClient(app)
    res = client.post("/api/session", json={"username": "officer", "password": PASSWORD})
    token = res.json()["csrf_token"]
    copied = dict(client.cookies)
    assert client.get(f"/api/elections/{SLUG}/turnout").status_code == 200
    thief = TestClient(app, cookies=copied)
    assert thief.get(f"/api/elections/{SLUG}/turnout").status_code == 200
    assert client.delete("/api/session", headers={"X-CSRF-Token": token}).status_code == 204
    assert thief.get(f"/api/elections/{SLUG}/turnout").status_code == 401

    # a new password ends every session of that user
    client.post("/api/session", json={"username": "officer", "password": PASSWORD})
    copied = dict(client.cookies)
    users.set_password(store, "officer", PASSWORD + " changed")
    assert TestClient(app, cookies=copied).get(f"/api/elections/{SLUG}/turnout").status_code == 401
    # the console page, too
    page = TestClient(app, cookies=copied, follow_redirects=False).get("/console")
    assert page.status_code == 303

    # a removed user's cookie opens nothing, even when a new user is given the same id
    scrutineer = TestClient(app)
    res = scrutineer.post("/api/session", json={"username": "scrutineer", "password": PASSWORD})
    assert res.status_code == 200
    kept = dict(scrutineer.cookies)
    users.remove_user(store, "scrutineer", actor="test")
    users.create_user(store, "newcomer", PASSWORD, ConsoleRole.RETURNING_OFFICER)
    assert TestClient(app, cookies=kept).get(f"/api/elections/{SLUG}/turnout").status_code == 401


def test_mistakes_on_the_ballot_are_not_guesses(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    """A voter whose ballot is refused again and again (a name that is not a candidate) keeps
    their budget: only a wrong credential counts."""
    secrets = prepare(store, web_settings, tmp_path)
    voter = TestClient(create_app(web_settings))
    wrong = {"credential": secrets[0], "choices": {"chair": ["Nobody Atall"]}}
    for _ in range(2 * web_settings.credential_attempts):
        res = voter.post(f"/api/elections/{SLUG}/cast", json=wrong)
        assert res.status_code == 422, res.text
    right = {"credential": secrets[0], "choices": {"chair": ["Ann Ashe"]}}
    res = voter.post(f"/api/elections/{SLUG}/cast", json=right)
    assert res.status_code == 200, res.text


def test_an_expired_session_opens_nothing(store: Store, officer: str) -> None:
    """The server's own record ends a session at ``max_age``, whatever the cookie says (the
    signed cookie's own expiry is a second line, not the one tested here)."""
    user = users.authenticate(store, "officer", PASSWORD)
    token = users.start_session(store, user, max_age=1)
    found = users.session_user(store, token)
    assert found is not None and found.username == "officer"
    time.sleep(1.2)
    assert users.session_user(store, token) is None
