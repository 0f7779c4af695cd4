"""The register and credential services at the size of Labour's 2016 leadership ballot.

Generates a register CSV of 660,000 lines for the bundled ``labour-2016`` definition (three
sections; 5,994 lapsed lines, so 654,006 voters are eligible, the 2016 electorate), then
times, through the services (file to database, everything included):

* ``import``: read and check the CSV, assess eligibility, store every entry (goal < 10 s);
* ``freeze``: fingerprint the register and move to ``register_frozen``;
* ``issue``: a credential for every eligible voter, hashed, stored, and exported (< 15 s).

    .venv/bin/python benchmarks/bench_register.py [--rows 660000] [--backends sqlite postgresql]
        [--import-only]

CPU time is this process's (PostgreSQL's server works in processes of its own).
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from importlib.resources import files
from pathlib import Path

from tallyroom.services import credentials as credential_service
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.store import ElectionState, Store, elections, open_store
from tallyroom.store.pgcluster import ThrowawayCluster

LAPSED_EVERY = 110
LAPSED = 5_994
SECTIONS = ("members", "members", "members", "registered", "affiliated")


def write_register(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            ("person_id", "section", "membership_number", "status", "joined", "registered")
        )
        for i in range(rows):
            section = SECTIONS[i % len(SECTIONS)]
            lapsed = i % LAPSED_EVERY == 0 and i // LAPSED_EVERY < LAPSED
            status = "lapsed" if lapsed else "active"
            joined = f"2015-{1 + i % 12:02d}-{1 + i % 28:02d}"
            registered = {
                "members": "",
                "registered": "2016-07-19T12:00:00+01:00",
                "affiliated": "2016-08-01",
            }[section]
            out.writerow((f"P{i:07d}", section, f"N{i:07d}", status, joined, registered))


def run(store: Store, folder: Path, register_csv: Path, import_only: bool = False) -> None:
    definition = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
    actor = "bench"
    record = election_service.create_election(
        store,
        definition,
        actor=actor,
        private_key_path=folder / f"{store.backend}.key",
        passphrase="bench",
        slug=f"bench-{store.backend}",
    )
    t0, c0 = time.perf_counter(), time.process_time()
    result = register_service.import_register(store, record.slug, register_csv, actor=actor)
    t1, c1 = time.perf_counter(), time.process_time()
    if import_only:
        print(
            f"{store.backend:10s} import {result.stored:,} rows ({result.eligible:,} eligible): "
            f"{t1 - t0:.2f} s ({c1 - c0:.2f} s CPU in this process)"
        )
        return
    register_service.freeze_register(store, record.slug, actor=actor)
    t2 = time.perf_counter()
    with store.begin() as conn:
        elections.advance(conn, record.id, ElectionState.NOMINATIONS_CLOSED, actor=actor)
    t3 = time.perf_counter()
    issued = credential_service.issue_credentials(
        store,
        record.slug,
        key_path=folder / f"{store.backend}.credkey",
        export_path=folder / f"{store.backend}-credentials.csv",
        actor=actor,
    )
    t4 = time.perf_counter()
    print(
        f"{store.backend:10s} import {result.stored:,} rows ({result.eligible:,} eligible): "
        f"{t1 - t0:.2f} s ({c1 - c0:.2f} s CPU in this process); freeze {t2 - t1:.2f} s; "
        f"issue {issued:,} credentials: {t4 - t3:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=660_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite"])
    parser.add_argument("--import-only", action="store_true", help="time the import alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        register_csv = folder / "register.csv"
        write_register(register_csv, args.rows)
        for backend in args.backends:
            if backend == "sqlite":
                with open_store(folder / "bench.db", upgrade=True) as store:
                    run(store, folder, register_csv, args.import_only)
            else:
                cluster = ThrowawayCluster().start()
                try:
                    with open_store(cluster.create_database("bench"), upgrade=True) as store:
                        run(store, folder, register_csv, args.import_only)
                finally:
                    cluster.stop()


if __name__ == "__main__":
    main()
