"""Casting sealed ballots, and reading them back for the count, without linking the two.

:func:`cast_many` is the one casting path. In the caller's transaction it:

1. checks that the poll is open, share-locking the election row (a close waits for casts in
   flight; a cast after a committed close is refused);
2. checks that each credential is live and this election's (share-locking its row against a
   concurrent revocation), and for a postal cast that the batch is this election's and open;
3. inserts the ``ballot_casts`` rows. ``INSERT ... ON CONFLICT DO NOTHING`` lets the unique
   constraints decide: a second cast for the same credential and contest, or for the same
   register entry and contest through a reissued credential, inserts nothing and that voter
   gets :class:`AlreadyCast`. Two concurrent casts cannot both get through: on PostgreSQL the
   second waits on the first's uncommitted index entry, on SQLite on the write lock;
4. inserts each sealed ballot under a random id with its receipt, ``SHA-256(sealed)``. The
   receipt is unique, so a sealed ballot copied from another voter fails the batch;
5. multiplies one ``ballot_box`` shard by the MuHash of what it inserted (the ballots' and
   the casts' multisets, :mod:`tallyroom.audit.box`), so the box's digest is kept as it is
   made; :func:`box_rows` recomputes it from the stored rows for the verifier.

Any error leaves the transaction to be rolled back by the caller: nothing half-cast stays.
The cast row says nothing about the ballot and the ballot nothing about the voter; see
``docs/architecture-store.md`` for what a database administrator could still infer.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tallyroom.audit import box
from tallyroom.audit.box import BallotElement, BoxDigest, CastElement
from tallyroom.audit.record import BoxCounts
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
from tallyroom.store.eligibility import entry_weight
from tallyroom.store.schema import (
    BALLOT_ID_SIZE,
    BOX_SHARDS,
    CONTEST_MAX,
    BatchStatus,
    CastChannel,
    CredentialStatus,
    ElectionState,
    ballot_box,
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
    "Voters",
    "ballot_count",
    "box_counts",
    "box_kept",
    "box_rows",
    "cast_many",
    "casts_by_section",
    "find_receipt",
    "iter_sealed",
    "iter_sealed_sections",
    "iter_sealed_tagged",
    "list_receipts",
    "open_poll_voters",
    "receipt_for",
    "receipts_after",
    "totals",
    "voter_sections",
    "voter_weights",
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


@dataclass(frozen=True, slots=True)
class CastItem:
    """One voter's ballots for :func:`cast_many`: their credential's keyed hash, and per
    contest the sealed ballot."""

    credential_hash: bytes
    sealed: Mapping[str, bytes]


# Rows per statement: well under SQLite's bound-parameter limit and PostgreSQL's.
_LOOKUP_CHUNK = 500


# Built once per dialect: this runs in every casting transaction, and building the statement
# and its cache key each time cost more than running it. On PostgreSQL ``= ANY(array)``: one
# statement text for every number of hashes, prepared once per connection (see
# _CASTS_UNNEST); on SQLite an expanding ``IN``.
_LIVE: dict[str, sa.Select[Any]] = {}


def _live_query(conn: Connection) -> sa.Select[Any]:
    name = conn.dialect.name
    query = _LIVE.get(name)
    if query is None:
        column = credentials.c.credential_hash
        if name == "postgresql":
            match = column == sa.any_(sa.bindparam("h", type_=postgresql.ARRAY(sa.LargeBinary())))
        else:
            match = column.in_(sa.bindparam("h", expanding=True))
        query = _LIVE[name] = (
            sa.select(
                credentials.c.credential_hash,
                credentials.c.id,
                credentials.c.entry_id,
                register_entries.c.section,
                entry_weight(conn),
            )
            .join(register_entries, register_entries.c.id == credentials.c.entry_id)
            .where(credentials.c.election_id == sa.bindparam("e"))
            .where(match)
            .where(credentials.c.status == CredentialStatus.ISSUED)
            .with_for_update(read=True, of=credentials)
        )
    return query


def _live_credentials(
    conn: Connection, election_id: int, hashes: Sequence[bytes]
) -> dict[bytes, tuple[int, int, str, str | None]]:
    """hash -> (credential id, entry id, section, weight) for the live credentials among
    ``hashes``, share-locked against a concurrent revocation."""
    found: dict[bytes, tuple[int, int, str, str | None]] = {}
    query = _live_query(conn)
    for start in range(0, len(hashes), _LOOKUP_CHUNK):
        chunk = list(hashes[start : start + _LOOKUP_CHUNK])
        rows = conn.execute(query, {"e": election_id, "h": chunk})
        for digest, cid, entry, section, weight in rows:
            found[bytes(digest)] = (
                int(cid),
                int(entry),
                str(section),
                None if weight is None else str(weight),
            )
    return found


@dataclass(frozen=True, slots=True)
class Voters:
    """A batch's live credentials, looked up in the casting transaction once the poll was
    checked open (:func:`open_poll_voters`): of the hashes ``asked``, the live ones, hash ->
    (credential id, entry id, section, weight). The election's row and the credentials' stay
    share-locked until the transaction ends."""

    election_id: int
    asked: frozenset[bytes]
    live: Mapping[bytes, tuple[int, int, str, str | None]]


def open_poll_voters(conn: Connection, election_id: int, hashes: Sequence[bytes]) -> Voters:
    """The first two steps of :func:`cast_many`, for a caller that must know which
    credentials are live before it casts (the attempt budgets on PostgreSQL): the poll
    open (:class:`LifecycleError` otherwise), then the live credentials among ``hashes``."""
    require_state(conn, election_id, ElectionState.OPEN, doing="cast a ballot")
    return Voters(election_id, frozenset(hashes), _live_credentials(conn, election_id, hashes))


def voter_sections(conn: Connection, election_id: int, hashes: Sequence[bytes]) -> dict[bytes, str]:
    """hash -> the voter's section, for the live credentials among ``hashes``."""
    return {h: found[2] for h, found in _live_credentials(conn, election_id, hashes).items()}


def voter_weights(
    conn: Connection, election_id: int, hashes: Sequence[bytes]
) -> dict[bytes, str | None]:
    """hash -> the voter's weight (``None`` in an unweighted election), for the live
    credentials among ``hashes``."""
    return {h: found[3] for h, found in _live_credentials(conn, election_id, hashes).items()}


def cast_many(
    conn: Connection,
    election_id: int,
    items: Sequence[CastItem],
    *,
    channel: CastChannel = CastChannel.ONLINE,
    postal_batch_id: int | None = None,
    sections: Mapping[str, frozenset[str]] | None = None,
    units: frozenset[str] = frozenset(),
    voters: Voters | None = None,
) -> list[list[Receipt] | StoreError]:
    """Cast many voters' ballots in the caller's transaction, each voter all or nothing.

    The guarantees of the module docstring (the poll open, a live credential, the database's
    unique constraints deciding a second ballot), in a handful of statements for the whole
    batch. Per item, in order: its receipts (sorted by contest),
    or the error that refused it (:class:`CredentialRejected`, :class:`AlreadyCast`,
    :class:`NotInContest` when ``sections`` (contest -> the sections that vote in it) leaves
    out the voter's section); a refused voter leaves nothing behind. Each ballot is stored
    with its voter's section and, in a weighted election, their weight; a ballot of a contest
    in ``units`` (counted by unit) with its voter's unit too (:func:`_entry_units`).

    ``voters``: what :func:`open_poll_voters` found in this same transaction for these items'
    credentials (the poll's state and the live credentials are then not read again).
    """
    if (channel is CastChannel.POSTAL) != (postal_batch_id is not None):
        raise InputError(
            "a postal cast needs its batch, and only a postal cast has one",
            field="postal_batch_id",
            value=postal_batch_id,
        )
    if voters is None:
        require_state(conn, election_id, ElectionState.OPEN, doing="cast a ballot")
    elif voters.election_id != election_id:
        raise InputError(
            "the voters were looked up for another election", field="voters", value=election_id
        )
    if postal_batch_id is not None:
        _require_open_batch(conn, election_id, postal_batch_id)
    for item in items:
        for contest in item.sealed:
            if not contest or len(contest) > CONTEST_MAX:
                raise InputError(
                    f"a contest is 1 to {CONTEST_MAX} characters", field="contest", value=contest
                )
    if voters is None:
        live = _live_credentials(conn, election_id, [i.credential_hash for i in items])
    else:
        live = dict(voters.live)
        unasked = [i.credential_hash for i in items if i.credential_hash not in voters.asked]
        if unasked:  # never refused for not having been looked up
            live.update(_live_credentials(conn, election_id, unasked))
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
        # One order for every batch (register entry, credential, contest): two batches that
        # share voters then wait on each other's rows in the unique indexes in the same order,
        # one after the other, instead of each holding a row the other needs (a deadlock on
        # PostgreSQL, which refused one whole batch).
        wanted.sort(key=lambda r: (r["entry_id"], r["credential_id"], r["contest"]))
        inserted = _insert_casts(conn, wanted, channel, postal_batch_id)
    unit_of = _entry_units(
        conn,
        [
            live[i.credential_hash][1]
            for i in items
            if i.credential_hash in live and units.intersection(i.sealed)
        ],
    )
    undo: list[tuple[int, str]] = []
    new_ballots: list[dict[str, object]] = []
    kept_casts: list[CastElement] = []
    kept_ballots: list[BallotElement] = []
    for k, item in enumerate(items):
        if outcomes[k] is not None:
            continue
        cid, entry, section, weight = live[item.credential_hash]
        missing = [c for c in sorted(item.sealed) if (cid, c) not in inserted]
        if missing:
            undo += [(cid, c) for c in item.sealed if (cid, c) in inserted]
            outcomes[k] = _already(election_id, missing[0])
            continue
        receipts = []
        for contest in sorted(item.sealed):
            kept_casts.append(CastElement(cid, entry, contest, channel.value, postal_batch_id))
            sealed = item.sealed[contest]
            digest = receipt_for(sealed)
            unit = unit_of.get(entry) if contest in units else None
            new_ballots.append(
                {
                    "id": secrets.token_bytes(BALLOT_ID_SIZE),
                    "election_id": election_id,
                    "contest": contest,
                    "sealed": sealed,
                    "receipt": digest,
                    "section": section,
                    "weight": weight,
                    "unit": unit,
                }
            )
            receipts.append(Receipt(contest, digest))
            kept_ballots.append(BallotElement(contest, section, digest, weight=weight, unit=unit))
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
        try:
            _insert_ballots(conn, election_id, new_ballots)
        except IntegrityError:
            raise DuplicateBallot(
                "a sealed ballot in this batch was already cast (a copy of another ballot)",
                election=election_id,
            ) from None
        _extend_box(conn, election_id, kept_ballots, kept_casts)
    return [o for o in outcomes if o is not None]


# On PostgreSQL a batch's rows go in one statement of fixed text, whatever the batch's size:
# each column an array, unnested in order (WITH ORDINALITY), so that psycopg prepares the
# statement once per connection and the server parses and plans it once, instead of one
# INSERT a row (an executemany) or a new text for each batch size (a multi-row VALUES).
_CASTS_UNNEST = (
    "INSERT INTO ballot_casts (credential_id, entry_id, contest, channel, postal_batch_id)"
    " SELECT c, e, t, %(channel)s, CAST(%(batch)s AS bigint)"
    " FROM unnest(CAST(%(c)s AS bigint[]), CAST(%(e)s AS bigint[]), CAST(%(t)s AS text[]))"
    " WITH ORDINALITY AS rows (c, e, t, o) ORDER BY o"
    " ON CONFLICT DO NOTHING RETURNING credential_id, contest"
)
_BALLOTS_UNNEST = (
    "INSERT INTO ballots (id, election_id, contest, sealed, receipt, section, weight, unit)"
    " SELECT i, %(election)s, c, s, r, n, w, u FROM unnest(CAST(%(i)s AS bytea[]),"
    " CAST(%(c)s AS text[]), CAST(%(s)s AS bytea[]), CAST(%(r)s AS bytea[]),"
    " CAST(%(n)s AS text[]), CAST(%(w)s AS text[]), CAST(%(u)s AS text[]))"
    " AS rows (i, c, s, r, n, w, u)"
)


def _insert_casts(
    conn: Connection,
    wanted: Sequence[Mapping[str, object]],
    channel: CastChannel,
    postal_batch_id: int | None,
) -> set[tuple[int, str]]:
    """Insert the ``ballot_casts`` rows in ``wanted``'s order, skipping any that would break
    a unique constraint; the (credential id, contest) of those inserted."""
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            _CASTS_UNNEST,
            {
                "channel": channel.value,
                "batch": postal_batch_id,
                "c": [r["credential_id"] for r in wanted],
                "e": [r["entry_id"] for r in wanted],
                "t": [r["contest"] for r in wanted],
            },
        )
    else:
        rows = conn.execute(
            _insert(conn, ballot_casts).returning(
                ballot_casts.c.credential_id, ballot_casts.c.contest
            ),
            list(wanted),
        )
    return {(int(cid), str(contest)) for cid, contest in rows}


def _insert_ballots(
    conn: Connection, election_id: int, rows: Sequence[Mapping[str, object]]
) -> None:
    """Insert the ``ballots`` rows (a unique receipt or id broken: IntegrityError)."""
    if conn.dialect.name != "postgresql":
        conn.execute(ballots.insert(), list(rows))
        return
    conn.exec_driver_sql(
        _BALLOTS_UNNEST,
        {
            "election": election_id,
            **{
                short: [r[column] for r in rows]
                for short, column in (
                    ("i", "id"),
                    ("c", "contest"),
                    ("s", "sealed"),
                    ("r", "receipt"),
                    ("n", "section"),
                    ("w", "weight"),
                    ("u", "unit"),
                )
            },
        },
    )


def _entry_units(conn: Connection, entry_ids: Sequence[int]) -> dict[int, str]:
    """entry id -> the register entry's unit (its ``unit`` field), for the entries that have
    one; read only for voters casting in a contest counted by unit."""
    found: dict[int, str] = {}
    wanted = sorted(set(entry_ids))
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        rows = conn.execute(
            sa.select(register_entries.c.id, register_entries.c.fields).where(
                register_entries.c.id.in_(wanted[start : start + _LOOKUP_CHUNK])
            )
        )
        for entry, fields in rows:
            unit = json.loads(fields).get("unit")
            if isinstance(unit, str) and unit:
                found[int(entry)] = unit
    return found


# Built once: this runs in every casting transaction, and building SQLAlchemy constructs each
# time cost more than the statements themselves (~0.25 ms a transaction on SQLite).
_SHARD = "SELECT shard, ballots_digest, casts_digest FROM ballot_box WHERE election_id = :e"
_PICK_FREE = sa.text(_SHARD + " ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED")
_PICK_ANY = sa.text(_SHARD + " AND shard = :s FOR UPDATE")
_PICK_SQLITE = sa.text(_SHARD + " AND shard = 0")
_EXTEND = sa.text(
    "UPDATE ballot_box SET ballots_digest = :b, casts_digest = :c,"
    " ballot_count = ballot_count + :nb, cast_count = cast_count + :nc"
    " WHERE election_id = :e AND shard = :s"
).bindparams(sa.bindparam("b", type_=sa.LargeBinary()), sa.bindparam("c", type_=sa.LargeBinary()))


def _extend_box(
    conn: Connection,
    election_id: int,
    new_ballots: Sequence[BallotElement],
    new_casts: Sequence[CastElement],
) -> None:
    """Multiply one shard of the box by what this transaction inserted (see module doc).

    On PostgreSQL the shard is one no other transaction holds (``FOR UPDATE SKIP LOCKED``),
    so casting transactions from several processes do not queue on one row; only when every
    shard is held does it wait for one. SQLite has one writer at a time: shard 0 always.
    """
    if conn.dialect.name == "postgresql":
        row = conn.execute(_PICK_FREE, {"e": election_id}).one_or_none()
        if row is None:
            pick = {"e": election_id, "s": secrets.randbelow(BOX_SHARDS)}
            row = conn.execute(_PICK_ANY, pick).one_or_none()
    else:
        row = conn.execute(_PICK_SQLITE, {"e": election_id}).one_or_none()
    if row is None:
        raise StoreError("the election has no ballot box digest", election=election_id)
    shard, ballots_digest, casts_digest = row
    values = {
        "b": box.to_bytes(box.multiply(box.from_bytes(bytes(ballots_digest)), new_ballots)),
        "c": box.to_bytes(box.multiply(box.from_bytes(bytes(casts_digest)), new_casts)),
        "nb": len(new_ballots),
        "nc": len(new_casts),
        "e": election_id,
        "s": int(shard),
    }
    conn.execute(_EXTEND, values)


def box_kept(conn: Connection, election_id: int) -> BoxDigest | None:
    """The box's digest as the casting transactions kept it; ``None`` if it has none."""
    rows = conn.execute(sa.select(ballot_box).where(ballot_box.c.election_id == election_id)).all()
    if not rows:
        return None
    return BoxDigest(
        box.combine(box.from_bytes(bytes(r.ballots_digest)) for r in rows),
        box.combine(box.from_bytes(bytes(r.casts_digest)) for r in rows),
        sum(int(r.ballot_count) for r in rows),
        sum(int(r.cast_count) for r in rows),
    )


def _casts_of(election_id: int) -> sa.Select[Any]:
    return (
        sa.select(
            ballot_casts.c.credential_id,
            ballot_casts.c.entry_id,
            ballot_casts.c.contest,
            ballot_casts.c.channel,
            ballot_casts.c.postal_batch_id,
            register_entries.c.section,
        )
        .select_from(
            ballot_casts.join(credentials, credentials.c.id == ballot_casts.c.credential_id).join(
                register_entries, register_entries.c.id == ballot_casts.c.entry_id
            )
        )
        .where(credentials.c.election_id == election_id)
    )


def box_rows(
    conn: Connection, election_id: int, *, batch: int = 10_000
) -> tuple[BoxDigest, dict[tuple[str, str], BoxCounts], int]:
    """The box recomputed from the stored rows: its digest; per (contest, section) the casts,
    ballots and distinct receipts; and how many ballots' receipts are not the SHA-256 of their
    sealed bytes. A cast counts under its voter's register section, a ballot under its tag
    (``""`` for an untagged ballot)."""
    ballots_digest, nb, bad = box.EMPTY, 0, 0
    figures: dict[tuple[str, str], list[int]] = {}
    receipts: dict[tuple[str, str], set[bytes]] = {}
    query = (
        sa.select(
            ballots.c.contest,
            ballots.c.section,
            ballots.c.receipt,
            ballots.c.sealed,
            ballots.c.weight,
            ballots.c.unit,
        )
        .where(ballots.c.election_id == election_id)
        .execution_options(yield_per=batch)
    )
    elements: list[BallotElement] = []
    for contest, section, receipt, sealed, weight, unit in conn.execute(query):
        digest = bytes(receipt)
        if receipt_for(bytes(sealed)) != digest:
            bad += 1
        where = (str(contest), "" if section is None else str(section))
        figures.setdefault(where, [0, 0])[1] += 1
        receipts.setdefault(where, set()).add(digest)
        elements.append(
            BallotElement(
                str(contest),
                None if section is None else str(section),
                digest,
                weight=None if weight is None else str(weight),
                unit=None if unit is None else str(unit),
            )
        )
        nb += 1
        if len(elements) >= batch:
            ballots_digest = box.multiply(ballots_digest, elements)
            elements = []
    ballots_digest = box.multiply(ballots_digest, elements)
    casts_digest, nc = box.EMPTY, 0
    cast_elements: list[CastElement] = []
    for cid, entry, contest, channel, batch_id, section in conn.execute(
        _casts_of(election_id).execution_options(yield_per=batch)
    ):
        value = channel.value if isinstance(channel, CastChannel) else str(channel)
        cast_elements.append(
            CastElement(
                int(cid),
                int(entry),
                str(contest),
                value,
                None if batch_id is None else int(batch_id),
            )
        )
        figures.setdefault((str(contest), str(section)), [0, 0])[0] += 1
        nc += 1
        if len(cast_elements) >= batch:
            casts_digest = box.multiply(casts_digest, cast_elements)
            cast_elements = []
    casts_digest = box.multiply(casts_digest, cast_elements)
    counts = {
        where: BoxCounts(c, b, len(receipts.get(where, ()))) for where, (c, b) in figures.items()
    }
    return BoxDigest(ballots_digest, casts_digest, nb, nc), counts, bad


def box_counts(conn: Connection, election_id: int) -> dict[tuple[str, str], BoxCounts]:
    """Per (contest, section): casts, ballots and distinct receipts, counted by the database
    (what the close records; cheap, no digest)."""
    out: dict[tuple[str, str], list[int]] = {}
    cast_rows = conn.execute(
        sa.select(ballot_casts.c.contest, register_entries.c.section, sa.func.count())
        .select_from(
            ballot_casts.join(register_entries, register_entries.c.id == ballot_casts.c.entry_id)
        )
        .where(register_entries.c.election_id == election_id)
        .group_by(ballot_casts.c.contest, register_entries.c.section)
    )
    for contest, section, n in cast_rows:
        out.setdefault((str(contest), str(section)), [0, 0, 0])[0] = int(n)
    ballot_rows = conn.execute(
        sa.select(
            ballots.c.contest,
            ballots.c.section,
            sa.func.count(),
            sa.func.count(sa.distinct(ballots.c.receipt)),
        )
        .where(ballots.c.election_id == election_id)
        .group_by(ballots.c.contest, ballots.c.section)
    )
    for contest, section, n, distinct in ballot_rows:
        where = (str(contest), "" if section is None else str(section))
        figures = out.setdefault(where, [0, 0, 0])
        figures[1], figures[2] = int(n), int(distinct)
    return {where: BoxCounts(*f) for where, f in out.items()}


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


def receipts_after(
    conn: Connection, election_id: int, after: bytes | None, limit: int
) -> list[tuple[str, bytes]]:
    """Up to ``limit`` (contest, receipt) pairs of the box, in receipt order, after the
    receipt ``after`` (from the first when ``None``): keyset pagination, one range scan of
    the unique index on ``ballots.receipt``, whatever the page's depth."""
    query = (
        sa.select(ballots.c.contest, ballots.c.receipt)
        .where(ballots.c.election_id == election_id)
        .order_by(ballots.c.receipt)
        .limit(limit)
    )
    if after is not None:
        query = query.where(ballots.c.receipt > after)
    return [(str(contest), bytes(receipt)) for contest, receipt in conn.execute(query)]


def ballot_count(conn: Connection, election_id: int) -> int:
    """Ballots in the box, as the box's shards count them (16 rows read, not the ballots)."""
    total = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(ballot_box.c.ballot_count), 0)).where(
            ballot_box.c.election_id == election_id
        )
    ).scalar_one()
    return int(total)


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


def iter_sealed_tagged(
    conn: Connection, election_id: int, contest: str, *, batch: int = 10_000
) -> Iterator[tuple[bytes, str | None, str | None, str | None]]:
    """Like :func:`iter_sealed_sections`, each sealed ballot with its section, its voter's
    weight as stored (``None`` in an unweighted election) and its unit (``None`` unless the
    contest is counted by unit)."""
    require_state(conn, election_id, *_AFTER_CLOSE, doing="read the ballots")
    query = (
        sa.select(ballots.c.sealed, ballots.c.section, ballots.c.weight, ballots.c.unit)
        .where(ballots.c.election_id == election_id)
        .where(ballots.c.contest == contest)
        .order_by(ballots.c.id)
    )
    for sealed, section, weight, unit in conn.execute(query.execution_options(yield_per=batch)):
        yield (
            bytes(sealed),
            None if section is None else str(section),
            None if weight is None else str(weight),
            None if unit is None else str(unit),
        )


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
