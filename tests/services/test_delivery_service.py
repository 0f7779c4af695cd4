"""Credentials delivered through a real SMTP server (aiosmtpd): once each, the same after a
crash, refusals recorded per voter and retried alone; the delivery secret's lifetime."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from delivery_election import SLUG, email_of, issued, mail_settings
from smtp_sink import Sink, smtp_sink
from tallyroom.errors import CredentialRejected, InputError
from tallyroom.services import audit_log, delivery, polling
from tallyroom.services.credentials import load_or_create_key, reissue_credential
from tallyroom.services.delivery_report import delivery_report
from tallyroom.services.delivery_rounds import secret_path
from tallyroom.services.elections import get_election
from tallyroom.services.smtp import parse_smtp_url
from tallyroom.services.voting import cast_ballot
from tallyroom.store import Store, audit
from tallyroom.store import delivery as queue
from tallyroom.store.schema import DeliveryState

VOTERS = 20


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with smtp_sink() as running:
        yield running


def _states(store: Store) -> dict[DeliveryState, int]:
    election_id = get_election(store, SLUG).id
    found: dict[DeliveryState, int] = {}
    with store.read() as conn:
        for _, _, state, _, n in queue.state_counts(conn, election_id, delivery.CREDENTIALS):
            found[state] = found.get(state, 0) + n
    return found


def test_every_voter_gets_one_message_whose_credential_votes(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    server, port = sink
    key_path = issued(store, tmp_path, VOTERS)
    assert secret_path(key_path).exists()
    result = delivery.send_credentials(
        store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro"
    )
    assert (result.sent, result.failed, result.reissued) == (VOTERS, 0, 0)
    got = server.credentials()
    assert sorted(got) == sorted(email_of(i) for i in range(1, VOTERS + 1))
    assert all(len(c) == 1 for c in got.values())  # exactly one message each
    assert len({c[0] for c in got.values()}) == VOTERS
    (_, msg), *_ = server.messages()
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"] and msg["Date"]
    assert msg.get_body(("html",)) is not None
    # every voter sent: delivery ended by itself, the secret destroyed
    assert result.ended and not secret_path(key_path).exists()
    # the credential in the message votes
    election_id = get_election(store, SLUG).id
    key = load_or_create_key(key_path, create=False)
    polling.open_voting(store, SLUG, actor="ro")
    receipts = cast_ballot(
        store, election_id, got[email_of(3)][0], {"chair": ["Bob Birch"]}, credential_key=key
    )
    assert len(receipts) == 1
    # the log still verifies, the stored election against it too
    assert audit_log.verify_log(store, SLUG).ok
    assert audit_log.verify_record(store, SLUG).ok
    # the audit log has batches of counts, never an address or a credential
    with store.read() as conn:
        text = "\n".join(str(c.event.payload) for c in audit.events(conn, election_id))
    assert "example.org" not in text
    assert not any(c[0] in text or c[0].replace("-", "") in text for c in got.values())


def test_a_refusing_server_is_recorded_per_voter_and_retry_sends_only_those(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    server, port = sink
    key_path = issued(store, tmp_path, VOTERS)
    refused = {email_of(4), email_of(11)}
    server.refuse = set(refused)
    first = delivery.send_credentials(
        store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro"
    )
    assert (first.sent, first.failed, first.ended) == (VOTERS - 2, 2, False)
    election_id = get_election(store, SLUG).id
    with store.read() as conn:
        failed = queue.due(conn, election_id, delivery.CREDENTIALS, [DeliveryState.FAILED])
        answers = {
            a
            for _, _, state, a, _ in queue.state_counts(conn, election_id, delivery.CREDENTIALS)
            if state is DeliveryState.FAILED
        }
    assert {f.email for f in failed} == refused
    assert answers == {"550 5.1.1 mailbox unavailable"}
    # a plain rerun sends nothing more: the failed wait for --retry-failed
    again = delivery.send_credentials(
        store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro"
    )
    assert (again.sent, again.failed) == (0, 0)
    before = len(server.received)
    server.refuse = set()
    retry = delivery.send_credentials(
        store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro", retry_failed=True
    )
    assert (retry.sent, retry.failed, retry.ended) == (2, 0, True)
    assert sorted(r for r, _ in server.received[before:]) == sorted(refused)
    assert _states(store) == {DeliveryState.SENT: VOTERS}


def test_resending_in_the_round_repeats_the_credential(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    """A crash after the messages left but before they were marked: the rerun repeats the
    same credentials (simulated by putting the rows back to pending)."""
    server, port = sink
    key_path = issued(store, tmp_path, 6)
    server.refuse = {email_of(1)}  # keeps the round open
    delivery.send_credentials(store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro")
    election_id = get_election(store, SLUG).id
    with store.begin() as conn:
        queue.mark(
            conn,
            election_id,
            delivery.CREDENTIALS,
            [(e, DeliveryState.PENDING, None) for e in range(1, 100)],
        )
    delivery.send_credentials(store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro")
    for rcpt, creds in server.credentials().items():
        assert len(creds) == 2 and len(set(creds)) == 1, rcpt


def test_after_delivery_ends_a_resend_is_a_reissue(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    server, port = sink
    key_path = issued(store, tmp_path, 5)
    server.refuse = {email_of(2)}
    delivery.send_credentials(store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro")
    delivery.end_delivery(store, SLUG, key_path=key_path, actor="ro", reason="done")
    assert not secret_path(key_path).exists()
    server.refuse = set()
    with pytest.raises(InputError, match="resend is a reissue"):
        delivery.send_credentials(
            store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro", retry_failed=True
        )
    result = delivery.send_credentials(
        store,
        SLUG,
        key_path=key_path,
        mail=mail_settings(port),
        actor="ro",
        retry_failed=True,
        reissue_reason="bounced address corrected",
    )
    assert (result.sent, result.reissued) == (1, 1)
    (credential,) = server.credentials()[email_of(2)]
    election_id = get_election(store, SLUG).id
    key = load_or_create_key(key_path, create=False)
    polling.open_voting(store, SLUG, actor="ro")
    assert cast_ballot(store, election_id, credential, {"chair": ["Ann Ashe"]}, credential_key=key)
    with store.read() as conn:
        reasons = [c.event.reason for c in audit.events(conn, election_id)]
    assert "bounced address corrected" in reasons


def test_a_wrong_secret_file_is_refused(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    _, port = sink
    key_path = issued(store, tmp_path, 3)
    path = secret_path(key_path)
    path.write_text("00" * 32 + "\n", encoding="ascii")
    with pytest.raises(InputError, match="not the delivery secret") as caught:
        delivery.send_credentials(
            store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro"
        )
    assert caught.value.path == str(path)


def test_the_revoked_get_nothing(store: Store, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    server, port = sink
    key_path = issued(store, tmp_path, 3)
    out = tmp_path / "mailhouse.csv"
    assert delivery.export_credentials(store, SLUG, key_path=key_path, out=out, actor="ro") == 3
    with pytest.raises(InputError, match="already exists"):
        delivery.export_credentials(store, SLUG, key_path=key_path, out=out, actor="ro")
    row = out.read_text(encoding="utf-8").splitlines()[1].split(",")
    from tallyroom.services.credentials import revoke_credential

    revoke_credential(store, SLUG, row[2], key_path=key_path, actor="ro", reason="stolen")
    delivery.send_credentials(store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro")
    assert sorted(server.credentials()) == sorted(email_of(i) for i in (2, 3))
    with pytest.raises(CredentialRejected):
        polling.open_voting(store, SLUG, actor="ro")
        cast_ballot(
            store,
            get_election(store, SLUG).id,
            row[2],
            {"chair": ["Ann Ashe"]},
            credential_key=load_or_create_key(key_path, create=False),
        )


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_sent_over_tls_with_a_login(store: Store, tmp_path: Path, tls: str) -> None:
    key_path = issued(store, tmp_path, 3)
    with smtp_sink(tls=tls, folder=tmp_path, password="s3cret") as (server, port):
        scheme = "smtps" if tls == "implicit" else "smtp"
        cafile = tmp_path / "smtp-cert.pem"
        url = f"{scheme}://ro@127.0.0.1:{port}?starttls=require&cafile={cafile}"
        if tls == "implicit":
            url = f"{scheme}://ro@127.0.0.1:{port}?cafile={cafile}"
        mail = mail_settings(port, server=parse_smtp_url(url, "s3cret"))
        result = delivery.send_credentials(store, SLUG, key_path=key_path, mail=mail, actor="ro")
    assert result.sent == 3  # the sink refuses MAIL FROM (530) to a client not logged in
    assert server.over_tls == [True, True, True]


def test_a_server_without_starttls_is_refused_when_it_is_required(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    server, port = sink
    key_path = issued(store, tmp_path, 2)
    url = f"smtp://127.0.0.1:{port}?starttls=require"
    mail = mail_settings(port, server=parse_smtp_url(url))
    with pytest.raises(InputError, match="does not offer STARTTLS"):
        delivery.send_credentials(store, SLUG, key_path=key_path, mail=mail, actor="ro")
    assert server.received == [] and _states(store) == {DeliveryState.PENDING: 2}


def test_the_rate_is_kept(store: Store, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    server, port = sink
    key_path = issued(store, tmp_path, 10)
    start = time.monotonic()
    delivery.send_credentials(
        store, SLUG, key_path=key_path, mail=mail_settings(port, rate=20.0), actor="ro"
    )
    # ten messages started 1/20 s apart over three connections and two batches: >= 0.45 s
    assert time.monotonic() - start >= 0.45
    assert len(server.received) == 10


def test_a_reissue_during_delivery_is_the_credential_a_resend_carries(
    store: Store, tmp_path: Path, sink: tuple[Sink, int]
) -> None:
    server, port = sink
    key_path = issued(store, tmp_path, 3)
    server.refuse = {email_of(1)}
    delivery.send_credentials(store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro")
    new = reissue_credential(
        store, SLUG, "P1", key_path=key_path, actor="ro", reason="bounced; by phone"
    )
    assert new.issue_number == 2
    server.refuse = set()
    retry = delivery.send_credentials(
        store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro", retry_failed=True
    )
    assert (retry.sent, retry.reissued) == (1, 0)
    assert server.credentials()[email_of(1)] == [new.credential]


def test_the_report_by_section(store: Store, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    server, port = sink
    key_path = issued(store, tmp_path, 4, letters=2)
    server.refuse = {email_of(3)}
    delivery.send_credentials(store, SLUG, key_path=key_path, mail=mail_settings(port), actor="ro")
    reissue_credential(store, SLUG, "S1", key_path=key_path, actor="ro", reason="lost")
    report = delivery_report(store, SLUG)
    members, staff = report.sections
    assert (members.section, members.eligible, members.sent, members.pending) == (
        "members", 4, 3, 0,
    )  # fmt: skip
    assert members.failed == {"550 5.1.1 mailbox unavailable": 1}
    assert (staff.eligible, staff.letters_printed, staff.letters_to_print) == (2, 0, 2)
    assert (staff.reissues, members.reissues, members.no_contact) == (1, 0, 0)
    assert report.round_open == 1
    text = report.render()
    assert "example.org" not in text and "Mill Lane" not in text
