"""The console's register import with a column mapping: the header and first rows shown,
columns guessed by name and changeable, every problem of the whole file listed (line, field,
value) before anything is stored, then the import with that mapping as a job."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_app import SLUG, sign_in

from conftest import DEFINITION, PASSPHRASE
from tallyroom.services import elections
from tallyroom.services.register_preview import guess_mapping
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

THEIRS = (
    "Member ID,Branch,Membership No,Membership Status,Joined On,E-mail,Notes\n"
    "P1,members,M1,active,2015-03-01,p1@example.org,<b>bold</b>\n"
    "P2,members,M2,active,2015-03-01,p2@example.org,\n"
    "P3,staff,T3,active,2015-03-01,,\n"
    "P4,members,M4,lapsed,2015-03-01,,\n"
)


@pytest.fixture
def client(store: Store, web_settings: WebSettings, officer: str, tmp_path: Path) -> TestClient:
    definition = tmp_path / "riverside.toml"
    definition.write_text(DEFINITION, encoding="utf-8")
    web_settings.data_dir.mkdir(parents=True, exist_ok=True)
    elections.create_election(
        store,
        definition,
        actor="ro",
        private_key_path=web_settings.private_key_file(SLUG),
        passphrase=PASSPHRASE,
        slug=SLUG,
    )
    c = TestClient(create_app(web_settings))
    sign_in(c)
    return c


def _token(client: TestClient) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/console/e/{SLUG}").text)
    assert m
    return m.group(1)


def _preview(client: TestClient, text: str, name: str = "branch.csv") -> tuple[int, str]:
    res = client.post(
        f"/console/e/{SLUG}/register/preview",
        data={"csrf_token": _token(client)},
        files={"file": (name, text.encode(), "text/csv")},
    )
    return res.status_code, res.text


def _selected(page: str, field: str) -> str | None:
    select = re.search(rf'<select id="map-{field}" name="map:{field}">(.*?)</select>', page, re.S)
    assert select
    m = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    return m.group(1) if m else None


def _upload(page: str) -> str:
    m = re.search(r'name="upload" value="([^"]+)"', page)
    assert m
    return m.group(1)


def test_the_guess_reads_a_branch_secretarys_column_names() -> None:
    guessed = guess_mapping(["Member ID", "Branch", "Membership No", "Status", "E-mail"])
    assert guessed["person"] == "Member ID" and guessed["number"] == "Membership No"
    assert guessed["section"] == "Branch" and guessed["email"] == "E-mail"
    assert guessed["joined"] is None


def test_preview_map_and_import(client: TestClient, store: Store) -> None:
    status, page = _preview(client, THEIRS)
    assert status == 200, page[:500]
    assert '<th scope="col">Membership No</th>' in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page  # a cell is text
    assert _selected(page, "number") == "Membership No"
    assert _selected(page, "status") == "Membership Status"
    assert _selected(page, "joined") == "Joined On"
    assert "4 entries are ready to import" in page
    upload = _upload(page)
    mapping = {
        f"map:{f}": c
        for f in ("person", "section", "number", "status", "joined", "email")
        if (c := _selected(page, f))
    }
    token = _token(client)
    # a wrong choice: the problems of the whole file, before anything is stored
    wrong = client.post(
        f"/console/e/{SLUG}/register/mapping",
        data={**mapping, "map:section": "Notes", "upload": upload, "csrf_token": token,
              "action": "import"},
    )  # fmt: skip
    assert wrong.status_code == 422
    assert "4 problem(s) with this mapping" in wrong.text
    assert re.search(r"<td>2</td><td>section</td><td>&lt;b&gt;bold&lt;/b&gt;</td>", wrong.text)
    assert elections.election_status(store, SLUG).entries == 0
    done = client.post(
        f"/console/e/{SLUG}/register/mapping",
        data={**mapping, "upload": upload, "csrf_token": token, "action": "import"},
    )
    assert done.status_code == 200
    deadline = time.monotonic() + 20
    while "Imported" not in done.text and time.monotonic() < deadline:
        time.sleep(0.2)
        done = client.get(str(done.url))
    assert "Imported 4 entries, 3 eligible" in done.text
    assert elections.election_status(store, SLUG).entries == 4
    assert not any((Path(client.app.state.web.settings.data_dir) / "uploads").iterdir())


def test_every_problem_is_listed_with_line_field_and_value(
    client: TestClient, store: Store
) -> None:
    bad = THEIRS + "P5,nowhere,M5,active,2015-03-01,,\nP6,members,M6,active,last week,,\n"
    status, page = _preview(client, bad)
    assert status == 200 and "2 problem(s) with this mapping" in page
    assert re.search(r"<td>6</td><td>section</td><td>nowhere</td>", page)
    assert re.search(r"<td>7</td><td>joined</td><td>last week</td>", page)
    assert str(client.app.state.web.settings.data_dir) not in page  # no private path shown
    assert elections.election_status(store, SLUG).entries == 0


def test_an_upload_name_cannot_reach_outside_the_uploads(
    client: TestClient, web_settings: WebSettings
) -> None:
    secret = web_settings.data_dir / f"{SLUG}.private-key"
    assert secret.exists()
    for name in (f"../{SLUG}.private-key", "0123456789abcdef-../../x", "/etc/passwd"):
        res = client.post(
            f"/console/e/{SLUG}/register/mapping",
            data={"upload": name, "csrf_token": _token(client), "map:person": "x"},
        )
        assert res.status_code == 422 and "upload it again" in res.text
    assert secret.exists()
