"""A timetable that holds: the poll opened and closed on time by the server's schedule (the
same service calls, logged as scheduled), refused outside the timetable with the time, and
a close extended only later, with a reason, logged old and new, shown on the public page."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from test_app import SLUG, sign_in

from conftest import DEFINITION, PASSPHRASE, REGISTER
from tallyroom.cli.main import main
from tallyroom.errors import InputError, LifecycleError
from tallyroom.services import audit_log, elections, nominations, register
from tallyroom.services.credentials import issue_credentials
from tallyroom.services.polling import close_voting, open_voting
from tallyroom.services.timetable import Moment, extend, run_schedule
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

BALLOT_OPEN = datetime(2026, 1, 11, tzinfo=UTC)
BALLOT_CLOSE = datetime(2099, 1, 20, tzinfo=UTC)


def issued(store: Store, settings: WebSettings, tmp_path: Path) -> None:
    """The test election with its credentials issued, the poll not yet open."""
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
    issue_credentials(store, SLUG, key_path=settings.credential_key_file(SLUG), actor="ro")


def _state(store: Store) -> str:
    return elections.get_election(store, SLUG).state.value


def test_the_schedule_opens_and_closes_the_poll_on_time(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    issued(store, web_settings, tmp_path)
    early = datetime(2026, 1, 10, 23, 59, tzinfo=UTC)
    with pytest.raises(LifecycleError, match=r"before the timetable's ballot_open 2026-01-11"):
        open_voting(store, SLUG, actor="ro", now=early)
    assert run_schedule(store, early) == [] and _state(store) == "credentials_issued"
    steps = run_schedule(store, BALLOT_OPEN)
    assert [(s.slug, s.step) for s in steps] == [(SLUG, "open")] and _state(store) == "open"
    assert run_schedule(store, datetime(2099, 1, 19, tzinfo=UTC)) == []
    steps = run_schedule(store, BALLOT_CLOSE)
    assert [(s.slug, s.step) for s in steps] == [(SLUG, "close")] and _state(store) == "closed"
    events = [c.event for c in audit_log.audit_events(store, SLUG)]
    opened = next(e for e in events if e.action.value == "poll_open")
    closed = next(e for e in events if e.action.value == "poll_close")
    assert opened.actor == "schedule" and "scheduled: ballot_open" in opened.reason
    assert closed.actor == "schedule" and "scheduled: ballot_close 2099-01-20" in closed.reason


def test_the_server_runs_the_schedule(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    """The real thread in the app's lifespan opens a poll whose ballot_open has passed."""
    issued(store, web_settings, tmp_path)
    settings = WebSettings(
        database=web_settings.database,
        data_dir=web_settings.data_dir,
        session_secret=web_settings.session_secret,
        schedule_interval=1,
    )
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 15
        while _state(store) != "open" and time.monotonic() < deadline:
            time.sleep(0.1)
    assert _state(store) == "open"


def test_an_extension_is_later_logged_with_its_reason_and_shown(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    issued(store, web_settings, tmp_path)
    open_voting(store, SLUG, actor="ro")
    later = datetime(2099, 1, 22, 17, 0, tzinfo=UTC)
    with pytest.raises(InputError, match="needs a reason"):
        extend(store, SLUG, Moment.BALLOT_CLOSE, later, reason=" ", actor="ro")
    with pytest.raises(InputError, match="later than the current ballot_close"):
        extend(store, SLUG, Moment.BALLOT_CLOSE, BALLOT_CLOSE, reason="x", actor="ro")
    with pytest.raises(LifecycleError, match="nominations"):
        extend(store, SLUG, Moment.NOMINATIONS_CLOSE, later, reason="x", actor="ro")
    before = elections.get_election(store, SLUG).definition_sha256
    assert elections.get_election(store, SLUG).definition_sha256 == before  # refusals: no change

    client = TestClient(create_app(web_settings))
    sign_in(client)
    page = client.get(f"/console/e/{SLUG}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token and "Extend a closing time" in page
    res = client.post(
        f"/console/e/{SLUG}/extend",
        data={
            "csrf_token": token.group(1),
            "what": "ballot_close",
            "until": "2099-01-22T17:00",
            "reason": "postal strike",
        },
    )
    assert res.status_code == 200 and "Extended" in res.text
    event = [c.event for c in audit_log.audit_events(store, SLUG)][-1]
    assert event.action.value == "definition" and event.reason == "postal strike"
    change = json.loads(event.payload)["timetable"]
    assert change["ballot_close"] == {
        "old": "2099-01-20T00:00:00+00:00",
        "new": "2099-01-22T17:00:00+00:00",  # London is on GMT in January
    }
    public = client.get(f"/e/{SLUG}").text
    assert "22 January 2099, 17:00" in public
    assert audit_log.verify_log(store, SLUG).ok
    assert audit_log.verify_record(store, SLUG).ok  # the stored definition is the logged one

    close_voting(store, SLUG, actor="ro")
    res = client.post(
        f"/console/e/{SLUG}/extend",
        data={
            "csrf_token": token.group(1),
            "what": "ballot_close",
            "until": "2099-01-25T17:00",
            "reason": "too late",
        },
    )
    assert res.status_code == 409 and "cannot extend ballot_close" in res.text


def test_the_cli_extends_and_exits_non_zero_on_a_refusal(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    issued(store, web_settings, tmp_path)
    url = store.engine.url.render_as_string(hide_password=False)
    sel = ["--election", SLUG, "--db", url]
    runner = CliRunner()
    done = runner.invoke(
        main, ["election", "extend", *sel, "--until", "2099-01-19T12:00", "--reason", "x"]
    )
    assert done.exit_code == 2 and "later than the current ballot_close" in done.output
    done = runner.invoke(
        main, ["election", "extend", *sel, "--until", "2099-02-01T12:00", "--reason", "strike"]
    )
    assert done.exit_code == 0, done.output
    assert "ballot_close moved from 2099-01-20T00:00:00+00:00 to 2099-02-01T12:00:00" in done.output
