"""Delivery in a real browser: Debian's Chromium (Playwright) against the app under uvicorn,
a real SMTP server (aiosmtpd) and a real store (SQLite and PostgreSQL).

The returning officer opens the election's delivery page, clicks "Send credentials by
email" and follows the job's progress until it has finished; the report then shows every
message sent. A voter opens the link in the message they received (the credential in the
link's fragment), finds the credential filled in, and votes. The delivery page and the
job page are checked with axe-core (WCAG 2.1 A and AA).
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, expect
from test_browser import WCAG, browser, new_context, playwright  # noqa: F401 (fixtures)

from conftest import ARTEFACTS, PASSWORD, free_port
from delivery_election import SLUG, email_of, issued
from smtp_sink import Sink, smtp_sink
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

VOTERS = 6
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/e/coop/vote#credential=[0-9A-Z-]{27})")


@pytest.fixture
def running(
    store: Store, web_settings: WebSettings, officer: str
) -> Iterator[tuple[str, Sink, WebSettings]]:
    """The app under uvicorn whose public address is its own, sending to an SMTP sink."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with smtp_sink() as (sink, smtp_port):
        settings = dataclasses.replace(
            web_settings,
            smtp=f"smtp://127.0.0.1:{smtp_port}?starttls=never",
            mail_from="Returning Officer <ro@riverside.example>",
            public_url=base,
        )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        issued(store, settings.data_dir, VOTERS)
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the web server did not start"
            time.sleep(0.05)
        try:
            yield base, sink, settings
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def _check(page: object, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, f"{name}: {result.generate_report()}"


def test_the_officer_sends_and_a_voter_follows_the_link(
    browser: Browser,  # noqa: F811
    running: tuple[str, Sink, WebSettings],
    request: pytest.FixtureRequest,
) -> None:
    base, sink, _ = running
    folder = ARTEFACTS / f"delivery-{request.node.callspec.id}"
    folder.mkdir(parents=True, exist_ok=True)
    context = new_context(browser)
    page = context.new_page()
    page.goto(f"{base}/console")
    page.get_by_label("Username").fill("officer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/console/e/{SLUG}")
    page.get_by_role("link", name="Delivery").click()
    expect(page.get_by_role("heading", name=re.compile("^Delivery:"))).to_be_visible()
    expect(page.locator("#mail")).to_contain_text("smtp://127.0.0.1")
    _check(page, folder, "01-delivery")

    page.get_by_label("Messages a second (0: as fast as the server takes)").fill("2")
    page.get_by_role("button", name="Send credentials by email").click()
    expect(page.get_by_role("heading", name="Sending credentials")).to_be_visible()
    expect(page.locator("#job-status")).to_contain_text("Sending:")  # 3 seconds at 2 a second
    # the job's page follows the messages (by its script) until the job has finished
    expect(page.locator("#job-result")).to_contain_text(
        f"Finished: {VOTERS} sent, 0 failed", timeout=60_000
    )
    _check(page, folder, "02-job-done")
    assert sorted(rcpt for rcpt, _ in sink.received) == sorted(
        email_of(i) for i in range(1, VOTERS + 1)
    )
    page.get_by_role("link", name="Back to delivery").click()
    sent = page.locator('tr[data-figure="sent"] td').last
    expect(sent).to_have_text(str(VOTERS))
    page.goto(f"{base}/console/e/{SLUG}")
    page.get_by_role("button", name="Open the poll").click()
    expect(page.get_by_role("status")).to_contain_text("The poll is open")
    context.close()

    # a voter opens the link in their message: the credential is filled in from its fragment
    message = dict(sink.messages())[email_of(3)]
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found is not None and found.group(1).startswith(base)
    voter = new_context(browser)
    booth = voter.new_page()
    booth.goto(found.group(1))
    field = booth.get_by_label("Your voting credential")
    expect(field).to_have_value(found.group(1).split("=", 1)[1])
    assert "#credential" not in booth.url  # taken out of the address bar
    booth.get_by_role("button", name="Continue to your ballot").click()
    expect(booth.get_by_role("heading", name="Your ballot")).to_be_visible()
    booth.get_by_role("button", name="Add Bob Birch as preference 1").click()
    booth.get_by_role("button", name="Review your ballot").click()
    booth.get_by_role("button", name="Cast your ballot").click()
    expect(booth.get_by_role("heading", name="Your ballot is cast")).to_be_visible()
    voter.close()
