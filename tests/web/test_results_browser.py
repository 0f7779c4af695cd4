"""The results page in Chromium at 3, 8 and 30 candidates, on a desktop and a phone: no two
labels of the transfer chart meet (measured with getBoundingClientRect), the charts' heights
follow the candidates (8 candidates: the page well under the 4,548 px a review measured), and
the page passes axe's WCAG 2.1 AA checks. Without JavaScript the round-by-round table carries
the same figures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect, sync_playwright
from public_election import declared_election
from test_browser import CHROMIUM_FLAGS, DESKTOP, PHONE, WCAG, chromium_path

from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

SIZES = (3, 8, 30)
SANKEY = '.plot[data-figure^="transfers"]'
OVERLAPS = """() => {
  const labels = Array.from(document.querySelectorAll(
      'SANKEY .node-label, SANKEY .annotation-text'))
    .filter(t => t.textContent.trim())
    .map(t => {
      const r = t.getBoundingClientRect();
      return [r.left, r.top, r.right, r.bottom, t.textContent];
    });
  const met = [];
  for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) {
    const a = labels[i], b = labels[j];
    if (a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]) met.push([a[4], b[4]]);
  }
  return {labels: labels.length, met: met};
}""".replace("SANKEY", SANKEY)
HEIGHTS = "[...document.querySelectorAll('.plot')].map(p => p.getBoundingClientRect().height)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def test_transfer_charts_are_readable_at_any_size(
    browser: Browser,
    live_server: str,
    store: Store,
    web_settings: WebSettings,
    tmp_path: Path,
) -> None:
    client = TestClient(create_app(web_settings))
    for n in SIZES:
        declared_election(store, web_settings, client, tmp_path, f"c{n}", n, voters=30,
                          seats=max(1, n // 4))  # fmt: skip
    axe = Axe()
    for viewport in (DESKTOP, PHONE):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        for n in SIZES:
            page.goto(f"{live_server}/e/c{n}/results")
            expect(page.locator(".plot[data-drawn='true']").first).to_be_visible()
            if page.locator(SANKEY).count():
                expect(page.locator(SANKEY + "[data-drawn='true']")).to_be_visible()
            found = page.evaluate(OVERLAPS)
            assert found["met"] == [], f"{n} candidates, {viewport}: labels meet: {found['met']}"
            heights = page.evaluate(HEIGHTS)
            assert max(heights) <= 60 * n + 400, f"{n} candidates: charts {heights} px tall"
            if n == 8:
                assert found["labels"] >= 8  # the first and last columns are named
                tall = page.evaluate("document.documentElement.scrollHeight")
                if viewport is DESKTOP:  # the review's 4,548 px was on a desktop
                    assert tall < 3300, f"8 candidates: the page is {tall} px tall"
                result = axe.run(page, options=WCAG)
                assert result.violations_count == 0, result.generate_report()
        context.close()

    # in Welsh (the browser's language): the page, its charts' words, and axe again
    welsh = browser.new_context(viewport=DESKTOP, locale="cy-GB").new_page()
    welsh.goto(f"{live_server}/e/c8/results")
    expect(welsh.locator(SANKEY + "[data-drawn='true']")).to_be_visible()
    assert welsh.locator("html").get_attribute("lang") == "cy"
    expect(welsh.get_by_role("heading", name="Canlyniadau", exact=True)).to_be_visible()
    expect(welsh.locator(".plot").first).to_contain_text("Y rownd gyntaf")
    assert welsh.evaluate(OVERLAPS)["met"] == []
    result = axe.run(welsh, options=WCAG)
    assert result.violations_count == 0, result.generate_report()

    # without JavaScript: the tables, with every round's tallies, quota and exhausted ballots
    plain = browser.new_context(java_script_enabled=False).new_page()
    plain.goto(f"{live_server}/e/c8/results")
    table = plain.get_by_role("table", name="Votes for each candidate in each round of the count")
    expect(table).to_contain_text("Non-transferable (exhausted)")
    expect(table).to_contain_text("Quota")
