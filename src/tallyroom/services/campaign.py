"""Sending one campaign's queued messages in batches: prepared, sent, their outcomes committed.

Shared by credentials, reminders and notices. Per batch: ``prepare`` turns the queued items
into messages (and may commit what the messages will carry, before anything leaves); the
messages go out through :func:`tallyroom.services.smtp.send_all`; then every outcome is
committed with one ``delivery_batch`` audit event of counts (never an address or a
credential). A server that stops answering ends the run after its batch's outcomes are
recorded: the same command sends the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tallyroom.audit.events import Action, JsonValue
from tallyroom.errors import InputError
from tallyroom.services.smtp import Outgoing, Schedule, SmtpServer, send_all
from tallyroom.store import Store, audit
from tallyroom.store import delivery as queue
from tallyroom.store.delivery import QueueItem
from tallyroom.store.schema import DeliveryState

__all__ = ["CampaignRun", "Prepare", "send_campaign"]

Prepare = Callable[[Sequence[QueueItem]], tuple[list[tuple[int, Outgoing]], dict[str, JsonValue]]]


@dataclass(frozen=True, slots=True)
class CampaignRun:
    sent: int
    failed: int


def _offset(progress: Callable[[int], None], done: int) -> Callable[[int], None]:
    return lambda k: progress(done + k)


def send_campaign(
    store: Store,
    election_id: int,
    campaign: str,
    items: Sequence[QueueItem],
    prepare: Prepare,
    *,
    server: SmtpServer,
    rate: float,
    connections: int,
    batch: int,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> CampaignRun:
    """Send ``items`` batch by batch (see the module docstring)."""
    sent = failed = 0
    schedule = Schedule(rate)  # one for the whole run: the rate holds across batches
    for start in range(0, len(items), batch):
        messages, extra = prepare(items[start : start + batch])
        done = sent + failed
        run = send_all(
            server,
            messages,
            connections=connections,
            rate=rate,
            progress=None if progress is None else _offset(progress, done),
            schedule=schedule,
        )
        outcomes = [
            (
                entry_id,
                DeliveryState.SENT if refused is None else DeliveryState.FAILED,
                None if refused is None else str(refused),
            )
            for entry_id, refused in run.outcomes.items()
        ]
        batch_failed = sum(1 for _, state, _ in outcomes if state is DeliveryState.FAILED)
        with store.begin() as conn:
            queue.mark(conn, election_id, campaign, outcomes)
            audit.append(
                conn,
                election_id,
                Action.DELIVERY_BATCH,
                actor=actor,
                payload={
                    "campaign": campaign,
                    "sent": len(outcomes) - batch_failed,
                    "failed": batch_failed,
                    **extra,
                },
            )
        sent += len(outcomes) - batch_failed
        failed += batch_failed
        if run.stopped is not None:
            raise InputError(
                f"the SMTP server stopped the run after {sent:,} sent: {run.stopped}; "
                "what was sent is recorded: send again to send the rest",
                field="smtp",
            )
    return CampaignRun(sent, failed)
