"""The verifiable path on the web (issue 15, items 2 and 3) on SQLite and PostgreSQL: the
JSON cast and the booth encrypt (a receipt the board knows), no key is a 503 and stores
nothing, the board's page, receipt search, JSON Lines export and JSON API; hostile receipts
(non-hex, huge, SQL-ish, markup) are a clean 400, one not on the board a 404."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from test_app import SLUG as SEALED
from test_app import prepare
from verifiable_web import SLUG, prepare_verifiable

from tallyroom.services import polling
from tallyroom.services.board import check_board, extend_board
from tallyroom.store import Store
from tallyroom.store.schema import ballots
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

CHOICES = {"chair": ["Cat Cole", "Ann Ashe"], "treasurer": ["Eve Elm"]}


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_the_json_cast_encrypts_and_the_board_shows_the_receipt(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    secrets = prepare_verifiable(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    cast = client.post(
        f"/api/elections/{SLUG}/cast", json={"credential": secrets[0], "choices": CHOICES}
    )
    assert cast.status_code == 200, cast.text
    codes = {r["contest"]: r["code"] for r in cast.json()}
    chair = codes["chair"].replace("-", "")
    # not on the board until it is extended: a 404 that says to look again
    early = client.get(f"/e/{SLUG}/board", params={"receipt": codes["chair"]})
    assert early.status_code == 404 and "look again in a minute" in early.text
    assert client.get(f"/api/elections/{SLUG}/board", params={"receipt": chair}).status_code == 404
    head = extend_board(store, SLUG, actor="board")
    assert head.position == 2

    found = client.get(f"/api/elections/{SLUG}/board", params={"receipt": codes["chair"]})
    assert found.status_code == 200, found.text
    entry = found.json()["entry"]
    ballot = base64.b64decode(entry["ballot"])
    assert len(ballot) == 128 and hashlib.sha256(ballot).hexdigest() == chair
    assert entry["contest"] == "chair" and found.json()["head"]["hash"] == head.hash.hex()

    page = client.get(f"/e/{SLUG}/board", params={"receipt": chair.upper()})
    assert page.status_code == 200 and "at position" in page.text and codes["chair"] in page.text
    whole = client.get(f"/e/{SLUG}/board")
    assert whole.status_code == 200 and head.hash.hex() in whole.text
    assert codes["chair"] in whole.text and codes["treasurer"] in whole.text
    api = client.get(f"/api/elections/{SLUG}/board", params={"limit": 1}).json()
    assert api["head"]["position"] == 2 and len(api["entries"]) == 1
    assert api["next"] == f"/api/elections/{SLUG}/board?after=1&limit=1"
    assert len(client.get(api["next"]).json()["entries"]) == 1

    export = client.get(f"/e/{SLUG}/board.jsonl")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [line["position"] for line in lines] == [1, 2]
    assert lines[-1]["link"] == head.hash.hex()
    assert {line["receipt"] for line in lines} == {c.replace("-", "") for c in codes.values()}
    assert check_board(store, SLUG).ok


@pytest.mark.parametrize(
    "hostile",
    [
        "not-hex",
        "' OR 1=1 --",
        "0" * 63,
        "0" * 65,
        "g" * 64,
        "<script>alert(1)</script>",
        "f" * 60_000,
        "ﬀ" * 64,
        "",
    ],
)
def test_a_hostile_receipt_is_a_clean_400(
    store: Store, web_settings: WebSettings, tmp_path: Path, hostile: str
) -> None:
    prepare_verifiable(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    page = client.get(f"/e/{SLUG}/board", params={"receipt": hostile})
    assert page.status_code == 400
    assert "64 hexadecimal digits" in page.text and "<script>alert" not in page.text
    # a huge value is echoed neither in the message nor in the form (only the language
    # link carries the page's own address, as on every page)
    assert page.text.count("f" * 60_000) <= 1
    api = client.get(f"/api/elections/{SLUG}/board", params={"receipt": hostile})
    assert api.status_code == 400 and api.json()["error"] == "InputError"
    assert len(api.text) < 1_000


def test_a_receipt_not_on_the_board_is_a_404_and_another_election_is_not_found(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    prepare_verifiable(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    nowhere = "ab" * 32
    assert client.get(f"/e/{SLUG}/board", params={"receipt": nowhere}).status_code == 404
    api = client.get(f"/api/elections/{SLUG}/board", params={"receipt": nowhere})
    assert api.status_code == 404 and api.json()["found"] is False
    assert client.get("/e/no-such/board").status_code == 404
    assert client.get("/e/no-such/board.jsonl").status_code == 404
    assert client.get("/api/elections/no-such/board").status_code == 404
    assert client.get(f"/e/{SLUG}/board", params={"after": "-1"}).status_code == 422


def test_a_sealed_path_election_publishes_no_board(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    secrets = prepare(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    cast = client.post(
        f"/api/elections/{SEALED}/cast", json={"credential": secrets[0], "choices": CHOICES}
    )
    assert cast.status_code == 200, cast.text
    for path in (
        f"/e/{SEALED}/board",
        f"/e/{SEALED}/board.jsonl",
        f"/api/elections/{SEALED}/board",
    ):
        assert client.get(path).status_code == 404, path
    # and its ballots are sealed boxes, as before: not the verifiable path's 128 bytes
    with store.read() as conn:
        sizes = {len(bytes(b)) for (b,) in conn.execute(sa.select(ballots.c.sealed))}
    assert 128 not in sizes


def test_without_an_election_key_casting_is_a_503_and_stores_nothing(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    secrets = prepare_verifiable(store, web_settings, tmp_path, with_key=False)
    client = TestClient(create_app(web_settings))
    res = client.post(
        f"/api/elections/{SLUG}/cast", json={"credential": secrets[0], "choices": CHOICES}
    )
    assert res.status_code == 503 and res.json()["error"] == "ElectionKeyMissing", res.text
    # the booth says so as soon as the credential is entered, before the ballot is filled in
    start = client.get(f"/e/{SLUG}/vote")
    entered = client.post(
        f"/e/{SLUG}/vote", data={"credential": secrets[1], "csrf_token": _token(start.text)}
    )
    assert entered.status_code == 503 and "cannot take votes now" in entered.text
    # and a cast posted straight to the booth (no review) is refused the same way
    forged = client.post(
        f"/e/{SLUG}/vote/cast",
        data={
            "credential": secrets[1],
            "csrf_token": _token(entered.text),
            "ballot": json.dumps({"treasurer": ["Eve Elm"]}),
        },
    )
    assert forged.status_code == 503 and "cannot take votes now" in forged.text
    assert polling.turnout(store, SLUG)[0].total_cast == 0


def test_the_booth_without_script_casts_encrypted_and_links_to_the_board(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    secrets = prepare_verifiable(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    start = client.get(f"/e/{SLUG}/vote")
    review = client.post(
        f"/e/{SLUG}/vote/review",
        data={"credential": secrets[2], "csrf_token": _token(start.text), "c1": "0"},
    )
    ballot = re.search(r'name="ballot" value="([^"]+)"', review.text)
    assert ballot is not None, review.text
    receipt = client.post(
        f"/e/{SLUG}/vote/cast",
        data={
            "credential": secrets[2],
            "csrf_token": _token(review.text),
            "ballot": html.unescape(ballot.group(1)),
        },
    )
    assert receipt.status_code == 200, receipt.text
    assert "encrypted" in receipt.text and "Find your ballot on the board" in receipt.text
    link = re.search(r'href="(/e/[^"]+/board\?receipt=[0-9a-f]{64})"', receipt.text)
    assert link is not None
    extend_board(store, SLUG, actor="board")
    found = client.get(html.unescape(link.group(1)))
    assert found.status_code == 200 and "Your ballot is on the board" in found.text
