"""Delivery from the console's forms over HTTP (the real app in Starlette's test client, a real
store on SQLite and PostgreSQL, a real SMTP server: aiosmtpd).

The 2,000-voter story: the officer sends the credentials (every email voter gets exactly
one message), downloads the letters of the voters by post (a PDF, one page each), opens
the poll; some vote; the officer sends reminders (exactly the voters with a contest still
open to them get one, naming it); closes, counts, declares, and sends the result notices
(every email voter one); the report page shows the figures by section. Then what goes
wrong: a server that refuses some recipients (the page shows the server's answer and the
retry sends only those), a server that cannot be reached, a login refused, a scrutineer,
a form without its CSRF token, and ending delivery without the confirmation.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from conftest import PASSWORD
from delivery_election import PASSPHRASE, SLUG, TWO_CONTESTS, email_of, issued, register_text
from smtp_sink import CREDENTIAL, Sink, free_port, smtp_sink
from tallyroom.audit.events import Action
from tallyroom.services.audit_log import audit_events
from tallyroom.services.delivery_rounds import secret_path
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

EMAILS, LETTERS = 1_950, 50
SENDER = "Returning Officer <ro@riverside.example>"
PUBLIC = "https://vote.riverside.example"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with smtp_sink() as running:
        yield running


def _settings(web_settings: WebSettings, port: int, **more: object) -> WebSettings:
    return dataclasses.replace(
        web_settings,
        smtp=f"smtp://127.0.0.1:{port}?starttls=never",
        mail_from=SENDER,
        public_url=PUBLIC,
        **more,  # type: ignore[arg-type]
    )


def _prepared(store: Store, settings: WebSettings, emails: int, letters: int = 0) -> None:
    """Credentials issued (through the services: the set-up is not what is tested), the
    key files where the console looks for them."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    issued(
        store, settings.data_dir, emails, letters,
        definition_text=TWO_CONTESTS, register_csv=register_text(emails, letters),
    )  # fmt: skip


def _signed_in(settings: WebSettings, username: str = "officer") -> tuple[TestClient, str]:
    client = TestClient(create_app(settings))
    page = client.get("/console/sign-in")
    token = TOKEN.search(page.text)
    assert token is not None
    res = client.post(
        "/console/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert res.status_code == 303, res.text
    fresh = TOKEN.search(client.get("/console").text)  # a new session at sign-in: a new token
    assert fresh is not None
    return client, fresh.group(1)


def _post(client: TestClient, path: str, token: str, **form: str) -> str:
    """Post a console form; where it redirects to."""
    res = client.post(
        f"/console/e/{SLUG}{path}", data={"csrf_token": token, **form}, follow_redirects=False
    )
    assert res.status_code == 303, res.text
    return res.headers["location"]


def _job(client: TestClient, location: str) -> dict[str, object]:
    """Follow a delivery job (by the JSON the page's script polls) until it ends."""
    match = re.fullmatch(rf"/console/e/{SLUG}/delivery/jobs/([\w-]+)", location)
    assert match is not None, location
    deadline = time.monotonic() + 300
    while True:
        doc: dict[str, object] = client.get(f"/api/elections/{SLUG}/jobs/{match.group(1)}").json()
        if doc["state"] != "running":
            return doc
        assert time.monotonic() < deadline, doc
        time.sleep(0.1)


def _figures(page: str) -> dict[str, list[int]]:
    """The report table: figure -> the numbers in its row (each section, then the total)."""
    rows = re.findall(r'<tr data-figure="(\w+)">(.*?)</tr>', page, flags=re.S)
    return {
        key: [int(n.replace(",", "")) for n in re.findall(r'<td class="num">([\d,]+)</td>', row)]
        for key, row in rows
    }


def _by_rcpt(sink: Sink) -> dict[str, int]:
    found: dict[str, int] = {}
    for rcpt, _ in sink.received:
        found[rcpt] = found.get(rcpt, 0) + 1
    return found


def test_two_thousand_voters_from_the_console(
    store: Store, web_settings: WebSettings, officer: str, sink: tuple[Sink, int]
) -> None:
    server, port = sink
    settings = _settings(web_settings, port)
    _prepared(store, settings, EMAILS, LETTERS)
    client, token = _signed_in(settings)
    page = client.get(f"/console/e/{SLUG}").text
    assert f'href="/console/e/{SLUG}/delivery"' in page

    # send: every email voter exactly one message, with their credential
    done = _job(client, _post(client, "/delivery/send", token, rate="0"))
    assert done["state"] == "done", done
    assert done["result"] == {"sent": EMAILS, "failed": 0, "reissued": 0, "pending": 0,
                              "ended": False}  # fmt: skip
    assert _by_rcpt(server) == {email_of(i): 1 for i in range(1, EMAILS + 1)}
    creds = {rcpt: c[0] for rcpt, c in server.credentials().items()}
    assert len(set(creds.values())) == EMAILS

    # letters: the voters by post, one page each, then recorded as printed
    res = client.post(f"/console/e/{SLUG}/delivery/letters", data={"csrf_token": token})
    assert res.status_code == 200 and res.headers["content-type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(res.content))
    assert len(pdf.pages) == LETTERS
    links = [CREDENTIAL.search(p.extract_text().replace("\n", "")) for p in pdf.pages[:3]]
    first = pdf.pages[0].extract_text()
    assert "Staff 1" in first and "Mill Lane" in first
    assert all(m is None for m in links)  # no link in the text: the QR code carries it
    on_letter = re.search(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{2,4}){5}\b", first)
    assert on_letter is not None
    # every voter has been sent a credential: delivery ended, its secret destroyed
    assert not secret_path(settings.credential_key_file(SLUG)).exists()
    again = client.post(
        f"/console/e/{SLUG}/delivery/letters", data={"csrf_token": token}, follow_redirects=False
    )
    assert again.status_code == 303  # nothing more is due
    assert "No letter is due" in client.get(f"/console/e/{SLUG}/delivery").text

    # the poll opens; some vote: members in both contests or one, staff in theirs
    _post(client, "/open", token)
    voter = TestClient(create_app(settings))
    both, chair_only, treasurer_only = range(1, 301), range(301, 401), range(401, 451)
    for i in [*both, *chair_only, *treasurer_only]:
        choices: dict[str, list[str]] = {}
        if i not in treasurer_only:
            choices["chair"] = ["Ann Ashe"]
        if i not in chair_only:
            choices["treasurer"] = ["Cy Cole"]
        cast = voter.post(
            f"/api/elections/{SLUG}/cast",
            json={"credential": creds[email_of(i)], "choices": choices},
        )
        assert cast.status_code == 200, cast.text
    by_post = voter.post(  # the credential printed on a letter votes too
        f"/api/elections/{SLUG}/cast",
        json={"credential": on_letter.group(0), "choices": {"chair": ["Bob Birch"]}},
    )
    assert by_post.status_code == 200, by_post.text

    # remind: exactly those with a contest still open to them, once each, naming it
    server.received.clear()
    done = _job(client, _post(client, "/delivery/remind", token, rate="0", label="1"))
    assert done["state"] == "done", done
    expected = {email_of(i): 1 for i in range(301, EMAILS + 1)}
    assert _by_rcpt(server) == expected
    texts = {
        rcpt: " ".join(m.get_body(("plain",)).get_content().split())  # type: ignore[union-attr]
        for rcpt, m in server.messages()
    }
    assert "not voted yet in Treasurer" in texts[email_of(301)]
    assert "not voted yet in Chair (" in texts[email_of(401)]
    assert "Chair, Treasurer" in texts[email_of(451)]

    # close, count, declare; notify: every email voter one result notice
    _post(client, "/close", token, confirm="yes")
    _post(client, "/count", token, passphrase=PASSPHRASE, declare="yes", confirm="yes")
    server.received.clear()
    done = _job(client, _post(client, "/delivery/notify", token, rate="0"))
    assert done["state"] == "done" and done["result"] == {"sent": EMAILS, "failed": 0}, done
    assert _by_rcpt(server) == {email_of(i): 1 for i in range(1, EMAILS + 1)}
    notice = server.messages()[0][1].get_body(("plain",))
    assert notice is not None and f"{PUBLIC}/e/{SLUG}/results" in notice.get_content()

    # the report by section: members, staff, total
    report = client.get(f"/console/e/{SLUG}/delivery")
    figures = _figures(report.text)
    assert figures["eligible"] == [EMAILS, LETTERS, EMAILS + LETTERS]
    assert figures["sent"] == [EMAILS, 0, EMAILS]
    assert figures["bounced"] == figures["deferred"] == figures["pending"] == [0, 0, 0]
    assert figures["letters_printed"] == [0, LETTERS, LETTERS]
    assert figures["letters_to_print"] == [0, 0, 0]
    assert figures["reissues"] == [0, 0, 0]
    assert "No delivery round is open" in report.text
    campaigns = re.findall(
        r'<tr><th scope="row">([\w-]+)</th><td class="num">([\d,]+)</td>', report.text
    )
    assert ("notice", f"{EMAILS:,}") in campaigns
    assert ("reminder-1", f"{EMAILS - 300:,}") in campaigns

    # the audit log: each action by the officer, counts only
    events = [c.event for c in audit_events(store, SLUG)]
    mine = [e for e in events if e.action in (Action.DELIVERY_BATCH, Action.DELIVERY_END)]
    assert mine and all(e.actor == "officer" for e in mine)
    payloads = [e.data for e in mine]
    assert all(isinstance(p, dict) for p in payloads)
    printed = sum(p.get("printed", 0) for p in payloads if isinstance(p, dict))  # type: ignore[misc]
    assert printed == LETTERS
    campaigns_logged = {p.get("campaign") for p in payloads if isinstance(p, dict)}
    assert {"credentials", "reminder-1", "notice"} <= campaigns_logged
    for e in mine:
        assert "@" not in e.payload and CREDENTIAL.search(e.payload) is None
        assert not any(c in e.payload for c in creds.values())


def test_refused_recipients_are_shown_with_the_answer_and_only_they_are_retried(
    store: Store, web_settings: WebSettings, officer: str, sink: tuple[Sink, int]
) -> None:
    server, port = sink
    settings = _settings(web_settings, port)
    _prepared(store, settings, 30)
    refused = {email_of(4), email_of(17), email_of(29)}
    server.refuse = set(refused)
    client, token = _signed_in(settings)
    done = _job(client, _post(client, "/delivery/send", token, rate="0"))
    assert done["state"] == "done" and done["result"]["failed"] == 3, done  # type: ignore[index]
    page = client.get(f"/console/e/{SLUG}/delivery").text
    assert "550 5.1.1 mailbox unavailable" in page
    assert _figures(page)["bounced"] == [3, 3]  # members (the only section), total
    assert "Retry the failed" in page
    assert not any(address in page for address in refused)  # counts, never addresses
    server.refuse = set()
    server.received.clear()
    done = _job(client, _post(client, "/delivery/send", token, rate="0", retry="yes"))
    assert done["state"] == "done" and done["result"]["sent"] == 3, done  # type: ignore[index]
    assert sorted(rcpt for rcpt, _ in server.received) == sorted(refused)
    assert done["result"]["ended"] is True  # type: ignore[index]
    page = client.get(f"/console/e/{SLUG}/delivery").text
    assert _figures(page)["sent"] == [30, 30] and "Retry the failed" not in page


def test_an_unreachable_server_and_a_refused_login_are_said_in_words(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    closed = free_port()  # nothing listens there
    settings = _settings(web_settings, closed)
    _prepared(store, settings, 5)
    client, token = _signed_in(settings)
    location = _post(client, "/delivery/send", token, rate="0")
    done = _job(client, location)
    assert done["state"] == "failed"
    page = client.get(location).text
    assert "The sending stopped" in page
    assert f"smtp://127.0.0.1:{closed} cannot be reached: Connection refused" in page
    assert "Traceback" not in page and "File " not in page
    client.close()

    secret_file = tmp_path / "smtp-password"
    secret_file.write_text("the wrong password\n", encoding="utf-8")
    secret_file.chmod(0o600)
    with smtp_sink(tls="starttls", folder=tmp_path, password="the right one") as (_, port):
        cafile = tmp_path / "smtp-cert.pem"
        login = dataclasses.replace(
            settings,
            smtp=f"smtp://ro@127.0.0.1:{port}?starttls=require&cafile={cafile}",
            smtp_password_file=secret_file,
        )
        client, token = _signed_in(login)
        page = client.get(f"/console/e/{SLUG}/delivery").text
        assert f"smtp://127.0.0.1:{port}" in page and "the wrong password" not in page
        location = _post(client, "/delivery/send", token, rate="0")
        assert _job(client, location)["state"] == "failed"
        page = client.get(location).text
        assert "refused the login as ro: 535 5.7.8 Authentication credentials invalid" in page
        assert "the wrong password" not in page


def test_the_settings_must_be_there_and_the_password_file_private(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    _prepared(store, web_settings, 3)
    client, token = _signed_in(web_settings)  # no SMTP server set
    page = client.get(f"/console/e/{SLUG}/delivery").text
    assert "no SMTP server (serve --smtp, or TALLYROOM_SMTP)" in page
    assert _post(client, "/delivery/send", token, rate="0") == f"/console/e/{SLUG}/delivery"
    page = client.get(f"/console/e/{SLUG}/delivery").text
    assert "Nothing was started: mail settings: the console cannot send mail" in page
    loose = tmp_path / "loose-password"
    loose.write_text("secret\n", encoding="utf-8")
    loose.chmod(0o644)
    settings = _settings(web_settings, 25, smtp_password_file=loose)
    settings = dataclasses.replace(settings, smtp="smtp://ro@127.0.0.1:25")
    client, token = _signed_in(settings)
    _post(client, "/delivery/send", token, rate="0")
    page = client.get(f"/console/e/{SLUG}/delivery").text
    assert "the SMTP password file is readable by others (chmod 600 it)" in page
    _post(client, "/delivery/send", token, rate="fast")
    page = client.get(f"/console/e/{SLUG}/delivery").text
    assert "rate: a rate is a number of messages a second" in page


def test_roles_csrf_and_the_confirmation_to_end_delivery(
    store: Store, web_settings: WebSettings, officer: str, sink: tuple[Sink, int]
) -> None:
    _, port = sink
    settings = _settings(web_settings, port)
    _prepared(store, settings, 3)
    key = settings.credential_key_file(SLUG)
    scrutineer, token = _signed_in(settings, "scrutineer")
    page = scrutineer.get(f"/console/e/{SLUG}/delivery")
    assert page.status_code == 200 and "delivery-report" in page.text
    assert "Send credentials by email" not in page.text and "End delivery" not in page.text
    for path in ("send", "remind", "notify", "letters", "end"):
        res = scrutineer.post(
            f"/console/e/{SLUG}/delivery/{path}", data={"csrf_token": token, "confirm": "yes"}
        )
        assert res.status_code == 403, path
    client, token = _signed_in(settings)
    for path in ("send", "letters", "end"):
        res = client.post(f"/console/e/{SLUG}/delivery/{path}", data={"confirm": "yes"})
        assert res.status_code in (403, 422), path  # no token: refused before anything
        res = client.post(
            f"/console/e/{SLUG}/delivery/{path}", data={"csrf_token": "forged", "confirm": "yes"}
        )
        assert res.status_code == 403, path
    assert secret_path(key).exists()
    # ending delivery destroys the secret: not without the confirmation
    _post(client, "/delivery/end", token, reason="printing done")
    assert secret_path(key).exists()
    assert "tick the box to confirm" in client.get(f"/console/e/{SLUG}/delivery").text
    _post(client, "/delivery/end", token, reason="printing done", confirm="yes")
    assert not secret_path(key).exists()
    page = client.get(f"/console/e/{SLUG}/delivery").text
    assert "Delivery round 1 ended; its secret is destroyed" in page
    assert "Reason for reissuing" in page  # a resend now is a reissue
    ended = [c.event for c in audit_events(store, SLUG) if c.event.action is Action.DELIVERY_END]
    assert [(e.actor, e.reason) for e in ended] == [("officer", "printing done")]


def test_one_delivery_job_at_a_time(
    store: Store, web_settings: WebSettings, officer: str, sink: tuple[Sink, int]
) -> None:
    """A second send while the first runs is refused (two would send twice)."""
    _, port = sink
    settings = _settings(web_settings, port)
    _prepared(store, settings, 40)
    client, token = _signed_in(settings)
    first = _post(client, "/delivery/send", token, rate="20")  # two seconds at 20 a second
    second = _post(client, "/delivery/send", token, rate="0")
    assert second == f"/console/e/{SLUG}/delivery"
    page = client.get(second).text
    assert "a delivery job of this election is running" in page
    assert _job(client, first)["state"] == "done"
    assert os.path.exists(settings.data_dir / "jobs")


def test_a_job_whose_process_ended_is_shown_as_stopped(
    store: Store, web_settings: WebSettings, officer: str
) -> None:
    """A job file left 'running' by a server that was restarted: its page says it stopped
    (no delivery job holds the election's lock), instead of following it for ever."""
    import json

    _prepared(store, web_settings, 2)
    client, _ = _signed_in(web_settings)
    jobs = web_settings.data_dir / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    job_id = "A" * 22
    (jobs / f"{job_id}.json").write_text(
        json.dumps(
            {
                "id": job_id,
                "kind": "credentials",
                "election": SLUG,
                "state": "running",
                "done": 7,
                "started": 0,
            }
        ),
        encoding="utf-8",
    )
    page = client.get(f"/console/e/{SLUG}/delivery/jobs/{job_id}").text
    assert "this job stopped without finishing (was the server restarted?)" in page
    assert "The sending stopped" in page
