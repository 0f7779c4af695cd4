"""The trustees' key ceremony and the key drill, on the officer's side (docs/trustees.md).

A verifiable election's trustees (its definition's ``[verifiable]``, numbered from 1 in
order) make the election key with Pedersen's DKG (crypto/dkg.py) on their own machines; the
officer relays their messages through the server:

* :func:`add_messages` takes trustees' files (communication keys, commitments, sealed shares,
  complaints, revealed shares, key confirmations, drill shares), **all or none**: each is
  checked against what is stored before it is stored (below), and a refusal names the file
  and the check;
* :func:`finish` once every trustee's key, commitments and shares are in, every complaint
  is answered and every trustee has confirmed the election key (its ``confirmation`` file,
  written by ``tallyroom trustee open``): the ceremony is verified
  (:func:`tallyroom.crypto.dkg.verify_ceremony`; a missing or disagreeing confirmation is
  refused, check ``key-confirmation``, naming the trustees) and its :class:`ElectionKey`
  stored (:func:`tallyroom.store.elections.set_election_key`);
* :func:`start_drill` stores a test ciphertext under the key; :func:`finish_drill`, once at
  least ``threshold`` trustees' decryption shares of it are in, stores the drill's transcript
  (audit action ``key_drill``). The poll does not open before that
  (:func:`require_ready`, called by services/polling.py);
* :func:`status` says who has done what and the next step; :func:`export` writes what is
  published so far for the trustees; :func:`published` gives it all as crypto objects (the
  election record's export).

The checks made before a message is stored: the file is one canonical message; it is signed
by the Ed25519 key in its sender's communication key (a communication key by its own: check
``signature``, crypto/trustee_signing.py); it is of this election (``election``: a message
replayed from another election is refused); its trustee and recipient are numbered ``1..n``
and differ; it is not a second, different message of the same kind from the same trustee
(the same bytes again are accepted as already stored);
messages come in order (commitments need every communication key, a sealed share its
recipient's communication key and its dealer's commitments, a complaint every commitment, a
revealed share the complaint it answers, a key confirmation every commitment, a drill share
the drill); a key confirmation confirms the key the stored commitments give (check
``key-confirmation``: a trustee that computed another key was shown other commitments);
commitments' proofs hold
(:func:`~tallyroom.crypto.dkg.check_commitments`); a revealed share matches its dealer's
commitments (:func:`~tallyroom.crypto.dkg.check_revealed_share`: otherwise the dealer is to
be excluded); a drill share's Chaum-Pedersen proof holds against the trustee's verification
key (:func:`~tallyroom.crypto.threshold.verify_share`). Ceremony messages are refused once the
key is set, drill shares once the drill passed, everything once the poll is open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Connection

from tallyroom.crypto import dkg, threshold
from tallyroom.crypto.ceremony_messages import (
    Ceremony,
    Commitments,
    CommunicationKey,
    Complaint,
    ElectionKey,
    KeyConfirmation,
    RevealedShare,
    SealedShare,
    check_signature,
)
from tallyroom.crypto.drill_messages import DrillShare, challenge_to_json
from tallyroom.crypto.threshold import DrillChallenge, KeyDrill
from tallyroom.election.lifecycle import ElectionState
from tallyroom.errors import InputError, LifecycleError, ProofRejected
from tallyroom.services.ceremony_files import (
    CEREMONY_FILE,
    ELECTION_KEY_FILE,
    Message,
    PublicCeremony,
    file_name,
    read_message,
)
from tallyroom.services.elections import definition_of, get_election
from tallyroom.store import ceremony as stored_ceremony
from tallyroom.store import elections
from tallyroom.store.elections import ElectionRecord
from tallyroom.store.engine import Store

__all__ = [
    "Added",
    "CeremonyStatus",
    "PublishedCeremony",
    "TrusteeProgress",
    "add_messages",
    "drill_passed",
    "export",
    "finish",
    "finish_drill",
    "public_ceremony",
    "published",
    "require_ready",
    "start_drill",
    "status",
]

# The kinds a trustee's file may be, in the order a batch is checked and stored.
_ADDABLE = (
    "communication-key",
    "commitments",
    "sealed-share",
    "complaint",
    "revealed-share",
    "confirmation",
    "drill-share",
)
# The payloads of those kinds: every one is signed by its sender.
_SIGNED = (
    CommunicationKey,
    Commitments,
    SealedShare,
    Complaint,
    RevealedShare,
    KeyConfirmation,
    DrillShare,
)
_SEALED_OVERHEAD = 48  # crypto_box_seal: an ephemeral X25519 key and a Poly1305 tag
_REASON_MAX = 500
_SHARE_TAG = b"tallyroom/v1/share"
_T = TypeVar("_T")


def public_ceremony(record: ElectionRecord) -> PublicCeremony:
    """The election's ceremony from its definition's ``[verifiable]`` (the election is named
    by its slug in every message)."""
    verifiable = definition_of(record).verifiable
    if verifiable is None:
        raise InputError(
            "this election takes the sealed path (no [verifiable] in its definition): it has"
            " no key ceremony",
            field="verifiable",
            value=record.slug,
        )
    ceremony = Ceremony(record.slug, len(verifiable.trustees), verifiable.threshold)
    return PublicCeremony(ceremony, verifiable.trustees)


@dataclass(frozen=True, slots=True)
class PublishedCeremony:
    """Everything the ceremony and the drill published, as crypto objects, in trustee order
    (shares, complaints and revealed shares by dealer, then recipient). ``election_key`` is
    None until :func:`finish`, ``key_drill`` until :func:`finish_drill`."""

    ceremony: Ceremony
    names: tuple[str, ...]
    communication_keys: tuple[CommunicationKey, ...]
    commitments: tuple[Commitments, ...]
    sealed_shares: tuple[SealedShare, ...]
    complaints: tuple[Complaint, ...]
    revealed_shares: tuple[RevealedShare, ...]
    confirmations: tuple[KeyConfirmation, ...]
    election_key: ElectionKey | None
    drill_challenge: DrillChallenge | None
    drill_shares: tuple[DrillShare, ...]
    key_drill: KeyDrill | None


@dataclass
class _State:
    """What is stored, read back (every stored message was checked when it was added)."""

    public: PublicCeremony
    key: ElectionKey | None
    messages: dict[str, Message]

    @property
    def ceremony(self) -> Ceremony:
        return self.public.ceremony

    def of(self, kind: str) -> list[Message]:
        return sorted(
            (m for m in self.messages.values() if m.kind == kind),
            key=lambda m: (m.trustee, m.recipient),
        )

    def has(self, kind: str, trustee: int = 0, recipient: int = 0) -> bool:
        return stored_ceremony.message_name(kind, trustee, recipient) in self.messages

    def get(self, kind: str, trustee: int = 0, recipient: int = 0) -> Message | None:
        return self.messages.get(stored_ceremony.message_name(kind, trustee, recipient))

    def commitments(self) -> dict[int, Commitments]:
        return {m.trustee: _as(m, Commitments) for m in self.of("commitments")}

    def challenge(self) -> DrillChallenge | None:
        m = self.get("drill-challenge")
        return None if m is None else _as(m, DrillChallenge)


def _as(message: Message, cls: type[_T]) -> _T:
    assert isinstance(message.payload, cls)
    return message.payload


def _load(conn: Connection, record: ElectionRecord) -> _State:
    public = public_ceremony(record)
    key = None if record.election_key is None else ElectionKey.from_json(record.election_key)
    messages = {}
    for row in stored_ceremony.messages(conn, record.id):
        m = read_message(row.name, row.body)
        messages[m.name] = m
    return _State(public, key, messages)


def _before_open(conn: Connection, record: ElectionRecord, doing: str) -> None:
    elections.require_state(
        conn, record.id, *elections.states_before(ElectionState.OPEN), doing=doing, exclusive=True
    )


def _check_identity(state: _State, m: Message) -> None:
    """Refuse ``m`` unless it is a trustee's message of this ceremony, from and to trustees
    numbered 1..n."""
    c = state.ceremony
    if m.kind not in _ADDABLE:
        raise InputError(
            f"a {m.kind} message is made by the officer's commands, not added",
            field="type",
            value=m.kind,
        )
    if m.election != c.election:
        raise ProofRejected(
            "election",
            f"a message of election {m.election!r}, not {c.election!r} (replayed from another"
            " election?)",
        )
    c.check_trustee(m.trustee, "dealer" if m.recipient else "trustee")
    if m.recipient:
        c.check_trustee(m.recipient, "recipient")
        if m.recipient == m.trustee:
            raise InputError("a trustee's message to itself", field="recipient", value=m.recipient)


def _check(state: _State, m: Message) -> None:
    """Refuse ``m`` unless it may be stored now (module doc); InputError or ProofRejected."""
    c = state.ceremony
    if m.kind == "drill-share":
        _check_drill_share(state, m)
        return
    if state.key is not None:
        raise InputError(
            "the ceremony is finished (the election key is set): no more ceremony messages",
            field="type",
            value=m.kind,
        )
    if m.kind == "commitments":
        _need_all(state, "communication-key", f"trustee {m.trustee}'s commitments")
        dkg.check_commitments(c, _as(m, Commitments))
    elif m.kind == "sealed-share":
        if not state.has("communication-key", m.recipient):
            raise InputError(
                f"trustee {m.recipient} has no communication key yet: no share can be sealed to it",
                field="recipient",
                value=m.recipient,
            )
        if not state.has("commitments", m.trustee):
            raise InputError(
                f"trustee {m.trustee}'s commitments must come with (or before) its shares",
                field="dealer",
                value=m.trustee,
            )
        # docs/verifiable.md: tag || u32(len) || election || u32(dealer) || u32(recipient) || scalar
        plain = len(_SHARE_TAG) + 4 + len(c.election.encode("utf-8")) + 4 + 4 + 32
        if len(_as(m, SealedShare).sealed) != plain + _SEALED_OVERHEAD:
            raise InputError("not the length of a sealed share", field="sealed", value=len(m.body))
    elif m.kind == "complaint":
        _need_all(state, "commitments", f"trustee {m.recipient}'s complaint")
        reason = _as(m, Complaint).reason
        if not reason.strip() or len(reason) > _REASON_MAX:
            raise InputError(
                f"a complaint gives its reason (1 to {_REASON_MAX} characters)", field="reason"
            )
    elif m.kind == "confirmation":
        _need_all(state, "commitments", f"trustee {m.trustee}'s key confirmation")
        wanted = dkg.election_key(c, list(state.commitments().values())).sha256()
        confirmed = _as(m, KeyConfirmation).election_key_sha256
        if confirmed != wanted:
            raise ProofRejected(
                "key-confirmation",
                f"confirms the election key with SHA-256 {confirmed.hex()[:16]}…; the stored"
                f" commitments give {wanted.hex()[:16]}… (was this trustee shown other"
                " commitments?)",
                subject=f"trustee {m.trustee}",
            )
    elif m.kind == "revealed-share":
        if not state.has("complaint", m.trustee, m.recipient):
            raise InputError(
                f"no complaint by trustee {m.recipient} about trustee {m.trustee} to answer",
                field="recipient",
                value=m.recipient,
            )
        try:
            dkg.check_revealed_share(c, state.commitments()[m.trustee], _as(m, RevealedShare))
        except ProofRejected as exc:
            raise ProofRejected(
                exc.check,
                f"{exc.problem}: the complaint stands and trustee {m.trustee} is to be excluded"
                " (docs/trustees.md, 'A bad share')",
                subject=exc.subject,
            ) from None


def _check_signed(state: _State, m: Message) -> None:
    """Refuse ``m`` unless the signing key in its sender's stored communication key (its own,
    for a communication key) signed it: ProofRejected, check ``signature``."""
    payload = m.payload
    assert isinstance(payload, _SIGNED)
    if isinstance(payload, CommunicationKey):
        check_signature(payload, payload)
        return
    key = state.get("communication-key", payload.signer)
    if key is None:
        raise InputError(
            f"trustee {payload.signer} has no communication key yet: its signature cannot be"
            " checked",
            field="trustee",
            value=payload.signer,
        )
    check_signature(payload, _as(key, CommunicationKey))


def _need_all(state: _State, kind: str, what: str) -> None:
    n = state.ceremony.trustees
    missing = [i for i in range(1, n + 1) if not state.has(kind, i)]
    if missing:
        raise InputError(
            f"{what} came before every trustee's {kind} was in", field="trustee", value=missing
        )


def _check_drill_share(state: _State, m: Message) -> None:
    challenge = state.challenge()
    if state.key is None or challenge is None:
        raise InputError("no key drill has been started", field="type", value=m.kind)
    if state.has("key-drill"):
        raise InputError("the key drill has already passed", field="type", value=m.kind)
    threshold.verify_share(state.key, challenge.ciphertext, _as(m, DrillShare).share)


def _shown(exc: InputError | ProofRejected, source: str) -> InputError | ProofRejected:
    if isinstance(exc, InputError):
        return exc if exc.path is not None else exc.shown_as(source)
    subject = source if exc.subject is None else f"{source}: {exc.subject}"
    return ProofRejected(exc.check, exc.problem, subject=subject)


@dataclass(frozen=True, slots=True)
class Added:
    """What :func:`add_messages` did: the messages stored, and those already stored."""

    stored: tuple[str, ...]
    already: tuple[str, ...]


def add_messages(
    store: Store, slug: str, files: Sequence[tuple[str, bytes]], *, actor: str
) -> Added:
    """Check and store trustees' files ``(name shown in errors, bytes)``: all or none."""
    record = get_election(store, slug)
    parsed = [read_message(name, data) for name, data in files]
    parsed.sort(key=lambda m: _ADDABLE.index(m.kind) if m.kind in _ADDABLE else -1)
    stored: list[str] = []
    already: list[str] = []
    with store.begin() as conn:
        _before_open(conn, record, "add a ceremony message")
        state = _load(conn, elections.get_election(conn, record.id))
        for m in parsed:
            try:
                _check_identity(state, m)
            except (InputError, ProofRejected) as exc:
                raise _shown(exc, m.source) from None
            before = state.messages.get(m.name)
            if before is not None:
                if before.body == m.body:
                    already.append(m.name)
                    continue
                raise InputError(
                    f"trustee {m.trustee} already sent a different {m.kind}"
                    + (f" for trustee {m.recipient}" if m.recipient else "")
                    + ": a second one is refused",
                    path=m.source,
                    field="trustee",
                    value=m.trustee,
                )
            try:
                _check_signed(state, m)
                _check(state, m)
            except (InputError, ProofRejected) as exc:
                raise _shown(exc, m.source) from None
            stored_ceremony.add(
                conn, record.id, m.kind, m.trustee, m.recipient, m.body, actor=actor
            )
            state.messages[m.name] = m
            stored.append(m.name)
    return Added(tuple(stored), tuple(already))


def _unanswered(state: _State) -> list[Message]:
    return [
        m for m in state.of("complaint") if not state.has("revealed-share", m.trustee, m.recipient)
    ]


def _missing_confirmations(state: _State) -> list[int]:
    return [i for i in range(1, state.ceremony.trustees + 1) if not state.has("confirmation", i)]


def _ceremony_gaps(state: _State) -> list[str]:
    """What the ceremony still lacks before the trustees can confirm the key, in words
    (empty: every trustee can run ``open`` to the end)."""
    n = state.ceremony.trustees
    out: list[str] = []
    for kind, what in (("communication-key", "communication keys"), ("commitments", "deals")):
        missing = [i for i in range(1, n + 1) if not state.has(kind, i)]
        if missing:
            out.append(f"{what} from trustee(s) {_numbers(missing)}")
    shares = [
        (d, r)
        for d in range(1, n + 1)
        for r in range(1, n + 1)
        if d != r and state.has("commitments", d) and not state.has("sealed-share", d, r)
    ]
    if shares:
        out.append("sealed shares " + ", ".join(f"{d} to {r}" for d, r in shares))
    out.extend(
        f"trustee {m.trustee}'s answer (tallyroom trustee reveal) to trustee {m.recipient}'s"
        " complaint"
        for m in _unanswered(state)
    )
    return out


def _numbers(numbers: Sequence[int]) -> str:
    return ", ".join(str(i) for i in numbers)


def finish(store: Store, slug: str, *, actor: str) -> ElectionKey:
    """Verify the finished ceremony and store its election key (once, before the poll)."""
    record = get_election(store, slug)
    with store.begin() as conn:
        _before_open(conn, record, "finish the key ceremony")
        state = _load(conn, elections.get_election(conn, record.id))
        if state.key is not None:
            raise LifecycleError("the key ceremony is already finished", election=slug)
        gaps = _ceremony_gaps(state)
        if gaps:
            raise InputError(
                "the ceremony cannot finish yet: it still needs " + "; ".join(gaps),
                field="ceremony",
                value=slug,
            )
        c = state.ceremony
        commitments = list(state.commitments().values())
        key = dkg.election_key(c, commitments)
        # a missing or disagreeing confirmation is refused here, check key-confirmation
        dkg.verify_ceremony(
            c,
            [_as(m, CommunicationKey) for m in state.of("communication-key")],
            commitments,
            [_as(m, Complaint) for m in state.of("complaint")],
            [_as(m, RevealedShare) for m in state.of("revealed-share")],
            [_as(m, KeyConfirmation) for m in state.of("confirmation")],
            key,
        )
        elections.set_election_key(
            conn, record.id, key.to_json(), public_key=bytes(key.public_key), actor=actor
        )
    return key


def start_drill(store: Store, slug: str, *, actor: str) -> DrillChallenge:
    """Store a fresh test ciphertext under the election key for the trustees to decrypt."""
    record = get_election(store, slug)
    with store.begin() as conn:
        _before_open(conn, record, "start the key drill")
        state = _load(conn, elections.get_election(conn, record.id))
        if state.key is None:
            raise LifecycleError(
                "the key ceremony is not finished: run `tallyroom ceremony finish` first",
                election=slug,
            )
        if state.has("drill-challenge"):
            raise LifecycleError("the key drill is already started", election=slug)
        challenge = threshold.start_key_drill(state.key)
        stored_ceremony.add(
            conn, record.id, "drill-challenge", 0, 0, challenge_to_json(challenge), actor=actor
        )
    return challenge


def finish_drill(store: Store, slug: str, *, actor: str) -> KeyDrill:
    """Combine the trustees' drill shares; with at least ``threshold`` of them that decrypt
    the drill's message, store the transcript (the poll may then open)."""
    record = get_election(store, slug)
    with store.begin() as conn:
        _before_open(conn, record, "finish the key drill")
        state = _load(conn, elections.get_election(conn, record.id))
        challenge = state.challenge()
        if state.key is None or challenge is None:
            raise LifecycleError(
                "no key drill has been started: run `tallyroom ceremony drill-start`",
                election=slug,
            )
        if state.has("key-drill"):
            raise LifecycleError("the key drill has already passed", election=slug)
        shares = [_as(m, DrillShare).share for m in state.of("drill-share")]
        t = state.key.threshold
        if len(shares) < t:
            raise InputError(
                f"the drill needs the shares of {t} trustees; it has {len(shares)}"
                + (f" (from trustee(s) {_numbers([s.trustee for s in shares])})" if shares else "")
                + ": no pass",
                field="drill-share",
                value=len(shares),
            )
        drill = threshold.finish_key_drill(state.key, challenge, shares)
        stored_ceremony.add(conn, record.id, "key-drill", 0, 0, drill.to_json(), actor=actor)
    return drill


def drill_passed(conn: Connection, election_id: int) -> bool:
    """Whether the election's key drill has passed (its transcript is stored)."""
    return any(m.kind == "key-drill" for m in stored_ceremony.messages(conn, election_id))


def require_ready(conn: Connection, record: ElectionRecord) -> None:
    """Nothing for a sealed-path election or a verifiable one whose key is set and whose drill
    passed; otherwise :class:`LifecycleError` saying the next step."""
    if definition_of(record).verifiable is None:
        return
    if record.election_key is None:
        raise LifecycleError(
            "the trustees' key ceremony is not finished, so there is no key to encrypt"
            " ballots under: see `tallyroom ceremony status` (docs/trustees.md)",
            election=record.slug,
        )
    if not drill_passed(conn, record.id):
        raise LifecycleError(
            "the key drill has not passed: run `tallyroom ceremony drill-start`, have the"
            " trustees run `tallyroom trustee drill`, add their shares and run"
            " `tallyroom ceremony drill-finish` (docs/trustees.md)",
            election=record.slug,
        )


@dataclass(frozen=True, slots=True)
class TrusteeProgress:
    """One trustee's part so far."""

    number: int
    name: str
    fingerprint: str | None  # of its communication key, once in
    dealt: bool
    shares_sent: int
    complaints_made: tuple[int, ...]  # dealers this trustee complained about
    complaints_against: tuple[int, ...]  # trustees who complained about this one's share
    unanswered: tuple[int, ...]  # of those, the complaints not yet answered
    confirmed: bool  # its signed confirmation of the election key is in
    drill_share: bool


@dataclass(frozen=True, slots=True)
class CeremonyStatus:
    """The ceremony as it stands and the next step, in words."""

    ceremony: Ceremony
    trustees: tuple[TrusteeProgress, ...]
    key_set: bool
    drill_started: bool
    drill_passed: bool
    next_step: str


def _next_step(state: _State) -> str:
    n, t = state.ceremony.trustees, state.ceremony.threshold
    if state.has("key-drill"):
        return "the key drill passed: the poll may open (tallyroom voting open)"
    if state.has("drill-challenge"):
        have = len(state.of("drill-share"))
        return (
            f"{have} of the {t} drill shares needed are in: export, have the trustees run"
            " `tallyroom trustee drill` and add their drill-share files, then"
            " `tallyroom ceremony drill-finish`"
        )
    if state.key is not None:
        return "the key is set: run `tallyroom ceremony drill-start`, then export for the trustees"
    missing_keys = [i for i in range(1, n + 1) if not state.has("communication-key", i)]
    if missing_keys:
        return (
            f"trustee(s) {_numbers(missing_keys)} run `tallyroom trustee keygen` and send"
            " their communication-key file; add it with `tallyroom ceremony add`"
        )
    gaps = _ceremony_gaps(state)
    if any(g.startswith(("deals", "sealed shares")) for g in gaps):
        return (
            "export; every trustee compares the fingerprints and runs `tallyroom trustee deal`;"
            " add their commitments and sealed-share files; still needed: " + "; ".join(gaps)
        )
    if gaps:
        return (
            "export; the trustees complained about run `tallyroom trustee reveal`; add the"
            " revealed-share files; still needed: " + "; ".join(gaps)
        )
    unconfirmed = _missing_confirmations(state)
    if unconfirmed:
        return (
            "export; every trustee runs `tallyroom trustee open` (complaints, if any, are added"
            " and answered) and sends the confirmation file it writes; add them; still needed:"
            f" key confirmations from trustee(s) {_numbers(unconfirmed)}"
        )
    return "every trustee confirmed the election key: run `tallyroom ceremony finish`"


def status(store: Store, slug: str) -> CeremonyStatus:
    """Who has done what, and the next step."""
    record = get_election(store, slug)
    with store.read() as conn:
        state = _load(conn, record)
    n = state.ceremony.trustees
    complaints = state.of("complaint")
    unanswered = _unanswered(state)
    rows = []
    for i in range(1, n + 1):
        key = state.get("communication-key", i)
        rows.append(
            TrusteeProgress(
                number=i,
                name=state.public.names[i - 1],
                fingerprint=None if key is None else _as(key, CommunicationKey).fingerprint(),
                dealt=state.has("commitments", i),
                shares_sent=sum(1 for m in state.of("sealed-share") if m.trustee == i),
                complaints_made=tuple(m.trustee for m in complaints if m.recipient == i),
                complaints_against=tuple(m.recipient for m in complaints if m.trustee == i),
                unanswered=tuple(m.recipient for m in unanswered if m.trustee == i),
                confirmed=state.has("confirmation", i),
                drill_share=state.has("drill-share", i),
            )
        )
    return CeremonyStatus(
        state.ceremony,
        tuple(rows),
        key_set=state.key is not None,
        drill_started=state.has("drill-challenge"),
        drill_passed=state.has("key-drill"),
        next_step=_next_step(state),
    )


def published(store: Store, slug: str) -> PublishedCeremony:
    """Every message the ceremony and the drill published, as crypto objects."""
    record = get_election(store, slug)
    with store.read() as conn:
        state = _load(conn, record)
    drill = state.get("key-drill")
    return PublishedCeremony(
        ceremony=state.ceremony,
        names=state.public.names,
        communication_keys=tuple(_as(m, CommunicationKey) for m in state.of("communication-key")),
        commitments=tuple(_as(m, Commitments) for m in state.of("commitments")),
        sealed_shares=tuple(_as(m, SealedShare) for m in state.of("sealed-share")),
        complaints=tuple(_as(m, Complaint) for m in state.of("complaint")),
        revealed_shares=tuple(_as(m, RevealedShare) for m in state.of("revealed-share")),
        confirmations=tuple(_as(m, KeyConfirmation) for m in state.of("confirmation")),
        election_key=state.key,
        drill_challenge=state.challenge(),
        drill_shares=tuple(_as(m, DrillShare) for m in state.of("drill-share")),
        key_drill=None if drill is None else _as(drill, KeyDrill),
    )


def export(store: Store, slug: str, folder: Path) -> list[Path]:
    """Write ``ceremony.json``, every stored message and (once set) ``election-key.json`` to
    ``folder`` (created if need be) as their canonical bytes; the files written."""
    record = get_election(store, slug)
    with store.read() as conn:
        state = _load(conn, record)
        rows = stored_ceremony.messages(conn, record.id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / CEREMONY_FILE]
        written[0].write_bytes(state.public.to_json())
        if record.election_key is not None:
            written.append(folder / ELECTION_KEY_FILE)
            written[-1].write_bytes(record.election_key)
        for row in rows:
            path = folder / file_name(row.kind, row.trustee, row.recipient)
            path.write_bytes(row.body)
            written.append(path)
    except OSError as exc:
        raise InputError(
            f"cannot write the ceremony's files ({exc.strerror})", path=str(folder)
        ) from None
    return written
