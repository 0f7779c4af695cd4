"""The delivery report: where every voter's credential stands, by section.

For each section: the eligible voters; by email, how many were sent, failed (by the
server's answer), are queued and not yet sent, or not queued yet; by post, the letters
printed and not yet printed; the voters with no contact details at all; the reissues. And
whether a delivery round is open (its secret still exists). Counts only: no address, no
name, no credential.

A failure is *bounced* when the server refused the address for good (a 5xx answer, RFC 5321
s4.2.1: "permanent negative completion"; sending again will not help: the voter needs
another address or a letter), *deferred* when it may pass later (4xx: retry). tallyroom
reads no bounce messages that arrive later in the sender's mailbox: a message accepted by
the server counts as sent.

:func:`campaign_summary` gives the same for the reminders and the result notices, per
campaign: sent, failed, not yet sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tallyroom.services.elections import get_election
from tallyroom.store import Store, register
from tallyroom.store import delivery as queue
from tallyroom.store.schema import ContactChannel, DeliveryState

__all__ = [
    "CampaignSummary",
    "DeliveryReport",
    "SectionDelivery",
    "campaign_summary",
    "delivery_report",
]

CREDENTIALS = "credentials"


@dataclass(frozen=True, slots=True)
class SectionDelivery:
    section: str
    eligible: int
    sent: int
    failed: Mapping[str, int]
    pending: int
    not_queued: int
    letters_printed: int
    letters_to_print: int
    no_contact: int
    reissues: int

    @property
    def bounced(self) -> int:
        """Refused for good (5xx): sending again will not help."""
        return sum(n for answer, n in self.failed.items() if answer.startswith("5"))

    @property
    def deferred(self) -> int:
        """Refused for now (4xx, or no answer): worth sending again."""
        return sum(self.failed.values()) - self.bounced


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """One campaign of reminders or notices: its name, and how many sent, failed, due."""

    campaign: str
    sent: int
    failed: int
    pending: int


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sections: tuple[SectionDelivery, ...]
    round_open: int | None

    def render(self) -> str:
        out = []
        state = (
            f"delivery round {self.round_open} is open (its secret exists)"
            if self.round_open is not None
            else "no delivery round is open (no secret exists)"
        )
        out.append(state)
        for s in self.sections:
            failed = sum(s.failed.values())
            out.append(f"{s.section}: {s.eligible:,} eligible")
            out.append(f"  email: {s.sent:,} sent, {failed:,} failed, {s.pending:,} not yet sent"
                       f", {s.not_queued:,} not queued yet")  # fmt: skip
            if failed:
                out.append(f"    bounced (refused for good, 5xx): {s.bounced:,}; "
                           f"deferred (4xx, send again): {s.deferred:,}")  # fmt: skip
            for reason, n in sorted(s.failed.items()):
                out.append(f"    failed ({reason}): {n:,}")
            out.append(f"  letters: {s.letters_printed:,} printed, {s.letters_to_print:,} to print")
            out.append(f"  no contact details: {s.no_contact:,}")
            out.append(f"  reissues: {s.reissues:,}")
        return "\n".join(out) + "\n"


def delivery_report(store: Store, slug: str) -> DeliveryReport:
    record = get_election(store, slug)
    with store.read() as conn:
        eligible = register.eligible_by_section(conn, record.id)
        channels = queue.channels_by_section(conn, record.id)
        counts = queue.state_counts(conn, record.id, CREDENTIALS)
        reissues = queue.reissues_by_section(conn, record.id)
        found = queue.round_open(conn, record.id)
    sections = []
    for section in sorted(eligible):
        mine = [c for c in counts if c[0] == section]

        def n(channel: ContactChannel, state: DeliveryState, rows: list[tuple[
                str, ContactChannel, DeliveryState, str | None, int]] = mine) -> int:  # fmt: skip
            return sum(k for _, ch, st, _, k in rows if ch is channel and st is state)

        failed: dict[str, int] = {}
        for _, ch, st, answer, k in mine:
            if ch is ContactChannel.EMAIL and st is DeliveryState.FAILED:
                failed[answer or "no answer"] = failed.get(answer or "no answer", 0) + k
        email = ContactChannel.EMAIL
        post = ContactChannel.POST
        queued_email = sum(k for _, ch, _, _, k in mine if ch is email)
        letters = n(post, DeliveryState.SENT)
        sections.append(
            SectionDelivery(
                section=section,
                eligible=eligible[section],
                sent=n(email, DeliveryState.SENT),
                failed=failed,
                pending=n(email, DeliveryState.PENDING),
                not_queued=channels.get((section, "email"), 0) - queued_email,
                letters_printed=letters,
                letters_to_print=channels.get((section, "post"), 0) - letters,
                no_contact=channels.get((section, "none"), 0),
                reissues=reissues.get(section, 0),
            )
        )
    return DeliveryReport(tuple(sections), None if found is None else found.number)


def campaign_summary(store: Store, slug: str) -> list[CampaignSummary]:
    """Each campaign other than the credentials (reminders, notices), in name order."""
    record = get_election(store, slug)
    with store.read() as conn:
        counts = queue.campaign_counts(conn, record.id)
    found: dict[str, dict[DeliveryState, int]] = {}
    for campaign, state, n in counts:
        if campaign != CREDENTIALS:
            found.setdefault(campaign, {})[state] = n
    return [
        CampaignSummary(
            name,
            by.get(DeliveryState.SENT, 0),
            by.get(DeliveryState.FAILED, 0),
            by.get(DeliveryState.PENDING, 0),
        )
        for name, by in sorted(found.items())
    ]
