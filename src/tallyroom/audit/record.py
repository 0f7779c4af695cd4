"""Verifying the election's record against its audit log: a result naming each failed check.

The hash chain (:mod:`tallyroom.audit.verify`) proves the log was not edited in place. This
module checks the *stored election* against what the log says, so that a database writer who
holds no key cannot change the box, the state, the definition, the register's eligibility or
the published documents without ``tallyroom audit verify`` naming what changed:

* ``receipt`` - every stored ballot's receipt is the SHA-256 of its sealed bytes;
* ``box-ballots`` / ``box-casts`` - the ballots and casts recomputed from the stored rows give
  the box digest that the casting transactions kept as they cast (:mod:`tallyroom.audit.box`);
* ``reconcile`` - per contest and section, casts = ballots = distinct receipts;
* ``box-close`` - the box recomputed now is the box recorded at the close (its fingerprint and
  its counts per contest and section);
* ``state`` - the stored lifecycle state is the last state change in the log;
* ``definition`` - the stored definition text hashes to the digest last logged for it;
* ``eligibility`` - the register's eligibility decisions hash to the digest last logged (at the
  freeze, then at the close); not checkable while a register change is logged after it;
* ``document`` / ``download`` - the stored results document and each download hash to what the
  declaration's event recorded, and no download was added or removed;
* ``election-key`` - the stored election key hashes to the digest logged when it was set;
* ``ceremony`` - the key ceremony's stored messages (services/ceremony.py) are exactly those
  logged, each hashing to its logged digest: none edited, deleted or added without the log.

Pure: the store and the service gather the facts (:class:`StoredFacts`), the log gives
:class:`LoggedFacts` (:func:`logged_facts`), and :func:`verify_record` compares them.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tallyroom.audit.box import BoxDigest
from tallyroom.audit.events import Action, AuditEvent, JsonValue

__all__ = [
    "STATE_ACTIONS",
    "BoxCounts",
    "LoggedFacts",
    "RecordCheck",
    "RecordFailure",
    "RecordResult",
    "StoredFacts",
    "counts_json",
    "group_name",
    "logged_facts",
    "tally_part_name",
    "verify_record",
]


def group_name(
    contest: str, section: str | None, weight: str | None = None, unit: str | None = None
) -> str:
    """A verifiable tally's board group as named in messages and tally parts:
    ``CONTEST/SECTION`` (the section empty for none), then ``/weight=W`` for a group of
    weighted ballots and ``/unit=U`` for a group of a contest counted by unit, so a plain
    election's names are those it has always had."""
    name = f"{contest}/{section or ''}"
    if weight is not None:
        name += f"/weight={weight}"
    if unit is not None:
        name += f"/unit={unit}"
    return name


def tally_part_name(
    contest: str,
    section: str | None,
    kind: str,
    number: int,
    weight: str | None = None,
    unit: str | None = None,
) -> str:
    """A tally part's name in the audit log's ``tally_part`` events (and
    :attr:`StoredFacts.tally_parts`): :func:`group_name`, then ``/KIND/NUMBER``."""
    return f"{group_name(contest, section, weight, unit)}/{kind}/{number}"


# The actions that move the lifecycle (their payload's "to" is the state reached).
STATE_ACTIONS = frozenset(
    {
        Action.REGISTER_FREEZE,
        Action.NOMINATIONS,
        Action.CREDENTIALS_ISSUE,
        Action.POLL_OPEN,
        Action.POLL_CLOSE,
        Action.COUNT,
        Action.DECLARATION,
    }
)


class RecordCheck(enum.Enum):
    RECEIPT = "receipt"
    BOX_BALLOTS = "box-ballots"
    BOX_CASTS = "box-casts"
    RECONCILE = "reconcile"
    BOX_CLOSE = "box-close"
    STATE = "state"
    DEFINITION = "definition"
    ELIGIBILITY = "eligibility"
    DOCUMENT = "document"
    DOWNLOAD = "download"
    BOARD = "board"
    ELECTION_KEY = "election-key"
    TALLY = "tally"
    CEREMONY = "ceremony"


@dataclass(frozen=True, slots=True)
class RecordFailure:
    check: RecordCheck
    detail: str

    def __str__(self) -> str:
        return f"{self.check.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What checking the stored record found: the checks made and each failure."""

    checked: tuple[RecordCheck, ...]
    failures: tuple[RecordFailure, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def first_failure(self) -> RecordFailure | None:
        return self.failures[0] if self.failures else None

    @property
    def failed_checks(self) -> tuple[RecordCheck, ...]:
        seen: dict[RecordCheck, None] = {}
        for failure in self.failures:
            seen.setdefault(failure.check, None)
        return tuple(seen)

    def __bool__(self) -> bool:
        raise TypeError("a RecordResult is not a bool: test result.ok")

    def summary(self) -> str:
        names = ", ".join(c.value for c in self.checked)
        if self.ok:
            return f"election record verified: {names}"
        lines = [f"election record FAILED: {len(self.failures)} problem(s) (checked {names})"]
        lines.extend(f"  {failure}" for failure in self.failures)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class BoxCounts:
    """Per contest and section: casts recorded, ballots in the box, distinct receipts."""

    casts: int = 0
    ballots: int = 0
    receipts: int = 0


def counts_json(counts: Mapping[tuple[str, str], BoxCounts]) -> dict[str, JsonValue]:
    """The counts as the close's audit event records them: contest -> section -> figures."""
    out: dict[str, dict[str, JsonValue]] = {}
    for (contest, section), c in sorted(counts.items()):
        out.setdefault(contest, {})[section] = {
            "casts": c.casts,
            "ballots": c.ballots,
            "receipts": c.receipts,
        }
    return dict(out)


@dataclass(frozen=True, slots=True)
class StoredFacts:
    """What the database holds now (gathered by the service in one transaction).

    ``box_kept`` is the digest the casting transactions kept (``None`` if the election has no
    box rows); ``box_rows`` the digest recomputed from the stored ballots and casts.
    """

    state: str
    definition_sha256: str
    definition_column: str
    eligibility_sha256: str
    box_kept: BoxDigest | None
    box_rows: BoxDigest
    counts: Mapping[tuple[str, str], BoxCounts]
    bad_receipts: int
    document_sha256: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)
    election_key_sha256: str | None = None  # a verifiable election's stored key
    # a verifiable election's tally parts: tally_part_name -> SHA-256 of the body
    tally_parts: Mapping[str, str] = field(default_factory=dict)
    ceremony: Mapping[str, str] = field(default_factory=dict)  # message name -> its SHA-256


@dataclass(frozen=True, slots=True)
class LoggedFacts:
    """What the log says the record should be (the last word of each kind)."""

    state: str = "draft"
    definition_sha256: str | None = None
    eligibility_sha256: str | None = None
    register_changed_since: bool = False
    close_box: str | None = None
    close_counts: Mapping[str, object] | None = None
    document_sha256: str | None = None
    files: Mapping[str, str] | None = None
    # two digests of the register's eligibility logged one after the other that differ with
    # no register change logged between them (what changed it was not the register service)
    eligibility_drift: str | None = None
    election_key_sha256: str | None = None  # the ceremony's key, when it was recorded
    tally_parts: Mapping[str, str] = field(default_factory=dict)  # as each was logged
    ceremony: Mapping[str, str] = field(default_factory=dict)  # message name -> SHA-256 logged


def logged_facts(events: Iterable[AuditEvent]) -> LoggedFacts:
    """Read the facts :func:`verify_record` compares from the log's events, in order."""
    state = "draft"
    definition = eligibility = close_box = document = None
    changed = False
    close_counts: Mapping[str, object] | None = None
    files: Mapping[str, str] | None = None
    drift: str | None = None
    key: str | None = None
    tally: dict[str, str] = {}
    ceremony: dict[str, str] = {}
    for event in events:
        data = json.loads(event.payload)
        if not isinstance(data, dict):
            continue
        if event.action is Action.DEFINITION and "definition_sha256" in data:
            definition = str(data["definition_sha256"])
        if event.action in STATE_ACTIONS and "to" in data:
            state = str(data["to"])
        if event.action is Action.REGISTER_CHANGE:
            changed = True
        if "eligibility_sha256" in data:
            now = str(data["eligibility_sha256"])
            if eligibility is not None and now != eligibility and not changed and drift is None:
                drift = (
                    f"the register's eligibility hashed to {_short(eligibility)} and then to "
                    f"{_short(now)} at event {event.sequence} ({event.action.value}) with no "
                    "register change logged between"
                )
            eligibility = now
            changed = False
        if event.action is Action.POLL_CLOSE and isinstance(data.get("box"), dict):
            close_box = str(data["box"].get("sha256"))
            counts = data.get("counts")
            close_counts = counts if isinstance(counts, dict) else None
        if event.action is Action.ELECTION_KEY and "sha256" in data:
            key = str(data["sha256"])
        if event.action is Action.TALLY_PART and "part" in data:
            tally[str(data["part"])] = str(data.get("sha256"))
        if event.action in (Action.CEREMONY_MESSAGE, Action.KEY_DRILL) and "name" in data:
            ceremony[str(data["name"])] = str(data.get("sha256"))
        if event.action is Action.DECLARATION and "document_sha256" in data:
            document = str(data["document_sha256"])
            raw = data.get("files")
            files = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return LoggedFacts(
        state=state,
        definition_sha256=definition,
        eligibility_sha256=eligibility,
        register_changed_since=changed,
        close_box=close_box,
        close_counts=close_counts,
        document_sha256=document,
        files=files,
        eligibility_drift=drift,
        election_key_sha256=key,
        tally_parts=tally,
        ceremony=ceremony,
    )


def _short(text: str | None) -> str:
    return "nothing" if text is None else text[:16] + "…"


def _box(stored: StoredFacts, logged: LoggedFacts) -> list[RecordFailure]:
    out: list[RecordFailure] = []
    rows, kept = stored.box_rows, stored.box_kept
    if stored.bad_receipts:
        out.append(
            RecordFailure(
                RecordCheck.RECEIPT,
                f"{stored.bad_receipts} stored ballot(s) whose receipt is not the SHA-256 of"
                " their sealed bytes",
            )
        )
    if kept is None:
        if rows.ballot_count or rows.cast_count:
            out.append(
                RecordFailure(
                    RecordCheck.BOX_BALLOTS, "ballots are stored but the box has no kept digest"
                )
            )
    else:
        if (rows.ballots, rows.ballot_count) != (kept.ballots, kept.ballot_count):
            out.append(
                RecordFailure(
                    RecordCheck.BOX_BALLOTS,
                    f"the {rows.ballot_count} stored ballot(s) are not the {kept.ballot_count}"
                    " the casting transactions put in the box (inserted, deleted, replaced,"
                    " duplicated or retagged)",
                )
            )
        if (rows.casts, rows.cast_count) != (kept.casts, kept.cast_count):
            out.append(
                RecordFailure(
                    RecordCheck.BOX_CASTS,
                    f"the {rows.cast_count} stored cast(s) are not the {kept.cast_count}"
                    " the casting transactions recorded (inserted, deleted or edited)",
                )
            )
    for (contest, section), c in sorted(stored.counts.items()):
        if not c.casts == c.ballots == c.receipts:
            out.append(
                RecordFailure(
                    RecordCheck.RECONCILE,
                    f"contest {contest!r}, section {section!r}: {c.casts} cast(s),"
                    f" {c.ballots} ballot(s), {c.receipts} distinct receipt(s)",
                )
            )
    if logged.close_box is not None:
        if rows.fingerprint != logged.close_box:
            out.append(
                RecordFailure(
                    RecordCheck.BOX_CLOSE,
                    f"the box hashes to {_short(rows.fingerprint)} but the close recorded"
                    f" {_short(logged.close_box)}",
                )
            )
        if logged.close_counts is not None and counts_json(stored.counts) != logged.close_counts:
            out.append(
                RecordFailure(
                    RecordCheck.BOX_CLOSE,
                    "the counts per contest and section differ from those recorded at the close",
                )
            )
    return out


def _documents(stored: StoredFacts, logged: LoggedFacts) -> list[RecordFailure]:
    out: list[RecordFailure] = []
    if logged.document_sha256 is not None and stored.document_sha256 != logged.document_sha256:
        out.append(
            RecordFailure(
                RecordCheck.DOCUMENT,
                f"the stored results document hashes to {_short(stored.document_sha256)} but"
                f" the declaration recorded {_short(logged.document_sha256)}",
            )
        )
    if logged.files is not None:
        for name in sorted(set(logged.files) | set(stored.files)):
            have, want = stored.files.get(name), logged.files.get(name)
            if have != want:
                out.append(
                    RecordFailure(
                        RecordCheck.DOWNLOAD,
                        f"{name}: stored file hashes to {_short(have)} but the declaration"
                        f" recorded {_short(want)}",
                    )
                )
    return out


def _ceremony(stored: StoredFacts, logged: LoggedFacts) -> list[RecordFailure]:
    out: list[RecordFailure] = []
    for name in sorted(set(logged.ceremony) | set(stored.ceremony)):
        have, want = stored.ceremony.get(name), logged.ceremony.get(name)
        if have == want:
            continue
        if have is None:
            detail = f"ceremony message {name} was logged but is not stored (deleted)"
        elif want is None:
            detail = f"ceremony message {name} is stored but was never logged (added)"
        else:
            detail = (
                f"ceremony message {name} hashes to {_short(have)} but the log recorded"
                f" {_short(want)} (edited)"
            )
        out.append(RecordFailure(RecordCheck.CEREMONY, detail))
    return out


def verify_record(stored: StoredFacts, logged: LoggedFacts) -> RecordResult:
    """Compare the stored record with the log's facts; every failed check, named."""
    checked = [
        RecordCheck.RECEIPT,
        RecordCheck.BOX_BALLOTS,
        RecordCheck.BOX_CASTS,
        RecordCheck.RECONCILE,
        RecordCheck.STATE,
        RecordCheck.DEFINITION,
    ]
    failures = _box(stored, logged)
    if logged.close_box is not None:
        checked.append(RecordCheck.BOX_CLOSE)
    if stored.state != logged.state:
        failures.append(
            RecordFailure(
                RecordCheck.STATE,
                f"the election is stored as {stored.state!r} but the log's last step is"
                f" to {logged.state!r}",
            )
        )
    if logged.definition_sha256 is None or not (
        stored.definition_sha256 == stored.definition_column == logged.definition_sha256
    ):
        failures.append(
            RecordFailure(
                RecordCheck.DEFINITION,
                f"the stored definition hashes to {_short(stored.definition_sha256)} (column"
                f" {_short(stored.definition_column)}) but the log recorded"
                f" {_short(logged.definition_sha256)}",
            )
        )
    if logged.eligibility_drift is not None:
        checked.append(RecordCheck.ELIGIBILITY)
        failures.append(RecordFailure(RecordCheck.ELIGIBILITY, logged.eligibility_drift))
    if logged.eligibility_sha256 is not None and not logged.register_changed_since:
        if RecordCheck.ELIGIBILITY not in checked:
            checked.append(RecordCheck.ELIGIBILITY)
        if stored.eligibility_sha256 != logged.eligibility_sha256:
            failures.append(
                RecordFailure(
                    RecordCheck.ELIGIBILITY,
                    f"the register's eligibility hashes to {_short(stored.eligibility_sha256)}"
                    f" but the log recorded {_short(logged.eligibility_sha256)}",
                )
            )
    if logged.election_key_sha256 is not None or stored.election_key_sha256 is not None:
        checked.append(RecordCheck.ELECTION_KEY)
        if stored.election_key_sha256 != logged.election_key_sha256:
            failures.append(
                RecordFailure(
                    RecordCheck.ELECTION_KEY,
                    f"the stored election key hashes to {_short(stored.election_key_sha256)}"
                    f" but the log recorded {_short(logged.election_key_sha256)}",
                )
            )
    if logged.tally_parts or stored.tally_parts:
        checked.append(RecordCheck.TALLY)
        for name in sorted(set(logged.tally_parts) | set(stored.tally_parts)):
            have, want = stored.tally_parts.get(name), logged.tally_parts.get(name)
            if have != want:
                failures.append(
                    RecordFailure(
                        RecordCheck.TALLY,
                        f"tally part {name}: stored {_short(have)} but the log recorded"
                        f" {_short(want)}",
                    )
                )
    if logged.ceremony or stored.ceremony:
        checked.append(RecordCheck.CEREMONY)
        failures += _ceremony(stored, logged)
    if logged.document_sha256 is not None:
        checked += [RecordCheck.DOCUMENT, RecordCheck.DOWNLOAD]
        failures += _documents(stored, logged)
    return RecordResult(tuple(checked), tuple(failures))
