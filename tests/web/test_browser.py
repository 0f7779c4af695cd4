"""The whole election in a real browser: Debian's Chromium driven by Playwright against the
app served by uvicorn on a real store (SQLite and PostgreSQL).

A returning officer signs in, creates the election from its definition file, imports the
register (following the import's progress), freezes it, closes nominations, issues
credentials and opens the poll. Voters cast: a ranked ballot with the accessible ranking
control on a 360-pixel phone screen, a ballot with JavaScript turned off (plain numbered
choices), a single choice and a multi-seat ballot; one tries to vote twice, one uses a
credential the officer revoked. The officer closes the poll, counts and declares; the
results page shows the totals, the round-by-round table and both charts drawn by plotly.

Every page visited is screenshotted into ``tests/web/artefacts/`` and checked with axe-core
(WCAG 2.1 A and AA rules): any violation fails the test.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from conftest import ARTEFACTS, DEFINITION, PASSPHRASE, PASSWORD, REGISTER, XSS_NAME
from tallyroom.services.delivery import export_credentials
from tallyroom.store import open_store
from tallyroom.web.settings import WebSettings

SLUG = "riverside"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
CHROMIUM_FLAGS = [
    "--no-sandbox",  # root in a container: Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",  # the network is closed: no calls home
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's Chromium (run.sh installs it); Playwright downloads no browser."""
    for candidate in (os.environ.get("TALLYROOM_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Chromium is needed for the browser tests: install Debian's 'chromium' package "
            "(bash run.sh test does) or set TALLYROOM_CHROMIUM",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
    try:
        yield browser
    finally:
        browser.close()


class Visit:
    """Screenshots and accessibility checks of each page the story reaches."""

    def __init__(self, backend: str) -> None:
        self.folder = ARTEFACTS / backend
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.axe = Axe()
        self.shots = 0

    def check(self, page: Page, name: str, *, scripts: bool = True) -> None:
        """Screenshot ``page``; with ``scripts`` (a context that runs JavaScript, as axe-core
        needs) check it with axe and for sideways scrolling."""
        self.shots += 1
        page.screenshot(path=str(self.folder / f"{self.shots:02d}-{name}.png"), full_page=True)
        if not scripts:
            return
        result = self.axe.run(page, options=WCAG)
        assert result.violations_count == 0, f"{name}: {result.generate_report()}"
        # nothing scrolls sideways, even on a phone
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the screen"


def new_context(browser: Browser, *, phone: bool = False, js: bool = True) -> BrowserContext:
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP, java_script_enabled=js, is_mobile=phone
    )
    context.set_default_timeout(15_000)
    return context


def set_up_election(page: Page, base: str, tmp_path: Path, visit: Visit) -> None:
    page.goto(f"{base}/console")
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    visit.check(page, "console-sign-in")
    page.get_by_label("Username").fill("officer")
    page.get_by_label("Password").fill("wrong password!!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Console", exact=True)).to_be_visible()

    definition = tmp_path / "riverside.toml"
    definition.write_text(DEFINITION, encoding="utf-8")
    page.get_by_label("Definition file (TOML)").set_input_files(str(definition))
    page.get_by_label("Short name (slug)").fill(SLUG)
    page.get_by_label("Passphrase for the sealing key").fill(PASSPHRASE)
    visit.check(page, "console-home")
    page.get_by_role("button", name="Create the election").click()
    expect(
        page.get_by_role("heading", name="Riverside Co-operative elections 2026")
    ).to_be_visible()
    visit.check(page, "console-election-draft")

    bad = tmp_path / "bad-register.csv"
    bad.write_text(REGISTER + "P50,members,M50,active,not a date,\n", encoding="utf-8")
    page.get_by_label("Register file (CSV or xlsx)").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was stored")
    expect(page.get_by_role("alert")).to_contain_text("not a date")
    visit.check(page, "console-import-refused")
    page.get_by_role("link", name="Back to the election").click()

    register = tmp_path / "register.csv"
    register.write_text(REGISTER, encoding="utf-8")
    page.get_by_label("Register file (CSV or xlsx)").set_input_files(str(register))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported 12 entries, 11 eligible")
    visit.check(page, "console-import-done")
    page.get_by_role("link", name="Back to the election").click()
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Freeze the register").click()
    page.get_by_role("button", name="Close nominations and fix the ballot papers").click()
    page.get_by_role("button", name="Issue credentials to every eligible member").click()
    expect(page.get_by_role("status")).to_contain_text("11 credentials issued")
    page.get_by_role("button", name="Open the poll").click()
    expect(page.get_by_text("State: Open")).to_be_visible()
    visit.check(page, "console-election-open")


def credentials(settings: WebSettings, folder: Path) -> dict[str, str]:
    """The credentials as a mail house would get them (derived from the delivery secret the
    console's issue left in the data folder): person id -> credential."""
    out = folder / "mail-house.csv"
    with open_store(settings.database) as store:
        export_credentials(
            store, SLUG, key_path=settings.credential_key_file(SLUG), out=out, actor="ro"
        )
    with out.open(encoding="utf-8", newline="") as f:
        return {row["person_id"]: row["credential"] for row in csv.DictReader(f)}


def enter_credential(page: Page, base: str, credential: str) -> None:
    page.goto(f"{base}/e/{SLUG}/vote")
    page.get_by_label("Your voting credential").fill(credential)
    page.get_by_role("button", name="Continue to your ballot").click()


def vote_ranked_on_a_phone(browser: Browser, base: str, credential: str, visit: Visit) -> str:
    context = new_context(browser, phone=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{base}/e/{SLUG}/vote")
    visit.check(page, "booth-credential-phone")
    enter_credential(page, base, credential)
    expect(page.get_by_role("heading", name="Your ballot")).to_be_visible()
    # the ranking control: add, then reorder, with buttons a screen reader names
    page.get_by_role("button", name="Add Cat Cole as preference 1").click()
    page.get_by_role("button", name=f"Add {XSS_NAME} as preference 2").click()
    page.get_by_role("button", name="Add Ann Ashe as preference 3").click()
    page.get_by_role("button", name="Move Ann Ashe up").click()
    ranking = page.get_by_role("list", name="Your ranking for Chair")
    expect(ranking.get_by_role("listitem")).to_have_count(3)
    expect(ranking.get_by_role("listitem").nth(1)).to_contain_text("Ann Ashe")
    page.get_by_label("Eve Elm").check()
    page.get_by_label("Fay Fox").check()
    page.get_by_label("Hal Hay").check()
    visit.check(page, "booth-ballot-phone")
    page.get_by_role("button", name="Review your ballot").click()
    chair = page.get_by_role("region", name="Chair", exact=True)
    expect(chair.get_by_role("listitem")).to_have_text(["Cat Cole", "Ann Ashe", XSS_NAME])
    visit.check(page, "booth-review-phone")
    page.get_by_role("button", name="Cast your ballot").click()
    expect(page.get_by_role("heading", name="Your ballot is cast")).to_be_visible()
    codes = page.locator("code.receipt").all_inner_texts()
    assert len(codes) == 3 and all(re.fullmatch(r"[0-9a-f-]{64,}", c) for c in codes)
    visit.check(page, "booth-receipt-phone")
    assert dialogs == [], "a candidate's name ran as a script"
    context.close()
    return codes[0]


def vote_without_javascript(browser: Browser, base: str, credential: str, visit: Visit) -> None:
    context = new_context(browser, js=False)
    page = context.new_page()
    enter_credential(page, base, credential)
    page.get_by_label("Bob Birch").select_option("1")
    page.get_by_label("Ann Ashe").select_option("2")
    page.get_by_label("Gus Gill").check()
    visit.check(page, "booth-ballot-no-javascript", scripts=False)
    page.get_by_role("button", name="Review your ballot").click()
    expect(page.get_by_role("region", name="Chair").get_by_role("listitem")).to_have_text(
        ["Bob Birch", "Ann Ashe"]
    )
    page.get_by_role("button", name="Cast your ballot").click()
    expect(page.get_by_role("heading", name="Your ballot is cast")).to_be_visible()
    context.close()


def refused(
    browser: Browser, base: str, credential: str, title: str, visit: Visit, name: str
) -> None:
    context = new_context(browser)
    page = context.new_page()
    enter_credential(page, base, credential)
    expect(page.get_by_role("alert")).to_contain_text(title)
    visit.check(page, name)
    context.close()


def test_an_election_in_the_browser(
    browser: Browser,
    live_server: str,
    web_settings: WebSettings,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    visit = Visit(request.node.callspec.params["store"])
    base = live_server
    officer = new_context(browser)
    console = officer.new_page()
    set_up_election(console, base, tmp_path, visit)
    issued = credentials(web_settings, tmp_path)
    assert len(issued) == 11

    page = officer.new_page()
    page.goto(f"{base}/e/{SLUG}/results")
    expect(page.get_by_role("status")).to_contain_text("No result has been declared")

    receipt = vote_ranked_on_a_phone(browser, base, issued["P1"], visit)
    vote_without_javascript(browser, base, issued["P2"], visit)
    refused(browser, base, issued["P1"], "already been used", visit, "booth-used-credential")

    # a member (staff section) votes only in the contests of their section, following the
    # link in their email: the credential comes in the fragment, which no server sees
    context = new_context(browser)
    staff = context.new_page()
    requested: list[str] = []
    staff.on("request", lambda r: requested.append(r.url))
    staff.goto(f"{base}/e/{SLUG}/vote#credential={issued['S1']}")
    expect(staff.get_by_label("Your voting credential")).to_have_value(issued["S1"])
    assert "#" not in staff.url  # taken out of the address bar and the history
    assert not any(issued["S1"] in url for url in requested)
    staff.get_by_role("button", name="Continue to your ballot").click()
    expect(staff.get_by_text("Treasurer")).to_have_count(0)
    staff.get_by_role("button", name="Add Ann Ashe as preference 1").click()
    staff.get_by_role("button", name="Review your ballot").click()
    staff.get_by_role("button", name="Cast your ballot").click()
    expect(staff.get_by_role("heading", name="Your ballot is cast")).to_be_visible()
    context.close()

    # the officer revokes a credential; it no longer works
    revoke = console.locator("form", has=console.get_by_role("button", name="Revoke"))
    revoke.get_by_label("Credential").fill(issued["P3"])
    revoke.get_by_label("Reason").fill("reported stolen")
    revoke.get_by_role("button", name="Revoke").click()
    expect(console.get_by_role("status")).to_contain_text("revoked")
    refused(browser, base, issued["P3"], "not valid", visit, "booth-revoked-credential")

    # live turnout, never partial results
    console.reload()
    expect(console.get_by_role("table", name=re.compile(r"^chair: 3 of 11"))).to_be_visible()

    # the receipt is in the public list
    page.goto(f"{base}/e/{SLUG}/receipts")
    page.get_by_label("Look up your receipt").fill(receipt)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("status")).to_contain_text("Receipt found")
    visit.check(page, "receipts")

    console.get_by_label("I understand this cannot be undone").check()
    console.get_by_role("button", name="Close the poll").click()
    expect(console.get_by_text("State: Closed")).to_be_visible()
    refused(browser, base, issued["P4"], "closed", visit, "booth-closed")
    console.get_by_label("Passphrase of the sealing key").fill(PASSPHRASE)
    console.get_by_label("Count and declare the result (publishes it)").check()
    console.get_by_label("To declare: I understand this cannot be undone").check()
    console.get_by_role("button", name="Run").click()
    expect(console.get_by_text("State: Declared")).to_be_visible()
    visit.check(console, "console-declared")

    results = new_context(browser)
    page = results.new_page()
    page.goto(f"{base}/e/{SLUG}/results")
    expect(page.get_by_role("heading", name=re.compile("Results"))).to_be_visible()
    chair = page.get_by_role("region", name="Chair", exact=True)
    expect(chair.get_by_role("table").first).to_contain_text("Ann Ashe")
    expect(chair).to_contain_text(XSS_NAME)  # shown as text
    drawn = page.locator(".plot[data-drawn='true']")
    expect(drawn.first).to_be_visible()
    assert drawn.count() >= 2, "the rounds chart and the transfers chart are drawn"
    assert page.locator(".plot[data-drawn='true'] svg").count() >= 2
    # the chart's labels are text: the hostile name is drawn as typed, never as markup
    chart_text = " ".join(page.locator(".plot[data-drawn='true'] svg").all_text_contents())
    assert XSS_NAME in chart_text
    assert page.locator(".plot svg a").count() == 0
    visit.check(page, "results")
    phone = new_context(browser, phone=True).new_page()
    phone.goto(f"{base}/e/{SLUG}/results")
    expect(phone.locator(".plot[data-drawn='true']").first).to_be_visible()
    visit.check(phone, "results-phone")
    page.get_by_role("link", name="results.json").click()
    results.close()
    officer.close()
