"""Voters' contact details: name, email, postal address and the channel they asked for.

Kept in ``register_contacts``, one row per register entry, beside the entry rather than in
its fields: contact details say how to reach a voter, not whether they may vote, so they are
not part of the register's fingerprint, and a corrected address is not a register change.
They are read back only to deliver (:func:`contacts_of`), never shown in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tallyroom.store.schema import ContactChannel, register_contacts, register_entries

__all__ = ["Contact", "contacts_of", "put_contacts"]


@dataclass(frozen=True, slots=True)
class Contact:
    """How to reach one voter (any part may be missing; the reader checks what is needed)."""

    name: str | None = None
    email: str | None = None
    postal_address: str | None = None
    channel: ContactChannel | None = None


def put_contacts(
    conn: Connection, election_id: int, contacts: Iterable[tuple[str, Contact]]
) -> int:
    """Set the contact details of entries keyed by their store key (``person_id``): a row
    replaces the entry's previous one. Returns how many were written."""
    given = dict(contacts)
    if not given:
        return 0
    c = register_entries.c
    ids: dict[str, int] = {}
    keys = list(given)
    for start in range(0, len(keys), 5_000):
        rows = conn.execute(
            sa.select(c.person_id, c.id)
            .where(c.election_id == election_id)
            .where(c.person_id.in_(keys[start : start + 5_000]))
        )
        ids.update((str(k), int(i)) for k, i in rows)
    entry_ids = [ids[k] for k in keys]
    for start in range(0, len(entry_ids), 5_000):
        conn.execute(
            register_contacts.delete().where(
                register_contacts.c.entry_id.in_(entry_ids[start : start + 5_000])
            )
        )
    values = [
        {
            "election_id": election_id,
            "entry_id": ids[key],
            "name": contact.name,
            "email": contact.email,
            "postal_address": contact.postal_address,
            "channel": contact.channel,
        }
        for key, contact in given.items()
    ]
    for start in range(0, len(values), 5_000):
        conn.execute(register_contacts.insert(), values[start : start + 5_000])
    return len(values)


def contacts_of(
    conn: Connection, election_id: int, entry_ids: Iterable[int] | None = None
) -> Iterator[tuple[int, Contact]]:
    """(entry id, contact) for the election's entries with contact details, in entry order;
    only ``entry_ids`` when given."""
    rc = register_contacts.c
    query = sa.select(rc.entry_id, rc.name, rc.email, rc.postal_address, rc.channel).where(
        rc.election_id == election_id
    )
    if entry_ids is not None:
        query = query.where(rc.entry_id.in_(list(entry_ids)))
    for entry_id, name, email, address, channel in conn.execute(query.order_by(rc.entry_id)):
        yield int(entry_id), Contact(name, email, address, channel)
