"""The poll: opening and closing it, what a voter may still vote in, turnout, receipts.

Everything here is keyed by the election's slug, for the CLI and the web:

* :func:`open_voting` (``credentials_issued -> open``) and :func:`close_voting`
  (``open -> closed``, final) move the lifecycle and audit it. The close is the one close of
  the poll: its audit event records the ballot box as it stands (the fingerprint of the digest
  the casting transactions kept, the ballots and casts in it), the casts, ballots and distinct
  receipts per contest and section, and the digest of the register's eligibility, so that any
  later change to the box or the register is evident (``tallyroom audit verify``);
* :func:`voter_ballot` checks a credential the way casting does and says which contests,
  with which candidates, the voter may still vote in (the booth shows those ballots);
* :func:`turnout` counts ballots cast per contest and section against the electorate. It
  never opens a ballot: no partial result exists before the close;
* :func:`receipt_page`, :func:`receipt_lines` and :func:`find_receipt` are the public list of
  receipts (SHA-256 of each sealed ballot), so a voter can check that their ballot is in the
  box: a page at a time (keyset pagination by receipt), the whole list streamed as CSV, and
  one receipt looked up in the unique index on the receipt.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from tallyroom.audit.events import JsonValue
from tallyroom.audit.record import counts_json
from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.crypto.credentials import normalise_credential
from tallyroom.election.definition import Contest, ElectionDefinition
from tallyroom.election.lifecycle import ElectionState
from tallyroom.errors import InputError, LifecycleError
from tallyroom.report.spreadsheet import csv_writer
from tallyroom.services.board import extend_board_in
from tallyroom.services.ceremony import require_ready
from tallyroom.services.elections import ballot_definition, definition_of, get_election
from tallyroom.store import ballots, credentials, elections, register
from tallyroom.store.ballots import Receipt
from tallyroom.store.eligibility import eligibility_digest
from tallyroom.store.engine import Store

__all__ = [
    "RECEIPTS_PER_PAGE",
    "ContestTurnout",
    "ReceiptPage",
    "VoterBallot",
    "close_voting",
    "election_ballot",
    "find_receipt",
    "open_voting",
    "receipt_lines",
    "receipt_page",
    "turnout",
    "voter_ballot",
]


def open_voting(
    store: Store, slug: str, *, actor: str, reason: str = "", now: datetime | None = None
) -> None:
    """Open the poll: credentials must have been issued; ballots are accepted from now.

    Refused before the timetable's ``ballot_open`` and once its ``ballot_close`` has passed
    (the message gives the time):
    a poll opened after its own close would take ballots the timetable says are too late.
    A verifiable election is refused until its trustees' key is set and its key drill passed
    (:func:`tallyroom.services.ceremony.require_ready`, the message says the next step).
    ``now`` is the clock (default: the current time); a replay of a past election (the demo,
    the tests) passes a time inside its timetable.
    """
    election = get_election(store, slug)
    timetable = definition_of(election).timetable
    closes = timetable.ballot_close
    when = now or datetime.now(UTC)
    if when < timetable.ballot_open:
        opens = timetable.ballot_open
        raise LifecycleError(
            f"cannot open the poll before the timetable's ballot_open {opens.isoformat()} "
            f"(it is now {when.astimezone(opens.tzinfo).isoformat(timespec='minutes')}); "
            "the server opens it then",
            election=slug,
        )
    if when > closes:
        raise LifecycleError(
            f"cannot open the poll: the timetable closed the ballot at {closes.isoformat()} "
            f"(it is now {when.astimezone(closes.tzinfo).isoformat(timespec='minutes')})",
            election=slug,
        )
    with store.begin() as conn:
        current = elections.get_election(conn, election.id)
        require_ready(conn, current)  # a verifiable election: its key set, its drill passed
        sealed = definition_of(current).verifiable is None
        if sealed and current.ballot_public_key is None:
            raise LifecycleError("the ballot key is not set", election=slug)
        elections.advance(conn, election.id, ElectionState.OPEN, actor=actor, reason=reason)


def close_voting(store: Store, slug: str, *, actor: str, reason: str = "") -> None:
    """Close the poll (final): no ballot is accepted once this has committed.

    The election row is taken exclusively first, so the casts in flight commit before the box
    is read; the box and the counts recorded are those no later cast can change. A verifiable
    election's ballot board is extended a last time in the same transaction, after that lock:
    every ballot cast is on it, its head is logged (``board_head``) and recorded in the close's
    event (``board``: position and head), and no later ballot can join it.
    """
    election = get_election(store, slug)
    verifiable = definition_of(election).verifiable is not None
    with store.begin() as conn:
        elections.require_state(
            conn, election.id, ElectionState.OPEN, doing="close the poll", exclusive=True
        )
        final = extend_board_in(conn, election.id, actor=actor) if verifiable else None
        kept = ballots.box_kept(conn, election.id)
        counts = ballots.box_counts(conn, election.id)
        payload: dict[str, JsonValue] = {
            "counts": counts_json(counts),
            "eligibility_sha256": eligibility_digest(conn, election.id),
        }
        if kept is not None:
            payload["box"] = {
                "sha256": kept.fingerprint,
                "ballots": kept.ballot_count,
                "casts": kept.cast_count,
            }
        if final is not None:
            payload["board"] = {"position": final.position, "head": final.hash.hex()}
        elections.advance(
            conn, election.id, ElectionState.CLOSED, actor=actor, reason=reason, payload=payload
        )


def election_ballot(store: Store, slug: str) -> ElectionDefinition:
    """The definition as voted on: the contests with the candidates fixed by nominations."""
    election = get_election(store, slug)
    with store.read() as conn:
        return ballot_definition(conn, election)


@dataclass(frozen=True, slots=True)
class VoterBallot:
    """What the booth shows a voter: the contests they may still vote in, in definition order,
    and those they have already voted in."""

    section: str
    contests: tuple[Contest, ...]
    voted: tuple[str, ...]
    weight: str | None = None  # the voter's weight, in a weighted election
    weighted: tuple[str, ...] = ()  # the contests (of ``contests``) counted by weight


def voter_ballot(
    store: Store, slug: str, credential_text: str, *, credential_key: CredentialKey
) -> VoterBallot:
    """The ballots ``credential_text`` may still cast (the errors casting would raise: the
    poll closed, an unreadable, unknown or revoked credential)."""
    election = get_election(store, slug)
    text = normalise_credential(credential_text)
    with store.begin() as conn:
        elections.require_state(conn, election.id, ElectionState.OPEN, doing="cast a ballot")
        record = credentials.authenticate(conn, election.id, credential_key, text)
        digest = credential_key.digest(text)
        section = ballots.voter_sections(conn, election.id, [digest])[digest]
        weight = ballots.voter_weights(conn, election.id, [digest])[digest]
        done = credentials.contests_cast(conn, record.id)
        definition = ballot_definition(conn, election)
    mine = [c for c in definition.contests if section in c.sections]
    still = tuple(c for c in mine if c.name not in done)
    return VoterBallot(
        section=section,
        contests=still,
        voted=tuple(c.name for c in mine if c.name in done),
        weight=weight,
        weighted=tuple(c.name for c in still if definition.weight_places(c) is not None),
    )


@dataclass(frozen=True, slots=True)
class ContestTurnout:
    """Ballots cast so far in a contest, per section, against each section's electorate."""

    contest: str
    cast: dict[str, int]
    electorate: dict[str, int]

    @property
    def total_cast(self) -> int:
        return sum(self.cast.values())

    @property
    def total_electorate(self) -> int:
        return sum(self.electorate.values())


def turnout(store: Store, slug: str) -> list[ContestTurnout]:
    """Live turnout by contest and section (counts of ballots cast, never their contents)."""
    election = get_election(store, slug)
    with store.read() as conn:
        definition = ballot_definition(conn, election)
        cast = ballots.casts_by_section(conn, election.id)
        electorate = register.eligible_by_section(conn, election.id)
    return [
        ContestTurnout(
            c.name,
            {s: cast.get((c.name, s), 0) for s in c.sections},
            {s: electorate.get(s, 0) for s in c.sections},
        )
        for c in definition.contests
    ]


RECEIPTS_PER_PAGE = 500
_DOWNLOAD_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class ReceiptPage:
    """One page of the public list of receipts, in receipt order.

    ``next_after``: the code to ask for the next page with (``None`` on the last page);
    ``total``: the ballots in the box, as the box counts them.
    """

    receipts: tuple[Receipt, ...]
    next_after: str | None
    total: int


def _digest(code: str, field: str) -> bytes:
    """A receipt code as typed (hex, dashes and spaces allowed, any case) as its 32 bytes."""
    text = code.strip().replace("-", "").replace(" ", "").lower()
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise InputError("a receipt is 64 hexadecimal digits", field=field, value=code)
    return digest


def receipt_page(
    store: Store, slug: str, *, after: str | None = None, limit: int = RECEIPTS_PER_PAGE
) -> ReceiptPage:
    """The receipts after the code ``after`` (from the first when ``None``), at most
    ``limit`` of them: keyset pagination, as fast on the last page as on the first."""
    if not 1 <= limit <= 5_000:
        raise InputError("a page holds 1 to 5,000 receipts", field="limit", value=limit)
    start = None if after is None else _digest(after, "after")
    election = get_election(store, slug)
    with store.read() as conn:
        rows = ballots.receipts_after(conn, election.id, start, limit + 1)
        total = ballots.ballot_count(conn, election.id)
    page = tuple(Receipt(c, d) for c, d in rows[:limit])
    more = len(rows) > limit
    return ReceiptPage(page, page[-1].code if more else None, total)


def receipt_lines(store: Store, slug: str) -> Iterator[str]:
    """The whole public list as CSV lines (``contest,receipt``, header first), read in pages
    of 10,000 in short transactions: never the whole list in memory, no transaction held
    open while a slow client downloads. Receipts cast while it is read are included when
    they sort after the page being read."""
    election = get_election(store, slug)
    yield "contest,receipt\n"  # the header; then each page through the published-CSV writer
    after: bytes | None = None
    while True:
        with store.read() as conn:
            rows = ballots.receipts_after(conn, election.id, after, _DOWNLOAD_CHUNK)
        if not rows:
            return
        chunk = io.StringIO()
        writer = csv_writer(chunk)
        for c, d in rows:
            writer.writerow((c, Receipt(c, d).code))
        yield chunk.getvalue()
        after = rows[-1][1]


def find_receipt(store: Store, slug: str, code: str) -> str | None:
    """The contest whose box holds the ballot with receipt ``code`` (hex, dashes optional):
    one look-up in the unique index on the receipt."""
    digest = _digest(code, "receipt")
    election = get_election(store, slug)
    with store.read() as conn:
        return ballots.find_receipt(conn, election.id, digest)
