"""Audit events: frozen records of everything an election's officers did, in order.

An :class:`AuditEvent` is one line of an election's audit log: its position in the election's
chain (``sequence``, from 1), what was done (:class:`Action`), who did it (``actor``), why
(``reason``), the facts of the action as canonical JSON (``payload``) and when it was
recorded (``recorded_at``, UTC, microseconds, ``Z``). Every field is covered by the hash chain
(:mod:`tallyroom.audit.chain`); :meth:`AuditEvent.encode` is the one byte encoding hashed.

Canonical JSON (:func:`canonical_json`) is UTF-8 JSON with keys sorted, no insignificant
whitespace and no floats: a float's text differs between languages, so a verifier written in
another language could not reproduce the bytes. Numbers are integers; fractions travel as
strings.

Casting a ballot is never an audit event: a log line per cast, with its time, would sit next
to the ballots and help link a voter to a ballot.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

__all__ = [
    "ENCODING_VERSION",
    "Action",
    "AuditEvent",
    "JsonValue",
    "canonical_json",
    "timestamp",
]

ENCODING_VERSION = 1

JsonValue: TypeAlias = "bool | int | str | Sequence[JsonValue] | Mapping[str, JsonValue] | None"

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")
ACTOR_MAX = 200


class Action(enum.Enum):
    """What an audit event records. Values are stored and hashed: never rename one."""

    DEFINITION = "definition"
    REGISTER_IMPORT = "register_import"
    ELIGIBILITY = "eligibility"
    REGISTER_FREEZE = "register_freeze"
    REGISTER_CHANGE = "register_change"
    NOMINATIONS = "nominations"
    BALLOT_KEY = "ballot_key"
    CREDENTIALS_ISSUE = "credentials_issue"
    CREDENTIAL_REISSUE = "credential_reissue"
    CREDENTIAL_REVOKE = "credential_revoke"
    POLL_OPEN = "poll_open"
    POSTAL_BATCH = "postal_batch"
    POLL_CLOSE = "poll_close"
    COUNT = "count"
    DECLARATION = "declaration"
    DELIVERY_OPEN = "delivery_open"
    DELIVERY_BATCH = "delivery_batch"
    DELIVERY_END = "delivery_end"
    CREDENTIALS_EXPORT = "credentials_export"
    BOARD_HEAD = "board_head"
    ELECTION_KEY = "election_key"
    TALLY_PART = "tally_part"
    CEREMONY_MESSAGE = "ceremony_message"
    KEY_DRILL = "key_drill"


def _check_json(value: object, path: str) -> None:
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        raise ValueError(f"{path}: floats are not allowed in canonical JSON ({value!r})")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: object keys must be strings ({key!r})")
            _check_json(item, f"{path}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")
        return
    raise ValueError(f"{path}: not a JSON value ({type(value).__name__})")


def canonical_json(value: JsonValue) -> str:
    """``value`` as canonical JSON text: sorted keys, no spaces, UTF-8 kept, no floats."""
    _check_json(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as the audit log's UTC text, e.g. ``2016-08-22T09:00:00.000000Z``.

    A naive datetime is refused: an audit time must say which clock it is on.
    """
    if moment is None:
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError(f"audit timestamps need a timezone ({moment.isoformat()})")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audit event, validated on construction (see the module docstring)."""

    sequence: int
    election: int
    action: Action
    actor: str
    reason: str
    payload: str
    recorded_at: str

    def __post_init__(self) -> None:
        if isinstance(self.sequence, bool) or not isinstance(self.sequence, int):
            raise ValueError(f"sequence: must be an integer ({self.sequence!r})")
        if self.sequence < 1:
            raise ValueError(f"sequence: must be 1 or more ({self.sequence!r})")
        if isinstance(self.election, bool) or not isinstance(self.election, int):
            raise ValueError(f"election: must be an integer id ({self.election!r})")
        if not isinstance(self.action, Action):
            raise ValueError(f"action: not an audit action ({self.action!r})")
        if not self.actor or len(self.actor) > ACTOR_MAX:
            raise ValueError(f"actor: must be 1 to {ACTOR_MAX} characters ({self.actor!r})")
        if not isinstance(self.reason, str):
            raise ValueError(f"reason: must be text ({self.reason!r})")
        try:
            parsed = json.loads(self.payload)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"payload: not JSON ({self.payload!r})") from exc
        if canonical_json(parsed) != self.payload:
            raise ValueError(f"payload: not canonical JSON ({self.payload!r})")
        if not isinstance(self.recorded_at, str) or not _TIMESTAMP.match(self.recorded_at):
            raise ValueError(f"recorded_at: not a UTC audit timestamp ({self.recorded_at!r})")

    @classmethod
    def create(
        cls,
        *,
        sequence: int,
        election: int,
        action: Action,
        actor: str,
        reason: str = "",
        payload: Mapping[str, JsonValue] | None = None,
        at: datetime | None = None,
    ) -> AuditEvent:
        """An event whose payload is given as data; ``at`` defaults to now."""
        return cls(
            sequence=sequence,
            election=election,
            action=action,
            actor=actor,
            reason=reason,
            payload=canonical_json(dict(payload or {})),
            recorded_at=timestamp(at),
        )

    @property
    def data(self) -> JsonValue:
        """The payload parsed back into Python values."""
        parsed: JsonValue = json.loads(self.payload)
        return parsed

    @classmethod
    def from_fields(cls, fields: Mapping[Any, Any], *, election: str = "election") -> AuditEvent:
        """An event from its stored or exported fields (``election`` names the field that
        holds the election's id); :class:`ValueError` or :class:`KeyError` if they do not
        make one."""
        return cls(
            sequence=fields["sequence"],
            election=fields[election],
            action=Action(fields["action"]),
            actor=fields["actor"],
            reason=fields["reason"],
            payload=fields["payload"],
            recorded_at=fields["recorded_at"],
        )

    def encode(self) -> bytes:
        """The canonical bytes hashed into the chain (every field, plus the encoding version).

        The payload is embedded as a JSON string, not re-parsed, so any change to its bytes
        changes the hash.
        """
        return canonical_json(
            {
                "v": ENCODING_VERSION,
                "sequence": self.sequence,
                "election": self.election,
                "action": self.action.value,
                "actor": self.actor,
                "reason": self.reason,
                "payload": self.payload,
                "recorded_at": self.recorded_at,
            }
        ).encode("utf-8")
