"""The public receipts at the demo's scale (500,000 ballots, loaded through the bulk path):
every page under 1 MB, a look-up in milliseconds, pages that follow each other without a
gap or a repeat, and the whole list as a streamed CSV that holds every receipt once."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from conftest import DEFINITION
from tallyroom.services import elections as election_service
from tallyroom.store import ElectionState, Store, elections, open_store
from tallyroom.store.bulk import insert_rows
from tallyroom.store.schema import ballot_box, ballots
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

SLUG = "riverside"
BALLOTS = 500_000
MB = 1 << 20


def receipt(k: int) -> bytes:
    return hashlib.sha256(f"ballot {k}".encode()).digest()


def load_ballots(store: Store, election_id: int, n: int) -> None:
    """``n`` ballots straight into the box (the bulk path casting's transactions bypass),
    with the box's count kept as casting keeps it."""
    with store.begin() as conn:
        rows = (
            (hashlib.blake2b(b"%d" % k, digest_size=16).digest(), election_id,
             "chair" if k % 3 else "treasurer", b"sealed", receipt(k), "members")
            for k in range(n)
        )  # fmt: skip
        insert_rows(conn, ballots, ("id", "election_id", "contest", "sealed", "receipt",
                                    "section"), rows)  # fmt: skip
        conn.execute(
            ballot_box.update()
            .where(ballot_box.c.election_id == election_id)
            .where(ballot_box.c.shard == 0)
            .values(ballot_count=n)
        )


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("scale")
    store = open_store(folder / "big.db", upgrade=True)
    definition = folder / "riverside.toml"
    definition.write_text(DEFINITION, encoding="utf-8")
    record = election_service.create_election(
        store, definition, actor="ro", private_key_path=folder / "k.key",
        passphrase="a passphrase", slug=SLUG,
    )  # fmt: skip
    with store.begin() as conn:
        for state in list(ElectionState)[1:5]:  # to open
            elections.advance(conn, record.id, state, actor="ro")
    load_ballots(store, record.id, BALLOTS)
    store.close()
    settings = WebSettings(database=f"sqlite:///{folder / 'big.db'}", data_dir=folder / "data")
    yield TestClient(create_app(settings))


def test_each_page_is_small_and_the_pages_follow_each_other(big: TestClient) -> None:
    first = big.get(f"/e/{SLUG}/receipts")
    assert first.status_code == 200
    assert len(first.content) < MB
    assert "All receipts (500,000)" in first.text
    ordered = sorted(receipt(k) for k in range(BALLOTS))
    code = ordered[499].hex()
    shown = "-".join(code[i : i + 4] for i in range(0, 64, 4))
    assert f'href="/e/{SLUG}/receipts?after={shown}" rel="next"' in first.text
    second = big.get(f"/e/{SLUG}/receipts", params={"after": shown})
    assert len(second.content) < MB
    page_two = ordered[500].hex()
    assert "-".join(page_two[i : i + 4] for i in range(0, 64, 4)) in second.text
    assert shown not in second.text.split("<tbody>")[1]  # no repeat
    # deep in the list as fast as at the start (keyset, not OFFSET)
    deep = ordered[BALLOTS - 10].hex()
    began = time.perf_counter()
    last = big.get(f"/e/{SLUG}/receipts", params={"after": deep})
    assert time.perf_counter() - began < 1.0
    assert last.text.count("<tr><td>") == 9 and 'rel="next"' not in last.text
    assert big.get(f"/e/{SLUG}/receipts", params={"after": "nonsense"}).status_code == 422


def test_a_look_up_is_milliseconds_and_sends_no_list(big: TestClient) -> None:
    code = receipt(123_456).hex()
    big.get(f"/e/{SLUG}/receipts", params={"code": code})  # warm
    times = []
    for _ in range(5):
        began = time.perf_counter()
        found = big.get(f"/e/{SLUG}/receipts", params={"code": code.upper()})
        times.append(time.perf_counter() - began)
    assert "Receipt found" in found.text and "<tbody>" not in found.text
    assert len(found.content) < 20_000
    assert min(times) < 0.05, times
    missing = big.get(f"/e/{SLUG}/receipts", params={"code": receipt(BALLOTS + 1).hex()})
    assert "No ballot has this receipt" in missing.text
    api = big.get(f"/api/elections/{SLUG}/receipts/{code}").json()
    assert api["found"] and api["contest"] == "treasurer"


def test_the_look_up_and_the_pages_use_the_receipt_index(big: TestClient) -> None:
    url = big.app.state.web.settings.database  # type: ignore[attr-defined]
    code = receipt(1).hex()
    with open_store(url) as store, store.read() as conn:
        for sql in (
            f"SELECT contest FROM ballots WHERE receipt = X'{code}' AND election_id = 1",
            f"SELECT contest, receipt FROM ballots WHERE election_id = 1 AND receipt > X'{code}'"
            " ORDER BY receipt LIMIT 501",
        ):
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            # the unique index on the receipt, or (election_id, receipt) for a page
            assert "USING" in plan and "INDEX" in plan and "receipt" in plan, plan
            assert "TEMP B-TREE" not in plan, plan


def test_the_api_pages_and_the_download_streams_every_receipt(big: TestClient) -> None:
    page = big.get(f"/api/elections/{SLUG}/receipts", params={"limit": 1000}).json()
    assert len(page["receipts"]) == 1000 and page["total"] == BALLOTS
    following = big.get(page["next"]).json()
    assert following["receipts"][0]["code"] > page["receipts"][-1]["code"]
    lines = 0
    seen = hashlib.sha256()
    with big.stream("GET", f"/e/{SLUG}/receipts.csv") as response:
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        for text in response.iter_lines():
            if lines:
                seen.update(text.split(",")[1].replace("-", "").encode())
            lines += 1
    assert lines == BALLOTS + 1
    expected = hashlib.sha256()
    for r in sorted(receipt(k) for k in range(BALLOTS)):
        expected.update(r.hex().encode())
    assert seen.hexdigest() == expected.hexdigest()
