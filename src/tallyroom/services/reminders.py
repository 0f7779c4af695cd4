"""Reminders to the voters who have not voted yet, and result notices after the declaration.

Both are campaigns of the delivery queue (:mod:`tallyroom.store.delivery`), sent like the
credentials (:mod:`tallyroom.services.campaign`): resumable, throttled, each voter's outcome
recorded, ``retry_failed`` for the refused.

A reminder goes only to a voter with a contest still open to them: one of the contests
their section votes in that they have not voted in yet. It is one message a voter, naming
those contests (in the definition's order), never one they have voted in: a voter who has
voted in one contest of two is reminded of the other only. The queue is filled with those
voters, and each batch is checked again just before it is sent, so a voter who votes
while a run is under way is reminded only of what is still open to them, and not at all
when nothing is. The service reads *that* a voter voted in a contest (``ballot_casts``),
never how. A reminder carries no credential (a voter who lost theirs asks for a reissue).

A notice goes to every eligible voter with an email, once the result is declared, with each
contest's winners and the address of the published declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tallyroom.audit.events import JsonValue
from tallyroom.errors import InputError
from tallyroom.services.campaign import CampaignRun, send_campaign
from tallyroom.services.declaring import published_declaration
from tallyroom.services.delivery import MailSettings, message_context
from tallyroom.services.elections import definition_of, get_election
from tallyroom.services.mail import Mailer, booth_link
from tallyroom.services.smtp import Outgoing
from tallyroom.store import ElectionState, Store, elections
from tallyroom.store import delivery as queue
from tallyroom.store.delivery import QueueItem
from tallyroom.store.schema import ContactChannel, DeliveryState

__all__ = ["CampaignResult", "contests_by_section", "send_notices", "send_reminders"]


@dataclass(frozen=True, slots=True)
class CampaignResult:
    sent: int
    failed: int
    skipped: int  # reminders: voters who had voted in every contest before their batch left


def _campaign_name(kind: str, label: str) -> str:
    name = f"{kind}-{label}"
    if not label or len(name) > 100 or not all(ch.isalnum() or ch in "-_" for ch in label):
        raise InputError("a label is letters, digits, - and _", field="label", value=label)
    return name


def send_reminders(
    store: Store,
    slug: str,
    *,
    mail: MailSettings,
    actor: str,
    label: str = "1",
    retry_failed: bool = False,
    progress: Callable[[int], None] | None = None,
) -> CampaignResult:
    """Remind each email voter of the contests they have not voted in yet (see the module
    docstring)."""
    election_id, context = message_context(store, slug)
    campaign = _campaign_name("reminder", label)
    mailer = Mailer(mail.sender, mail.templates)
    open_to = contests_by_section(store, slug)
    with store.begin() as conn:
        elections.require_state(conn, election_id, ElectionState.OPEN, doing="send reminders")
        queue.enqueue(
            conn,
            election_id,
            campaign,
            [ContactChannel.EMAIL],
            still_to_vote={section: len(c) for section, c in open_to.items()},
        )
    with store.read() as conn:
        states = [DeliveryState.FAILED] if retry_failed else [DeliveryState.PENDING]
        items = queue.due(conn, election_id, campaign, states)
    skipped = 0

    def prepare(
        chunk: Sequence[QueueItem],
    ) -> tuple[list[tuple[int, Outgoing]], dict[str, JsonValue]]:
        nonlocal skipped
        with store.begin() as conn:
            # checked again as the batch leaves: never remind anyone of a contest they
            # have voted in
            elections.require_state(conn, election_id, ElectionState.OPEN, doing="send reminders")
            cast = queue.contests_cast(conn, (i.entry_id for i in chunk))
            still = {
                i.entry_id: [c for c in open_to.get(i.section, ()) if c[0] not in
                             cast.get(i.entry_id, set())]
                for i in chunk
            }  # fmt: skip
            done = [entry_id for entry_id, left in still.items() if not left]
            queue.drop(conn, election_id, campaign, done)
        skipped += len(done)
        messages = []
        for item in chunk:
            left = still[item.entry_id]
            if not left or item.email is None:
                continue
            rendered = mailer.render(
                "reminder",
                {**context, "name": item.name, "booth": booth_link(mail.booth_url, slug),
                 "section": item.section, "contests": [title for _, title in left],
                 "voted_in_some": len(left) < len(open_to.get(item.section, ()))},
            )  # fmt: skip
            messages.append((item.entry_id, mailer.message(item.email, item.name, rendered)))
        return messages, {"voted_since_queued": len(done)}

    run = _send(store, election_id, campaign, items, prepare, mail, actor, progress)
    return CampaignResult(run.sent, run.failed, skipped)


def contests_by_section(store: Store, slug: str) -> dict[str, list[tuple[str, str]]]:
    """Section -> the (name, title) of each contest it votes in, in the definition's order."""
    definition = definition_of(get_election(store, slug))
    found: dict[str, list[tuple[str, str]]] = {s.name: [] for s in definition.sections}
    for contest in definition.contests:
        for section in contest.sections:
            found.setdefault(section, []).append((contest.name, contest.title or contest.name))
    return found


def send_notices(
    store: Store,
    slug: str,
    *,
    mail: MailSettings,
    results_url: str,
    actor: str,
    retry_failed: bool = False,
    progress: Callable[[int], None] | None = None,
) -> CampaignResult:
    """Tell every email voter the declared result."""
    election_id, context = message_context(store, slug)
    campaign = "notice"
    document = published_declaration(store, slug)
    if document is None:
        raise InputError("the result is not declared yet", field="election", value=slug)
    lines = [
        f"{c.get('title') or c.get('contest')}: elected {', '.join(c['winners']) or 'nobody'}"
        for c in document["contests"]
    ]
    mailer = Mailer(mail.sender, mail.templates)
    with store.begin() as conn:
        queue.enqueue(conn, election_id, campaign, [ContactChannel.EMAIL])
    with store.read() as conn:
        states = [DeliveryState.FAILED] if retry_failed else [DeliveryState.PENDING]
        items = queue.due(conn, election_id, campaign, states)

    def prepare(
        chunk: Sequence[QueueItem],
    ) -> tuple[list[tuple[int, Outgoing]], dict[str, JsonValue]]:
        messages = []
        for item in chunk:
            if item.email is None:
                continue
            rendered = mailer.render(
                "notice", {**context, "name": item.name, "result": lines, "results": results_url}
            )
            messages.append((item.entry_id, mailer.message(item.email, item.name, rendered)))
        return messages, {}

    run = _send(store, election_id, campaign, items, prepare, mail, actor, progress)
    return CampaignResult(run.sent, run.failed, 0)


def _send(
    store: Store,
    election_id: int,
    campaign: str,
    items: Sequence[QueueItem],
    prepare: Callable[
        [Sequence[QueueItem]], tuple[list[tuple[int, Outgoing]], dict[str, JsonValue]]
    ],
    mail: MailSettings,
    actor: str,
    progress: Callable[[int], None] | None,
) -> CampaignRun:
    return send_campaign(
        store, election_id, campaign, items, prepare,
        server=mail.server, rate=mail.rate, connections=mail.connections, batch=mail.batch,
        actor=actor, progress=progress,
    )  # fmt: skip
