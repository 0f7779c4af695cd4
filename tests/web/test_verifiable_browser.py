"""A verifiable election's booth in Chromium (SQLite and PostgreSQL): a voter on a phone
ranks and casts with script, another without; each receipt page says the ballot is
encrypted and links each receipt to its board entry; once the board is extended the link
finds it, in English and in Welsh. axe checks the receipt and board pages (WCAG 2.1 AA)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright
from test_browser import CHROMIUM_FLAGS, PHONE, WCAG, chromium_path
from verifiable_web import SLUG, prepare_verifiable

from tallyroom.services.board import board_head, extend_board
from tallyroom.store import Store
from tallyroom.web.settings import WebSettings


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def _accessible(page: Page, axe: Axe, name: str) -> None:
    result = axe.run(page, options=WCAG)
    assert result.violations_count == 0, f"{name}: {result.generate_report()}"


def _credential(page: Page, base: str, secret: str) -> None:
    page.goto(f"{base}/e/{SLUG}/vote")
    page.get_by_label("Your voting credential").fill(secret)
    page.get_by_role("button", name="Continue to your ballot").click()


def test_a_voter_casts_encrypted_and_finds_the_ballot_on_the_board(
    browser: Browser, live_server: str, store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    secrets = prepare_verifiable(store, web_settings, tmp_path)
    axe = Axe()

    # with script, on a phone: the ranking control, then the receipt page
    phone = browser.new_context(viewport=PHONE, is_mobile=True)
    page = phone.new_page()
    _credential(page, live_server, secrets[0])
    page.get_by_role("button", name="Add Cat Cole as preference 1").click()
    page.get_by_role("button", name="Add Ann Ashe as preference 2").click()
    page.get_by_label("Eve Elm").check()
    page.get_by_role("button", name="Review your ballot").click()
    page.get_by_role("button", name="Cast your ballot").click()
    expect(page.get_by_role("heading", name="Your ballot is cast")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("encrypted")
    _accessible(page, axe, "receipt")
    codes = page.locator("code.receipt").all_inner_texts()
    assert len(codes) == 2 and all(re.fullmatch(r"[0-9a-f-]{79}", c) for c in codes)
    finds = page.get_by_role("link", name="Find your ballot on the board")
    expect(finds).to_have_count(2)

    # without script: plain numbered choices, the same receipt page
    plain = browser.new_context(java_script_enabled=False).new_page()
    _credential(plain, live_server, secrets[1])
    plain.get_by_label("Bob Birch").select_option("1")
    plain.get_by_role("button", name="Review your ballot").click()
    plain.get_by_role("button", name="Cast your ballot").click()
    expect(plain.get_by_role("heading", name="Your ballot is cast")).to_be_visible()
    expect(plain.get_by_role("link", name="Find your ballot on the board")).to_have_count(1)

    # before the board is extended the link says to look again; after, it finds the entry
    finds.first.click()
    expect(page.get_by_role("status")).to_contain_text("look again in a minute")
    extend_board(store, SLUG, actor="board")
    page.reload()
    expect(page.get_by_role("status")).to_contain_text("Your ballot is on the board")
    expect(page.locator("code.receipt")).to_have_text(codes[0])
    _accessible(page, axe, "board entry")
    page.get_by_role("link", name="The whole board").click()
    head = board_head(store, SLUG)
    assert head.position == 3
    expect(page.get_by_text(head.hash.hex())).to_be_visible()
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(4)  # header + 3
    _accessible(page, axe, "board")

    # in Welsh
    page.goto(f"{live_server}/language?to=cy&next=/e/{SLUG}/board")
    expect(page.get_by_role("heading", name="Y bwrdd pleidleisiau")).to_be_visible()
    page.get_by_label("Dewch o hyd i'ch pleidlais drwy ei derbynneb").fill(codes[1])
    page.get_by_role("button", name="Chwilio", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Mae eich pleidlais ar y bwrdd")
    assert page.locator("html").get_attribute("lang") == "cy"
    _accessible(page, axe, "board in Welsh")
    phone.close()
