"""Weighted votes on the web, on SQLite and PostgreSQL: the JSON ballot API gives the voter's
weight and which contests count it, the booth says it, ballots cast through the API carry
it, and the results page shows each candidate's votes and weight."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from fastapi.testclient import TestClient

from conftest import PASSPHRASE
from tallyroom.services import declaring, elections, nominations, polling, register
from tallyroom.services.credentials import issue_credentials
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

SLUG = "cards"
DEFINITION = """\
[election]
name = "Card vote"

[timetable]
nominations_open = 2026-09-01T09:00:00+01:00
nominations_close = 2026-09-10T17:00:00+01:00
ballot_open = 2026-09-20T09:00:00+01:00
ballot_close = 2099-10-07T17:00:00+01:00

[weights]
decimal_places = 1

[[sections]]
name = "branches"
min_published_size = 0

[[contests]]
name = "motion"
title = "Composite motion 4"
rule = "plurality"
candidates = [{ name = "For" }, { name = "Against" }]

[[contests]]
name = "teller"
rule = "plurality"
weighted = false
candidates = [{ name = "Ann" }, { name = "Bo" }]
"""

WEIGHTS = ["120.5", "40", "85.5"]


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_weights_on_the_api_the_booth_and_the_results(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    path = tmp_path / "cards.toml"
    path.write_text(DEFINITION, encoding="utf-8")
    web_settings.data_dir.mkdir(parents=True, exist_ok=True)
    key_file = web_settings.private_key_file(SLUG)
    elections.create_election(
        store, path, actor="ro", private_key_path=key_file, passphrase=PASSPHRASE, slug=SLUG
    )
    people = tmp_path / "register.csv"
    people.write_text(
        "person_id,section,membership_number,status,weight\n"
        + "".join(f"P{k},branches,N{k},active,{w}\n" for k, w in enumerate(WEIGHTS)),
        encoding="utf-8",
    )
    register.import_register(store, SLUG, people, actor="ro")
    register.freeze_register(store, SLUG, actor="ro")
    nominations.close_nominations(store, SLUG, actor="ro")
    export = web_settings.data_dir / f"{SLUG}-credentials.csv"
    issue_credentials(
        store, SLUG, key_path=web_settings.credential_key_file(SLUG), export_path=export, actor="ro"
    )
    polling.open_voting(store, SLUG, actor="ro")
    with export.open(encoding="utf-8") as f:
        secret = {r["person_id"]: r["credential"] for r in csv.DictReader(f)}
    client = TestClient(create_app(web_settings))

    res = client.post(f"/api/elections/{SLUG}/ballot", json={"credential": secret["P0"]})
    assert res.status_code == 200, res.text
    ballot = res.json()
    assert ballot["weight"] == "120.5"
    assert [(c["name"], c["weighted"]) for c in ballot["contests"]] == [
        ("motion", True),
        ("teller", False),
    ]

    start = client.get(f"/e/{SLUG}/vote")
    page = client.post(
        f"/e/{SLUG}/vote", data={"credential": secret["P1"], "csrf_token": _token(start.text)}
    )
    assert page.status_code == 200, page.text
    assert "Your vote counts with weight 40 in: Composite motion 4." in page.text

    # P0 (120.5) For; P1 (40) and P2 (85.5) Against: Against 40 + 85.5 = 125.5 to For's
    # 120.5, of 246.0. The teller is by heads: Ann 2, Bo 1.
    plan = {"P0": ("For", "Ann"), "P1": ("Against", "Bo"), "P2": ("Against", "Ann")}
    for person, (motion, teller) in plan.items():
        done = client.post(
            f"/api/elections/{SLUG}/cast",
            json={
                "credential": secret[person],
                "choices": {"motion": [motion], "teller": [teller]},
            },
        )
        assert done.status_code == 200, done.text
    polling.close_voting(store, SLUG, actor="ro")
    decl = declaring.declare(
        store, SLUG, private_key_file=key_file, passphrase=PASSPHRASE, actor="ro"
    )
    assert decl.contest("motion").winners == ("Against",)
    assert decl.contest("teller").winners == ("Ann",)
    results = client.get(f"/e/{SLUG}/results")
    assert results.status_code == 200
    text = re.sub(r"\s+", " ", results.text)
    # For: 1 ballot, 120.5 of 246.0 (49.0%); Against: 2 ballots, 125.5 (51.0%)
    assert '<td class="num">1</td><td class="num">33.3%</td><td class="num">120.5</td>' in text
    assert '<td class="num">125.5</td><td class="num">51.0%</td>' in text
    assert "Total weight of the valid ballots: 246.0." in text
