"""The ballot box's digest: a multiset hash of the ballots and the casts, kept as they are cast.

The box is two multisets, the ballots (each its receipt, contest, section tag and, in a
weighted election, its voter's weight) and the
casts (each its credential, entry, contest, channel and postal batch). Each is committed to
by MuHash (Bellare and Micciancio, *A New Paradigm for Collision-free Hashing: Incrementality
at Reduced Cost*, EUROCRYPT 1997; the multiset form of Clarke et al., *Incremental Multiset
Hash Functions and Their Application to Memory Integrity Checking*, ASIACRYPT 2003):

    MuHash(M) = prod over x in M of h(x)  (mod p)

with ``p = 2**3072 - 1103717`` (the prime of Bitcoin Core's MuHash3072) and ``h`` an
extendable-output hash onto the group, here SHAKE-256 to 384 bytes read little-endian and
reduced mod ``p``. Its security rests on the discrete logarithm in ``Z_p*``.

Why a multiset hash and not a hash chain over ballots in casting order:

* **It commits to what is in the box, not to when.** Multiplication commutes, so the digest of
  a casting transaction's ballots does not depend on their order, and the digest of the whole
  box is the same however its ballots were grouped into transactions. A verifier recomputes it
  from the stored rows alone: no batch number or position is stored beside a ballot (either
  would be a casting order to join with the casts).
* **Ballots and casts are two separate products.** Nothing pairs cast *i* with ballot *i*: the
  ballots' digest is computed over ballots only and the casts' over casts only, so neither
  digest, nor the two together, says which voter cast which ballot.
* **It is incremental.** A casting transaction multiplies the stored digest by the product of
  what it inserted, in the same transaction, without reading the box.

An element is the canonical JSON of its fields with a domain tag (``"ballot"`` / ``"cast"``),
so no ballot can be read as a cast and no field can slide into its neighbour.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from tallyroom.audit.events import JsonValue, canonical_json

__all__ = [
    "DIGEST_BYTES",
    "EMPTY",
    "BallotElement",
    "BoxDigest",
    "CastElement",
    "P",
    "combine",
    "from_bytes",
    "multiply",
    "to_bytes",
]

# [MuHash3072] the modulus, 2^3072 - 1103717 (prime).
_C = 1103717
P = 2**3072 - _C
_LOW = (1 << 3072) - 1
DIGEST_BYTES = 384
EMPTY = 1  # the digest of the empty multiset


@dataclass(frozen=True, slots=True)
class BallotElement:
    """What the box commits to for one ballot (the sealed bytes through their receipt)."""

    contest: str
    section: str | None
    receipt: bytes
    weight: str | None = None  # the voter's weight (weighted elections), as stored
    unit: str | None = None  # a contest counted by unit only; absent from the encoding if None

    def encode(self) -> bytes:
        fields: list[JsonValue] = ["ballot", self.contest, self.section, self.receipt.hex()]
        if self.unit is not None:
            fields.append(self.unit)
        if self.weight is not None:
            # only a weighted ballot carries it, so an unweighted box's digest is unchanged
            fields.append({"weight": self.weight})
        return _encode(fields)


@dataclass(frozen=True, slots=True)
class CastElement:
    """What the box commits to for one cast row."""

    credential_id: int
    entry_id: int
    contest: str
    channel: str
    postal_batch_id: int | None

    def encode(self) -> bytes:
        fields: list[JsonValue] = [
            "cast",
            self.credential_id,
            self.entry_id,
            self.contest,
            self.channel,
            self.postal_batch_id,
        ]
        return _encode(fields)


def _encode(fields: list[JsonValue]) -> bytes:
    """Canonical JSON of a flat list of text, integers, nulls and one-key objects (the same bytes as
    :func:`~tallyroom.audit.events.canonical_json`, without its walk over the value: this
    runs twice per ballot inside the casting transaction)."""
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _h(element: BallotElement | CastElement) -> int:
    """h: the element onto Z_p (never 0: SHAKE output is 0 mod p with negligible odds, and
    mapped to 1 then, which only makes the element invisible, never forgeable at will)."""
    value = int.from_bytes(hashlib.shake_256(element.encode()).digest(DIGEST_BYTES), "little") % P
    return value or 1


def _mulmod(a: int, b: int) -> int:
    """``a * b mod P`` for ``a, b < P``, reduced with ``2^3072 = C (mod P)`` (a third of the
    cost of ``%``): fold the high half twice, then subtract ``P`` at most once."""
    t = a * b
    t = (t & _LOW) + (t >> 3072) * _C  # < 2^3072 + 2^3093
    t = (t & _LOW) + (t >> 3072) * _C  # < 2^3072 + 2^43 < 2P
    return t - P if t >= P else t


def multiply(digest: int, elements: Iterable[BallotElement | CastElement]) -> int:
    """``digest`` with every element of ``elements`` added to its multiset."""
    out = digest
    for element in elements:
        out = _mulmod(out, _h(element))
    return out


def combine(digests: Iterable[int]) -> int:
    """The digest of the union of the multisets (the shards of one box)."""
    out = EMPTY
    for d in digests:
        out = _mulmod(out, d)
    return out


def to_bytes(digest: int) -> bytes:
    return digest.to_bytes(DIGEST_BYTES, "little")


def from_bytes(data: bytes) -> int:
    if len(data) != DIGEST_BYTES:
        raise ValueError(f"a box digest is {DIGEST_BYTES} bytes ({len(data)})")
    value = int.from_bytes(data, "little")
    if not 0 < value < P:
        raise ValueError("a box digest is an element of Z_p*")
    return value


@dataclass(frozen=True, slots=True)
class BoxDigest:
    """The box as a whole: the ballots' and the casts' digests and how many of each.

    ``fingerprint`` (SHA-256 of both digests and both counts) is what the audit log records.
    """

    ballots: int
    casts: int
    ballot_count: int
    cast_count: int

    @property
    def fingerprint(self) -> str:
        data = (
            to_bytes(self.ballots)
            + to_bytes(self.casts)
            + canonical_json([self.ballot_count, self.cast_count]).encode()
        )
        return hashlib.sha256(b"tallyroom ballot box v1\n" + data).hexdigest()
