"""Casting throughput through the service layer, durable commits, on SQLite and PostgreSQL.

An election on the bundled ``labour-2016`` definition gets a register of N voters, their
credentials, and an open poll; then ballots are cast through
:func:`tallyroom.services.voting.cast_ballots`, the path every voter takes (check the ranking,
hash the credential, seal the ballot to the returning officer's key with a libsodium sealed
box, insert with the unique constraints deciding a second ballot, commit, receipts):

* ``one voter a commit``: the web booth's path, one voter per durable transaction, from one
  client and from several threads (several booth requests at once);
* ``through the casting queue``: the booth's path in the web app: each request thread hands
  its voter to :class:`tallyroom.services.casting_queue.CastingQueue` and waits; voters
  waiting together share one durable commit (group commit);
* ``batches``: many voters per durable transaction (a busy server, a bulk import), each voter
  still all or nothing;
* ``box recomputed``: what ``tallyroom audit verify`` and the count spend on the ballot box
  (every ballot's receipt recomputed, the ballots' and casts' MuHash digests rebuilt from the
  rows and compared with the digest the casting transactions kept), in ballots a second.

Every casting transaction also multiplies the box's digest by what it inserted (one shard row
of ``ballot_box`` updated); the figures include that.

The floor measured in the same run, for the ratio: libsodium sealing alone, the one
cryptographic step per ballot (the most a cast could ever do on one core).

``--paths sealed verifiable`` (the default: both, in the same run) measures the same cases
on the verifiable path too: the same definition with a ``[verifiable]`` table, its election
key made by an in-process trustees' ceremony (three trustees, threshold two) and stored
before the poll opens; each ballot is then encoded, ElGamal-encrypted under the election key
with its proof of knowledge bound to the election and the contest, and its proof checked
before it is stored (services/ballot_encryption.py). Its floor is that encryption and check
alone on one core; the last table gives each case's verifiable rate as a share of the sealed
one.

Durable: SQLite in WAL with ``synchronous=FULL``; PostgreSQL with fsync and synchronous_commit
on. Run nothing else at the same time: with two cores, a second busy process skews each figure.

    .venv/bin/python benchmarks/bench_casting.py [--voters 60000] [--threads 4]
        [--batch 2000] [--backends sqlite postgresql] [--paths sealed verifiable]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from tallyroom.crypto import dkg
from tallyroom.crypto.ceremony_messages import ElectionKey
from tallyroom.crypto.sealing import ElectionKeys, seal_ballot
from tallyroom.election.definition import Candidate, Contest
from tallyroom.services import elections as election_service
from tallyroom.services import nominations, polling
from tallyroom.services import register as register_service
from tallyroom.services.ballot_encryption import CastingKey, encrypt_contest
from tallyroom.services.casting_queue import CastingQueue
from tallyroom.services.credentials import issue_credentials, load_or_create_key
from tallyroom.services.voting import CastRequest, cast_ballot, cast_ballots
from tallyroom.store import Store, ballots, elections, open_store
from tallyroom.store.pgcluster import ThrowawayCluster

CANDIDATES = ("Jeremy Corbyn", "Owen Smith")
QUEUE_CLIENTS = 64  # request threads at once, as a busy server's thread pool would have
SECTIONS = ("members", "registered", "affiliated")
NOMINATED_AT = datetime(2016, 7, 19, 12, tzinfo=UTC)
REGISTERED = {"members": "", "registered": "2016-07-19T12:00:00+01:00", "affiliated": "2016-08-01"}


@contextmanager
def backend_store(backend: str, folder: Path) -> Iterator[Store]:
    if backend == "sqlite":
        with open_store(folder / "bench.db", upgrade=True) as store:
            yield store
        return
    with (
        ThrowawayCluster(durable=True) as cluster,
        open_store(cluster.create_database("bench"), upgrade=True) as store,
    ):
        yield store


VERIFIABLE = """
[verifiable]
trustees = ["Corbyn campaign", "Smith campaign", "Scrutineer"]
threshold = 2
"""


def ceremony_key(election: str) -> ElectionKey:
    """The trustees' key ceremony run in memory (three trustees, threshold two)."""
    plan = dkg.Ceremony(election, trustees=3, threshold=2)
    step1 = [dkg.make_communication_key(plan, i) for i in (1, 2, 3)]
    dealt = [dkg.deal(plan, own, [k for _, k in step1]) for own, _ in step1]
    return dkg.election_key(plan, [c for _, c, _ in dealt])


def prepare(
    store: Store, folder: Path, voters: int, path: str = "sealed"
) -> tuple[int, list[str], Path]:
    """An open election of ``voters`` voters on ``path`` (sealed or verifiable): its id, the
    credentials, the key file."""
    register = folder / f"{store.backend}-register.csv"
    with register.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(
            ("person_id", "section", "membership_number", "status", "joined", "registered")
        )
        for i in range(voters):
            section = SECTIONS[i % 3]
            out.writerow((f"P{i:07d}", section, f"N{i:07d}", "active", "2015-03-01",
                          REGISTERED[section]))  # fmt: skip
    definition = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
    slug = f"bench-{store.backend}-{path}"
    if path == "verifiable":
        copy = folder / f"{slug}.toml"
        copy.write_text(definition.read_text(encoding="utf-8") + VERIFIABLE, encoding="utf-8")
        definition = copy
    record = election_service.create_election(
        store, definition, actor="bench", private_key_path=folder / f"{slug}.key",
        passphrase="bench", slug=slug,
    )  # fmt: skip
    register_service.import_register(store, slug, register, actor="bench")
    register_service.freeze_register(store, slug, actor="bench")
    for k in range(51):  # the challenger needs 51 of the 251 MPs and MEPs
        nominations.record_nomination(
            store, slug, "leader", CANDIDATES[1], f"MP {k}", actor="bench", at=NOMINATED_AT
        )
    ballot = nominations.close_nominations(store, slug, actor="bench")
    assert ballot["leader"] == CANDIDATES, ballot
    export = folder / f"{slug}-credentials.csv"
    key_path = folder / f"{slug}.credkey"
    issue_credentials(store, slug, key_path=key_path, export_path=export, actor="bench")
    if path == "verifiable":
        key = ceremony_key(slug)
        with store.begin() as conn:
            elections.set_election_key(
                conn, record.id, key.to_json(), public_key=bytes(key.public_key), actor="bench"
            )
    polling.open_voting(store, slug, actor="bench", now=datetime(2016, 8, 22, 9, tzinfo=UTC))
    with export.open(encoding="utf-8", newline="") as handle:
        credentials = [row["credential"] for row in csv.DictReader(handle)]
    return record.id, credentials, key_path


def ranking(i: int) -> list[str]:
    return [CANDIDATES[i % 2], CANDIDATES[1 - i % 2]] if i % 3 else [CANDIDATES[i % 2]]


def run_backend(
    backend: str, voters: int, threads: int, batch: int, path: str = "sealed"
) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="tallyroom-cast-") as tmp:
        folder = Path(tmp)
        with backend_store(backend, folder) as store:
            election_id, creds, key_path = prepare(store, folder, voters, path)
            key = load_or_create_key(key_path, create=False)
            quarter = voters // 4

            def one(i: int) -> None:
                cast_ballot(store, election_id, creds[i], {"leader": ranking(i)},
                            credential_key=key)  # fmt: skip

            start = time.perf_counter()
            for i in range(0, quarter // 4):
                one(i)
            rows.append(
                ("one voter a commit, 1 client", quarter // 4 / (time.perf_counter() - start))
            )
            start = time.perf_counter()
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(one, range(quarter // 4, quarter)))
            done = quarter - quarter // 4
            rows.append(
                (f"one voter a commit, {threads} threads", done / (time.perf_counter() - start))
            )

            start = time.perf_counter()
            queue = CastingQueue(store)
            try:
                with ThreadPoolExecutor(QUEUE_CLIENTS) as pool:
                    list(
                        pool.map(
                            lambda i: queue.cast(
                                election_id,
                                CastRequest(creds[i], {"leader": ranking(i)}),
                                credential_key=key,
                            ),
                            range(quarter, 2 * quarter),
                        )
                    )
            finally:
                queue.close()
            rate = quarter / (time.perf_counter() - start)
            rows.append((f"one voter a request, {QUEUE_CLIENTS} threads, casting queue", rate))

            start = time.perf_counter()
            for first in range(2 * quarter, voters, batch):
                requests = [
                    CastRequest(creds[i], {"leader": ranking(i)})
                    for i in range(first, min(first + batch, voters))
                ]
                for outcome in cast_ballots(store, election_id, requests, credential_key=key):
                    assert isinstance(outcome, list), outcome
            done = voters - 2 * quarter
            rows.append((f"batches of {batch:,}", done / (time.perf_counter() - start)))

            # what `audit verify` and the count spend on the box: every ballot and cast read,
            # its receipt recomputed, both multiset digests rebuilt from the rows
            start = time.perf_counter()
            with store.read() as conn:
                box_rows, _counts, bad = ballots.box_rows(conn, election_id)
                assert ballots.box_kept(conn, election_id) == box_rows and not bad
            rows.append(
                ("box recomputed from its rows (verify)", voters / (time.perf_counter() - start))
            )
    return rows


def seal_floor(n: int = 20_000) -> float:
    keys = ElectionKeys.generate()
    plaintext = b'{"contest":"leader","ranking":[0,1]}' + b" " * 40
    start = time.perf_counter()
    for _ in range(n):
        seal_ballot(keys.public, plaintext)
    return n / (time.perf_counter() - start)


def encrypt_floor(n: int = 5_000) -> float:
    """Encoding, encryption with its proof and the proof's check of one 2-candidate ranked
    ballot, one core (what the verifiable path does per ballot instead of sealing)."""
    key = ceremony_key("bench-floor")
    held = CastingKey(key.to_json(), key.public_key)
    contest = Contest(
        name="leader",
        title="Leader",
        rule="irv",
        seats=1,
        candidates=tuple(Candidate(name=n) for n in CANDIDATES),
        sections=SECTIONS,
    )
    start = time.perf_counter()
    for i in range(n):
        encrypt_contest(held, "bench-floor", contest, (i % 2, 1 - i % 2))
    return n / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--voters", type=int, default=60_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--paths", nargs="+", default=["sealed", "verifiable"], choices=["sealed", "verifiable"]
    )
    args = parser.parse_args(argv)
    floors = {"sealed": seal_floor(), "verifiable": encrypt_floor()}
    print(f"floor: libsodium sealed box, one core: {floors['sealed']:,.0f} ballots/s")
    print(
        "floor: encode, encrypt with proof, check the proof (verifiable), one core: "
        f"{floors['verifiable']:,.0f} ballots/s\n"
    )
    print("| backend | path | case | ballots/s | share of the path's floor |")
    print("|---|---|---|---:|---:|")
    rates: dict[tuple[str, str, str], float] = {}
    for backend in args.backends:
        for path in args.paths:
            for case, rate in run_backend(backend, args.voters, args.threads, args.batch, path):
                rates[backend, path, case] = rate
                share = rate / floors[path]
                print(f"| {backend} | {path} | {case} | {rate:,.0f} | {share:.0%} |", flush=True)
    if set(args.paths) == {"sealed", "verifiable"}:
        print("\n| backend | case | verifiable / sealed |")
        print("|---|---|---:|")
        for (backend, path, case), rate in rates.items():
            if path == "verifiable":
                print(f"| {backend} | {case} | {rate / rates[backend, 'sealed', case]:.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
