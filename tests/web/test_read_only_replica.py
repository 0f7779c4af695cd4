"""``tallyroom serve --read-only`` on a real PostgreSQL streaming replica (issue 16): a
throwaway primary, a hot standby made from it with ``pg_basebackup -R``, ``tallyroom serve``
on the primary and ``tallyroom serve --read-only`` on the standby, both real processes.

A voter casts through the primary; the receipt is found on the replica's receipt page and
API once the standby has replayed it; a cast sent to the replica is a 503 naming the primary
and writes nothing; the booth on the replica sends the voter to the primary. Plain ``serve``
on the standby stops at its start with one line (not a traceback), and so does
``serve --read-only`` on a standby whose schema is a migration behind the code. Last, the
same on SQLite: ``serve --read-only`` on a copy of the database file, which it leaves
byte for byte as it was."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from test_app import SLUG, prepare

from conftest import free_port
from tallyroom.errors import PostgresMissing
from tallyroom.services.elections import get_election
from tallyroom.store import Store, ballots, open_store
from tallyroom.store.migrations import current_revision, downgrade, head_revision
from tallyroom.store.pgcluster import ThrowawayCluster
from tallyroom.web.settings import WebSettings

CHOICES = {"chair": ["Cat Cole", "Ann Ashe"]}
SECRET = "test secret that is long enough"
_ENV = {
    **os.environ,
    "PYTHONPATH": str(Path(__file__).parents[2] / "src"),
    "TALLYROOM_SESSION_SECRET": SECRET,
}
_CLI = [sys.executable, "-c", "from tallyroom.cli.main import main; main()", "serve"]


@pytest.fixture
def replicated() -> Iterator[tuple[ThrowawayCluster, ThrowawayCluster]]:
    """A primary cluster and a hot standby streaming from it; both removed at the end."""
    try:
        primary = ThrowawayCluster().start()
    except PostgresMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        standby = primary.start_standby()
        try:
            yield primary, standby
        finally:
            standby.stop()
    finally:
        primary.stop()


def _lsn(url: str, query: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            text = str(conn.exec_driver_sql(query).scalar_one())
    finally:
        engine.dispose()
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _replayed(primary: ThrowawayCluster, standby: ThrowawayCluster) -> float:
    """Wait until the standby has replayed everything the primary wrote so far; seconds."""
    started = time.monotonic()
    target = _lsn(primary.url(), "SELECT pg_current_wal_lsn()")
    while _lsn(standby.url(), "SELECT pg_last_wal_replay_lsn()") < target:
        assert time.monotonic() - started < 60, "the standby never caught up"
        time.sleep(0.05)
    return time.monotonic() - started


@contextmanager
def _serving(*args: str, log: Path) -> Iterator[str]:
    """``tallyroom serve ARGS`` in its own process until the block ends; its base URL."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*_CLI, "--port", str(port), *args], env=_ENV, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise AssertionError(f"serve {args} did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _refused_at_start(*args: str) -> str:
    """``tallyroom serve ARGS`` must stop at its start with one line and status 2; the line."""
    done = subprocess.run(
        [*_CLI, "--port", str(free_port()), *args],
        env=_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tallyroom: error: "), done.stderr
    return lines[0]


def _casts(store: Store) -> int:
    with store.read() as conn:
        totals = ballots.totals(conn, get_election(store, SLUG).id)
    return max(t.casts for t in totals)


def _cast(base: str, credential: str) -> httpx.Response:
    body = {"credential": credential, "choices": CHOICES}
    return httpx.post(f"{base}/api/elections/{SLUG}/cast", json=body, timeout=60)


def test_a_streaming_replica_serves_the_receipts_and_refuses_the_casts(
    replicated: tuple[ThrowawayCluster, ThrowawayCluster], tmp_path: Path
) -> None:
    primary, standby = replicated
    url = primary.create_database("tallyroom")
    store = open_store(url, upgrade=True)
    try:
        settings = WebSettings(database=url, data_dir=tmp_path / "data", session_secret=SECRET)
        secrets = prepare(store, settings, tmp_path)
        _replayed(primary, standby)  # the schema and the election, before the replica starts
        replica_url = standby.url("tallyroom")
        data = str(settings.data_dir)
        with (
            _serving("--db", url, "--data-dir", data, log=tmp_path / "primary.log") as main,
            _serving(
                "--db", replica_url, "--data-dir", str(tmp_path / "replica-data"),
                "--read-only", "--primary-url", main, log=tmp_path / "replica.log",
            ) as replica,
        ):  # fmt: skip
            cast = _cast(main, secrets[0])
            assert cast.status_code == 200, cast.text
            code = cast.json()[0]["code"]

            # the replica finds the receipt once it has replayed the cast
            started = time.monotonic()
            look_up = f"{replica}/api/elections/{SLUG}/receipts/{code}"
            while not httpx.get(look_up, timeout=10).json()["found"]:
                assert time.monotonic() - started < 30, "the receipt never reached the replica"
                time.sleep(0.05)
            page = httpx.get(f"{replica}/e/{SLUG}/receipts", params={"code": code}, timeout=10)
            assert page.status_code == 200 and "Receipt found" in page.text and code in page.text
            listed = httpx.get(f"{replica}/api/elections/{SLUG}/receipts", timeout=10).json()
            assert code in {r["code"] for r in listed["receipts"]}
            for path in ("/", f"/e/{SLUG}", f"/api/elections/{SLUG}", f"/e/{SLUG}/receipts.csv"):
                assert httpx.get(replica + path, timeout=10).status_code == 200, path

            # a cast to the replica: 503, naming the primary; nothing written anywhere
            refused = _cast(replica, secrets[1])
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"] == "ReadOnlyServer"
            assert main in refused.json()["message"]
            form = httpx.post(
                f"{replica}/e/{SLUG}/vote", data={"credential": secrets[1]}, timeout=10
            )
            assert form.status_code == 503 and main in form.text
            # the booth and the console on the replica send the voter to the primary
            booth = httpx.get(f"{replica}/e/{SLUG}/vote", timeout=10)
            assert booth.status_code == 307
            assert booth.headers["location"] == f"{main}/e/{SLUG}/vote"
            assert httpx.get(f"{replica}/e/{SLUG}/vote", follow_redirects=True).status_code == 200
            assert _casts(store) == 1
            # the refused voter's credential is as it was: it casts through the primary
            assert _cast(main, secrets[1]).status_code == 200
            assert _casts(store) == 2
    finally:
        store.close()

    # plain serve on the standby: one line saying what it is and what to do, at the start
    line = _refused_at_start("--db", replica_url, "--data-dir", str(tmp_path / "plain"))
    assert "read-only replica" in line and "--read-only" in line


def test_a_replica_a_migration_behind_the_code_is_not_served(
    replicated: tuple[ThrowawayCluster, ThrowawayCluster], tmp_path: Path
) -> None:
    """The standby has replayed a schema one migration short of this code's (a primary not
    yet migrated, or a newer tallyroom on the replica): ``--read-only`` refuses to start."""
    primary, standby = replicated
    url = primary.create_database("behind")
    engine = open_store(url, upgrade=True).engine
    downgrade(engine, "-1")
    behind = current_revision(engine)
    engine.dispose()
    assert behind is not None and behind != head_revision()
    _replayed(primary, standby)
    line = _refused_at_start(
        "--db", standby.url("behind"), "--read-only", "--data-dir", str(tmp_path / "data")
    )
    assert f"at revision {behind}" in line and f"needs {head_revision()}" in line


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_serve_read_only_on_a_copy_of_a_sqlite_file(tmp_path: Path) -> None:
    """A copy of the SQLite file (as a backup or a replication tool leaves one): served read
    only, its receipts found, a cast refused, and the file not changed by a byte."""
    original = tmp_path / "tallyroom.db"
    store = open_store(original, upgrade=True)
    settings = WebSettings(
        database=f"sqlite:///{original}", data_dir=tmp_path / "data", session_secret=SECRET
    )
    try:
        secrets = prepare(store, settings, tmp_path)
        with _serving(
            "--db", settings.database, "--data-dir", str(settings.data_dir),
            log=tmp_path / "primary.log",
        ) as main:  # fmt: skip
            cast = _cast(main, secrets[0])
            assert cast.status_code == 200, cast.text
            code = cast.json()[0]["code"]
        copy = tmp_path / "copy.db"
        with sqlite3.connect(original) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        before = _digest(copy)
        with _serving(
            "--db", f"sqlite:///{copy}", "--read-only", "--data-dir", str(tmp_path / "ro"),
            log=tmp_path / "replica.log",
        ) as replica:  # fmt: skip
            found = httpx.get(f"{replica}/api/elections/{SLUG}/receipts/{code}", timeout=10)
            assert found.json()["found"] is True
            page = httpx.get(f"{replica}/e/{SLUG}/receipts", params={"code": code}, timeout=10)
            assert "Receipt found" in page.text
            refused = _cast(replica, secrets[1])
            assert refused.status_code == 503 and refused.json()["error"] == "ReadOnlyServer"
        assert _digest(copy) == before
        assert _casts(store) == 1
    finally:
        store.close()
