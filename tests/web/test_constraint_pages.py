"""Constraints on the web, on SQLite and PostgreSQL: the JSON ballot API carries them, the
booth states them ("Elect 3; at least 2 must be women.") and names each candidate's group,
a ballot breaking a ballot rule is sent back before review, and the results page says in
which round a constraint acted."""

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

SLUG = "committee"
DEFINITION = """\
[election]
name = "Committee ballot"
timezone = "Europe/London"

[timetable]
nominations_open = 2010-09-01T09:00:00+01:00
nominations_close = 2010-09-10T17:00:00+01:00
ballot_open = 2010-09-20T09:00:00+01:00
ballot_close = 2099-10-07T17:00:00+01:00

[[sections]]
name = "mps"
label = "MPs"
min_published_size = 0

[[contests]]
name = "committee"
title = "Committee"
rule = "block"
seats = 3
candidates = [
  { name = "Al" }, { name = "Bob" }, { name = "Cy" },
  { name = "Di", groups = ["women"] }, { name = "Eve", groups = ["women"] },
]
constraints = [{ group = "women", minimum = 2 }]
ballot_rules = [{ group = "women", at_least = 1 }]
"""


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_constraints_on_the_api_the_booth_and_the_results(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    path = tmp_path / "committee.toml"
    path.write_text(DEFINITION, encoding="utf-8")
    web_settings.data_dir.mkdir(parents=True, exist_ok=True)
    key_file = web_settings.private_key_file(SLUG)
    elections.create_election(
        store, path, actor="ro", private_key_path=key_file, passphrase=PASSPHRASE, slug=SLUG
    )
    people = tmp_path / "register.csv"
    people.write_text(
        "person_id,section,membership_number,status,joined,registered\n"
        + "".join(f"P{k},mps,N{k},active,2009-01-01,\n" for k in range(4)),
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
        secrets = [r["credential"] for r in csv.DictReader(f)]
    client = TestClient(create_app(web_settings))

    # the public election page says what is elected, under which constraints
    public = client.get(f"/e/{SLUG}")
    assert "Elect 3; at least 2 must be women; a valid ballot marks at least 1 women." in (
        public.text
    )

    # the JSON ballot API: the constraints as data and in words
    res = client.post(f"/api/elections/{SLUG}/ballot", json={"credential": secrets[0]})
    assert res.status_code == 200, res.text
    (contest,) = res.json()["contests"]
    assert contest["constraints"] == [
        {"group": "women", "minimum": 2, "maximum": None, "members": ["Di", "Eve"]}
    ]
    assert contest["ballot_rules"] == [
        {"group": "women", "at_least": 1, "at_most": None, "members": ["Di", "Eve"]}
    ]
    assert contest["requirements"] == [
        "at least 2 must be women",
        "a valid ballot marks at least 1 women",
    ]
    # a ballot breaking the ballot rule is refused by the API, naming the rule
    bad = client.post(
        f"/api/elections/{SLUG}/cast",
        json={"credential": secrets[0], "choices": {"committee": ["Al", "Bob", "Cy"]}},
    )
    assert bad.status_code == 422 and "marks at least 1 women" in bad.text

    # the booth: the paper says what is elected and who is in the group
    start = client.get(f"/e/{SLUG}/vote")
    page = client.post(
        f"/e/{SLUG}/vote", data={"credential": secrets[1], "csrf_token": _token(start.text)}
    )
    assert page.status_code == 200, page.text
    assert "Elect 3; at least 2 must be women; a valid ballot marks at least 1 women." in page.text
    assert "Di (women)" in page.text and "Al (" not in page.text
    men_only = {"credential": secrets[1], "csrf_token": _token(page.text), "c0": ["0", "1", "2"]}
    review = client.post(f"/e/{SLUG}/vote/review", data=men_only)
    assert review.status_code == 422
    assert "the ballot is not valid: a valid ballot marks at least 1 women; it marks 0" in (
        review.text
    )

    # cast through the API, close, declare: the results page names the round and what it did
    election = elections.get_election(store, SLUG)
    plan = [["Al", "Bob", "Di"], ["Al", "Cy", "Di"], ["Bob", "Cy", "Eve"]]
    for secret, choice in zip(secrets[1:], plan, strict=True):
        done = client.post(
            f"/api/elections/{SLUG}/cast",
            json={"credential": secret, "choices": {"committee": choice}},
        )
        assert done.status_code == 200, done.text
    polling.close_voting(store, SLUG, actor="ro")
    decl = declaring.declare(
        store, SLUG, private_key_file=key_file, passphrase=PASSPHRASE, actor="ro"
    )
    assert election.id == decl.election_id
    assert set(decl.contest("committee").winners) == {"Al", "Di", "Eve"}  # Bob and Cy: 2 each
    results = client.get(f"/e/{SLUG}/results")
    assert results.status_code == 200
    assert "Elect 3; at least 2 must be women; a valid ballot marks at least 1 women." in (
        results.text
    )
    assert "Round 1: block vote; at least 2 of 3 from women; passed over" in results.text
