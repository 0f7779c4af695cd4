"""Scale-out, against real servers (issue 16): several ``serve`` processes on different
ports casting into one database keep exactly one ballot per voter and contest, and a
server's worker processes share the connections evenly (each its own ``SO_REUSEPORT``
socket). On SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
from test_app import SLUG, prepare
from test_attempt_limits import served

from tallyroom.services.elections import get_election
from tallyroom.store import Store, ballots
from tallyroom.web.settings import WebSettings

CHOICES = {"chair": ["Cat Cole", "Ann Ashe"]}


def test_several_servers_on_one_database_cast_each_voter_once(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    """Three stateless servers (two of one worker, one of two) on one database; every voter
    sends the same cast to all three at once: exactly one receipt each, the others refused
    as already cast, and the box's digest agrees with its rows."""
    secrets = prepare(store, web_settings, tmp_path)
    with ExitStack() as stack:
        bases = [stack.enter_context(served(web_settings, workers=w))[0] for w in (1, 1, 2)]

        def cast(job: tuple[str, str]) -> tuple[str, int]:
            base, credential = job
            body = {"credential": credential, "choices": CHOICES}
            res = httpx.post(f"{base}/api/elections/{SLUG}/cast", json=body, timeout=60)
            return credential, res.status_code

        jobs = [(b, c) for c in secrets for b in bases]
        with ThreadPoolExecutor(len(jobs)) as pool:
            answers = list(pool.map(cast, jobs))
    per_voter: dict[str, Counter[int]] = {}
    for credential, status in answers:
        per_voter.setdefault(credential, Counter())[status] += 1
    assert all(c == Counter({200: 1, 409: 2}) for c in per_voter.values()), per_voter
    election_id = get_election(store, SLUG).id
    with store.read() as conn:
        (totals,) = ballots.totals(conn, election_id)
        rows, _counts, bad = ballots.box_rows(conn, election_id)
        assert ballots.box_kept(conn, election_id) == rows and not bad
    assert (totals.casts, totals.ballots) == (len(secrets), len(secrets))


def _established(pid: int, port: int, state: str = "01") -> int:
    """Connections to ``port`` that process ``pid`` holds open (from /proc; ``state`` "0A":
    its listening sockets instead)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = 0
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == state and fields[9] in inodes:
                held += 1
    return held


def test_workers_share_the_connections_evenly(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    """40 keep-alive connections to a server of two workers: each worker holds at least a
    quarter of them (uvicorn's shared socket was measured at 110/105/41/0 over four)."""
    prepare(store, web_settings, tmp_path)
    with served(web_settings, workers=2) as (base, pid), ExitStack() as stack:
        port = int(base.rsplit(":", 1)[1])
        # both workers listening first (a worker still starting would leave all to the other)
        deadline = time.monotonic() + 60
        while True:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            if sum(_established(int(c), port, "0A") > 0 for c in children) >= 2:
                break
            assert time.monotonic() < deadline, "the two workers never both listened"
            time.sleep(0.1)
        for _ in range(40):
            conn = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=30))
            conn.sendall(b"GET /api/elections HTTP/1.1\r\nHost: x\r\n\r\n")
            assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        held = sorted((_established(int(c), port) for c in children), reverse=True)
        workers = [n for n in held if n > 0]
        assert sum(workers) == 40 and len(workers) == 2, held
        assert min(workers) >= 10, held
