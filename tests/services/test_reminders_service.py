"""Reminders reach only those who have not voted, checked again as each batch leaves; result
notices after the declaration. Against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from delivery_election import (
    PASSPHRASE,
    SLUG,
    TWO_CONTESTS,
    email_of,
    issued,
    mail_settings,
    register_text,
)
from smtp_sink import Sink, smtp_sink
from tallyroom.errors import InputError, LifecycleError
from tallyroom.services import declaring, delivery, polling
from tallyroom.services.credentials import load_or_create_key
from tallyroom.services.elections import get_election
from tallyroom.services.reminders import send_notices, send_reminders
from tallyroom.services.voting import cast_ballot
from tallyroom.store import Store

VOTERS = 8


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with smtp_sink() as running:
        yield running


def _open_with_credentials(
    store: Store, tmp_path: Path, sink: Sink, port: int
) -> tuple[Path, dict[str, str]]:
    key = issued(store, tmp_path, VOTERS)
    delivery.send_credentials(store, SLUG, key_path=key, mail=mail_settings(port), actor="ro")
    creds = {rcpt: c[0] for rcpt, c in sink.credentials().items()}
    sink.received.clear()
    polling.open_voting(store, SLUG, actor="ro")
    return key, creds


def _vote(
    store: Store, key: Path, credential: str, choices: dict[str, list[str]] | None = None
) -> None:
    cast_ballot(
        store,
        get_election(store, SLUG).id,
        credential,
        choices or {"chair": ["Ann Ashe"]},
        credential_key=load_or_create_key(key, create=False),
    )


def _reminded(sink: Sink) -> list[str]:
    return sorted(rcpt for rcpt, _ in sink.received)


def test_no_reminder_reaches_someone_who_voted(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    server, port = sink
    key, creds = _open_with_credentials(store, tmp_path, server, port)
    _vote(store, key, creds[email_of(2)])
    _vote(store, key, creds[email_of(5)])
    server.refuse = {email_of(4), email_of(7)}
    first = send_reminders(store, SLUG, mail=mail_settings(port), actor="ro")
    assert (first.sent, first.failed) == (VOTERS - 4, 2)
    assert _reminded(server) == sorted(email_of(i) for i in (1, 3, 6, 8))
    # voter 4 votes after the refusal: the retry must not remind them, voter 7 it must
    _vote(store, key, creds[email_of(4)])
    server.refuse = set()
    server.received.clear()
    retry = send_reminders(store, SLUG, mail=mail_settings(port), actor="ro", retry_failed=True)
    assert (retry.sent, retry.skipped) == (1, 1)
    assert _reminded(server) == [email_of(7)]
    # a second run of the same reminder sends nothing; a second reminder skips the voters
    server.received.clear()
    assert send_reminders(store, SLUG, mail=mail_settings(port), actor="ro").sent == 0
    second = send_reminders(store, SLUG, mail=mail_settings(port), actor="ro", label="2")
    assert second.sent == VOTERS - 3
    assert email_of(2) not in _reminded(server) and email_of(4) not in _reminded(server)
    (_, msg), *_ = server.messages()
    body = msg.get_body(("plain",))
    assert body is not None and "#credential=" not in body.get_content()


def test_reminders_only_while_the_poll_is_open(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    _, port = sink
    issued(store, tmp_path, 2)
    with pytest.raises(LifecycleError, match="send reminders"):
        send_reminders(store, SLUG, mail=mail_settings(port), actor="ro")
    with pytest.raises(InputError, match="label"):
        send_reminders(store, SLUG, mail=mail_settings(port), actor="ro", label="a b")


def test_notices_after_the_declaration(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    server, port = sink
    key, creds = _open_with_credentials(store, tmp_path, server, port)
    with pytest.raises(InputError, match="not declared"):
        send_notices(store, SLUG, mail=mail_settings(port), results_url="https://r", actor="ro")
    for i in (1, 2, 3):
        _vote(store, key, creds[email_of(i)])
    polling.close_voting(store, SLUG, actor="ro")
    declaring.declare(
        store,
        SLUG,
        private_key_file=tmp_path / "coop.private-key",
        passphrase=PASSPHRASE,
        actor="ro",
    )
    result = send_notices(
        store, SLUG, mail=mail_settings(port), results_url="https://r.example/coop", actor="ro"
    )
    assert result.sent == VOTERS
    (_, msg), *_ = server.messages()
    body = msg.get_body(("plain",))
    assert body is not None
    assert "Chair: elected Ann Ashe" in body.get_content()
    assert "https://r.example/coop" in body.get_content()


def _plain(msg: object) -> str:
    body = msg.get_body(("plain",))  # type: ignore[attr-defined]
    assert body is not None
    text: str = body.get_content()
    return " ".join(text.split())


def test_a_reminder_names_only_the_contests_not_voted_in(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    """Members vote in two contests, staff in one. Voted in both, or in staff's only one: no
    reminder. Voted in one of two: reminded once, of the other only. A voter who votes in
    their last contest after being queued is dropped as the batch leaves."""
    server, port = sink
    staff = "".join(
        f"S{i},staff,T{i},active,2015-03-01,,Staff {i},staff{i}@example.org,,\n" for i in (1, 2)
    )
    key = issued(
        store, tmp_path, 6, definition_text=TWO_CONTESTS, register_csv=register_text(6) + staff
    )
    delivery.send_credentials(store, SLUG, key_path=key, mail=mail_settings(port), actor="ro")
    creds = {rcpt: c[0] for rcpt, c in server.credentials().items()}
    server.received.clear()
    polling.open_voting(store, SLUG, actor="ro")
    both = {"chair": ["Ann Ashe"], "treasurer": ["Cy Cole"]}
    _vote(store, key, creds[email_of(1)], both)
    _vote(store, key, creds[email_of(2)], {"chair": ["Bob Birch"]})
    _vote(store, key, creds[email_of(3)], {"treasurer": ["Di Dale"]})
    _vote(store, key, creds["staff1@example.org"], {"chair": ["Ann Ashe"]})
    result = send_reminders(store, SLUG, mail=mail_settings(port, batch=50), actor="ro")
    got = {rcpt: _plain(msg) for rcpt, msg in server.messages()}
    assert sorted(got) == sorted(
        [email_of(2), email_of(3), email_of(4), email_of(5), email_of(6), "staff2@example.org"]
    )
    assert result.sent == 6 and len(server.received) == 6  # one message each
    assert "not voted yet in Treasurer" in got[email_of(2)] and "Chair" not in got[email_of(2)]
    assert "not voted yet in Chair (" in got[email_of(3)] and "Treasurer" not in got[email_of(3)]
    assert "Chair, Treasurer" in got[email_of(4)]
    assert "Chair" in got["staff2@example.org"] and "Treasurer" not in got["staff2@example.org"]
    # a second reminder, with voter 2 finishing between queueing and the batch leaving
    server.received.clear()
    _vote(store, key, creds[email_of(2)], {"treasurer": ["Cy Cole"]})
    _vote(store, key, creds[email_of(4)], {"chair": ["Ann Ashe"]})
    second = send_reminders(store, SLUG, mail=mail_settings(port), actor="ro", label="2")
    got = {rcpt: _plain(msg) for rcpt, msg in server.messages()}
    assert email_of(2) not in got and email_of(1) not in got
    assert "not voted yet in Treasurer" in got[email_of(4)] and "Chair" not in got[email_of(4)]
    assert second.sent == 5


def test_the_queue_skips_voters_with_nothing_left_as_the_batch_leaves(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    """Queued while a contest was open to them, then voted in it: dropped, not reminded."""
    from tallyroom.store import delivery as queue
    from tallyroom.store.schema import ContactChannel, DeliveryState

    server, port = sink
    key, creds = _open_with_credentials(store, tmp_path, server, port)
    election_id = get_election(store, SLUG).id
    with store.begin() as conn:
        queue.enqueue(
            conn, election_id, "reminder-1", [ContactChannel.EMAIL], still_to_vote={"members": 1}
        )
        queued = queue.due(conn, election_id, "reminder-1", [DeliveryState.PENDING])
    assert len(queued) == VOTERS
    _vote(store, key, creds[email_of(3)])
    result = send_reminders(store, SLUG, mail=mail_settings(port), actor="ro")
    assert (result.sent, result.skipped) == (VOTERS - 1, 1)
    assert email_of(3) not in _reminded(server)
