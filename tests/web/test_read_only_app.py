"""The read-only app in process (``WebSettings.read_only``), on SQLite and PostgreSQL, against
a database that could be written: the public pages and the API's reads answer on read-only
connections; every write is a 503 naming where to vote; the booth and the console are sent to
the primary; nothing runs in the background; and a write path the guard does not know of is
refused by the connection, never written."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from test_app import SLUG, prepare

from conftest import PASSWORD
from tallyroom.election.roles import ConsoleRole
from tallyroom.services.elections import get_election
from tallyroom.services.users import create_user, list_users
from tallyroom.store import Store, ballots
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

CHOICES = {"chair": ["Cat Cole", "Ann Ashe"]}
PRIMARY = "https://vote.example.org"


def _casts(store: Store) -> int:
    with store.read() as conn:
        totals = ballots.totals(conn, get_election(store, SLUG).id)
    return max(t.casts for t in totals)


def _schedules() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "tallyroom-schedule"}


def test_public_reads_answer_and_writes_are_refused(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    secrets = prepare(store, web_settings, tmp_path)
    cast = TestClient(create_app(web_settings)).post(
        f"/api/elections/{SLUG}/cast", json={"credential": secrets[0], "choices": CHOICES}
    )
    assert cast.status_code == 200, cast.text
    code = cast.json()[0]["code"]

    settings = replace(web_settings, read_only=True, schedule_interval=1, board_every=1)
    before = _schedules()
    with TestClient(create_app(settings)) as client:
        # nothing in the background, although the settings ask for both
        assert _schedules() == before
        for path in (
            "/",
            f"/e/{SLUG}",
            f"/e/{SLUG}/receipts",
            f"/e/{SLUG}/receipts.csv",
            "/api/elections",
            f"/api/elections/{SLUG}",
            f"/api/elections/{SLUG}/receipts",
            "/api/docs",
            "/rules/irv",
        ):
            assert client.get(path).status_code == 200, path
        page = client.get(f"/e/{SLUG}/receipts", params={"code": code})
        assert page.status_code == 200 and code in page.text and "Receipt found" in page.text
        found = client.get(f"/api/elections/{SLUG}/receipts/{code}").json()
        assert found["found"] is True
        assert code in client.get(f"/e/{SLUG}/receipts.csv").text
        assert client.get(f"/api/elections/{SLUG}/results").status_code == 404  # not declared

        # writes: the JSON cast (the fast path), the booth's form, a sign-in, a sign-out
        refused = client.post(
            f"/api/elections/{SLUG}/cast", json={"credential": secrets[1], "choices": CHOICES}
        )
        assert refused.status_code == 503
        assert refused.json()["error"] == "ReadOnlyServer"
        assert "only serves the public pages" in refused.json()["message"]
        assert "main address" in refused.json()["message"]  # no primary_url given
        form = client.post(f"/e/{SLUG}/vote", data={"credential": secrets[1]})
        assert form.status_code == 503 and "only serves the public pages" in form.text
        session = client.post("/api/session", json={"username": "x", "password": PASSWORD})
        assert session.status_code == 503
        assert client.delete("/api/session").status_code == 503
        # the booth and the console lead to writes: without a primary to send them to, 503
        assert client.get(f"/e/{SLUG}/vote").status_code == 503
        assert client.get("/console", follow_redirects=False).status_code == 503

    # nothing was written: one cast, and the refused voter's credential still casts
    assert _casts(store) == 1
    again = TestClient(create_app(web_settings)).post(
        f"/api/elections/{SLUG}/cast", json={"credential": secrets[1], "choices": CHOICES}
    )
    assert again.status_code == 200, again.text


def test_the_booth_and_the_console_are_sent_to_the_primary(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    prepare(store, web_settings, tmp_path)
    settings = replace(web_settings, read_only=True, primary_url=PRIMARY + "/")
    client = TestClient(create_app(settings), follow_redirects=False)
    for path in (f"/e/{SLUG}/vote", "/console", "/console/sign-in?next=/console/e/x"):
        res = client.get(path)
        assert res.status_code == 307, path
        assert res.headers["location"] == PRIMARY + path
    refused = client.post(f"/api/elections/{SLUG}/cast", json={"credential": "x"})
    assert refused.status_code == 503 and PRIMARY in refused.json()["message"]
    # a page of another election's slug that merely starts like the booth is not moved
    assert client.get(f"/e/{SLUG}/voters").status_code == 404


def _with_a_missed_write(app: FastAPI) -> None:
    """Routes that write without the guard knowing: a GET, as a careless handler might."""

    def write() -> dict[str, str]:
        create_user(app.state.web.store, "intruder", PASSWORD, ConsoleRole.OBSERVER)
        return {"written": "yes"}

    app.add_api_route("/api/test/write", write, methods=["GET"])
    app.add_api_route("/test/write", write, methods=["GET"])


def test_a_write_path_the_guard_misses_is_refused_by_the_connection(
    store: Store, web_settings: WebSettings
) -> None:
    app = create_app(replace(web_settings, read_only=True))
    _with_a_missed_write(app)
    client = TestClient(app, raise_server_exceptions=False)
    api = client.get("/api/test/write")
    assert api.status_code == 503, api.text
    assert api.json()["error"] == "ReadOnlyServer"
    page = client.get("/test/write")
    assert page.status_code == 503 and "only serves the public pages" in page.text
    assert "intruder" not in {u.username for u in list_users(store)}

    # the same route on a writable server does write: the refusal above is the connection's
    writable = create_app(web_settings)
    _with_a_missed_write(writable)
    assert TestClient(writable).get("/api/test/write").status_code == 200
    assert "intruder" in {u.username for u in list_users(store)}


def test_a_normal_server_runs_its_schedule(web_settings: WebSettings) -> None:
    """The contrast to the read-only server's empty background (the check can fail)."""
    before = _schedules()
    with TestClient(create_app(replace(web_settings, schedule_interval=1))):
        assert len(_schedules() - before) == 1
