"""A declared (or open) election built through the real services, for the public pages'
tests: ``n`` candidates under a ranked rule, voters casting through the JSON API."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from conftest import PASSPHRASE
from tallyroom.services import declaring, elections, nominations, polling, register
from tallyroom.services.credentials import issue_credentials
from tallyroom.store import Store
from tallyroom.web.settings import WebSettings

FIRST = ("Ann Ashe", "Bob Birch", "Cat Cole", "Dan Dale", "Eve Elm", "Fay Fox", "Gus Gill",
         "Hal Hay", "Ivy Ives", "Jon Jay", "Kay Kent", "Lee Lowe", "Max Moss", "Ned Nash",
         "Ola Oakes", "Pam Pike", "Quin Quay", "Rex Rowe", "Sue Sykes", "Tom Tate",
         "Uma Upton", "Vic Vane", "Wyn Wood", "Xia Xu", "Yan Yates", "Zoe Zeal",
         "Abe Amos-Llewellyn", "Bea Brook-Pritchard", "Cal Croft", "Dee Dunn")  # fmt: skip


def definition(n: int, *, rule: str = "stv", seats: int = 2, past: bool = False) -> str:
    """``past``: a timetable that closed the ballot on 20 January 2026 and declared on the
    21st (a historical election run again); otherwise the ballot closes in 2099."""
    close = (
        "2026-01-20T17:00:00+00:00\ndeclaration = 2026-01-21"
        if past
        else ("2099-01-20T17:00:00+00:00")
    )
    candidates = "\n".join(
        f'[[contests.candidates]]\nname = "{name}"\n' + ('groups = ["women"]\n' if k % 2 else "")
        for k, name in enumerate(FIRST[:n])
    )
    return f"""\
[election]
name = "Riverside council {n}"
timezone = "Europe/London"

[timetable]
nominations_open = 2026-01-01T09:00:00+00:00
nominations_close = 2026-01-10T17:00:00+00:00
ballot_open = 2026-01-11T09:00:00+00:00
ballot_close = {close}

[[sections]]
name = "members"
label = "Members"
min_published_size = 0

[[contests]]
name = "council"
title = "Council"
rule = "{rule}"
seats = {seats}

{candidates}
"""


OPENED = datetime(2026, 1, 12, 9, tzinfo=UTC)  # inside both timetables


def open_election(
    store: Store, settings: WebSettings, folder: Path, slug: str, text: str, voters: int
) -> list[str]:
    """Create ``slug`` from ``text``, register ``voters``, open the poll; the credentials."""
    path = folder / f"{slug}.toml"
    path.write_text(text, encoding="utf-8")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    elections.create_election(
        store, path, actor="ro", private_key_path=settings.private_key_file(slug),
        passphrase=PASSPHRASE, slug=slug,
    )  # fmt: skip
    people = folder / f"{slug}-register.csv"
    people.write_text(
        "person_id,section,membership_number,status,joined,registered\n"
        + "".join(f"P{k},members,N{k},active,2009-01-01,\n" for k in range(voters)),
        encoding="utf-8",
    )
    register.import_register(store, slug, people, actor="ro")
    register.freeze_register(store, slug, actor="ro")
    nominations.close_nominations(store, slug, actor="ro")
    export = settings.data_dir / f"{slug}-credentials.csv"
    issue_credentials(
        store, slug, key_path=settings.credential_key_file(slug), export_path=export, actor="ro"
    )
    polling.open_voting(store, slug, actor="ro", now=OPENED)
    with export.open(encoding="utf-8") as f:
        return [r["credential"] for r in csv.DictReader(f)]


def declared_election(
    store: Store, settings: WebSettings, client: TestClient, folder: Path, slug: str,
    n: int, *, voters: int = 40, rule: str = "stv", seats: int = 2, past: bool = False,
) -> None:  # fmt: skip
    """An election of ``n`` candidates, every voter ranking some of them, declared."""
    secrets = open_election(
        store, settings, folder, slug, definition(n, rule=rule, seats=seats, past=past), voters
    )  # fmt: skip
    rnd = random.Random(n)
    weights = [rnd.random() ** 2 + 0.05 for _ in range(n)]
    for secret in secrets:
        order = sorted(range(n), key=lambda c: -weights[c] * rnd.random())
        ranking = [FIRST[c] for c in order[: rnd.randint(1, n)]]
        done = client.post(
            f"/api/elections/{slug}/cast",
            json={"credential": secret, "choices": {"council": ranking}},
        )
        assert done.status_code == 200, done.text
    polling.close_voting(store, slug, actor="ro")
    declaring.declare(
        store, slug, private_key_file=settings.private_key_file(slug), passphrase=PASSPHRASE,
        actor="ro",
    )  # fmt: skip
