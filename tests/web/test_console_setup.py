"""The set-up forms against the real app on SQLite and PostgreSQL: a draft built with forms
only, kept as TOML, edited while a draft and never after; every hostile value refused with
its field named and nothing stored; irreversible steps only with the confirmation ticked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_app import SLUG, prepare, sign_in

from tallyroom.election.reader import parse_definition
from tallyroom.election.roles import ConsoleRole
from tallyroom.services import audit_log, elections, register
from tallyroom.services.users import create_user
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

NEW = "branch-2026"

FORM = {
    "slug": NEW,
    "name": "Riverside branch committee 2026",
    "organisation": "Riverside branch",
    "timezone": "Europe/London",
    "nominations_open": "2026-01-05T09:00",
    "nominations_close": "2026-01-20T17:00",
    "ballot_open": "2026-02-01T09:00",
    "ballot_close": "2099-02-15T17:00",
    "declaration": "",
    "sections": "branch | Branch members",
    "statuses": "active",
    "joined_on_or_before": "2026-01-01",
    "contest_name": "committee",
    "title": "Branch committee",
    "rule": "stv",
    "seats": "5",
    "candidates": "Ann Lee | women\nBea Kaur | women\nCal Ode\nDee Ray | women\nEd Fox\nFin Hall",
    "constraints": "at least 2 women",
    "section:branch": "yes",
    "passphrase": "a long sealing passphrase",
}
# the verifiable path's fields (a new election's default), no sealing key
TRUSTEES = {
    "ballots": "verifiable",
    "trustees": "Ann Hale (Corbyn campaign)\nBen Ode (Smith campaign)\nCleo Marr (scrutineer)",
    "threshold": "2",
    "mixers": "",
    "passphrase": "",
}


@pytest.fixture
def client(store: Store, web_settings: WebSettings, officer: str) -> TestClient:
    c = TestClient(create_app(web_settings))
    sign_in(c)
    return c


def _token(client: TestClient, path: str = "/console") -> str:
    page = client.get(path)
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m, page.text[:500]
    return m.group(1)


def _create(client: TestClient, **changes: str) -> tuple[int, str]:
    data = {**FORM, **changes, "csrf_token": _token(client)}
    res = client.post("/console/setup/new", data=data)
    return res.status_code, res.text


def _count(store: Store) -> int:
    return len(elections.list_elections(store))


def test_an_election_built_with_forms_is_the_file_the_reader_reads(
    client: TestClient, store: Store
) -> None:
    status, text = _create(client)
    assert status == 200, text
    assert "Set up: Riverside branch committee 2026" in text
    toml = client.get(f"/console/e/{NEW}/definition.toml")
    assert toml.headers["content-disposition"] == f'attachment; filename="{NEW}.toml"'
    definition = parse_definition(toml.text)
    contest = definition.contest("committee")
    assert (contest.rule, contest.seats) == ("stv", 5)
    assert contest.candidate_names[:2] == ("Ann Lee", "Bea Kaur")
    assert contest.requirements == ("at least 2 must be women",)
    assert definition.timetable.ballot_open.isoformat() == "2026-02-01T09:00:00+00:00"
    rule = definition.eligibility.sections[0]
    assert rule.section == "branch" and rule.freeze is not None

    # add a second contest, then edit it, then remove it
    token = _token(client, f"/console/e/{NEW}/setup")
    added = client.post(
        f"/console/e/{NEW}/setup/contests",
        data={
            "csrf_token": token,
            "contest_name": "chair",
            "rule": "irv",
            "seats": "1",
            "candidates": "Ann Lee\nCal Ode",
            "section:branch": "yes",
        },
    )
    assert added.status_code == 200 and "Contest chair saved" in added.text
    edited = client.post(
        f"/console/e/{NEW}/setup/contests/1",
        data={
            "csrf_token": token,
            "contest_name": "chair",
            "title": "Branch chair",
            "rule": "irv",
            "seats": "1",
            "candidates": "Ann Lee\nCal Ode\nGil Ash",
            "section:branch": "yes",
        },
    )
    assert edited.status_code == 200
    chair = parse_definition(client.get(f"/console/e/{NEW}/definition.toml").text).contest("chair")
    assert chair.title == "Branch chair" and chair.candidate_names[-1] == "Gil Ash"
    removed = client.post(f"/console/e/{NEW}/setup/contests/1/remove", data={"csrf_token": token})
    assert "Contest removed" in removed.text
    # the last contest cannot go: the reader's own words say why
    last = client.post(f"/console/e/{NEW}/setup/contests/0/remove", data={"csrf_token": token})
    assert "was not removed" in last.text and "at least one is needed" in last.text
    # every change is in the audit log as a new definition
    events = [c.event for c in audit_log.audit_events(store, NEW)]
    assert sum(e.action.value == "definition" for e in events) == 4
    assert audit_log.verify_record(store, NEW).ok


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "x" * 10_000_000}, "new-name", "is too long"),
        ({"slug": "../etc"}, "new-slug", "slug"),
        ({"seats": "9"}, "c0-seats", "more seats than candidates"),
        ({"rule": "no-such-rule"}, "c0-rule", "unknown rule"),
        ({"ballot_close": "2026-01-01T09:00"}, "new-ballot_close", "must be after ballot_open"),
        ({"timezone": "Mars/Olympus"}, "new-timezone", "unknown time zone"),
        ({"candidates": "Ann Lee\nann lee"}, "c0-candidates", "is the same name as"),
        ({"constraints": "at least 9 women"}, "c0-constraints", "constraints"),
        ({"sections": "a | A\na | B"}, "new-sections", "is already a section"),
        ({"passphrase": ""}, "new-passphrase", "needs a passphrase"),
        ({**TRUSTEES, "trustees": ""}, "new-trustees", "trustees are needed"),
        ({**TRUSTEES, "trustees": "Ann Hale\nann hale\nAnn Hale"}, "new-trustees", "a name twice"),
        ({**TRUSTEES, "threshold": "4"}, "new-threshold", "must be 1 to the number of trustees"),
        ({**TRUSTEES, "threshold": "two"}, "new-threshold", "threshold"),
        ({**TRUSTEES, "threshold": "-1"}, "new-threshold", "threshold"),
        ({**TRUSTEES, "mixers": "Ann Hale (Corbyn campaign)\nNobody"}, "new-mixers", "not among"),
        ({**TRUSTEES, "mixers": "Ann Hale (Corbyn campaign)"}, "new-mixers", "at least 2"),
    ],
)
def test_a_hostile_value_is_refused_beside_its_field_and_nothing_is_stored(
    client: TestClient,
    store: Store,
    web_settings: WebSettings,
    changes: dict[str, str],
    field: str,
    words: str,
) -> None:
    status, text = _create(client, **changes)
    assert status == 422, text[:300]
    problems = re.search(rf'<ul class="error-list" id="{field}-problems">(.*?)</ul>', text, re.S)
    assert problems, f"no problem shown beside {field}"
    assert words in problems.group(1)
    assert _count(store) == 0
    assert not web_settings.private_key_file(NEW).exists()
    assert len(text) < 200_000  # a 10 MB value is not echoed back


def test_html_in_a_candidate_name_is_shown_as_text(client: TestClient) -> None:
    status, _ = _create(
        client,
        candidates="<script>alert(1)</script>\nBea Kaur\nCal Ode\n"
        "Dee Ray | women\nEd Fox | women\nFin Hall",
        constraints="",
    )
    assert status == 200
    page = client.get(f"/console/e/{NEW}/setup").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_two_contests_with_one_name_are_refused_and_the_draft_is_unchanged(
    client: TestClient, store: Store
) -> None:
    assert _create(client)[0] == 200
    before = elections.get_election(store, NEW).definition_sha256
    token = _token(client, f"/console/e/{NEW}/setup")
    res = client.post(
        f"/console/e/{NEW}/setup/contests",
        data={
            "csrf_token": token,
            "contest_name": "committee",
            "rule": "irv",
            "candidates": "Ann Lee\nCal Ode",
            "section:branch": "yes",
        },
    )
    assert res.status_code == 422
    shown = re.search(r'id="cnew-name-problems">(.*?)</ul>', res.text, re.S)
    assert shown and "is already a contest" in shown.group(1)
    assert elections.get_election(store, NEW).definition_sha256 == before


def test_the_election_form_and_an_uploaded_file_change_the_draft(
    client: TestClient, store: Store, tmp_path: Path
) -> None:
    assert _create(client)[0] == 200
    token = _token(client, f"/console/e/{NEW}/setup")
    values = {k: v for k, v in FORM.items() if k not in ("slug", "passphrase")}
    bad = client.post(
        f"/console/e/{NEW}/setup/election",
        data={**values, "name": "", "csrf_token": token},
    )
    assert bad.status_code == 422 and 'id="el-name-problems"' in bad.text
    good = client.post(
        f"/console/e/{NEW}/setup/election",
        data={**values, "name": "Renamed ballot", "csrf_token": token},
    )
    assert good.status_code == 200
    assert parse_definition(elections.get_election(store, NEW).definition).name == "Renamed ballot"
    upload = client.post(
        f"/console/e/{NEW}/setup/upload",
        data={"csrf_token": token},
        files={"definition": ("x.toml", b"[election]\nname = 1\n", "application/toml")},
    )
    assert "was not used" in upload.text and "election.name" in upload.text


def test_a_draft_is_edited_only_while_a_draft(
    client: TestClient, store: Store, tmp_path: Path
) -> None:
    assert _create(client)[0] == 200
    members = tmp_path / "register.csv"
    members.write_text(
        "person_id,section,membership_number,status,joined,registered\n"
        "P1,branch,M1,active,2015-01-01,\n"
    )
    register.import_register(store, NEW, members, actor="ro")
    register.freeze_register(store, NEW, actor="ro")
    before = elections.get_election(store, NEW).definition_sha256
    token = _token(client, f"/console/e/{NEW}/setup")
    res = client.post(
        f"/console/e/{NEW}/setup/contests/0",
        data={**FORM, "title": "Changed", "csrf_token": token},
    )
    assert res.status_code == 409 and "change the definition" in res.text
    assert elections.get_election(store, NEW).definition_sha256 == before
    page = client.get(f"/console/e/{NEW}/setup").text
    assert "can no longer change" in page


def test_a_scrutineer_cannot_set_up(store: Store, web_settings: WebSettings, officer: str) -> None:
    c = TestClient(create_app(web_settings))
    sign_in(c, "scrutineer")
    token = _token(c)
    res = c.post("/console/setup/new", data={**FORM, "csrf_token": token})
    assert res.status_code == 403 and _count(store) == 0
    no_csrf = TestClient(create_app(web_settings))
    sign_in(no_csrf)
    assert no_csrf.post("/console/setup/new", data=FORM).status_code == 403


def test_irreversible_steps_need_the_confirmation(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    prepare(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    sign_in(client)
    token = _token(client, f"/console/e/{SLUG}")
    res = client.post(f"/console/e/{SLUG}/close", data={"csrf_token": token})
    assert "The poll was not closed" in res.text and "I understand" in res.text
    assert elections.get_election(store, SLUG).state.value == "open"
    client.post(f"/console/e/{SLUG}/close", data={"csrf_token": token, "confirm": "yes"})
    assert elections.get_election(store, SLUG).state.value == "closed"
    from conftest import PASSPHRASE

    res = client.post(
        f"/console/e/{SLUG}/count",
        data={"csrf_token": token, "passphrase": PASSPHRASE, "declare": "yes"},
    )
    assert "Nothing was counted or declared" in res.text
    assert elections.get_election(store, SLUG).state.value == "closed"
    client.post(
        f"/console/e/{SLUG}/count",
        data={"csrf_token": token, "passphrase": PASSPHRASE, "declare": "yes", "confirm": "yes"},
    )
    assert elections.get_election(store, SLUG).state.value == "declared"


def test_freeze_and_delete_need_the_confirmation(client: TestClient, store: Store) -> None:
    assert _create(client)[0] == 200
    token = _token(client, f"/console/e/{NEW}")
    res = client.post(f"/console/e/{NEW}/freeze", data={"csrf_token": token})
    assert "The register was not frozen" in res.text
    assert elections.get_election(store, NEW).state.value == "draft"
    res = client.post(f"/console/e/{NEW}/delete", data={"csrf_token": token})
    assert "Nothing deleted" in res.text and _count(store) == 1
    res = client.post(f"/console/e/{NEW}/delete", data={"csrf_token": token, "confirm": "yes"})
    assert res.status_code == 200 and f"deleted draft election {NEW}" in res.text
    assert _count(store) == 0


def test_an_observer_reads_the_setup_page_without_forms_to_act(
    client: TestClient, store: Store, web_settings: WebSettings
) -> None:
    assert _create(client)[0] == 200
    create_user(store, "watcher", "observer password 2026", ConsoleRole.OBSERVER)
    c = TestClient(create_app(web_settings))
    res = c.post("/api/session", json={"username": "watcher", "password": "observer password 2026"})
    assert res.status_code == 200
    page = c.get(f"/console/e/{NEW}/setup").text
    assert "Save this contest" not in page and "Add the contest" not in page


def test_a_nomination_paper_has_its_received_time_and_a_late_one_never_blocks(
    client: TestClient, store: Store, tmp_path: Path
) -> None:
    status, text = _create(
        client, nominating_body="Branch members", body_size="40", absolute="2", constraints=""
    )
    assert status == 200, text[:500]
    members = tmp_path / "register.csv"
    members.write_text(
        "person_id,section,membership_number,status,joined,registered\n"
        "P1,branch,M1,active,2015-01-01,\n"
    )
    register.import_register(store, NEW, members, actor="ro")
    register.freeze_register(store, NEW, actor="ro")
    page = client.get(f"/console/e/{NEW}").text
    assert "Nominations are closed: the period ended at 2026-01-20T17:00:00+00:00" in page
    assert 'name="received_at" type="datetime-local" value="' in page
    token = _token(client, f"/console/e/{NEW}")

    def paper(candidate: str, nominator: str, at: str) -> str:
        return client.post(
            f"/console/e/{NEW}/nominations",
            data={
                "csrf_token": token,
                "contest": "committee",
                "candidate": candidate,
                "nominator": nominator,
                "received_at": at,
            },
        ).text

    assert "kept but refused" in paper("Ann Lee", "N1", "2026-01-21T09:00")  # late
    assert "Nomination of Ann Lee by N2 recorded" in paper("Ann Lee", "N2", "2026-01-10T09:00")


# -- how ballots are kept: the verifiable path is the default for a new election ------------


def test_a_new_election_is_offered_the_verifiable_path_first(client: TestClient) -> None:
    page = client.get("/console/setup/new").text
    verifiable = re.search(r'<input type="radio" id="new-ballots-verifiable"[^>]*>', page)
    sealed = re.search(r'<input type="radio" id="new-ballots-sealed"[^>]*>', page)
    assert verifiable and " checked" in verifiable.group(0)
    assert sealed and " checked" not in sealed.group(0)
    assert re.search(r'id="new-passphrase"[^>]*>', page) and " required" not in re.search(
        r'<input id="new-passphrase"[^>]*>', page
    ).group(0)  # type: ignore[union-attr]


def test_a_verifiable_draft_has_its_trustees_and_no_sealing_key(
    client: TestClient, store: Store, web_settings: WebSettings
) -> None:
    status, text = _create(client, **TRUSTEES)
    assert status == 200, text[:500]
    assert "Ballots take the verifiable path" in text
    record = elections.get_election(store, NEW)
    assert record.ballot_public_key is None
    assert not web_settings.private_key_file(NEW).exists()  # no key nobody will use
    definition = parse_definition(record.definition)
    assert definition.verifiable is not None
    assert definition.verifiable.trustees[2] == "Cleo Marr (scrutineer)"
    assert definition.verifiable.threshold == 2
    # the draft's form shows the path and the trustees as they are
    page = client.get(f"/console/e/{NEW}/setup").text
    assert re.search(r'id="el-ballots-verifiable"[^>]* checked', page)
    assert "Ben Ode (Smith campaign)" in page
    # status says which key the election waits for
    assert "election key not set" in elections.election_status(store, NEW).render()
    # a keyless draft cannot be switched to the sealed path: refused beside the choice
    token = _token(client, f"/console/e/{NEW}/setup")
    values = {k: v for k, v in FORM.items() if k not in ("slug", "passphrase")}
    before = record.definition_sha256
    res = client.post(
        f"/console/e/{NEW}/setup/election",
        data={**values, **TRUSTEES, "ballots": "sealed", "csrf_token": token},
    )
    assert res.status_code == 422
    shown = re.search(r'id="el-ballots-problems">(.*?)</ul>', res.text, re.S)
    assert shown and "no sealing key" in shown.group(1)
    assert elections.get_election(store, NEW).definition_sha256 == before
    # the trustees can still change before the ceremony starts
    res = client.post(
        f"/console/e/{NEW}/setup/election",
        data={**values, **TRUSTEES, "threshold": "3", "csrf_token": token},
    )
    assert res.status_code == 200
    changed = parse_definition(elections.get_election(store, NEW).definition).verifiable
    assert changed is not None and changed.threshold == 3


def test_a_sealed_draft_with_a_key_may_take_the_verifiable_path(
    client: TestClient, store: Store
) -> None:
    assert _create(client, ballots="sealed")[0] == 200
    assert elections.get_election(store, NEW).ballot_public_key is not None
    token = _token(client, f"/console/e/{NEW}/setup")
    values = {k: v for k, v in FORM.items() if k not in ("slug", "passphrase")}
    res = client.post(
        f"/console/e/{NEW}/setup/election",
        data={**values, **TRUSTEES, "csrf_token": token},
    )
    assert res.status_code == 200
    assert parse_definition(elections.get_election(store, NEW).definition).verifiable


def test_a_trustee_named_in_markup_is_shown_as_text(client: TestClient) -> None:
    text = _create(client, **{**TRUSTEES, "trustees": "<script>alert(1)</script>\nB"})[1]
    assert "<script>alert(1)</script>" not in text
