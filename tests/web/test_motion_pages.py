"""Motions on the web and the postal path, on SQLite and PostgreSQL: the JSON ballot API
carries each motion's question and answers, the booth shows them as radio buttons, hostile
answers (two answers, an answer the paper does not offer) are refused by the API with a clear
error and spoil a postal paper, storing nothing else; the unit is stored with the ballot of a
contest counted by unit only; the results page and the console say CARRIED or NOT CARRIED,
why, and each unit's outcome with the small units suppressed."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import PASSPHRASE, PASSWORD
from tallyroom.services import audit_log, declaring, elections, nominations, polling, register
from tallyroom.services.credentials import issue_credentials, load_or_create_key
from tallyroom.services.voting import import_postal_batch
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

SLUG = "motions"
DEFINITION = """\
[election]
name = "Spring ballot"
timezone = "Europe/London"

[timetable]
nominations_open = 2025-03-01T09:00:00+00:00
nominations_close = 2025-03-01T10:00:00+00:00
ballot_open = 2025-03-03T09:00:00+00:00
ballot_close = 2099-03-24T12:00:00+00:00

[[sections]]
name = "members"
label = "Members"
min_published_size = 3

[[contests]]
name = "rule-change"
title = "Rule change 4.2"

[contests.motion]
question = "Should rule 4.2 be amended?"
choices = "for-against-abstain"
threshold = "two-thirds"

[[contests]]
name = "trigger"
title = "Trigger ballot"
rule = "motion"

[contests.motion]
question = "Should there be an open selection?"
threshold = "majority"

[contests.units]
[[contests.units.groups]]
name = "branches"
label = "Branches"
sections = ["members"]
share = "1/2"
"""

# person: unit (North: 5 members, South: 4, East: 2)
UNITS = ["North"] * 5 + ["South"] * 4 + ["East"] * 2


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_motions_through_the_api_the_booth_the_post_and_the_results(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    path = tmp_path / "motions.toml"
    path.write_text(DEFINITION, encoding="utf-8")
    web_settings.data_dir.mkdir(parents=True, exist_ok=True)
    key_file = web_settings.private_key_file(SLUG)
    elections.create_election(
        store, path, actor="ro", private_key_path=key_file, passphrase=PASSPHRASE, slug=SLUG
    )
    people = tmp_path / "register.csv"
    people.write_text(
        "person_id,section,membership_number,status,unit\n"
        + "".join(f"P{k},members,N{k},active,{u}\n" for k, u in enumerate(UNITS)),
        encoding="utf-8",
    )
    register.import_register(store, SLUG, people, actor="ro")
    register.freeze_register(store, SLUG, actor="ro")
    nominations.close_nominations(store, SLUG, actor="ro")
    export = web_settings.data_dir / f"{SLUG}-credentials.csv"
    cred_key = web_settings.credential_key_file(SLUG)
    issue_credentials(store, SLUG, key_path=cred_key, export_path=export, actor="ro")
    polling.open_voting(store, SLUG, actor="ro")
    with export.open(encoding="utf-8") as f:
        secret = {r["person_id"]: r["credential"] for r in csv.DictReader(f)}
    client = TestClient(create_app(web_settings))

    # the JSON ballot API: each motion's question, answers and rule
    res = client.post(f"/api/elections/{SLUG}/ballot", json={"credential": secret["P0"]})
    assert res.status_code == 200, res.text
    contests = {c["name"]: c for c in res.json()["contests"]}
    assert contests["rule-change"]["motion"] == {
        "question": "Should rule 4.2 be amended?",
        "choices": ["For", "Against", "Abstain"],
        "decided_by": "at least two thirds of the votes for and against",
    }
    assert contests["rule-change"]["candidates"] == ["For", "Against", "Abstain"]
    assert contests["trigger"]["motion"]["choices"] == ["Yes", "No"]

    # hostile answers through the API: refused, naming the contest and the answer
    for choices, said in (
        ({"rule-change": ["For", "Against"]}, "a motion takes exactly one answer"),
        ({"rule-change": ["Maybe"]}, "not an answer to this motion"),
        ({"trigger": ["Yes", "Yes"]}, "a motion takes exactly one answer"),
        ({"trigger": ["For"]}, "not an answer to this motion"),
        ({"trigger": []}, "marks no candidate"),
    ):
        bad = client.post(
            f"/api/elections/{SLUG}/cast", json={"credential": secret["P0"], "choices": choices}
        )
        assert bad.status_code == 422 and said in bad.text, (choices, bad.text)
    # an unknown credential casting in the contest counted by unit is refused as anywhere
    stranger = client.post(
        f"/api/elections/{SLUG}/cast",
        json={"credential": "ABCD-EFGH-JKMN-PQRS-TVWX-YZ", "choices": {"trigger": ["Yes"]}},
    )
    assert stranger.status_code in (401, 403, 422), stranger.text
    assert polling.turnout(store, SLUG)[0].total_cast == 0  # nothing was stored

    # the booth: the question, the rule, one radio button per answer
    start = client.get(f"/e/{SLUG}/vote")
    page = client.post(
        f"/e/{SLUG}/vote", data={"credential": secret["P1"], "csrf_token": _token(start.text)}
    )
    assert page.status_code == 200, page.text
    assert "Should rule 4.2 be amended?" in page.text
    assert "Decided by at least two thirds of the votes for and against." in page.text
    assert len(re.findall(r'type="radio" id="c0-\d" name="c0"', page.text)) == 3
    assert len(re.findall(r'type="radio" id="c1-\d" name="c1"', page.text)) == 2
    # two answers posted by hand (a forged form) are sent back
    forged = {"credential": secret["P1"], "csrf_token": _token(page.text), "c0": ["0", "1"]}
    review = client.post(f"/e/{SLUG}/vote/review", data=forged)
    assert review.status_code == 422 and "choose at most 1 answer" in review.text
    # one answer each, reviewed and cast through the booth (no script): P1 votes For and Yes
    chosen = {"credential": secret["P1"], "csrf_token": _token(review.text), "c0": "0", "c1": "0"}
    review = client.post(f"/e/{SLUG}/vote/review", data=chosen)
    assert review.status_code == 200, review.text
    found = re.search(r'name="ballot" value="([^"]+)"', review.text)
    assert found is not None
    receipt = client.post(
        f"/e/{SLUG}/vote/cast",
        data={
            "credential": secret["P1"],
            "csrf_token": _token(review.text),
            "ballot": html.unescape(found.group(1)),
        },
    )
    assert receipt.status_code == 200 and "Rule change 4.2" in receipt.text, receipt.text

    # North: 4 yes of 5; South: 1 yes, 2 no; East: 2 yes (suppressed: fewer than 3)
    votes = {
        "P0": ("For", "Yes"), "P2": ("For", "Yes"), "P3": ("Against", "Yes"),
        "P5": ("For", "Yes"), "P6": ("Abstain", "No"), "P7": ("Against", "No"),
        "P9": ("For", "Yes"),
    }  # fmt: skip
    for person, (rule_change, trigger) in votes.items():
        done = client.post(
            f"/api/elections/{SLUG}/cast",
            json={
                "credential": secret[person],
                "choices": {"rule-change": [rule_change], "trigger": [trigger]},
            },
        )
        assert done.status_code == 200, done.text

    # the post: two answers or an unknown answer spoil the paper in that contest
    papers = tmp_path / "papers.csv"
    papers.write_text(
        "credential,rule-change,trigger\n"
        f"{secret['P4']},For>Against,Yes\n"
        f"{secret['P8']},Maybe,Yes>No\n"
        f"{secret['P10']},For,Yes\n"
        "ABCD-EFGH-JKMN-PQRS-TVWX-YZ,For,Yes\n",  # no such credential: spoilt in both
        encoding="utf-8",
    )
    key = load_or_create_key(cred_key, create=False)
    election = elections.get_election(store, SLUG)
    result = import_postal_batch(
        store, election.id, papers, label="post", credential_key=key, actor="ro"
    )
    assert (result.papers, result.cast) == (4, 3)
    assert result.spoilt == {
        "rule-change": {"invalid_marks": 2, "unreadable_credential": 1},
        "trigger": {"invalid_marks": 1, "unreadable_credential": 1},
    }

    # the unit is stored with the ballots of the contest counted by unit, and only those
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT contest, unit FROM ballots")).all()
    assert {u for c, u in rows if c == "rule-change"} == {None}
    with store.engine.connect() as conn:
        restore = [
            u
            for (u,) in conn.execute(
                sa.text("SELECT unit FROM ballots WHERE contest = 'trigger' ORDER BY receipt")
            )
        ]
    # (P8's spoilt trigger paper is a sealed spoilt ballot in the box, with its unit)
    assert sorted(u for c, u in rows if c == "trigger") == sorted(
        ["North"] * 5 + ["South"] * 4 + ["East"] * 2
    )

    polling.close_voting(store, SLUG, actor="ro")
    # a database writer who moves South's ballots to East (to flip a unit's outcome) is
    # caught: the unit is part of what the ballot box's digest commits to
    assert audit_log.verify_record(store, SLUG).ok
    with store.begin() as conn:
        conn.execute(sa.text("UPDATE ballots SET unit = 'East' WHERE unit = 'South'"))
    assert "box-ballots" in {c.value for c in audit_log.verify_record(store, SLUG).failed_checks}
    with store.begin() as conn:
        conn.execute(sa.text("UPDATE ballots SET unit = NULL WHERE contest = 'trigger'"))
    assert not audit_log.verify_record(store, SLUG).ok  # untagging is caught too
    with store.begin() as conn:  # restore every ballot's unit from the test's own record
        rows = conn.execute(
            sa.text("SELECT receipt FROM ballots WHERE contest = 'trigger' ORDER BY receipt")
        ).all()
        for (receipt,), unit in zip(rows, restore, strict=True):
            conn.execute(
                sa.text("UPDATE ballots SET unit = :u WHERE receipt = :r"),
                {"u": unit, "r": receipt},
            )
    assert audit_log.verify_record(store, SLUG).ok
    decl = declaring.declare(
        store, SLUG, private_key_file=key_file, passphrase=PASSPHRASE, actor="ro"
    )
    # rule change: for 6, against 2, abstain 1 (+3 spoilt): 6 of 8 >= two thirds: carried
    rule_change = decl.contest("rule-change")
    assert rule_change.motion is not None and rule_change.motion.carried
    assert rule_change.spoilt == 3 and rule_change.winners == ("For",)
    # trigger: North yes (5 yes), South no (1 yes, 2 no, P8's paper spoilt), East yes (2
    # yes): 2 of 3 units, at least a half: carried. East has fewer than 3 ballots, and with
    # it the smallest other unit is suppressed (so that East's cannot be worked out)
    trigger = decl.contest("trigger")
    assert trigger.motion is not None and trigger.motion.carried
    outcomes = {u.unit: u.outcome for u in trigger.motion.units}
    assert outcomes == {"East": "suppressed", "North": "voted yes", "South": "suppressed"}

    results = client.get(f"/e/{SLUG}/results")
    assert results.status_code == 200
    assert "<strong>CARRIED</strong>: for 6 (75.0%), against 2, abstain 1" in results.text
    assert "Branches: 2 of 3 units voted yes; 2 needed (at least 1/2): reached" in results.text
    assert '<th scope="row">North</th>' in results.text and "suppressed" in results.text
    public = client.get(f"/e/{SLUG}")
    assert (
        "A motion: <strong>Should rule 4.2 be amended?</strong> Decided by at least two thirds"
        in (public.text)
    )

    # the console's election page lists the motions as contests
    signed = client.post("/api/session", json={"username": officer, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    console = client.get(f"/console/e/{SLUG}")
    assert console.status_code == 200, console.text
    assert "a motion: Should there be an open selection? Decided by in each unit" in console.text
