"""The key ceremony's messages (crypto/dkg.py runs the steps): what trustees publish and keep.

Each is a frozen dataclass with one canonical JSON encoding (crypto/canonical.py):
``to_json()`` and ``from_json(data)``, the latter refusing any other byte string. The election
record keeps them as they were published; docs/verifiable.md lists their fields.

* :class:`Ceremony` - the election, the number of trustees ``n`` and the threshold ``t``;
* :class:`CommunicationKey` - step 1, a trustee's X25519 key and Ed25519 signing key, with
  their fingerprint;
* :class:`Commitments` - step 2, ``K_{i,j} = g^{a_{i,j}}`` with Schnorr proofs;
* :class:`SealedShare` - step 2, ``P_i(l)`` sealed to trustee ``l``;
* :class:`Complaint`, :class:`RevealedShare` - step 3, a share disputed and its public answer;
* :class:`KeyConfirmation` - after step 3, a trustee's signed digest of the election key it
  computed itself from the commitments;
* :class:`ElectionKey` - step 4, the election key and every verification key;
* :class:`TrusteeSecrets` - what a trustee keeps in its passphrase-protected file.

Every message a trustee publishes is signed with its Ed25519 key (crypto/trustee_signing.py):
its canonical JSON carries a ``signature`` field over the canonical JSON without it;
:func:`signed` signs one, :func:`check_signature` checks one against the communication key of
the trustee who sent it (:attr:`signer`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Protocol, TypeVar

from tallyroom.crypto import canonical, group, trustee_signing
from tallyroom.crypto.group import Element
from tallyroom.crypto.proofs import SchnorrProof
from tallyroom.crypto.trustee_signing import SIGNATURE_BYTES, SignedJson
from tallyroom.errors import InputError, ProofRejected

__all__ = [
    "Ceremony",
    "Commitments",
    "CommunicationKey",
    "Complaint",
    "ElectionKey",
    "KeyConfirmation",
    "RevealedShare",
    "SealedShare",
    "SignedMessage",
    "TrusteeSecrets",
    "check_signature",
    "signed",
    "u32",
]


def u32(i: int) -> bytes:
    """``i`` as 4 bytes, big-endian."""
    return i.to_bytes(4, "big")


@dataclass(frozen=True, slots=True)
class Ceremony:
    """An election's ceremony: ``trustees`` (n) and the ``threshold`` (t) who can decrypt."""

    election: str
    trustees: int
    threshold: int

    def __post_init__(self) -> None:
        if not 1 <= self.threshold <= self.trustees <= 1000:
            raise InputError(
                "a ceremony needs 1 <= threshold <= trustees <= 1000",
                field="threshold",
                value=(self.threshold, self.trustees),
            )

    def check_trustee(self, trustee: int, field: str = "trustee") -> None:
        if not 1 <= trustee <= self.trustees:
            raise InputError(
                f"trustees are numbered 1..{self.trustees}", field=field, value=trustee
            )

    def coefficient_context(self, trustee: int, j: int) -> tuple[bytes, ...]:
        """What a coefficient's Schnorr proof is bound to."""
        return (
            b"coefficient",
            self.election.encode("utf-8"),
            u32(trustee),
            u32(j),
            u32(self.trustees),
            u32(self.threshold),
        )


class SignedMessage(Protocol):
    """A message a trustee publishes signed: its kind, the trustee who signs it, its canonical
    JSON without the signature, and the signature."""

    KIND: ClassVar[str]
    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def election(self) -> str: ...

    @property
    def signer(self) -> int: ...

    @property
    def signature(self) -> bytes: ...

    def unsigned_json(self) -> bytes: ...


_M = TypeVar("_M", bound=SignedMessage)


def signed(message: _M, seed: bytes) -> _M:
    """``message`` signed with the Ed25519 ``seed`` (its trustee's, from its file)."""
    signature = trustee_signing.sign(message.KIND, message.unsigned_json(), seed)
    return replace(message, signature=signature)


def check_signature(message: SignedMessage, key: CommunicationKey) -> None:
    """Nothing if ``message`` is signed by the signing key in ``key``, the communication key
    of the trustee who sent it; else :class:`ProofRejected`, check ``signature``."""
    who = f"trustee {message.signer}"
    if (key.election, key.trustee) != (message.election, message.signer):
        raise ProofRejected(
            "signature",
            f"checked against trustee {key.trustee}'s communication key, not its sender's",
            subject=who,
        )
    trustee_signing.verify(
        message.KIND,
        message.unsigned_json(),
        message.signature,
        key.signing_key,
        signer=message.signer,
    )


def _signature(f: canonical.Fields) -> bytes:
    return f.hex("signature", SIGNATURE_BYTES)


@dataclass(frozen=True, slots=True)
class CommunicationKey(SignedJson):
    """Step 1: a trustee's X25519 public key, to which the others seal its shares, and its
    Ed25519 public key, which checks every message it signs; the message is signed with the
    latter (proof that the trustee holds it, as Belenios's ``cert``)."""

    KIND: ClassVar[str] = "communication-key"

    election: str
    trustee: int
    public_key: bytes
    signing_key: bytes
    signature: bytes = b""

    @property
    def signer(self) -> int:
        return self.trustee

    def fingerprint(self) -> str:
        """What the trustee reads aloud (or compares on paper) at the ceremony so that every
        other trustee knows the keys it seals to and checks signatures with are this
        trustee's, not ones the server substituted: the first 80 bits of SHA-256 over
        election, trustee and both keys, in groups of four hex digits."""
        digest = hashlib.sha256(
            b"tallyroom/v1/communication-key"
            + u32(len(self.election.encode("utf-8")))
            + self.election.encode("utf-8")
            + u32(self.trustee)
            + self.public_key
            + self.signing_key
        ).hexdigest()[:20]
        return "-".join(digest[i : i + 4] for i in range(0, 20, 4))

    def _fields(self) -> dict[str, Any]:
        return {
            "election": self.election,
            "trustee": self.trustee,
            "public_key": self.public_key.hex(),
            "signing_key": self.signing_key.hex(),
        }

    @classmethod
    def from_json(cls, data: bytes) -> CommunicationKey:
        f = canonical.loads(data, cls.KIND)
        f.expect("election", "trustee", "public_key", "signing_key", "signature")
        return cls(
            f.text("election"),
            f.integer("trustee"),
            f.hex("public_key", 32),
            f.hex("signing_key", 32),
            _signature(f),
        )


@dataclass(frozen=True, slots=True)
class Commitments(SignedJson):
    """Step 2, public: ``K_{i,j} = g^{a_{i,j}}`` for ``j < t``, each with its Schnorr proof."""

    KIND: ClassVar[str] = "commitments"

    election: str
    trustee: int
    coefficients: tuple[Element, ...]
    proofs: tuple[SchnorrProof, ...]
    signature: bytes = b""

    @property
    def signer(self) -> int:
        return self.trustee

    def _fields(self) -> dict[str, Any]:
        return {
            "election": self.election,
            "trustee": self.trustee,
            "coefficients": [bytes(k).hex() for k in self.coefficients],
            "proofs": [p.to_bytes().hex() for p in self.proofs],
        }

    @classmethod
    def from_json(cls, data: bytes) -> Commitments:
        f = canonical.loads(data, cls.KIND)
        f.expect("election", "trustee", "coefficients", "proofs", "signature")
        try:
            proofs = tuple(SchnorrProof.from_bytes(p) for p in f.hex_list("proofs", 64))
        except ProofRejected as exc:
            raise InputError(exc.problem, field="proofs") from None
        return cls(
            f.text("election"),
            f.integer("trustee"),
            f.elements("coefficients"),
            proofs,
            _signature(f),
        )


@dataclass(frozen=True, slots=True)
class SealedShare(SignedJson):
    """Step 2, to one trustee: ``P_dealer(recipient)`` sealed to the recipient's key; signed
    by the dealer."""

    KIND: ClassVar[str] = "sealed-share"

    election: str
    dealer: int
    recipient: int
    sealed: bytes
    signature: bytes = b""

    @property
    def signer(self) -> int:
        return self.dealer

    def _fields(self) -> dict[str, Any]:
        return {
            "election": self.election,
            "dealer": self.dealer,
            "recipient": self.recipient,
            "sealed": self.sealed.hex(),
        }

    @classmethod
    def from_json(cls, data: bytes) -> SealedShare:
        f = canonical.loads(data, cls.KIND)
        f.expect("election", "dealer", "recipient", "sealed", "signature")
        return cls(
            f.text("election"),
            f.integer("dealer"),
            f.integer("recipient"),
            f.hex("sealed"),
            _signature(f),
        )


@dataclass(frozen=True, slots=True)
class Complaint(SignedJson):
    """Step 3: the recipient's share from the dealer is missing or wrong, and why; signed by
    the recipient (who complains)."""

    KIND: ClassVar[str] = "complaint"

    election: str
    dealer: int
    recipient: int
    reason: str
    signature: bytes = b""

    @property
    def signer(self) -> int:
        return self.recipient

    def _fields(self) -> dict[str, Any]:
        return {
            "election": self.election,
            "dealer": self.dealer,
            "recipient": self.recipient,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: bytes) -> Complaint:
        f = canonical.loads(data, cls.KIND)
        f.expect("election", "dealer", "recipient", "reason", "signature")
        return cls(
            f.text("election"),
            f.integer("dealer"),
            f.integer("recipient"),
            f.text("reason"),
            _signature(f),
        )


@dataclass(frozen=True, slots=True)
class RevealedShare(SignedJson):
    """A dealer's public answer to a complaint: the share in the clear, signed by the
    dealer."""

    KIND: ClassVar[str] = "revealed-share"

    election: str
    dealer: int
    recipient: int
    share: int
    signature: bytes = b""

    @property
    def signer(self) -> int:
        return self.dealer

    def _fields(self) -> dict[str, Any]:
        return {
            "election": self.election,
            "dealer": self.dealer,
            "recipient": self.recipient,
            "share": group.scalar_bytes(self.share).hex(),
        }

    @classmethod
    def from_json(cls, data: bytes) -> RevealedShare:
        f = canonical.loads(data, cls.KIND)
        f.expect("election", "dealer", "recipient", "share", "signature")
        share = group.scalar_from_bytes(f.hex("share", 32), field="share")
        return cls(
            f.text("election"), f.integer("dealer"), f.integer("recipient"), share, _signature(f)
        )


@dataclass(frozen=True, slots=True)
class KeyConfirmation(SignedJson):
    """After a trustee's ``open`` succeeds: the SHA-256 of the canonical ``election-key``
    message (election key and every verification key) that the trustee computed itself from
    the commitments, signed. The officer's ``finish`` needs every trustee's, each of the key
    the server computed."""

    KIND: ClassVar[str] = "confirmation"

    election: str
    trustee: int
    election_key_sha256: bytes
    signature: bytes = b""

    @property
    def signer(self) -> int:
        return self.trustee

    def _fields(self) -> dict[str, Any]:
        return {
            "election": self.election,
            "trustee": self.trustee,
            "election_key_sha256": self.election_key_sha256.hex(),
        }

    @classmethod
    def from_json(cls, data: bytes) -> KeyConfirmation:
        f = canonical.loads(data, cls.KIND)
        f.expect("election", "trustee", "election_key_sha256", "signature")
        return cls(
            f.text("election"),
            f.integer("trustee"),
            f.hex("election_key_sha256", 32),
            _signature(f),
        )


@dataclass(frozen=True, slots=True)
class ElectionKey:
    """Step 4, public: the election key and each trustee's verification key (trustee ``l``'s
    at index ``l - 1``)."""

    election: str
    trustees: int
    threshold: int
    public_key: Element
    verification_keys: tuple[Element, ...]

    def to_json(self) -> bytes:
        return canonical.dumps(
            "election-key",
            {
                "election": self.election,
                "trustees": self.trustees,
                "threshold": self.threshold,
                "public_key": bytes(self.public_key).hex(),
                "verification_keys": [bytes(k).hex() for k in self.verification_keys],
            },
        )

    @classmethod
    def from_json(cls, data: bytes) -> ElectionKey:
        f = canonical.loads(data, "election-key")
        f.expect("election", "trustees", "threshold", "public_key", "verification_keys")
        return cls(
            f.text("election"),
            f.integer("trustees"),
            f.integer("threshold"),
            f.element("public_key"),
            f.elements("verification_keys"),
        )

    def sha256(self) -> bytes:
        """The SHA-256 of the canonical message: what a :class:`KeyConfirmation` confirms."""
        return hashlib.sha256(self.to_json()).digest()

    def verification_key(self, trustee: int) -> Element:
        if not 1 <= trustee <= self.trustees:
            raise InputError(
                f"trustees are numbered 1..{self.trustees}", field="trustee", value=trustee
            )
        return self.verification_keys[trustee - 1]


@dataclass(frozen=True, slots=True)
class TrusteeSecrets:
    """What one trustee keeps in its passphrase-protected file: its communication key and its
    signing key's seed, its polynomial while the ceremony runs (to answer complaints), and
    at the end its share."""

    election: str
    trustee: int
    communication_key: bytes
    signing_seed: bytes
    polynomial: tuple[int, ...] = ()
    share: int | None = None

    def __repr__(self) -> str:  # never print secrets into a log or a traceback
        return f"TrusteeSecrets(election={self.election!r}, trustee={self.trustee})"

    def to_json(self) -> bytes:
        return canonical.dumps(
            "trustee-secrets",
            {
                "election": self.election,
                "trustee": self.trustee,
                "communication_key": self.communication_key.hex(),
                "signing_seed": self.signing_seed.hex(),
                "polynomial": [group.scalar_bytes(a).hex() for a in self.polynomial],
                "share": None if self.share is None else group.scalar_bytes(self.share).hex(),
            },
        )

    @classmethod
    def from_json(cls, data: bytes) -> TrusteeSecrets:
        f = canonical.loads(data, "trustee-secrets")
        f.expect("election", "trustee", "communication_key", "signing_seed", "polynomial", "share")
        poly = tuple(group.scalar_from_bytes(a) for a in f.hex_list("polynomial", 32))
        raw = f.optional_hex("share", 32)
        share = None if raw is None else group.scalar_from_bytes(raw, field="share")
        return cls(
            f.text("election"),
            f.integer("trustee"),
            f.hex("communication_key", 32),
            f.hex("signing_seed", 32),
            poly,
            share,
        )
