"""Delivery rounds and the delivery queue: who has been sent what, resumable after a crash.

A *round* is the time a delivery secret exists (:mod:`tallyroom.crypto.delivery_secret`):
:func:`open_round` records its check value, :func:`end_round` the moment it is destroyed.
At most one round of an election is open.

The *queue* (``deliveries``) holds one row per voter and campaign (``credentials``, a
reminder, a notice) with its state: ``pending`` until a message is accepted by the mail
server (``sent``) or refused (``failed``, with the server's answer). A row also says which
credential it carries (the round and the issue number), so that a sender restarted after a
crash derives the same credential again. Rows are marked in batches; a row still pending
when a sender dies may have been sent: it is sent again, with the same credential.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.audit.events import timestamp
from tallyroom.errors import InputError, LifecycleError
from tallyroom.store.schema import (
    ContactChannel,
    DeliveryState,
    ballot_casts,
    credentials,
    deliveries,
    delivery_rounds,
    register_contacts,
    register_entries,
)

__all__ = [
    "QueueItem",
    "Round",
    "campaign_counts",
    "channels_by_section",
    "contests_cast",
    "count_due",
    "drop",
    "due",
    "end_round",
    "enqueue",
    "entry_keys",
    "mark",
    "open_round",
    "reissues_by_section",
    "require_round",
    "round_open",
    "set_credentials",
    "state_counts",
]


@dataclass(frozen=True, slots=True)
class Round:
    election_id: int
    number: int
    opened_at: str
    ended_at: str | None


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One voter's message due: who, how to reach them, and which credential it carries."""

    entry_id: int
    entry_key: str
    section: str
    channel: ContactChannel
    name: str | None
    email: str | None
    postal_address: str | None
    round: int | None
    issue_number: int | None
    state: DeliveryState
    attempts: int


def entry_keys(conn: Connection, election_id: int) -> dict[int, str]:
    """entry id -> the entry's key (its ``person_id`` column), for the eligible entries."""
    e = register_entries.c
    rows = conn.execute(
        sa.select(e.id, e.person_id).where(e.election_id == election_id).where(e.eligible.is_(True))
    )
    return {int(i): str(k) for i, k in rows}


def round_open(conn: Connection, election_id: int) -> Round | None:
    """The election's open round, if any."""
    r = delivery_rounds.c
    row = conn.execute(
        sa.select(r.round, r.opened_at, r.ended_at)
        .where(r.election_id == election_id)
        .where(r.ended_at.is_(None))
    ).one_or_none()
    return None if row is None else Round(election_id, row.round, row.opened_at, row.ended_at)


def open_round(
    conn: Connection, election_id: int, secret_check: bytes, *, at: datetime | None = None
) -> Round:
    """Record a new round (its secret's check value); refused while another is open."""
    if round_open(conn, election_id) is not None:
        raise LifecycleError("a delivery round is open already", election=election_id)
    r = delivery_rounds.c
    last = conn.execute(
        sa.select(sa.func.max(r.round)).where(r.election_id == election_id)
    ).scalar_one()
    number = int(last or 0) + 1
    when = timestamp(at)
    conn.execute(
        delivery_rounds.insert().values(
            election_id=election_id, round=number, secret_check=secret_check, opened_at=when
        )
    )
    return Round(election_id, number, when, None)


def require_round(conn: Connection, election_id: int, secret_check: bytes) -> Round:
    """The open round, checked against the secret in hand (refused: none open, or another
    secret)."""
    r = delivery_rounds.c
    found = round_open(conn, election_id)
    if found is None:
        raise LifecycleError("no delivery round is open", election=election_id)
    stored = conn.execute(
        sa.select(r.secret_check).where(r.election_id == election_id).where(r.round == found.number)
    ).scalar_one()
    if not hmac.compare_digest(bytes(stored), secret_check):
        raise InputError(
            "this is not the delivery secret of the open round", field="delivery_secret"
        )
    return found


def end_round(conn: Connection, election_id: int, *, at: datetime | None = None) -> Round:
    found = round_open(conn, election_id)
    if found is None:
        raise LifecycleError("no delivery round is open", election=election_id)
    when = timestamp(at)
    conn.execute(
        delivery_rounds.update()
        .where(delivery_rounds.c.election_id == election_id)
        .where(delivery_rounds.c.round == found.number)
        .values(ended_at=when)
    )
    return Round(election_id, found.number, found.opened_at, when)


def enqueue(
    conn: Connection,
    election_id: int,
    campaign: str,
    channels: Iterable[ContactChannel],
    *,
    only: Sequence[int] | None = None,
    still_to_vote: Mapping[str, int] | None = None,
    at: datetime | None = None,
) -> int:
    """Queue every eligible voter with a live credential whose channel is in ``channels``
    and who is not queued in ``campaign`` yet (only the entries ``only`` when given); each
    row carries the voter's live issue number. With ``still_to_vote`` (section -> how many
    contests that section votes in), only the voters who have voted in fewer contests than
    their section has: those with a contest still open to them. Returns how many were
    queued."""
    e, c, k, d = register_entries.c, credentials.c, register_contacts.c, deliveries.c
    wanted = [ch.value for ch in channels]
    query = (
        sa.select(
            sa.literal(election_id),
            sa.literal(campaign),
            e.id,
            k.channel,
            c.issue_number,
            sa.literal(DeliveryState.PENDING.value),
            sa.literal(0),
            sa.literal(timestamp(at)),
        )
        .select_from(register_entries)
        .join(register_contacts, k.entry_id == e.id)
        .join(credentials, sa.and_(c.entry_id == e.id, c.status == "issued"))
        .where(e.election_id == election_id)
        .where(e.eligible.is_(True))
        .where(k.channel.in_(wanted))
        .where(
            ~sa.exists()
            .where(d.election_id == election_id)
            .where(d.campaign == campaign)
            .where(d.entry_id == e.id)
        )
    )
    if only is not None:
        query = query.where(e.id.in_(list(only)))
    if still_to_vote is not None:
        # one row per (voter, contest) in ballot_casts: the count is the contests voted in
        cast = (
            sa.select(sa.func.count())
            .where(ballot_casts.c.entry_id == e.id)
            .correlate(register_entries)
            .scalar_subquery()
        )
        contests = sa.case(
            {section: n for section, n in still_to_vote.items()}, value=e.section, else_=0
        )
        query = query.where(cast < contests)
    result = conn.execute(
        deliveries.insert().from_select(
            [
                "election_id",
                "campaign",
                "entry_id",
                "channel",
                "issue_number",
                "state",
                "attempts",
                "updated_at",
            ],
            query,
        )
    )
    return int(result.rowcount or 0)


def set_credentials(
    conn: Connection,
    election_id: int,
    campaign: str,
    rows: Iterable[tuple[int, int, int]],
) -> None:
    """Say which credential queued messages carry, ``(entry_id, round, issue_number)`` each
    (committed before they are sent)."""
    d = deliveries.c
    statement = (
        deliveries.update()
        .where(d.election_id == election_id)
        .where(d.campaign == campaign)
        .where(d.entry_id == sa.bindparam("b_entry"))
        .values(round=sa.bindparam("b_round"), issue_number=sa.bindparam("b_issue"))
    )
    values = [{"b_entry": e, "b_round": r, "b_issue": n} for e, r, n in rows]
    if values:
        conn.execute(statement, values)


def due(
    conn: Connection,
    election_id: int,
    campaign: str,
    states: Iterable[DeliveryState],
    *,
    channel: ContactChannel | None = None,
    after: int = 0,
    limit: int | None = None,
) -> list[QueueItem]:
    """The queued messages in ``states``, in entry order, with their contact details (only
    entries after the entry id ``after``, at most ``limit`` of them, when given)."""
    d, e, k = deliveries.c, register_entries.c, register_contacts.c
    query = (
        sa.select(
            d.entry_id,
            e.person_id,
            e.section,
            d.channel,
            k.name,
            k.email,
            k.postal_address,
            d.round,
            d.issue_number,
            d.state,
            d.attempts,
        )
        .select_from(deliveries)
        .join(register_entries, e.id == d.entry_id)
        .outerjoin(register_contacts, k.entry_id == d.entry_id)
        .where(d.election_id == election_id)
        .where(d.campaign == campaign)
        .where(d.state.in_([s.value for s in states]))
        .order_by(d.entry_id)
    )
    if channel is not None:
        query = query.where(d.channel == channel.value)
    if after:
        query = query.where(d.entry_id > after)
    if limit is not None:
        query = query.limit(limit)
    return [QueueItem(*row) for row in conn.execute(query)]


def count_due(
    conn: Connection,
    election_id: int,
    campaign: str,
    states: Iterable[DeliveryState],
    *,
    channel: ContactChannel | None = None,
) -> int:
    """How many queued messages are in ``states`` (of ``channel`` when given)."""
    d = deliveries.c
    query = (
        sa.select(sa.func.count())
        .select_from(deliveries)
        .where(d.election_id == election_id)
        .where(d.campaign == campaign)
        .where(d.state.in_([s.value for s in states]))
    )
    if channel is not None:
        query = query.where(d.channel == channel.value)
    return int(conn.execute(query).scalar_one())


def mark(
    conn: Connection,
    election_id: int,
    campaign: str,
    outcomes: Iterable[tuple[int, DeliveryState, str | None]],
    *,
    at: datetime | None = None,
) -> int:
    """Record ``(entry_id, state, answer)`` outcomes, each one more attempt."""
    d = deliveries.c
    statement = (
        deliveries.update()
        .where(d.election_id == election_id)
        .where(d.campaign == campaign)
        .where(d.entry_id == sa.bindparam("b_entry"))
        .values(
            state=sa.bindparam("b_state"),
            answer=sa.bindparam("b_answer"),
            attempts=d.attempts + 1,
            updated_at=timestamp(at),
        )
    )
    rows = [
        {"b_entry": entry_id, "b_state": state.value, "b_answer": answer}
        for entry_id, state, answer in outcomes
    ]
    if rows:
        conn.execute(statement, rows)
    return len(rows)


def state_counts(
    conn: Connection, election_id: int, campaign: str
) -> list[tuple[str, ContactChannel, DeliveryState, str | None, int]]:
    """(section, channel, state, answer, how many) over a campaign's queue."""
    d, e = deliveries.c, register_entries.c
    query = (
        sa.select(e.section, d.channel, d.state, d.answer, sa.func.count())
        .select_from(deliveries)
        .join(register_entries, e.id == d.entry_id)
        .where(d.election_id == election_id)
        .where(d.campaign == campaign)
        .group_by(e.section, d.channel, d.state, d.answer)
        .order_by(e.section, d.channel, d.state, d.answer)
    )
    return [(str(s), ch, st, a, int(n)) for s, ch, st, a, n in conn.execute(query)]


def campaign_counts(conn: Connection, election_id: int) -> list[tuple[str, DeliveryState, int]]:
    """(campaign, state, how many) over every campaign of the election's queue."""
    d = deliveries.c
    query = (
        sa.select(d.campaign, d.state, sa.func.count())
        .where(d.election_id == election_id)
        .group_by(d.campaign, d.state)
        .order_by(d.campaign, d.state)
    )
    return [(str(c), st, int(n)) for c, st, n in conn.execute(query)]


def channels_by_section(conn: Connection, election_id: int) -> dict[tuple[str, str], int]:
    """(section, channel or "none") -> how many eligible entries."""
    e, k = register_entries.c, register_contacts.c
    rows = conn.execute(
        sa.select(e.section, k.channel, sa.func.count())
        .select_from(register_entries)
        .outerjoin(register_contacts, k.entry_id == e.id)
        .where(e.election_id == election_id)
        .where(e.eligible.is_(True))
        .group_by(e.section, k.channel)
    )
    return {(str(s), ch.value if ch is not None else "none"): int(n) for s, ch, n in rows}


def reissues_by_section(conn: Connection, election_id: int) -> dict[str, int]:
    """section -> how many credentials were reissues (issue number above 1)."""
    e, c = register_entries.c, credentials.c
    rows = conn.execute(
        sa.select(e.section, sa.func.count())
        .select_from(credentials)
        .join(register_entries, e.id == c.entry_id)
        .where(c.election_id == election_id)
        .where(c.issue_number > 1)
        .group_by(e.section)
    )
    return {str(s): int(n) for s, n in rows}


def contests_cast(conn: Connection, entry_ids: Iterable[int]) -> dict[int, set[str]]:
    """The contests each of these entries has cast a ballot in (entries with none are left
    out): that they voted, never how."""
    ids = list(entry_ids)
    found: dict[int, set[str]] = {}
    b = ballot_casts.c
    for start in range(0, len(ids), 5_000):
        rows = conn.execute(
            sa.select(b.entry_id, b.contest).where(b.entry_id.in_(ids[start : start + 5_000]))
        )
        for entry_id, contest in rows:
            found.setdefault(int(entry_id), set()).add(str(contest))
    return found


def drop(conn: Connection, election_id: int, campaign: str, entry_ids: Iterable[int]) -> int:
    """Take entries out of a campaign's queue (a reminder no longer due: they voted)."""
    d = deliveries.c
    ids = list(entry_ids)
    if not ids:
        return 0
    result = conn.execute(
        deliveries.delete()
        .where(d.election_id == election_id)
        .where(d.campaign == campaign)
        .where(d.entry_id.in_(ids))
    )
    return int(result.rowcount or 0)
