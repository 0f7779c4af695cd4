"""The public election page: the timetable in the election's time zone with what is past and
what is to come, how long the open poll has left, and each contest's rule, seats, constraints
and candidates (with their groups) as the ballot paper carries them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from public_election import open_election
from test_ballot_instructions import DEFINITION

from tallyroom.election import parse_definition
from tallyroom.election.lifecycle import ElectionState
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings
from tallyroom.web.timetable_view import poll_status, timetable_steps


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_timetable_says_what_is_past_and_what_is_left() -> None:
    definition = parse_definition(DEFINITION)
    now = datetime(2026, 1, 11, 12, tzinfo=UTC)
    steps = timetable_steps(definition, "en", now)
    assert [(s.key, s.past) for s in steps] == [
        ("nominations_open", True),
        ("nominations_close", True),
        ("ballot_open", True),
        ("ballot_close", False),
    ]
    assert steps[0].when == "Thursday 1 January 2026, 09:00 GMT"
    open_now = poll_status(definition, ElectionState.OPEN, "en", now)
    assert open_now is not None and open_now["closes_in"] == "in 73 years"
    assert poll_status(definition, ElectionState.CLOSED, "en", now) is None
    welsh = poll_status(definition, ElectionState.OPEN, "cy", now)
    assert welsh is not None and welsh["closes_in"].startswith("ymhen")


def test_the_election_page_shows_the_timetable_and_the_candidates(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    open_election(store, web_settings, tmp_path, "paper", DEFINITION, 2)
    client = TestClient(create_app(web_settings))
    page = client.get("/e/paper")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Times in the election's time zone (Europe/London)" in text
    assert "Nominations open Thursday 1 January 2026, 09:00 GMT past" in text
    assert "Voting closes Tuesday 20 January 2099, 17:00 GMT to come" in text
    assert re.search(r"Voting is open now: it closes in \d+ years \(Tuesday 20 January 2099", text)
    assert "Elect 5; at least 2 must be women." in text
    assert 'href="/rules/stv"' in page.text and "Single transferable vote:" in text
    assert "7 candidates, in ballot order:" in text
    assert "Di (women)" in text and "Al (" not in text
    assert "Elect 1." in text and "First past the post" in text
