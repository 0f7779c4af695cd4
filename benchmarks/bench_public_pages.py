"""The public pages at the demo's scale: size and time of the receipts and results pages.

Receipts: an election on the bundled ``labour-2016`` definition, open, with the demo's
507,480 ballots (506,438 cast online and 1,042 postal papers) loaded straight into the box
through the bulk path (``store/bulk.py``; sealing half a million ballots takes the demo
minutes and changes nothing here: a page reads receipts, never ballots), the box's count
kept as casting keeps it. Measured through the app in process (Starlette's test client):

* the first page, a page deep in the list (keyset: as fast as the first), a receipt looked
  up, one page of the JSON API, and the whole list downloaded as CSV (streamed);

Results: the same definition declared through the real path (register, nominations,
credentials, ballots sealed and cast, close, count, declare) with ``--voters`` voters. The
results page holds the declaration's figures, rounds and charts, not the ballots, so its size
does not grow with the electorate (a few digits per figure). ``--demo-dir`` measures the
pages of a folder ``tallyroom demo`` left instead (both pages, the demo's own store).

    .venv/bin/python benchmarks/bench_public_pages.py [--ballots 507480] [--voters 300]
        [--demo-dir tallyroom-demo]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from fastapi.testclient import TestClient

from tallyroom.election.lifecycle import ElectionState
from tallyroom.services import declaring, nominations, polling
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.services.credentials import issue_credentials, load_or_create_key
from tallyroom.services.voting import CastRequest, cast_ballots
from tallyroom.store import Store, elections, open_store
from tallyroom.store.bulk import insert_rows
from tallyroom.store.schema import ballot_box, ballots
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

DEFINITION = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
CANDIDATES = ("Jeremy Corbyn", "Owen Smith")
NOMINATED_AT = datetime(2016, 7, 19, 12, tzinfo=UTC)
CLOSED_AT = datetime(2016, 7, 20, 17, tzinfo=UTC)
MB = 1 << 20


def timed(get: Callable[[], bytes], runs: int = 5) -> tuple[int, float]:
    """The response's size and the median of ``runs`` requests, in seconds."""
    get()  # warm
    spent = []
    size = 0
    for _ in range(runs):
        began = time.perf_counter()
        size = len(get())
        spent.append(time.perf_counter() - began)
    return size, statistics.median(spent)


def receipts_store(folder: Path, n: int) -> tuple[str, str]:
    """A store with an open election and ``n`` ballots in its box; its URL and the slug."""
    url = f"sqlite:///{folder / 'receipts.db'}"
    slug = "receipts"
    with open_store(url, upgrade=True) as store:
        record = election_service.create_election(
            store, DEFINITION, actor="bench", private_key_path=folder / "receipts.key",
            passphrase="bench", slug=slug,
        )  # fmt: skip
        with store.begin() as conn:
            for state in list(ElectionState)[1:5]:
                elections.advance(conn, record.id, state, actor="bench")
        with store.begin() as conn:
            rows = (
                (hashlib.blake2b(b"%d" % k, digest_size=16).digest(), record.id, "leader",
                 b"sealed", hashlib.sha256(b"%d" % k).digest(), "members")
                for k in range(n)
            )  # fmt: skip
            insert_rows(conn, ballots, ("id", "election_id", "contest", "sealed", "receipt",
                                        "section"), rows)  # fmt: skip
            conn.execute(
                ballot_box.update()
                .where(ballot_box.c.election_id == record.id)
                .where(ballot_box.c.shard == 0)
                .values(ballot_count=n)
            )
    return url, slug


def declared_store(folder: Path, voters: int) -> tuple[str, str]:
    """A store with the definition declared through the real path; its URL and the slug."""
    url = f"sqlite:///{folder / 'declared.db'}"
    slug = "declared"
    register = folder / "register.csv"
    with register.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(("person_id", "section", "membership_number", "status", "joined",
                      "registered"))  # fmt: skip
        for i in range(voters):
            out.writerow((f"P{i:07d}", "members", f"N{i:07d}", "active", "2015-03-01", ""))
    with open_store(url, upgrade=True) as store:
        record = election_service.create_election(
            store, DEFINITION, actor="bench", private_key_path=folder / "declared.key",
            passphrase="bench", slug=slug,
        )  # fmt: skip
        register_service.import_register(store, slug, register, actor="bench")
        register_service.freeze_register(store, slug, actor="bench")
        for k in range(51):
            nominations.record_nomination(
                store, slug, "leader", CANDIDATES[1], f"MP {k}", actor="bench", at=NOMINATED_AT
            )
        nominations.close_nominations(store, slug, actor="bench", at=CLOSED_AT)
        export = folder / "credentials.csv"
        issue_credentials(
            store, slug, key_path=folder / "cred.key", export_path=export, actor="bench"
        )
        _open(store, slug)
        key = load_or_create_key(folder / "cred.key", create=False)
        with export.open(encoding="utf-8", newline="") as handle:
            secrets = [row["credential"] for row in csv.DictReader(handle)]
        requests = [
            CastRequest(s, {"leader": [CANDIDATES[i % 2], CANDIDATES[1 - i % 2]]})
            for i, s in enumerate(secrets)
        ]
        cast_ballots(store, record.id, requests, credential_key=key)
        polling.close_voting(store, slug, actor="bench")
        declaring.declare(
            store, slug, private_key_file=folder / "declared.key", passphrase="bench",
            actor="bench",
        )  # fmt: skip
    return url, slug


def _open(store: Store, slug: str) -> None:
    """Open the poll as of the timetable's opening (the 2016 timetable is in the past)."""
    record = election_service.get_election(store, slug)
    with store.begin() as conn:
        elections.advance(conn, record.id, ElectionState.OPEN, actor="bench")


def report_receipts(client: TestClient, receipts_slug: str) -> list[str]:
    lines = []

    def row(what: str, size: int, seconds: float) -> None:
        flag = "" if size < MB else "  OVER 1 MB"
        lines.append(f"{what:<44} {size / 1024:>9,.1f} KiB {seconds * 1000:>9,.1f} ms{flag}")

    first = client.get(f"/e/{receipts_slug}/receipts")
    row("receipts page, first", *timed(lambda: client.get(f"/e/{receipts_slug}/receipts").content))
    api = client.get(f"/api/elections/{receipts_slug}/receipts?limit=5000").json()
    last_code = api["receipts"][-1]["code"]
    row("receipts page, after 5,000", *timed(
        lambda: client.get(f"/e/{receipts_slug}/receipts", params={"after": last_code}).content
    ))  # fmt: skip
    # a real receipt about 99.6% of the way down (receipts are uniform hashes), so that the
    # page measured is a full page of 500, not the nearly empty last one
    deep = client.get(
        f"/api/elections/{receipts_slug}/receipts",
        params={"after": "ff" + "0" * 62, "limit": 1},
    ).json()["receipts"][0]["code"]
    row("receipts page, 99.6% of the way down", *timed(
        lambda: client.get(f"/e/{receipts_slug}/receipts", params={"after": deep}).content
    ))  # fmt: skip
    row("receipt look-up", *timed(
        lambda: client.get(f"/e/{receipts_slug}/receipts", params={"code": last_code}).content
    ))  # fmt: skip
    row("API receipts, one page of 500", *timed(
        lambda: client.get(f"/api/elections/{receipts_slug}/receipts").content
    ))  # fmt: skip
    row("API receipt look-up", *timed(
        lambda: client.get(f"/api/elections/{receipts_slug}/receipts/{last_code}").content
    ))  # fmt: skip
    began = time.perf_counter()
    size = 0
    with client.stream("GET", f"/e/{receipts_slug}/receipts.csv") as response:
        for chunk in response.iter_bytes():
            size += len(chunk)
    spent = time.perf_counter() - began
    lines.append(
        f"{'receipts.csv, every receipt (streamed)':<44} {size / MB:>9,.1f} MiB "
        f"{spent * 1000:>9,.1f} ms  (a download, not a page)"
    )
    assert first.status_code == 200
    return lines


def report_results(client: TestClient, slug: str) -> list[str]:
    out = []
    for what, path in (("results page", f"/e/{slug}/results"), ("election page", f"/e/{slug}"),
                       ("home page", "/")):  # fmt: skip
        size, seconds = timed(lambda path=path: client.get(path).content)  # type: ignore[misc]
        flag = "" if size < MB else "  OVER 1 MB"
        out.append(f"{what:<44} {size / 1024:>9,.1f} KiB {seconds * 1000:>9,.1f} ms{flag}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ballots", type=int, default=507_480)
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--demo-dir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.demo_dir is not None:
            url = f"sqlite:///{args.demo_dir / 'tallyroom.db'}"
            client = TestClient(create_app(WebSettings(database=url, data_dir=folder)))
            slug = "labour-leader-2016"
            lines = report_receipts(client, slug) + report_results(client, slug)
            built = "the demo's store"
        else:
            began = time.perf_counter()
            url, receipts_slug = receipts_store(folder, args.ballots)
            results_url, results_slug = declared_store(folder, args.voters)
            built = f"built in {time.perf_counter() - began:.1f} s"
            receipts = TestClient(create_app(WebSettings(database=url, data_dir=folder / "a")))
            results = TestClient(
                create_app(WebSettings(database=results_url, data_dir=folder / "b"))
            )
            lines = report_receipts(receipts, receipts_slug) + report_results(results, results_slug)
        print(f"public pages, {args.ballots:,} receipts ({built}); median of 5 requests")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
