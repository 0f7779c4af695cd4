"""The booth in Welsh, end to end in Chromium: the voter follows the "Cymraeg" link, the
choice is remembered from page to page (lang="cy" on <html>), ranks with the Welsh controls,
reviews and casts; the receipt is in the public list. axe checks each Welsh page (WCAG 2.1
AA, which includes the page's language)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright
from public_election import open_election
from test_ballot_instructions import DEFINITION
from test_browser import CHROMIUM_FLAGS, WCAG, chromium_path

from tallyroom.store import Store
from tallyroom.web.settings import WebSettings

SLUG = "papur"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def _welsh_and_accessible(page: Page, axe: Axe, name: str) -> None:
    assert page.locator("html").get_attribute("lang") == "cy", name
    result = axe.run(page, options=WCAG)
    assert result.violations_count == 0, f"{name}: {result.generate_report()}"


def test_a_welsh_voter_casts_a_ballot(
    browser: Browser, live_server: str, store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    (secret,) = open_election(store, web_settings, tmp_path, SLUG, DEFINITION, 1)
    axe = Axe()
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(f"{live_server}/e/{SLUG}")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Cymraeg").click()
    expect(page.get_by_role("heading", name="Amserlen")).to_be_visible()
    _welsh_and_accessible(page, axe, "election page")

    page.get_by_role("link", name="Pleidleisio", exact=True).click()
    page.get_by_label("Eich cod pleidleisio").fill(secret)
    _welsh_and_accessible(page, axe, "credential page")
    page.get_by_role("button", name="Ymlaen i'ch papur pleidleisio").click()
    council = page.get_by_role("group", name="Council")
    expect(council).to_contain_text("Ethol 5; rhaid i o leiaf 2 fod yn women.")
    expect(council.get_by_text("Defnyddiwch Ychwanegu i roi ymgeiswyr")).to_be_visible()
    page.get_by_role("button", name="Ychwanegu Al fel dewis 1").click()
    page.get_by_role("button", name="Ychwanegu Di (women) fel dewis 2").click()
    page.get_by_role("button", name="Symud Di (women) i fyny").click()
    ranking = page.get_by_role("list", name="Eich rhestr ar gyfer Council")
    expect(ranking.get_by_role("listitem")).to_have_count(2)
    expect(ranking.get_by_role("listitem").first).to_contain_text("Di")
    page.get_by_label("Lu").check()
    _welsh_and_accessible(page, axe, "ballot")
    page.get_by_role("button", name="Adolygu eich papur pleidleisio").click()
    expect(page.get_by_role("region", name="Council").get_by_role("listitem")).to_have_text(
        ["Di", "Al"]
    )
    expect(page.get_by_role("region", name="Board")).to_contain_text(
        "Nid ydych yn pleidleisio yn yr etholiad hwn."
    )
    _welsh_and_accessible(page, axe, "review")
    page.get_by_role("button", name="Bwrw eich pleidlais").click()
    expect(page.get_by_role("heading", name="Mae eich pleidlais wedi'i bwrw")).to_be_visible()
    _welsh_and_accessible(page, axe, "receipt")
    codes = page.locator("code.receipt").all_inner_texts()
    assert len(codes) == 2 and all(re.fullmatch(r"[0-9a-f-]{64,}", c) for c in codes)

    page.get_by_role("link", name="rhestr gyhoeddus o dderbynebau").click()
    page.get_by_label("Chwilio am eich derbynneb").fill(codes[0])
    page.get_by_role("button", name="Chwilio", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Daethpwyd o hyd i'r dderbynneb")
    _welsh_and_accessible(page, axe, "receipts")
