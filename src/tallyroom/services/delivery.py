"""Delivering credentials: derived, sent by email through a resumable queue, reported.

Each eligible voter's credential is derived from the round's delivery secret
(:mod:`tallyroom.crypto.delivery_secret`) whenever it must be written into a message, a
letter or a mail house's file; it is stored nowhere. :func:`send_credentials` works through
the ``credentials`` campaign of the queue (:mod:`tallyroom.store.delivery`):

1. the voters whose channel is email and who are not queued yet are queued (``pending``);
2. batch by batch: each voter's live credential is derived and checked against its stored
   hash (with the credential key); one that cannot be derived in this round (issued under a
   secret since destroyed) is reissued, derived, with the reason given, old one revoked;
   the issue number each message carries is committed *before* anything is sent;
3. the batch is sent (:func:`tallyroom.services.smtp.send_all`), then each voter's outcome
   is committed (``sent``, or ``failed`` with the server's answer) with one audit event of
   counts.

Killed anywhere, a rerun sends every message not recorded as sent, each with the credential
its row names, which derives to the same text: a voter may get a message twice, never two
different credentials. ``retry_failed`` sends only the failed. :func:`end_delivery` ends the
round and destroys the secret; it also ends by itself when every voter has been sent their
credential. After that a resend is a reissue under a new round (``reissue_reason``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from tallyroom.audit.events import Action, JsonValue
from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.crypto.delivery_secret import DeliverySecret
from tallyroom.errors import InputError, LifecycleError
from tallyroom.services import delivery_rounds
from tallyroom.services.campaign import send_campaign
from tallyroom.services.credentials import canonical, load_or_create_key
from tallyroom.services.elections import definition_of, get_election
from tallyroom.services.mail import Mailer, booth_link
from tallyroom.services.smtp import Outgoing, SmtpServer
from tallyroom.store import ElectionState, Store, audit, credentials, elections, register
from tallyroom.store import delivery as queue
from tallyroom.store.delivery import QueueItem
from tallyroom.store.schema import ContactChannel, DeliveryState

__all__ = [
    "CREDENTIALS",
    "MailSettings",
    "SendResult",
    "credentials_for",
    "end_delivery",
    "export_credentials",
    "is_complete",
    "message_context",
    "open_or_resume",
    "send_credentials",
]

CREDENTIALS = "credentials"
_SENDING = (
    ElectionState.NOMINATIONS_CLOSED,
    ElectionState.CREDENTIALS_ISSUED,
    ElectionState.OPEN,
)


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Where and how to send: the server, the sender, the booth's public address, the
    templates folder (None: the packaged ones), the rate (messages a second over all
    connections; 0: unthrottled), the number of connections and the batch size."""

    server: SmtpServer
    sender: str
    booth_url: str
    templates: Path | None = None
    rate: float = 20.0
    connections: int = 4
    batch: int = 500


@dataclass(frozen=True, slots=True)
class SendResult:
    sent: int
    failed: int
    reissued: int
    pending: int
    ended: bool


def message_context(store: Store, slug: str) -> tuple[int, dict[str, Any]]:
    """The election's id, and what every message's template is given about it."""
    record = get_election(store, slug)
    definition = definition_of(record)
    close = definition.timetable.ballot_close
    local = close.astimezone(ZoneInfo(definition.timezone))
    context: dict[str, Any] = {
        "election": definition.name,
        "organisation": definition.organisation,
        "closes": local.strftime("%A %d %B %Y at %H:%M ") + (local.tzname() or ""),
    }
    return record.id, context


def open_or_resume(
    conn: Connection, election_id: int, key_path: Path, *, actor: str, reissue_reason: str
) -> tuple[DeliverySecret, int, bool]:
    """The open round's secret, or a new round when delivery has ended and a reason to
    reissue is given. (secret, round, whether a round was started)."""
    found = delivery_rounds.round_secret(conn, election_id, key_path)
    if found is not None:
        return found[0], found[1], False
    if not reissue_reason.strip():
        raise InputError(
            "delivery has ended (its secret is destroyed): a resend is a reissue, "
            "give a reason for it",
            field="reissue_reason",
            value=reissue_reason,
        )
    secret, number = delivery_rounds.start_round(
        conn, election_id, key_path, actor=actor, reason=reissue_reason
    )
    return secret, number, True


def credentials_for(
    conn: Connection,
    election_id: int,
    key: CredentialKey,
    secret: DeliverySecret,
    round_number: int,
    items: list[QueueItem],
    *,
    actor: str,
    reason: str,
) -> tuple[dict[int, str], int]:
    """Each item's credential (derived, checked against its hash, reissued when it cannot
    be derived in this round), the issue recorded on its row; and how many were reissued."""
    live = credentials.live_credentials(conn, election_id, (i.entry_id for i in items))
    found: dict[int, str] = {}
    carried: list[tuple[int, int, int]] = []
    reissued = 0
    for item in items:
        if item.entry_id not in live:
            continue  # revoked without a new one: nothing to send
        number, digest = live[item.entry_id]
        credential = secret.credential(item.entry_key, number)
        if key.digest(canonical(credential)) != digest:
            number += 1
            credential = secret.credential(item.entry_key, number)
            credentials.reissue(
                conn,
                election_id,
                key,
                item.entry_id,
                canonical(credential),
                actor=actor,
                reason=reason or f"resent in delivery round {round_number}",
            )
            reissued += 1
        if (item.round, item.issue_number) != (round_number, number):
            carried.append((item.entry_id, round_number, number))
        found[item.entry_id] = credential
    queue.set_credentials(conn, election_id, CREDENTIALS, carried)
    return found, reissued


def send_credentials(
    store: Store,
    slug: str,
    *,
    key_path: str | Path,
    mail: MailSettings,
    actor: str,
    retry_failed: bool = False,
    reissue_reason: str = "",
    progress: Callable[[int], None] | None = None,
) -> SendResult:
    """Send every email voter their credential (see the module docstring)."""
    election_id, context = message_context(store, slug)
    key = load_or_create_key(key_path, create=False)
    mailer = Mailer(mail.sender, mail.templates)
    path = Path(key_path)
    with store.begin() as conn:
        elections.require_state(conn, election_id, *_SENDING, doing="send credentials")
        credentials.bind_key(conn, election_id, key)
        secret, round_number, started = open_or_resume(
            conn, election_id, path, actor=actor, reissue_reason=reissue_reason
        )
        try:
            queue.enqueue(conn, election_id, CREDENTIALS, [ContactChannel.EMAIL])
        except BaseException:
            if started:
                delivery_rounds.destroy_secret_file(delivery_rounds.secret_path(path))
            raise
    with store.read() as conn:
        states = [DeliveryState.FAILED] if retry_failed else [DeliveryState.PENDING]
        items = queue.due(conn, election_id, CREDENTIALS, states, channel=ContactChannel.EMAIL)
    reissued = 0

    def prepare(
        chunk: Sequence[QueueItem],
    ) -> tuple[list[tuple[int, Outgoing]], dict[str, JsonValue]]:
        nonlocal reissued
        with store.begin() as conn:
            found, n = credentials_for(
                conn, election_id, key, secret, round_number, list(chunk),
                actor=actor, reason=reissue_reason,
            )  # fmt: skip
        reissued += n
        messages = []
        for item in chunk:
            credential = found.get(item.entry_id)
            if credential is None or item.email is None:
                continue
            rendered = mailer.render(
                "credential",
                {
                    **context,
                    "name": item.name,
                    "credential": credential,
                    "booth": booth_link(mail.booth_url, slug),
                    "link": booth_link(mail.booth_url, slug, credential),
                    "section": item.section,
                },
            )
            messages.append((item.entry_id, mailer.message(item.email, item.name, rendered)))
        return messages, {"round": round_number, "reissued": n}

    run = send_campaign(
        store, election_id, CREDENTIALS, items, prepare,
        server=mail.server, rate=mail.rate, connections=mail.connections, batch=mail.batch,
        actor=actor, progress=progress,
    )  # fmt: skip
    with store.read() as conn:
        pending = len(queue.due(conn, election_id, CREDENTIALS, [DeliveryState.PENDING]))
        complete = is_complete(conn, election_id)
    ended = False
    if complete:
        end_delivery(store, slug, key_path=key_path, actor=actor, reason="every voter was sent")
        ended = True
    return SendResult(run.sent, run.failed, reissued, pending, ended)


def is_complete(conn: Connection, election_id: int) -> bool:
    """Every eligible voter with a live credential has been sent it (by email or letter)."""
    eligible = register.count_entries(conn, election_id, eligible=True)
    done = sum(
        n
        for _, _, state, _, n in queue.state_counts(conn, election_id, CREDENTIALS)
        if state is DeliveryState.SENT
    )
    return done >= eligible > 0


def end_delivery(
    store: Store, slug: str, *, key_path: str | Path, actor: str, reason: str = ""
) -> int:
    """End the open round and destroy its secret: credentials can no longer be derived;
    a later resend is a reissue. Returns the round's number."""
    record = get_election(store, slug)
    path = delivery_rounds.secret_path(key_path)
    with store.begin() as conn:
        counts: dict[str, int] = {}
        for _, _, state, _, n in queue.state_counts(conn, record.id, CREDENTIALS):
            counts[state.value] = counts.get(state.value, 0) + n
        number = delivery_rounds.end_round(
            conn, record.id, key_path, actor=actor, reason=reason, payload=counts
        )
    delivery_rounds.destroy_secret_file(path)
    return number


def export_credentials(
    store: Store, slug: str, *, key_path: str | Path, out: str | Path, actor: str
) -> int:
    """Write every live credential of the open round once to ``out`` (CSV ``person_id,
    section,credential,name,email,address,channel``) for an external mail house; the audit log
    records the export (its count). A file that exists is not overwritten."""
    record = get_election(store, slug)
    key = load_or_create_key(key_path, create=False)
    target = Path(out)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(
            "the export file already exists (not overwritten)", path=str(target)
        ) from None
    except OSError as exc:
        raise InputError(
            f"cannot create the export file: {exc.strerror}", path=str(target)
        ) from None
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle, store.begin() as conn:
            found = delivery_rounds.round_secret(conn, record.id, key_path)
            if found is None:
                raise LifecycleError(
                    "delivery has ended: the credentials can no longer be exported",
                    election=slug,
                )
            secret, number = found
            credentials.bind_key(conn, record.id, key)
            count = 0
            writer = csv.writer(handle)
            writer.writerow(
                ("person_id", "section", "credential", "name", "email", "address", "channel")
            )
            for row in _derived(conn, record.id, key, secret):
                writer.writerow(row)
                count += 1
            payload: dict[str, JsonValue] = {"credentials": count, "round": number}
            audit.append(conn, record.id, Action.CREDENTIALS_EXPORT, actor=actor, payload=payload)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return count


def _derived(
    conn: Connection, election_id: int, key: CredentialKey, secret: DeliverySecret
) -> Iterator[tuple[str, ...]]:
    """Each eligible voter's live credential, derived and checked, with their contact."""
    from tallyroom.store.contacts import contacts_of

    voters = register.eligible_voters(conn, election_id)
    keys = queue.entry_keys(conn, election_id)
    live = credentials.live_credentials(conn, election_id, (v[0] for v in voters))
    contact = dict(contacts_of(conn, election_id))
    for entry_id, person, section in voters:
        if entry_id not in live:
            continue
        number, digest = live[entry_id]
        credential = secret.credential(keys[entry_id], number)
        if key.digest(canonical(credential)) != digest:
            continue  # issued outside this round: only a reissue can deliver it
        c = contact.get(entry_id)
        yield (
            person,
            section,
            credential,
            (c.name or "") if c else "",
            (c.email or "") if c else "",
            (c.postal_address or "") if c else "",
            c.channel.value if c and c.channel else "",
        )
