"""The key ceremony's files: what the officer exports and the trustees read and write.

Every file is one canonical JSON message (crypto/canonical.py), named after what it is
(docs/trustees.md lists them):

=============================  ==========================================================
``ceremony.json``              the ceremony: election, trustees' names (numbered from 1),
                               threshold (``ceremony`` message, written by the officer)
``communication-key-I.json``   trustee I's communication key (step 1)
``commitments-I.json``         trustee I's commitments (step 2)
``sealed-share-I-to-L.json``   trustee I's share for trustee L, sealed to L (step 2)
``complaint-I-by-L.json``      trustee L's complaint about trustee I's share (step 3)
``revealed-share-I-to-L.json`` trustee I's public answer to that complaint (step 3)
``confirmation-I.json``        trustee I's signed confirmation of the election key it
                               computed (after its ``open`` succeeded)
``election-key.json``          the election key and every verification key (step 4)
``drill-challenge.json``       the key drill's test ciphertext
``drill-share-I.json``         trustee I's decryption share of it
``key-drill.json``             the drill's transcript, once it passed
=============================  ==========================================================

:func:`read_message` reads any of them, refusing a file that is not one (its name in the
error); :func:`read_folder` reads a folder of them (the trustee's view of the ceremony).
Every file a trustee writes is signed with its Ed25519 key (crypto/trustee_signing.py); the
signatures are checked by the officer's side (services/ceremony.py) and the verifier, not
here. Nothing here touches the database: a trustee's commands use this module on their own
machine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tallyroom.crypto import canonical
from tallyroom.crypto.ceremony_messages import (
    Ceremony,
    Commitments,
    CommunicationKey,
    Complaint,
    ElectionKey,
    KeyConfirmation,
    RevealedShare,
    SealedShare,
)
from tallyroom.crypto.drill_messages import DrillShare, challenge_from_json
from tallyroom.crypto.threshold import DrillChallenge, KeyDrill
from tallyroom.errors import InputError, ProofRejected
from tallyroom.store.ceremony import message_name

__all__ = [
    "CEREMONY_FILE",
    "ELECTION_KEY_FILE",
    "Message",
    "PublicCeremony",
    "PublicState",
    "file_name",
    "read_folder",
    "read_message",
]

CEREMONY_FILE = "ceremony.json"
ELECTION_KEY_FILE = "election-key.json"

Payload = (
    CommunicationKey
    | Commitments
    | SealedShare
    | Complaint
    | RevealedShare
    | KeyConfirmation
    | DrillShare
    | DrillChallenge
    | KeyDrill
    | ElectionKey
)


@dataclass(frozen=True, slots=True)
class PublicCeremony:
    """``ceremony.json``: the crypto ceremony and the trustees' names, in number order."""

    ceremony: Ceremony
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.names) != self.ceremony.trustees:
            raise InputError(
                "one name per trustee", field="names", value=(len(self.names), self.ceremony)
            )

    def to_json(self) -> bytes:
        c = self.ceremony
        return canonical.dumps(
            "ceremony",
            {
                "election": c.election,
                "trustees": c.trustees,
                "threshold": c.threshold,
                "names": list(self.names),
            },
        )

    @classmethod
    def from_json(cls, data: bytes) -> PublicCeremony:
        f = canonical.loads(data, "ceremony")
        f.expect("election", "trustees", "threshold", "names")
        names = json.loads(data)["names"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InputError("a list of names", field="names", value=names)
        ceremony = Ceremony(f.text("election"), f.integer("trustees"), f.integer("threshold"))
        return cls(ceremony, tuple(names))

    @classmethod
    def read(cls, path: Path) -> PublicCeremony:
        try:
            return cls.from_json(path.read_bytes())
        except OSError as exc:
            raise InputError(f"cannot read the ceremony ({exc.strerror})", path=str(path)) from None
        except InputError as exc:
            raise exc.shown_as(str(path)) from None


@dataclass(frozen=True, slots=True)
class Message:
    """One ceremony file read: its kind, sender and recipient (0: none), the message as a
    crypto object, and its bytes."""

    source: str  # the file it came from (for errors)
    kind: str
    election: str
    trustee: int
    recipient: int
    payload: Payload
    body: bytes

    @property
    def name(self) -> str:
        return message_name(self.kind, self.trustee, self.recipient)


def file_name(kind: str, trustee: int = 0, recipient: int = 0) -> str:
    """The file a message is exported to (see the table above)."""
    return message_name(kind, trustee, recipient) + ".json"


def _ids(payload: Payload) -> tuple[str, int, int]:
    match payload:
        case CommunicationKey():
            return payload.election, payload.trustee, 0
        case Commitments() | KeyConfirmation():
            return payload.election, payload.trustee, 0
        case SealedShare() | Complaint() | RevealedShare():
            return payload.election, payload.dealer, payload.recipient
        case DrillShare():
            return payload.election, payload.trustee, 0
        case DrillChallenge() | KeyDrill() | ElectionKey():
            return payload.election, 0, 0


_READERS: dict[str, Callable[[bytes], Payload]] = {
    "communication-key": CommunicationKey.from_json,
    "commitments": Commitments.from_json,
    "sealed-share": SealedShare.from_json,
    "complaint": Complaint.from_json,
    "revealed-share": RevealedShare.from_json,
    "confirmation": KeyConfirmation.from_json,
    "drill-share": DrillShare.from_json,
    "drill-challenge": challenge_from_json,
    "key-drill": KeyDrill.from_json,
    "election-key": ElectionKey.from_json,
}


def read_message(source: str, data: bytes) -> Message:
    """The message in ``data`` (the file ``source``); :class:`InputError` naming ``source``
    for anything that is not one message in its canonical encoding."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InputError("not a JSON ceremony message", path=source) from None
    kind = doc.get("type") if isinstance(doc, dict) else None
    reader = _READERS.get(kind) if isinstance(kind, str) else None
    if reader is None:
        raise InputError("not a ceremony message", path=source, field="type", value=kind)
    try:
        payload: Payload = reader(data)
    except InputError as exc:
        raise exc.shown_as(source) from None
    except ProofRejected as exc:
        raise InputError(exc.problem, path=source, field=exc.check) from None
    election, trustee, recipient = _ids(payload)
    assert isinstance(kind, str)
    return Message(source, kind, election, trustee, recipient, payload, data)


@dataclass(frozen=True, slots=True)
class PublicState:
    """A folder of ceremony files as a trustee reads it."""

    public: PublicCeremony
    keys: tuple[CommunicationKey, ...] = ()
    commitments: tuple[Commitments, ...] = ()
    sealed: tuple[SealedShare, ...] = ()
    complaints: tuple[Complaint, ...] = ()
    revealed: tuple[RevealedShare, ...] = ()
    election_key: ElectionKey | None = None
    challenge: DrillChallenge | None = None

    @property
    def ceremony(self) -> Ceremony:
        return self.public.ceremony


def read_folder(folder: Path) -> PublicState:
    """Every ceremony file in ``folder`` (``ceremony.json`` first); messages of another
    election, or two different messages under one name, are refused naming the file."""
    public = PublicCeremony.read(folder / CEREMONY_FILE)
    election = public.ceremony.election
    seen: dict[str, Message] = {}
    for path in sorted(folder.glob("*.json")):
        if path.name == CEREMONY_FILE:
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read it ({exc.strerror})", path=str(path)) from None
        m = read_message(str(path), data)
        if m.election != election:
            raise InputError(
                f"a message of another election (this ceremony is {election!r})",
                path=str(path),
                field="election",
                value=m.election,
            )
        if m.name in seen and seen[m.name].body != m.body:
            raise InputError(
                f"two different {m.kind} messages from one trustee (also {seen[m.name].source})",
                path=str(path),
            )
        seen[m.name] = m
    payloads = [m.payload for m in seen.values()]
    keys = [p for p in payloads if isinstance(p, ElectionKey)]
    challenges = [p for p in payloads if isinstance(p, DrillChallenge)]
    return PublicState(
        public,
        keys=tuple(p for p in payloads if isinstance(p, CommunicationKey)),
        commitments=tuple(p for p in payloads if isinstance(p, Commitments)),
        sealed=tuple(p for p in payloads if isinstance(p, SealedShare)),
        complaints=tuple(p for p in payloads if isinstance(p, Complaint)),
        revealed=tuple(p for p in payloads if isinstance(p, RevealedShare)),
        election_key=keys[0] if keys else None,
        challenge=challenges[0] if challenges else None,
    )
