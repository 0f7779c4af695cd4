"""The ballot paper says what to do, in words from each contest's rule: "Elect 5", how to
number (STV, IRV) or mark (block vote: "Vote for up to 3", plurality: "Vote for one"), and
the contest's rules ("at least 2 must be women"). Without JavaScript it describes the numbered
choices; with JavaScript (Chromium) the Add / Up / Down / Remove controls that replace them,
and never both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect, sync_playwright
from public_election import open_election
from test_browser import CHROMIUM_FLAGS, chromium_path

from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

SLUG = "paper"
NUMBERED = "Number the candidates in order of preference: 1 for your first choice"
CONTROLS = "Use Add to put candidates in your order of preference"
DEFINITION = """\
[election]
name = "Paper ballot"
timezone = "Europe/London"

[timetable]
nominations_open = 2026-01-01T09:00:00+00:00
nominations_close = 2026-01-10T17:00:00+00:00
ballot_open = 2026-01-11T09:00:00+00:00
ballot_close = 2099-01-20T17:00:00+00:00

[[sections]]
name = "members"
label = "Members"

[[contests]]
name = "council"
title = "Council"
rule = "stv"
seats = 5
candidates = [
  { name = "Al" }, { name = "Bo" }, { name = "Cy" }, { name = "Di", groups = ["women"] },
  { name = "Em", groups = ["women"] }, { name = "Flo", groups = ["women"] }, { name = "Gil" },
]
constraints = [{ group = "women", minimum = 2 }]

[[contests]]
name = "board"
title = "Board"
rule = "block"
seats = 3
candidates = [{ name = "Hu" }, { name = "Ida" }, { name = "Jo" }, { name = "Kit" }]

[[contests]]
name = "chair"
title = "Chair"
rule = "plurality"
seats = 1
candidates = [{ name = "Lu" }, { name = "Mo" }]
"""


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.fixture
def secrets(store: Store, web_settings: WebSettings, tmp_path: Path) -> list[str]:
    return open_election(store, web_settings, tmp_path, SLUG, DEFINITION, 3)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def test_the_paper_says_what_to_do_without_javascript(
    web_settings: WebSettings, secrets: list[str]
) -> None:
    client = TestClient(create_app(web_settings))
    start = client.get(f"/e/{SLUG}/vote")
    page = client.post(
        f"/e/{SLUG}/vote", data={"credential": secrets[0], "csrf_token": _token(start.text)}
    )
    assert page.status_code == 200, page.text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "Elect 5; at least 2 must be women." in text
    assert NUMBERED in text and "You may number as many or as few as you like." in text
    assert "Elect 3." in text and "Vote for up to 3 candidates" in text
    assert "Elect 1." in text and "Vote for one candidate" in text
    # the script's version is in the page but hidden until the script shows it
    assert re.search(r'<span class="how-js" hidden>Use Add to put', page.text)
    assert 'href="/rules/stv"' in page.text and 'href="/rules/block"' in page.text


def test_with_javascript_the_paper_describes_the_controls(
    browser: Browser, live_server: str, secrets: list[str]
) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{live_server}/e/{SLUG}/vote")
    page.get_by_label("Your voting credential").fill(secrets[1])
    page.get_by_role("button", name="Continue to your ballot").click()
    council = page.get_by_role("group", name="Council")
    expect(council.get_by_text(CONTROLS)).to_be_visible()
    expect(council.get_by_text(NUMBERED)).to_be_hidden()
    expect(council).to_contain_text("Elect 5; at least 2 must be women.")
    expect(council.get_by_role("button", name="Add Al as preference 1")).to_be_visible()
    expect(page.get_by_role("group", name="Board")).to_contain_text("Vote for up to 3 candidates")
    expect(page.get_by_role("group", name="Chair")).to_contain_text("Vote for one candidate")
