"""The store at the size of Labour's 2016 leadership ballot, on SQLite and on PostgreSQL.

* register import: 660,000 register rows (about the 2016 register) streamed into an empty
  election in one transaction, seconds. Goal: well under 10 s on each backend.
* credential issue: one keyed-hash credential for every entry, one transaction, seconds.
* casting: N sealed ballots (real NaCl sealed boxes, sealed before the clock starts), each
  in its own durable transaction (authenticate the credential, cast, commit), ballots/s,
  from one client and from several threads. Durable means SQLite in WAL with
  ``synchronous=FULL`` and PostgreSQL with its defaults (fsync on, synchronous_commit on).

For scale: 506,438 ballots were cast online in 2016, most of them over a few weeks; even a
last-evening rush of 100,000 ballots in an hour is under 30 ballots/s.

    .venv/bin/python benchmarks/bench_store.py [--rows 660000] [--ballots 2000] [--threads 4]
        [--backends sqlite postgresql] [--json results.json]

PostgreSQL runs in a throwaway cluster (see ``tallyroom.store.pgcluster``) on this machine.
Run nothing else at the same time: on two cores a second busy process skews every figure.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from nacl.public import PrivateKey, SealedBox

from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.store import ElectionState, Store, ballots, credentials, elections, open_store
from tallyroom.store import register as reg
from tallyroom.store.pgcluster import ThrowawayCluster
from tallyroom.store.register import RegisterEntry

IMPORT_GOAL_SECONDS = 10.0
CONTEST = "leader"


@dataclass
class Row:
    backend: str
    case: str
    figure: float
    unit: str
    note: str = ""


def make_entries(n: int) -> list[RegisterEntry]:
    sections = ("member", "affiliated supporter", "registered supporter")
    return [
        RegisterEntry(
            f"L{i:08d}",
            sections[i % 7 % 3],
            {
                "name": f"Member {i}",
                "email": f"member{i}@example.org",
                "postcode": f"SW{i % 20} {i % 9}AA",
                "joined": f"20{10 + i % 6:02d}-0{1 + i % 9}-15",
            },
            eligible=i % 50 != 0,
            eligibility_reason=None if i % 50 else "joined after the freeze date",
        )
        for i in range(n)
    ]


@contextmanager
def backend_store(backend: str) -> Iterator[Store]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="tallyroom-bench-") as folder:
            store = open_store(Path(folder) / "bench.db", upgrade=True)
            try:
                yield store
            finally:
                store.close()
        return
    with ThrowawayCluster(durable=True) as cluster:
        store = open_store(cluster.create_database("bench"), upgrade=True)
        try:
            yield store
        finally:
            store.close()


def advance(store: Store, election_id: int, target: ElectionState) -> None:
    with store.begin() as conn:
        state = elections.get_election(conn, election_id).state
        while state is not target:
            following = state.next
            assert following is not None
            elections.advance(conn, election_id, following, actor="bench")
            state = following


def bench_backend(
    backend: str, entries: list[RegisterEntry], n_ballots: int, threads: int
) -> list[Row]:
    rows: list[Row] = []
    with backend_store(backend) as store:
        with store.begin() as conn:
            election = elections.create_election(conn, "bench", 'title = "x"', actor="bench")

        start = time.perf_counter()
        with store.begin() as conn:
            reg.import_entries(conn, election.id, entries, actor="bench", source="bench")
        seconds = time.perf_counter() - start
        goal = "met" if seconds < IMPORT_GOAL_SECONDS else "MISSED"
        rows.append(
            Row(
                backend,
                f"register import, {len(entries):,} rows, one transaction",
                seconds,
                "s",
                f"goal < {IMPORT_GOAL_SECONDS:g} s: {goal}",
            )
        )

        advance(store, election.id, ElectionState.NOMINATIONS_CLOSED)
        key = CredentialKey.generate()
        start = time.perf_counter()
        with store.begin() as conn:
            ids = list(reg.entry_ids(conn, election.id))
            secrets = [f"cred-{i:08d}" for i in ids]
            pairs = zip(ids, secrets, strict=True)
            credentials.issue_many(conn, election.id, key, pairs, actor="bench")
        rows.append(
            Row(
                backend,
                f"credential issue, {len(ids):,} credentials",
                time.perf_counter() - start,
                "s",
            )
        )
        advance(store, election.id, ElectionState.OPEN)

        box = SealedBox(PrivateKey.generate().public_key)
        sealed = [
            box.encrypt(f'{{"ranking":[{i % 4},{(i + 1) % 4}]}}'.encode()) for i in range(n_ballots)
        ]

        def cast_one(i: int) -> None:
            item = ballots.CastItem(key.digest(secrets[i]), {CONTEST: sealed[i]})
            with store.begin() as conn:
                (outcome,) = ballots.cast_many(conn, election.id, [item])
            assert isinstance(outcome, list), outcome

        half = n_ballots // 2
        start = time.perf_counter()
        for i in range(half):
            cast_one(i)
        serial = half / (time.perf_counter() - start)
        rows.append(
            Row(backend, f"casting, 1 client, {half:,} durable commits", serial, "ballots/s")
        )
        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(cast_one, range(half, n_ballots)))
        parallel = (n_ballots - half) / (time.perf_counter() - start)
        rows.append(
            Row(
                backend,
                f"casting, {threads} threads, {n_ballots - half:,} durable commits",
                parallel,
                "ballots/s",
            )
        )
        with store.read() as conn:
            (totals,) = ballots.totals(conn, election.id)
        assert totals.casts == totals.ballots == n_ballots, totals
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=660_000)
    parser.add_argument("--ballots", type=int, default=2_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    entries = make_entries(args.rows)
    print(
        f"built {args.rows:,} RegisterEntry objects in {time.perf_counter() - start:.2f} s"
        " (not in the timings below)"
    )
    rows: list[Row] = []
    for backend in args.backends:
        rows.extend(bench_backend(backend, entries, args.ballots, args.threads))

    print(f"\n## Store: {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}\n")  # fmt: skip
    print("| backend | case | figure | note |")
    print("|---|---|---:|---|")
    for row in rows:
        figure = (
            f"{row.figure:.2f} {row.unit}" if row.unit == "s" else f"{row.figure:,.0f} {row.unit}"
        )
        print(f"| {row.backend} | {row.case} | {figure} | {row.note} |")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    return 0 if all("MISSED" not in r.note for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
