"""A branch secretary's set-up in a real browser (Chromium, Playwright) on SQLite and
PostgreSQL: an election created with the console's forms only (one refusal shown beside its
field on the way), a register whose columns have the branch's own names imported through the
preview and mapping, then freeze (confirmed), nominations closed, credentials issued and the
poll open; a member votes in the booth, the officer closes the poll, counts and declares, and
the results page states the rule, the quota and who was elected. Every page is checked with
axe-core (WCAG 2.1 A and AA) and screenshotted."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from playwright.sync_api import Browser, expect
from test_browser import Visit, browser, new_context, playwright  # noqa: F401 (fixtures)

from conftest import PASSWORD
from tallyroom.services.delivery import export_credentials
from tallyroom.store.engine import open_store
from tallyroom.web.settings import WebSettings

SLUG = "branch-2026"
REGISTER = (
    "Member ID,Branch,Membership No,Membership Status,Joined On\n"
    + "".join(f"P{i},members,M{i},active,2015-03-01\n" for i in range(1, 10))
    + "P99,members,M99,lapsed,2015-03-01\n"
)


def test_an_election_set_up_with_forms_reaches_an_open_poll(
    browser: Browser,  # noqa: F811
    live_server: str,
    web_settings: WebSettings,
    tmp_path: Path,
    request: object,
) -> None:
    backend = re.sub(r"\W", "", str(getattr(request, "node").callspec.id))  # noqa: B009
    visit = Visit(f"setup-{backend}")
    context = new_context(browser)
    page = context.new_page()
    base = live_server
    page.goto(f"{base}/console/sign-in")
    page.get_by_label("Username").fill("officer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Set up an election with forms").click()
    expect(page.get_by_role("heading", name="Set up a new election")).to_be_visible()
    visit.check(page, "setup-new")

    page.get_by_label("Short name (slug)").fill(SLUG)
    page.get_by_label("Name of the election").fill("Riverside branch committee 2026")
    page.get_by_label("Nominations open").fill("2026-01-02T09:00")
    page.get_by_label("Nominations close").fill("2026-01-09T17:00")
    page.get_by_label("Ballot opens").fill("2026-01-11T09:00")
    page.get_by_label("Ballot closes").fill("2099-01-20T17:00")
    page.get_by_label("Joined on or before (optional freeze date)").fill("2026-01-01")
    page.get_by_label("Contest name").fill("committee")
    page.get_by_label("Title on the ballot paper (optional)").fill("Branch committee")
    page.get_by_label("Counting rule").select_option("stv")
    page.get_by_label("Seats (only for rules that fill several)").fill("9")
    page.get_by_label(re.compile("^Candidates in ballot order")).fill(
        "Ann Lee | women\nBea Kaur | women\nCal Ode\nDee Ray\nEd Fox\n<script>alert(1)</script>"
    )
    page.get_by_label(re.compile("^Constraints")).fill("at least 2 women")
    # the verifiable path is offered first; left without trustees, it is refused beside them
    expect(page.get_by_label("Verifiable (recommended)")).to_be_checked()
    page.get_by_role("button", name="Create the draft election").click()
    # refused: each problem is beside its field, in words, and nothing was created
    expect(page.locator("#c0-seats-problems")).to_contain_text("more seats than candidates")
    expect(page.locator("#new-trustees-problems")).to_contain_text("trustees are needed")
    visit.check(page, "setup-refused")
    page.get_by_label("Seats (only for rules that fill several)").fill("5")
    # this branch keeps the sealed path: the officer's own key, under a passphrase
    page.get_by_label("Sealed", exact=True).check()
    page.get_by_label(re.compile("^Passphrase for the sealing key")).fill(
        "a long sealing passphrase"
    )
    page.get_by_role("button", name="Create the draft election").click()
    expect(
        page.get_by_role("heading", name="Set up: Riverside branch committee 2026")
    ).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Draft election branch-2026 created")
    visit.check(page, "setup-draft")

    page.get_by_role("link", name="Back to the election").click()
    register = tmp_path / "branch-register.csv"
    register.write_text(REGISTER, encoding="utf-8")
    page.get_by_label("Register file to preview (CSV or xlsx)").set_input_files(str(register))
    page.get_by_role("button", name="Preview and map the columns").click()
    expect(page.get_by_role("table", name=re.compile("^Header and first"))).to_contain_text(
        "Membership No"
    )
    expect(page.get_by_label("Membership number (required)")).to_have_value("Membership No")
    expect(page.get_by_role("status")).to_contain_text("10 entries are ready to import")
    visit.check(page, "register-preview")
    page.get_by_role("button", name="Import with this mapping").click()
    expect(page.get_by_role("status")).to_contain_text("Imported 10 entries, 9 eligible")
    page.get_by_role("link", name="Back to the election").click()

    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Freeze the register").click()
    page.get_by_role("button", name="Close nominations and fix the ballot papers").click()
    page.get_by_role("button", name="Issue credentials to every eligible member").click()
    expect(page.get_by_role("status")).to_contain_text("9 credentials issued")
    page.get_by_role("button", name="Open the poll").click()
    expect(page.get_by_text("State: Open")).to_be_visible()
    visit.check(page, "setup-open")
    public = context.new_page()
    public.goto(f"{base}/e/{SLUG}")
    expect(public.get_by_role("status")).to_contain_text("20 January 2099")

    # a member votes in the booth with the credential a mail house would have sent
    out = tmp_path / "mail-house.csv"
    with open_store(web_settings.database) as store:
        export_credentials(
            store, SLUG, key_path=web_settings.credential_key_file(SLUG), out=out, actor="ro"
        )
    with out.open(encoding="utf-8", newline="") as f:
        issued = {row["person_id"]: row["credential"] for row in csv.DictReader(f)}
    voter = new_context(browser)
    booth = voter.new_page()
    booth.goto(f"{base}/e/{SLUG}/vote")
    booth.get_by_label("Your voting credential").fill(issued["P1"])
    booth.get_by_role("button", name="Continue to your ballot").click()
    expect(booth.get_by_text("Elect 5")).to_be_visible()
    for name in ("Bea Kaur", "Cal Ode"):  # preferences 1 and 2
        booth.get_by_role("listitem").filter(has_text=name).get_by_role(
            "button", name=re.compile("^Add")
        ).click()
    booth.get_by_role("button", name="Review your ballot").click()
    booth.get_by_role("button", name="Cast your ballot").click()
    expect(booth.get_by_role("heading", name="Your ballot is cast")).to_be_visible()
    voter.close()

    # the officer closes the poll, counts and declares (each confirmed)
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Close the poll").click()
    expect(page.get_by_text("State: Closed")).to_be_visible()
    page.get_by_label("Passphrase of the sealing key").fill("a long sealing passphrase")
    page.get_by_label("Count and declare the result (publishes it)").check()
    page.get_by_label("To declare: I understand this cannot be undone").check()
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("State: Declared")).to_be_visible()
    visit.check(page, "setup-declared")

    results = context.new_page()
    results.goto(f"{base}/e/{SLUG}/results")
    expect(results.get_by_text("Elected:")).to_be_visible()
    expect(results.locator("body")).to_contain_text("Bea Kaur")
    expect(results.locator("body")).to_contain_text("quota")
    visit.check(results, "setup-results")
    context.close()
