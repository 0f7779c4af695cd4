"""The app in process (Starlette's test client) on SQLite and PostgreSQL: the whole election
through the JSON API, the pages' guards, escaping, headers, CSRF and attempt limits."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import DEFINITION, PASSPHRASE, PASSWORD, REGISTER, XSS_NAME
from tallyroom.services import elections, nominations, register
from tallyroom.services.credentials import issue_credentials
from tallyroom.services.polling import open_voting
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

SLUG = "riverside"


def prepare(store: Store, settings: WebSettings, tmp_path: Path) -> list[str]:
    """An open election (through the services); the credentials as exported."""
    definition = tmp_path / "riverside.toml"
    definition.write_text(DEFINITION, encoding="utf-8")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    elections.create_election(
        store,
        definition,
        actor="ro",
        private_key_path=settings.private_key_file(SLUG),
        passphrase=PASSPHRASE,
        slug=SLUG,
    )
    members = tmp_path / "register.csv"
    members.write_text(REGISTER, encoding="utf-8")
    register.import_register(store, SLUG, members, actor="ro")
    register.freeze_register(store, SLUG, actor="ro")
    nominations.close_nominations(store, SLUG, actor="ro")
    export = settings.data_dir / f"{SLUG}-credentials.csv"
    issue_credentials(
        store, SLUG, key_path=settings.credential_key_file(SLUG), export_path=export, actor="ro"
    )
    open_voting(store, SLUG, actor="ro")
    with export.open(encoding="utf-8") as f:
        return [row[2] for row in list(csv.reader(f))[1:]]


def sign_in(client: TestClient, username: str = "officer") -> str:
    res = client.post("/api/session", json={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    token: str = res.json()["csrf_token"]
    return token


def test_election_through_the_api(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    secrets = prepare(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    assert client.get(f"/api/elections/{SLUG}/results").status_code == 404

    ballot = client.post(f"/api/elections/{SLUG}/ballot", json={"credential": secrets[0]})
    assert ballot.status_code == 200, ballot.text
    contests = {c["name"]: c for c in ballot.json()["contests"]}
    assert XSS_NAME in contests["chair"]["candidates"]

    choices = {"chair": ["Cat Cole", "Ann Ashe"], "treasurer": ["Eve Elm"]}
    cast = client.post(
        f"/api/elections/{SLUG}/cast", json={"credential": secrets[0], "choices": choices}
    )
    assert cast.status_code == 200, cast.text
    codes = [r["code"] for r in cast.json()]
    again = client.post(
        f"/api/elections/{SLUG}/cast", json={"credential": secrets[0], "choices": choices}
    )
    assert again.status_code == 409 and again.json()["error"] == "AlreadyCast"
    for k, secret in enumerate(secrets[1:6]):
        pick = ["Ann Ashe", "Bob Birch", XSS_NAME] if k % 2 else ["Bob Birch", "Cat Cole"]
        res = client.post(
            f"/api/elections/{SLUG}/cast",
            json={"credential": secret, "choices": {"chair": pick, "board": ["Fay Fox"]}},
        )
        assert res.status_code in (200, 422), res.text

    listed = client.get(f"/api/elections/{SLUG}/receipts").json()
    assert {r["code"] for r in listed["receipts"]} >= set(codes)
    assert listed["next"] is None and listed["total"] == len(listed["receipts"])
    # one at a time: the pages follow each other in code order, each code once
    paged, url = [], f"/api/elections/{SLUG}/receipts?limit=1"
    while url:
        got = client.get(url).json()
        paged += [r["code"] for r in got["receipts"]]
        url = got["next"]
    assert paged == sorted(r["code"] for r in listed["receipts"])
    found = client.get(f"/api/elections/{SLUG}/receipts/{codes[0]}").json()
    assert found["found"] and found["contest"] in ("chair", "treasurer")

    # the console: nothing without signing in; nothing changed without the CSRF token
    assert client.get(f"/api/elections/{SLUG}/turnout").status_code == 401
    token = sign_in(client)
    turnout = client.get(f"/api/elections/{SLUG}/turnout").json()
    assert sum(turnout[0]["cast"].values()) >= 1
    assert client.post(f"/api/elections/{SLUG}/close").status_code == 403
    closed = client.post(f"/api/elections/{SLUG}/close", headers={"X-CSRF-Token": token})
    assert closed.json()["state"] == "closed"
    assert client.get(f"/api/elections/{SLUG}/results").status_code == 404
    declared = client.post(
        f"/api/elections/{SLUG}/count",
        json={"passphrase": PASSPHRASE, "declare": True},
        headers={"X-CSRF-Token": token},
    )
    assert declared.status_code == 200, declared.text
    results = client.get(f"/api/elections/{SLUG}/results").json()
    chair = next(c for c in results["contests"] if c["contest"] == "chair")
    assert chair["report"]["results"]
    files = client.get(f"/api/elections/{SLUG}/results/files").json()
    assert {"results.json", "results.csv"} <= {f["name"] for f in files}

    page = client.get(f"/e/{SLUG}/results")
    assert page.status_code == 200
    assert XSS_NAME not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    audit = client.get(f"/api/elections/{SLUG}/audit").json()
    assert audit["verified"] and audit["events"]

    openapi = client.get("/openapi.json").json()
    assert "/api/elections/{slug}/cast" in openapi["paths"]


def test_scrutineer_reads_but_does_not_act(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    prepare(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    token = sign_in(client, "scrutineer")
    assert client.get(f"/api/elections/{SLUG}/turnout").status_code == 200
    res = client.post(f"/api/elections/{SLUG}/close", headers={"X-CSRF-Token": token})
    assert res.status_code == 403 and "returning officer" in res.json()["message"]
    page = client.get(f"/console/e/{SLUG}")
    assert page.status_code == 200 and "Close the poll" not in page.text


@pytest.mark.parametrize("path", ["/console", f"/console/e/{SLUG}", f"/console/e/{SLUG}/audit"])
def test_console_pages_need_a_sign_in(
    path: str, store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    prepare(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings), follow_redirects=False)
    res = client.get(path)
    assert res.status_code == 303 and res.headers["location"].startswith("/console/sign-in")


def test_headers_csrf_and_attempt_limits(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    prepare(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    page = client.get(f"/e/{SLUG}/vote")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    no_token = client.post(f"/e/{SLUG}/vote", data={"credential": "x", "csrf_token": "wrong"})
    assert no_token.status_code == 403 and "expired" in no_token.text
    wrong = "A" * 22
    for _ in range(web_settings.credential_attempts):
        res = client.post(f"/api/elections/{SLUG}/ballot", json={"credential": wrong})
        assert res.status_code == 403
    res = client.post(f"/api/elections/{SLUG}/ballot", json={"credential": wrong})
    assert res.status_code == 429 and "Retry-After" in res.headers


def test_every_setting_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "web.md").read_text(encoding="utf-8")
    for name, _help in WebSettings.described():
        assert f"| `{name}` |" in doc, f"docs/web.md does not list the setting {name!r}"
