"""Casting sealed ballots, and reading them back for the count, without linking the two.

:func:`cast` does, in the caller's transaction:

1. check that the poll is open, share-locking the election row (a close waits for casts in
   flight; a cast after a committed close is refused);
2. check that the credential is live and this election's (share-locking its row against a
   concurrent revocation), and for a postal cast that the batch is this election's and open;
3. insert the ``ballot_casts`` row. ``INSERT ... ON CONFLICT DO NOTHING`` lets the unique
   constraints decide: a second cast for the same credential and contest, or for the same
   register entry and contest through a reissued credential, inserts nothing and raises
   :class:`AlreadyCast`. Two concurrent casts cannot both get through: on PostgreSQL the
   second waits on the first's uncommitted index entry, on SQLite on the write lock;
4. insert the sealed ballot under a random id with its receipt, ``SHA-256(sealed)``. The
   receipt is unique, so a sealed ballot copied from another voter is refused too
   (:class:`DuplicateBallot`; sealed boxes are randomised, so honest ballots never collide).

Any error leaves the transaction to be rolled back by the caller: nothing half-cast stays.
The cast row says nothing about the ballot and the ballot nothing about the voter; see
``docs/architecture-store.md`` for what a database administrator could still infer.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from tallyroom.errors import (
    AlreadyCast,
    CredentialRejected,
    DuplicateBallot,
    InputError,
    LifecycleError,
    NotFound,
    NotInContest,
    StoreError,
)
from tallyroom.store.elections import require_state
from tallyroom.store.schema import (
    BALLOT_ID_SIZE,
    CONTEST_MAX,
    BatchStatus,
    CastChannel,
    CredentialStatus,
    ElectionState,
    ballot_casts,
    ballots,
    credentials,
    postal_batches,
    register_entries,
)

__all__ = [
    "CastItem",
    "ContestTotals",
    "DuplicateBallot",
    "Receipt",
    "cast",
    "cast_many",
    "casts_by_section",
    "find_receipt",
    "iter_sealed",
    "iter_sealed_sections",
    "list_receipts",
    "receipt_for",
    "totals",
    "voter_sections",
]

_AFTER_CLOSE = (ElectionState.CLOSED, ElectionState.COUNTED, ElectionState.DECLARED)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the voter keeps: the contest and the SHA-256 of their sealed ballot."""

    contest: str
    digest: bytes

    @property
    def code(self) -> str:
        """The receipt as a voter reads it: hex in groups of four."""
        text = self.digest.hex()
        return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def receipt_for(sealed: bytes) -> bytes:
    return hashlib.sha256(sealed).digest()


def _insert(conn: Connection, table: sa.Table) -> sa.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def cast(
    conn: Connection,
    election_id: int,
    contest: str,
    credential_id: int,
    sealed: bytes,
    *,
    channel: CastChannel = CastChannel.ONLINE,
    postal_batch_id: int | None = None,
    with_section: bool = False,
) -> Receipt:
    """Record one sealed ballot for ``contest`` cast with ``credential_id`` (see module doc).

    ``with_section`` stores the section of the credential's register entry beside the ballot
    (for results by section); it is read here, in the same transaction, so a caller cannot
    tag a ballot with another section than its voter's.
    """
    if not contest or len(contest) > CONTEST_MAX:
        raise InputError(
            f"a contest is 1 to {CONTEST_MAX} characters", field="contest", value=contest
        )
    if (channel is CastChannel.POSTAL) != (postal_batch_id is not None):
        raise InputError(
            "a postal cast needs its batch, and only a postal cast has one",
            field="postal_batch_id",
            value=postal_batch_id,
        )
    require_state(conn, election_id, ElectionState.OPEN, doing="cast a ballot")
    credential = conn.execute(
        sa.select(credentials.c.entry_id, credentials.c.status, register_entries.c.section)
        .join(register_entries, register_entries.c.id == credentials.c.entry_id)
        .where(credentials.c.id == credential_id)
        .where(credentials.c.election_id == election_id)
        .with_for_update(read=True, of=credentials)
    ).one_or_none()
    if credential is None or credential.status is not CredentialStatus.ISSUED:
        raise CredentialRejected("credential not recognised", election=election_id)
    if postal_batch_id is not None:
        _require_open_batch(conn, election_id, postal_batch_id)
    # RETURNING says whether a row went in (rowcount is not reliable for INSERT on psycopg).
    inserted = conn.execute(
        _insert(conn, ballot_casts)
        .values(
            credential_id=credential_id,
            entry_id=credential.entry_id,
            contest=contest,
            channel=channel.value,
            postal_batch_id=postal_batch_id,
        )
        .returning(ballot_casts.c.contest)
    ).first()
    if inserted is None:
        raise _already(election_id, contest)
    digest = receipt_for(sealed)
    stored = conn.execute(
        _insert(conn, ballots)
        .values(
            id=secrets.token_bytes(BALLOT_ID_SIZE),
            election_id=election_id,
            contest=contest,
            sealed=sealed,
            receipt=digest,
            section=credential.section if with_section else None,
        )
        .returning(ballots.c.contest)
    ).first()
    if stored is None:
        raise DuplicateBallot(
            "this sealed ballot was already cast (a copy of another ballot)",
            election=election_id,
            field="contest",
            value=contest,
        )
    return Receipt(contest, digest)


@dataclass(frozen=True, slots=True)
class CastItem:
    """One voter's ballots for :func:`cast_many`: their credential's keyed hash, and per
    contest the sealed ballot."""

    credential_hash: bytes
    sealed: Mapping[str, bytes]


# Rows per statement: well under SQLite's bound-parameter limit and PostgreSQL's.
_LOOKUP_CHUNK = 500


def _live_credentials(
    conn: Connection, election_id: int, hashes: Sequence[bytes]
) -> dict[bytes, tuple[int, int, str]]:
    """hash -> (credential id, entry id, section) for the live credentials among ``hashes``,
    share-locked against a concurrent revocation."""
    found: dict[bytes, tuple[int, int, str]] = {}
    for start in range(0, len(hashes), _LOOKUP_CHUNK):
        chunk = list(hashes[start : start + _LOOKUP_CHUNK])
        rows = conn.execute(
            sa.select(
                credentials.c.credential_hash,
                credentials.c.id,
                credentials.c.entry_id,
                register_entries.c.section,
            )
            .join(register_entries, register_entries.c.id == credentials.c.entry_id)
            .where(credentials.c.election_id == election_id)
            .where(credentials.c.credential_hash.in_(chunk))
            .where(credentials.c.status == CredentialStatus.ISSUED)
            .with_for_update(read=True, of=credentials)
        )
        for digest, cid, entry, section in rows:
            found[bytes(digest)] = (int(cid), int(entry), str(section))
    return found


def voter_sections(conn: Connection, election_id: int, hashes: Sequence[bytes]) -> dict[bytes, str]:
    """hash -> the voter's section, for the live credentials among ``hashes``."""
    return {h: found[2] for h, found in _live_credentials(conn, election_id, hashes).items()}


def cast_many(
    conn: Connection,
    election_id: int,
    items: Sequence[CastItem],
    *,
    channel: CastChannel = CastChannel.ONLINE,
    postal_batch_id: int | None = None,
    sections: Mapping[str, frozenset[str]] | None = None,
) -> list[list[Receipt] | StoreError]:
    """Cast many voters' ballots in the caller's transaction, each voter all or nothing.

    The same guarantees as :func:`cast` (the poll open, a live credential, the database's
    unique constraints deciding a second ballot), in a handful of statements for the whole
    batch instead of four per ballot. Per item, in order: its receipts (sorted by contest),
    or the error that refused it (:class:`CredentialRejected`, :class:`AlreadyCast`,
    :class:`NotInContest` when ``sections`` (contest -> the sections that vote in it) leaves
    out the voter's section); a refused voter leaves nothing behind. Each ballot is stored
    with its voter's section.
    """
    if (channel is CastChannel.POSTAL) != (postal_batch_id is not None):
        raise InputError(
            "a postal cast needs its batch, and only a postal cast has one",
            field="postal_batch_id",
            value=postal_batch_id,
        )
    require_state(conn, election_id, ElectionState.OPEN, doing="cast a ballot")
    if postal_batch_id is not None:
        _require_open_batch(conn, election_id, postal_batch_id)
    for item in items:
        for contest in item.sealed:
            if not contest or len(contest) > CONTEST_MAX:
                raise InputError(
                    f"a contest is 1 to {CONTEST_MAX} characters", field="contest", value=contest
                )
    live = _live_credentials(conn, election_id, [i.credential_hash for i in items])
    outcomes: list[list[Receipt] | StoreError | None] = [None] * len(items)
    seen: set[int] = set()
    wanted: list[dict[str, object]] = []
    for k, item in enumerate(items):
        found = live.get(item.credential_hash)
        if found is None:
            outcomes[k] = CredentialRejected("credential not recognised", election=election_id)
        elif not item.sealed:
            outcomes[k] = []
        elif sections is not None and (
            barred := [c for c in sorted(item.sealed) if found[2] not in sections.get(c, ())]
        ):
            outcomes[k] = NotInContest(
                "the voter's section does not vote in this contest",
                election=election_id,
                field="contest",
                value=barred[0],
            )
        elif found[0] in seen:  # the same voter twice in one batch: the later one is refused
            outcomes[k] = _already(election_id, sorted(item.sealed)[0])
        else:
            seen.add(found[0])
            wanted += [
                {
                    "credential_id": found[0],
                    "entry_id": found[1],
                    "contest": contest,
                    "channel": channel.value,
                    "postal_batch_id": postal_batch_id,
                }
                for contest in item.sealed
            ]
    inserted: set[tuple[int, str]] = set()
    if wanted:
        rows = conn.execute(
            _insert(conn, ballot_casts).returning(
                ballot_casts.c.credential_id, ballot_casts.c.contest
            ),
            wanted,
        )
        inserted = {(int(cid), str(contest)) for cid, contest in rows}
    undo: list[tuple[int, str]] = []
    new_ballots: list[dict[str, object]] = []
    for k, item in enumerate(items):
        if outcomes[k] is not None:
            continue
        cid, _entry, section = live[item.credential_hash]
        missing = [c for c in sorted(item.sealed) if (cid, c) not in inserted]
        if missing:
            undo += [(cid, c) for c in item.sealed if (cid, c) in inserted]
            outcomes[k] = _already(election_id, missing[0])
            continue
        receipts = []
        for contest in sorted(item.sealed):
            sealed = item.sealed[contest]
            digest = receipt_for(sealed)
            new_ballots.append(
                {
                    "id": secrets.token_bytes(BALLOT_ID_SIZE),
                    "election_id": election_id,
                    "contest": contest,
                    "sealed": sealed,
                    "receipt": digest,
                    "section": section,
                }
            )
            receipts.append(Receipt(contest, digest))
        outcomes[k] = receipts
    for cid, contest in undo:
        conn.execute(
            ballot_casts.delete()
            .where(ballot_casts.c.credential_id == cid)
            .where(ballot_casts.c.contest == contest)
        )
    if new_ballots:
        # A plain INSERT: a receipt collision (a copied sealed ballot) fails the whole batch
        # rather than storing a cast without its ballot.
        conn.execute(ballots.insert(), new_ballots)
    return [o for o in outcomes if o is not None]


def _already(election_id: int, contest: str) -> AlreadyCast:
    return AlreadyCast(
        "this voter has already cast a ballot in this contest",
        election=election_id,
        field="contest",
        value=contest,
    )


def _require_open_batch(conn: Connection, election_id: int, batch_id: int) -> None:
    status = conn.execute(
        sa.select(postal_batches.c.status)
        .where(postal_batches.c.id == batch_id)
        .where(postal_batches.c.election_id == election_id)
        .with_for_update(read=True)
    ).scalar_one_or_none()
    if status is None:
        raise NotFound("no such postal batch", election=election_id, value=batch_id)
    if status is not BatchStatus.OPEN:
        raise LifecycleError("the postal batch is sealed", election=election_id, value=batch_id)


def list_receipts(conn: Connection, election_id: int) -> list[tuple[str, bytes]]:
    """Every (contest, receipt) in the ballot box, sorted by receipt (a public list)."""
    rows = conn.execute(
        sa.select(ballots.c.contest, ballots.c.receipt)
        .where(ballots.c.election_id == election_id)
        .order_by(ballots.c.receipt)
    )
    return [(str(contest), bytes(receipt)) for contest, receipt in rows]


def casts_by_section(conn: Connection, election_id: int) -> dict[tuple[str, str], int]:
    """(contest, section) -> ballots cast so far: turnout, never how anyone voted."""
    rows = conn.execute(
        sa.select(ballot_casts.c.contest, register_entries.c.section, sa.func.count())
        .select_from(
            ballot_casts.join(register_entries, register_entries.c.id == ballot_casts.c.entry_id)
        )
        .where(register_entries.c.election_id == election_id)
        .group_by(ballot_casts.c.contest, register_entries.c.section)
    )
    return {(str(contest), str(section)): int(n) for contest, section, n in rows}


def find_receipt(conn: Connection, election_id: int, digest: bytes) -> str | None:
    """The contest whose ballot box holds the ballot with this receipt, if any."""
    contest = conn.execute(
        sa.select(ballots.c.contest)
        .where(ballots.c.receipt == digest)
        .where(ballots.c.election_id == election_id)
    ).scalar_one_or_none()
    return None if contest is None else str(contest)


def iter_sealed(
    conn: Connection, election_id: int, contest: str, *, batch: int = 10_000
) -> Iterator[bytes]:
    """Every sealed ballot of ``contest``, in random-id order; only once the poll is closed."""
    require_state(conn, election_id, *_AFTER_CLOSE, doing="read the ballots")
    query = (
        sa.select(ballots.c.sealed)
        .where(ballots.c.election_id == election_id)
        .where(ballots.c.contest == contest)
        .order_by(ballots.c.id)
    )
    for sealed in conn.execute(query.execution_options(yield_per=batch)).scalars():
        yield bytes(sealed)


def iter_sealed_sections(
    conn: Connection, election_id: int, contest: str, *, batch: int = 10_000
) -> Iterator[tuple[bytes, str | None]]:
    """Like :func:`iter_sealed`, each sealed ballot with its section (``None`` if untagged)."""
    require_state(conn, election_id, *_AFTER_CLOSE, doing="read the ballots")
    query = (
        sa.select(ballots.c.sealed, ballots.c.section)
        .where(ballots.c.election_id == election_id)
        .where(ballots.c.contest == contest)
        .order_by(ballots.c.id)
    )
    for sealed, section in conn.execute(query.execution_options(yield_per=batch)):
        yield bytes(sealed), None if section is None else str(section)


@dataclass(frozen=True, slots=True)
class ContestTotals:
    """Casts recorded against ballots in the box, per contest: the two must be equal."""

    contest: str
    casts: int
    ballots: int

    @property
    def reconciled(self) -> bool:
        return self.casts == self.ballots


def totals(conn: Connection, election_id: int) -> list[ContestTotals]:
    """Per contest (sorted), how many casts were recorded and how many ballots are in the box."""
    cast_counts: dict[str, int] = {
        contest: count
        for contest, count in conn.execute(
            sa.select(ballot_casts.c.contest, sa.func.count())
            .select_from(ballot_casts.join(credentials))
            .where(credentials.c.election_id == election_id)
            .group_by(ballot_casts.c.contest)
        )
    }
    ballot_counts: dict[str, int] = {
        contest: count
        for contest, count in conn.execute(
            sa.select(ballots.c.contest, sa.func.count())
            .where(ballots.c.election_id == election_id)
            .group_by(ballots.c.contest)
        )
    }
    return [
        ContestTotals(contest, int(cast_counts.get(contest, 0)), int(ballot_counts.get(contest, 0)))
        for contest in sorted(set(cast_counts) | set(ballot_counts))
    ]
