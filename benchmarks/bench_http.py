"""Casting over real HTTP: ``tallyroom serve`` under ``wrk``, durable, SQLite and PostgreSQL.

Each case serves a fresh open election (one IRV contest of 5 candidates, a register of
``--voters``, credentials issued) with ``tallyroom serve --workers W`` and drives
``POST /api/elections/<slug>/cast`` with ``wrk`` (keep-alive, ``C`` connections, a different
voter every request, each voter once). It prints, per backend, workers and clients: durable
ballots a second (200 answers only; every other answer is counted, by HTTP status), the p50,
p95 and p99 latency, the CPU time the server's workers spent per ballot and, on PostgreSQL,
the CPU time of the database's backends per ballot, and the machine's load average at the
end of the case (other jobs on a shared machine show there). In the same run it measures
the two bounds the figures are read against:

* the static-file ceiling: ``GET`` of a static CSS file (no database, no sealing) through
  the same server and middleware, per number of workers;
* the sealing floor: libsodium sealing alone on one core (the one cryptographic step per
  ballot).

The load generator must be native: a Python client cannot saturate this server. Install
wrk from Debian (``apt-get install -y wrk``). Durable settings: SQLite in WAL with
``synchronous=FULL``; a throwaway PostgreSQL cluster with fsync and synchronous_commit on.

    python benchmarks/bench_http.py [--workers 1 2 4] [--clients 16 64 256]
        [--duration 30] [--voters 100000] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from tallyroom.crypto.sealing import ElectionKeys, seal_ballot
from tallyroom.services import elections as election_service
from tallyroom.services import nominations, polling
from tallyroom.services import register as register_service
from tallyroom.services.credentials import issue_credentials
from tallyroom.store import open_store
from tallyroom.store.pgcluster import ThrowawayCluster

CANDIDATES = ("Ann Ashe", "Bob Birch", "Cat Cole", "Dan Dale", "Eve Elm")
WRK_THREADS = 2
STATIC = "/static/tallyroom.css"

DEFINITION = """\
[election]
name = "HTTP benchmark"
organisation = "tallyroom"
timezone = "Europe/London"

[timetable]
nominations_open = 2026-01-01T00:00:00+00:00
nominations_close = 2026-01-10T00:00:00+00:00
ballot_open = 2026-01-11T00:00:00+00:00
ballot_close = 2099-01-20T00:00:00+00:00

[[sections]]
name = "members"
label = "Members"
min_published_size = 1

[[contests]]
name = "chair"
title = "Chair"
rule = "irv"
seats = 1
sections = ["members"]
{candidates}
[eligibility]
statuses = ["active"]
precedence = ["members"]

[eligibility.sections.members]
joined_on_or_before = 2026-01-01
"""

# wrk's script: each wrk thread takes every n-th body of the file, sends each once, then
# stops; done() prints one JSON line that the benchmark reads.
WRK_SCRIPT = """\
local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  bodies = {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % tonumber(args[2]) == id then table.insert(bodies, line) end
    n = n + 1
  end
  index = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  index = index + 1
  if index > #bodies then
    wrk.thread:stop()
    index = #bodies
  end
  return wrk.format(nil, nil, nil, bodies[index])
end
function response(status, headers, body)
  if status > 299 then statuses[status] = (statuses[status] or 0) + 1 end
end
function done(summary, latency, requests)
  local by = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do by[status] = (by[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(by) do table.insert(parts, string.format('"%d":%d', status, n)) end
  io.write(string.format(
    '{"requests":%d,"non2xx":%d,"errors":%d,"duration_us":%d,"p50":%d,"p95":%d,"p99":%d,'
    .. '"statuses":{%s}}\\n',
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    table.concat(parts, ",")))
end
"""


@dataclass(frozen=True, slots=True)
class Result:
    ok_per_s: float
    ok: int
    requests: int
    refused: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    statuses: tuple[tuple[int, int], ...] = ()  # (status, answers) for every non-2xx status

    @property
    def refused_by_status(self) -> str:
        """The non-2xx answers and their statuses: ``2869 (429: 2869)``, or ``0``."""
        if not self.statuses:
            return str(self.refused)
        return f"{self.refused} ({', '.join(f'{s}: {n}' for s, n in self.statuses)})"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def prepare(url: str, folder: Path, slug: str, voters: int) -> Path:
    """An open election ``slug`` of ``voters`` voters; the file of cast bodies (one a line)."""
    data = folder / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    definition = folder / "perf.toml"
    candidates = "".join(f'\n[[contests.candidates]]\nname = "{c}"\n' for c in CANDIDATES)
    definition.write_text(DEFINITION.format(candidates=candidates), encoding="utf-8")
    register = folder / f"{slug}-register.csv"
    with register.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(
            ("person_id", "section", "membership_number", "status", "joined", "registered")
        )
        for i in range(voters):
            out.writerow((f"P{i:07d}", "members", f"N{i:07d}", "active", "2015-03-01", ""))
    with open_store(url, upgrade=True) as store:
        election_service.create_election(
            store, definition, actor="bench", private_key_path=data / f"{slug}.private-key",
            passphrase="bench passphrase", slug=slug,
        )  # fmt: skip
        register_service.import_register(store, slug, register, actor="bench")
        register_service.freeze_register(store, slug, actor="bench")
        nominations.close_nominations(store, slug, actor="bench")
        export = folder / f"{slug}-credentials.csv"
        issue_credentials(
            store, slug, key_path=data / f"{slug}.credential-key", export_path=export,
            actor="bench",
        )  # fmt: skip
        polling.open_voting(store, slug, actor="bench")
    bodies = folder / f"{slug}-bodies.txt"
    with export.open(encoding="utf-8", newline="") as handle, bodies.open("w") as out_bodies:
        for i, row in enumerate(csv.DictReader(handle)):
            k = i % len(CANDIDATES)
            ranking = list(CANDIDATES[k:] + CANDIDATES[:k])[: 1 + i % len(CANDIDATES)]
            body = {"credential": row["credential"], "choices": {"chair": ranking}}
            out_bodies.write(json.dumps(body, separators=(",", ":")) + "\n")
    return bodies


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its descendants alive
    now (the workers live for the whole run, so a difference is the run's)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += times.get(p, 0.0)
        todo += [c for c, parent in parents.items() if parent == p]
    return total


@contextmanager
def serving(url: str, folder: Path, workers: int) -> Iterator[tuple[str, int]]:
    """``tallyroom serve`` on a free port until the block ends; its base URL and pid."""
    port = free_port()
    command = [
        sys.executable, "-c", "from tallyroom.cli.main import main; main()", "serve",
        "--db", url, "--data-dir", str(folder / "data"), "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip
    log = (folder / f"serve-{port}.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not start: see {log.name}") from None
                time.sleep(0.1)
        time.sleep(0.5 * workers)  # every worker listening
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wrk(base: str, path: str, clients: int, duration: int, script: Path | None,
        args: Sequence[str] = ()) -> Result:  # fmt: skip
    threads = min(WRK_THREADS, clients)
    command = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{duration}s",
               "--latency", "--timeout", "10s"]  # fmt: skip
    if script is not None:
        command += ["-s", str(script)]
    command.append(base + path)
    if args:
        command += ["--", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    if script is None:
        return _plain(done.stdout)
    line = next(x for x in done.stdout.splitlines() if x.startswith('{"requests"'))
    doc = json.loads(line)
    seconds = doc["duration_us"] / 1e6
    ok = doc["requests"] - doc["non2xx"]
    statuses = tuple(sorted((int(k), int(n)) for k, n in doc.get("statuses", {}).items()))
    return Result(ok / seconds, ok, doc["requests"], doc["non2xx"], doc["errors"],
                  doc["p50"] / 1e3, doc["p95"] / 1e3, doc["p99"] / 1e3, statuses)  # fmt: skip


def _ms(text: str) -> float:
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)


def _plain(out: str) -> Result:
    """wrk's own report (no script): requests/s and the latency distribution."""
    rate = float(next(x for x in out.splitlines() if x.startswith("Requests/sec")).split()[1])
    pct = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
            pct[parts[0]] = _ms(parts[1])
    return Result(rate, 0, 0, 0, 0, pct["50%"], pct["90%"], pct["99%"])


@contextmanager
def pg_waits(url: str, into: Counter[str]) -> Iterator[None]:
    """Sample what PostgreSQL's backends wait on (``pg_stat_activity``, every 20 ms) while
    the block runs: the wait event of each active backend, or ``CPU`` when it waits on none.
    A row or tuple lock (``Lock:transactionid``, ``Lock:tuple``) would show writers queueing
    on one row; ``IO:WalSync`` and ``LWLock:WALWrite`` are the commit's flush."""
    stop = threading.Event()

    def sample() -> None:
        with open_store(url) as store, store.engine.connect() as conn:
            while not stop.wait(0.02):
                rows = conn.exec_driver_sql(
                    "SELECT wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE state = 'active' AND backend_type = 'client backend' "
                    "AND pid <> pg_backend_pid()"
                ).all()
                conn.rollback()
                for kind, event in rows:
                    into["CPU" if kind is None else f"{kind}:{event}"] += 1

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def seal_floor(n: int = 20_000) -> float:
    keys = ElectionKeys.generate()
    plaintext = b'{"contest":"chair","ranking":[0,1,2,3,4],"v":1}' + b" " * 20
    start = time.perf_counter()
    for _ in range(n):
        seal_ballot(keys.public, plaintext)
    return n / (time.perf_counter() - start)


@contextmanager
def database(backend: str, folder: Path) -> Iterator[tuple[str, int | None]]:
    """The database's URL, and the PostgreSQL server's pid (its backends are its children:
    their CPU is the database's share of a ballot), ``None`` for SQLite (in the workers)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}", None
        return
    with ThrowawayCluster(durable=True) as cluster:
        url = cluster.create_database("bench")
        pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
        yield url, pid


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--voters", type=int, default=100_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--pairs", default="", help="only these workers:clients, e.g. 1:16,2:64")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk (Debian's package)", file=sys.stderr)
        return 2
    pairs = [tuple(int(x) for x in p.split(":")) for p in args.pairs.split(",") if p]
    if not pairs:
        pairs = [(w, c) for w in args.workers for c in args.clients]
    floor = seal_floor()
    print(f"sealing floor (libsodium alone, one core): {floor:,.0f} ballots/s", flush=True)
    with tempfile.TemporaryDirectory(prefix="tallyroom-http-") as tmp:
        folder = Path(tmp)
        script = folder / "cast.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        print(
            "| backend | workers | clients | ballots/s | p50 ms | p95 ms | p99 ms | "
            "non-2xx / socket errors | static GET/s (same workers) | ratio to static | "
            "ratio to floor | server CPU ms a ballot | PostgreSQL CPU ms a ballot | load |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
        for backend in args.backends:
            home = folder / backend
            home.mkdir()
            with database(backend, home) as (url, db_pid):
                static: dict[int, float] = {}
                waits: Counter[str] = Counter()
                for n, (workers, clients) in enumerate(pairs):
                    slug = f"perf{n}"
                    bodies = prepare(url, home, slug, args.voters)
                    with serving(url, home, workers) as (base, pid):
                        if workers not in static:
                            static[workers] = wrk(base, STATIC, 64, min(args.duration, 10),
                                                  None).ok_per_s  # fmt: skip
                        threads = min(WRK_THREADS, clients)
                        cpu = server_cpu(pid)
                        db_cpu = server_cpu(db_pid) if db_pid is not None else 0.0
                        with pg_waits(url, waits) if backend == "postgresql" else nullcontext():
                            r = wrk(base, f"/api/elections/{slug}/cast", clients, args.duration,
                                    script, [str(bodies), str(threads)])  # fmt: skip
                        cpu = server_cpu(pid) - cpu
                        if db_pid is not None:
                            db_cpu = server_cpu(db_pid) - db_cpu
                        load = os.getloadavg()[0]
                    print(
                        f"| {backend} | {workers} | {clients} | {r.ok_per_s:,.0f} | "
                        f"{r.p50_ms:,.0f} | {r.p95_ms:,.0f} | {r.p99_ms:,.0f} | "
                        f"{r.refused_by_status} / {r.errors} | {static[workers]:,.0f} | "
                        f"{r.ok_per_s / static[workers]:.2f} | {r.ok_per_s / floor:.3f} | "
                        f"{1000 * cpu / max(r.ok, 1):.2f} | "
                        f"{f'{1000 * db_cpu / max(r.ok, 1):.2f}' if db_pid else '-'} | "
                        f"{load:.1f} |",
                        flush=True,
                    )
                if waits:
                    seen = sum(waits.values())
                    top = ", ".join(f"{k} {100 * n / seen:.0f}%" for k, n in waits.most_common(8))
                    print(f"\nPostgreSQL backends while casting (all cases): {top}\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
