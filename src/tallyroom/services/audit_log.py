"""Reading, exporting and verifying an election's audit log.

* :func:`audit_events`: the log as stored, in order, each event with its chain hash;
* :func:`verify_log`: the stored chain checked against the store's head and, when given, a
  head published earlier (``SEQUENCE:HASH``, as :func:`parse_head` reads it);
* :func:`verify_record` / :func:`check_record`: the stored election checked against what the
  log says (:mod:`tallyroom.audit.record`): the ballot box recomputed from its rows against the
  digest kept while casting and the one recorded at the close, casts = ballots = receipts per
  contest and section, the lifecycle state, the definition, the register's eligibility, the
  published results document and downloads;
* :func:`export_log` / :func:`verify_export`: the log as JSON Lines, one event a line with
  every hashed field and the recorded hash, so that anybody can re-check the chain away from
  the server: ``tallyroom audit verify --file log.jsonl --head SEQUENCE:HASH``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import Connection

from tallyroom.audit.chain import ChainedEvent, Head
from tallyroom.audit.events import AuditEvent
from tallyroom.audit.record import (
    RecordCheck,
    RecordFailure,
    RecordResult,
    StoredFacts,
    logged_facts,
)
from tallyroom.audit.record import verify_record as compare_record
from tallyroom.audit.verify import Unreadable, VerificationResult, verify_chain
from tallyroom.errors import InputError
from tallyroom.services.board import check_board_in
from tallyroom.services.elections import get_election
from tallyroom.store import audit, ballots, ceremony, declarations, elections, tally
from tallyroom.store.eligibility import eligibility_digest
from tallyroom.store.engine import Store

__all__ = [
    "audit_events",
    "check_record",
    "event_json",
    "export_log",
    "format_head",
    "log_head",
    "parse_head",
    "verify_export",
    "verify_log",
    "verify_record",
]


def parse_head(text: str) -> Head:
    """A published head written ``SEQUENCE:HASH`` (the hash in hexadecimal)."""
    sequence, _, digest = text.strip().partition(":")
    try:
        head = Head(int(sequence), bytes.fromhex(digest))
    except ValueError:
        raise InputError(
            "a head is SEQUENCE:HASH, the hash 64 hexadecimal digits", field="head", value=text
        ) from None
    return head


def format_head(head: Head) -> str:
    return f"{head.sequence}:{head.hash.hex()}"


def event_json(chained: ChainedEvent) -> dict[str, object]:
    """One exported event: its hashed fields as stored, and its chain hash."""
    e = chained.event
    return {
        "sequence": e.sequence,
        "election": e.election,
        "action": e.action.value,
        "actor": e.actor,
        "reason": e.reason,
        "payload": e.payload,
        "recorded_at": e.recorded_at,
        "hash": chained.hash.hex(),
    }


def audit_events(store: Store, slug: str) -> list[ChainedEvent]:
    election = get_election(store, slug)
    with store.read() as conn:
        return list(audit.events(conn, election.id))


def log_head(store: Store, slug: str) -> Head:
    """The stored log's head: publish it (``SEQUENCE:HASH``) to pin the log as it is now."""
    election = get_election(store, slug)
    with store.read() as conn:
        return audit.head(conn, election.id)


def verify_log(
    store: Store, slug: str, *, published_head: Head | None = None
) -> VerificationResult:
    election = get_election(store, slug)
    with store.read() as conn:
        return audit.verify(conn, election.id, published_head=published_head)


def check_record(conn: Connection, election_id: int) -> RecordResult:
    """Check the stored election against its log, in the caller's transaction (the count calls
    this in its own, before opening a ballot)."""
    record = elections.get_election(conn, election_id)
    box_rows, counts, bad = ballots.box_rows(conn, election_id)
    stored_doc = declarations.get(conn, election_id)
    files = {
        f.name: hashlib.sha256(f.content).hexdigest()
        for f in declarations.iter_files(conn, election_id)
    }
    stored = StoredFacts(
        state=record.state.value,
        definition_sha256=hashlib.sha256(record.definition.encode("utf-8")).hexdigest(),
        definition_column=record.definition_sha256,
        eligibility_sha256=eligibility_digest(conn, election_id),
        box_kept=ballots.box_kept(conn, election_id),
        box_rows=box_rows,
        counts=counts,
        bad_receipts=bad,
        document_sha256=None
        if stored_doc is None
        else hashlib.sha256(stored_doc.document.encode("utf-8")).hexdigest(),
        files=files,
        election_key_sha256=None
        if record.election_key is None
        else hashlib.sha256(record.election_key).hexdigest(),
        tally_parts=tally.digests(conn, election_id),
        ceremony={
            m.name: hashlib.sha256(m.body).hexdigest() for m in ceremony.messages(conn, election_id)
        },
    )
    logged = logged_facts(chained.event for chained in audit.events(conn, election_id))
    result = compare_record(stored, logged)
    board = check_board_in(conn, election_id)
    if board.head.position == 0 and board.ok:
        return result  # no board (a sealed-ballot election that never extended one)
    return RecordResult(
        (*result.checked, RecordCheck.BOARD),
        (*result.failures, *(RecordFailure(RecordCheck.BOARD, str(f)) for f in board.failures)),
    )


def verify_record(store: Store, slug: str) -> RecordResult:
    """The stored election checked against its audit log (see :func:`check_record`)."""
    election = get_election(store, slug)
    with store.read() as conn:
        return check_record(conn, election.id)


def export_log(store: Store, slug: str, path: Path) -> Head:
    """Write the log to ``path`` as JSON Lines; the head it ends at."""
    events = audit_events(store, slug)
    with Path(path).open("w", encoding="utf-8") as out:
        for chained in events:
            out.write(json.dumps(event_json(chained), ensure_ascii=False, sort_keys=True) + "\n")
    return log_head(store, slug)


def _read_line(number: int, raw: bytes) -> ChainedEvent | Unreadable:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Unreadable(None, None, f"line {number}: not UTF-8 (byte {exc.start + 1})")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        return Unreadable(None, None, f"line {number}: not JSON ({exc})")
    except RecursionError:
        return Unreadable(None, None, f"line {number}: not an event (nested too deeply)")
    sequence = doc.get("sequence") if isinstance(doc, dict) else None
    try:
        event = AuditEvent.from_fields(doc)
        return ChainedEvent(event, bytes.fromhex(doc["hash"]))
    except (ValueError, KeyError, TypeError) as exc:
        known = sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else None
        return Unreadable(known, None, f"line {number}: {exc}")


def _exported(path: Path) -> Iterator[ChainedEvent | Unreadable]:
    with path.open("rb") as stream:  # bytes: a line that is not UTF-8 is one finding
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield _read_line(number, line)


def verify_export(path: Path, *, expected_head: Head | None = None) -> VerificationResult:
    """Check an exported log on its own: every hash, every sequence, and the head if given."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", path=str(path))
    return verify_chain(_exported(path), expected_head=expected_head)
