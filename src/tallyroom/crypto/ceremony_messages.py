"""The key ceremony's messages (crypto/dkg.py runs the steps): what trustees publish and keep.

Each is a frozen dataclass with one canonical JSON encoding (crypto/canonical.py):
``to_json()`` and ``from_json(data)``, the latter refusing any other byte string. The election
record keeps them as they were published; docs/verifiable.md lists their fields.

* :class:`Ceremony` - the election, the number of trustees ``n`` and the threshold ``t``;
* :class:`CommunicationKey` - step 1, a trustee's X25519 key, with its fingerprint;
* :class:`Commitments` - step 2, ``K_{i,j} = g^{a_{i,j}}`` with Schnorr proofs;
* :class:`SealedShare` - step 2, ``P_i(l)`` sealed to trustee ``l``;
* :class:`Complaint`, :class:`RevealedShare` - step 3, a share disputed and its public answer;
* :class:`ElectionKey` - step 4, the election key and every verification key;
* :class:`TrusteeSecrets` - what a trustee keeps in its passphrase-protected file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tallyroom.crypto import canonical, group
from tallyroom.crypto.group import Element
from tallyroom.crypto.proofs import SchnorrProof
from tallyroom.errors import InputError, ProofRejected

__all__ = [
    "Ceremony",
    "Commitments",
    "CommunicationKey",
    "Complaint",
    "ElectionKey",
    "RevealedShare",
    "SealedShare",
    "TrusteeSecrets",
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


@dataclass(frozen=True, slots=True)
class CommunicationKey:
    """Step 1: a trustee's X25519 public key, to which the others seal its shares."""

    election: str
    trustee: int
    public_key: bytes

    def fingerprint(self) -> str:
        """What the trustee reads aloud (or compares on paper) at the ceremony so that every
        other trustee knows the key it seals to is this trustee's, not one the server
        substituted: the first 80 bits of SHA-256 over election, trustee and key, in groups
        of four hex digits."""
        digest = hashlib.sha256(
            b"tallyroom/v1/communication-key"
            + u32(len(self.election.encode("utf-8")))
            + self.election.encode("utf-8")
            + u32(self.trustee)
            + self.public_key
        ).hexdigest()[:20]
        return "-".join(digest[i : i + 4] for i in range(0, 20, 4))

    def to_json(self) -> bytes:
        return canonical.dumps(
            "communication-key",
            {
                "election": self.election,
                "trustee": self.trustee,
                "public_key": self.public_key.hex(),
            },
        )

    @classmethod
    def from_json(cls, data: bytes) -> CommunicationKey:
        f = canonical.loads(data, "communication-key")
        f.expect("election", "trustee", "public_key")
        return cls(f.text("election"), f.integer("trustee"), f.hex("public_key", 32))


@dataclass(frozen=True, slots=True)
class Commitments:
    """Step 2, public: ``K_{i,j} = g^{a_{i,j}}`` for ``j < t``, each with its Schnorr proof."""

    election: str
    trustee: int
    coefficients: tuple[Element, ...]
    proofs: tuple[SchnorrProof, ...]

    def to_json(self) -> bytes:
        return canonical.dumps(
            "commitments",
            {
                "election": self.election,
                "trustee": self.trustee,
                "coefficients": [bytes(k).hex() for k in self.coefficients],
                "proofs": [p.to_bytes().hex() for p in self.proofs],
            },
        )

    @classmethod
    def from_json(cls, data: bytes) -> Commitments:
        f = canonical.loads(data, "commitments")
        f.expect("election", "trustee", "coefficients", "proofs")
        try:
            proofs = tuple(SchnorrProof.from_bytes(p) for p in f.hex_list("proofs", 64))
        except ProofRejected as exc:
            raise InputError(exc.problem, field="proofs") from None
        return cls(f.text("election"), f.integer("trustee"), f.elements("coefficients"), proofs)


@dataclass(frozen=True, slots=True)
class SealedShare:
    """Step 2, to one trustee: ``P_dealer(recipient)`` sealed to the recipient's key."""

    election: str
    dealer: int
    recipient: int
    sealed: bytes

    def to_json(self) -> bytes:
        return canonical.dumps(
            "sealed-share",
            {
                "election": self.election,
                "dealer": self.dealer,
                "recipient": self.recipient,
                "sealed": self.sealed.hex(),
            },
        )

    @classmethod
    def from_json(cls, data: bytes) -> SealedShare:
        f = canonical.loads(data, "sealed-share")
        f.expect("election", "dealer", "recipient", "sealed")
        return cls(f.text("election"), f.integer("dealer"), f.integer("recipient"), f.hex("sealed"))


@dataclass(frozen=True, slots=True)
class Complaint:
    """Step 3: the recipient's share from the dealer is missing or wrong, and why."""

    election: str
    dealer: int
    recipient: int
    reason: str

    def to_json(self) -> bytes:
        return canonical.dumps(
            "complaint",
            {
                "election": self.election,
                "dealer": self.dealer,
                "recipient": self.recipient,
                "reason": self.reason,
            },
        )

    @classmethod
    def from_json(cls, data: bytes) -> Complaint:
        f = canonical.loads(data, "complaint")
        f.expect("election", "dealer", "recipient", "reason")
        return cls(
            f.text("election"), f.integer("dealer"), f.integer("recipient"), f.text("reason")
        )


@dataclass(frozen=True, slots=True)
class RevealedShare:
    """A dealer's public answer to a complaint: the share in the clear."""

    election: str
    dealer: int
    recipient: int
    share: int

    def to_json(self) -> bytes:
        return canonical.dumps(
            "revealed-share",
            {
                "election": self.election,
                "dealer": self.dealer,
                "recipient": self.recipient,
                "share": group.scalar_bytes(self.share).hex(),
            },
        )

    @classmethod
    def from_json(cls, data: bytes) -> RevealedShare:
        f = canonical.loads(data, "revealed-share")
        f.expect("election", "dealer", "recipient", "share")
        share = group.scalar_from_bytes(f.hex("share", 32), field="share")
        return cls(f.text("election"), f.integer("dealer"), f.integer("recipient"), share)


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

    def verification_key(self, trustee: int) -> Element:
        if not 1 <= trustee <= self.trustees:
            raise InputError(
                f"trustees are numbered 1..{self.trustees}", field="trustee", value=trustee
            )
        return self.verification_keys[trustee - 1]


@dataclass(frozen=True, slots=True)
class TrusteeSecrets:
    """What one trustee keeps in its passphrase-protected file: its communication key, its
    polynomial while the ceremony runs (to answer complaints), and at the end its share."""

    election: str
    trustee: int
    communication_key: bytes
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
                "polynomial": [group.scalar_bytes(a).hex() for a in self.polynomial],
                "share": None if self.share is None else group.scalar_bytes(self.share).hex(),
            },
        )

    @classmethod
    def from_json(cls, data: bytes) -> TrusteeSecrets:
        f = canonical.loads(data, "trustee-secrets")
        f.expect("election", "trustee", "communication_key", "polynomial", "share")
        poly = tuple(group.scalar_from_bytes(a) for a in f.hex_list("polynomial", 32))
        raw = f.optional_hex("share", 32)
        share = None if raw is None else group.scalar_from_bytes(raw, field="share")
        return cls(
            f.text("election"), f.integer("trustee"), f.hex("communication_key", 32), poly, share
        )
