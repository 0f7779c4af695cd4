"""Fixtures for the web tests: a definition, a register, and the real app on a real store.

``web_settings`` points the app at the test's store (SQLite file or PostgreSQL database) and
a private data folder; ``live_server`` runs the app under uvicorn in a thread on a free
port, for the browser tests. Nothing is mocked.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tallyroom.election.roles import ConsoleRole
from tallyroom.services.users import create_user
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

ARTEFACTS = Path(__file__).parent / "artefacts"
PASSWORD = "officer password 2026"
PASSPHRASE = "sealing key passphrase"
XSS_NAME = "<script>alert(1)</script>"

DEFINITION = f"""\
[election]
name = "Riverside Co-operative elections 2026"
organisation = "Riverside Co-operative"
timezone = "Europe/London"

[timetable]
nominations_open = 2026-01-01T00:00:00+00:00
nominations_close = 2026-01-10T00:00:00+00:00
ballot_open = 2026-01-11T00:00:00+00:00
ballot_close = 2099-01-20T00:00:00+00:00  # after today: the poll may open

[[sections]]
name = "members"
label = "Members"
min_published_size = 1

[[sections]]
name = "staff"
label = "Staff members"
min_published_size = 1

[[contests]]
name = "chair"
title = "Chair"
rule = "irv"
seats = 1
sections = ["members", "staff"]

[[contests.candidates]]
name = "Ann Ashe"

[[contests.candidates]]
name = "Bob Birch"

[[contests.candidates]]
name = "Cat Cole"

[[contests.candidates]]
name = "{XSS_NAME}"

[[contests]]
name = "treasurer"
title = "Treasurer"
rule = "plurality"
seats = 1
sections = ["members"]

[[contests.candidates]]
name = "Dan Dale"

[[contests.candidates]]
name = "Eve Elm"

[[contests]]
name = "board"
title = "Board (two seats)"
rule = "block"
seats = 2
sections = ["members", "staff"]

[[contests.candidates]]
name = "Fay Fox"

[[contests.candidates]]
name = "Gus Gill"

[[contests.candidates]]
name = "Hal Hay"

[eligibility]
statuses = ["active"]
precedence = ["members", "staff"]

[eligibility.sections.members]
joined_on_or_before = 2026-01-01

[eligibility.sections.staff]
joined_on_or_before = 2026-01-01
"""

REGISTER = (
    "person_id,section,membership_number,status,joined,registered\n"
    + "".join(f"P{i},members,M{i},active,2015-03-01,\n" for i in range(1, 9))
    + "".join(f"S{i},staff,T{i},active,2015-03-01,\n" for i in range(1, 4))
    + "P99,members,M99,lapsed,2015-03-01,\n"
)


@pytest.fixture
def web_settings(store: Store, tmp_path: Path) -> WebSettings:
    url = store.engine.url.render_as_string(hide_password=False)
    return WebSettings(
        database=url,
        data_dir=tmp_path / "data",
        session_secret="test secret that is long enough",
    )


@pytest.fixture
def officer(store: Store) -> str:
    create_user(store, "officer", PASSWORD, ConsoleRole.RETURNING_OFFICER)
    create_user(store, "scrutineer", PASSWORD, ConsoleRole.SCRUTINEER)
    return "officer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_server(web_settings: WebSettings, officer: str) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 in a thread; its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(web_settings), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
