"""A contest's verifiable ballot: its ciphertexts and the proof that binds them to the contest.

A ballot (crypto/ballot_encoding.py) becomes ``w`` elements, the contest's width; each is
ElGamal-encrypted under the election key with fresh randomness (crypto/elgamal.py), and one
proof of knowledge of all the randomness, bound to the election and the contest
(crypto/proofs.py :func:`~tallyroom.crypto.proofs.prove_ballot`), goes with them: the server
checks it before accepting the ballot (issue 15, item 2; ElectionGuard v2.0 s.3.3, a ballot's
proofs checked on receipt).

Bytes (:meth:`EncryptedBallot.to_bytes`), ``96 w + 32`` of them, 128 for a one-element
ballot::

    a_0 b_0 a_1 b_1 ... a_{w-1} b_{w-1}    w ciphertexts, 64 bytes each (crypto/elgamal.py)
    c z_0 ... z_{w-1}                       the proof, 32-byte little-endian scalars

The voter's receipt is the SHA-256 of these bytes. The shuffle permutes *ballots*, not
elements: a ballot of width ``w`` is a vector of ``w`` ciphertexts that a mix re-encrypts
element by element and moves as one row, so its limbs stay together and in order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from tallyroom.crypto import elgamal, group, parallel
from tallyroom.crypto.ballot_encoding import BallotShape, encode, width
from tallyroom.crypto.elgamal import CIPHERTEXT_BYTES, Ciphertext
from tallyroom.crypto.group import Element
from tallyroom.crypto.proofs import BallotContext, BallotProof, prove_ballot, verify_ballot
from tallyroom.errors import InputError, ProofRejected

__all__ = [
    "BallotCheck",
    "BallotRejection",
    "EncryptedBallot",
    "check_ballot",
    "check_ballots",
    "encrypt_ballot",
]


@dataclass(frozen=True, slots=True)
class EncryptedBallot:
    """A contest's ballot as the board holds it: ``width`` ciphertexts and their proof."""

    ciphertexts: tuple[Ciphertext, ...]
    proof: BallotProof

    @property
    def width(self) -> int:
        return len(self.ciphertexts)

    def to_bytes(self) -> bytes:
        return b"".join(ct.to_bytes() for ct in self.ciphertexts) + self.proof.to_bytes()

    def receipt(self) -> str:
        """The voter's receipt: SHA-256 of the ballot's bytes, as hex."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes, width: int) -> EncryptedBallot:
        """The ballot ``data`` encodes for a contest of ``width``; :class:`ProofRejected`
        (check ``encoding``) unless every element and scalar is canonical."""
        expected = (CIPHERTEXT_BYTES + 32) * width + 32
        if width < 1 or len(data) != expected:
            raise ProofRejected(
                "encoding", f"a ballot of width {width} is {expected} bytes, not {len(data)}"
            )
        cut = CIPHERTEXT_BYTES * width
        try:
            cts = tuple(
                Ciphertext.from_bytes(data[i : i + CIPHERTEXT_BYTES])
                for i in range(0, cut, CIPHERTEXT_BYTES)
            )
        except InputError as exc:
            raise ProofRejected("encoding", f"a ciphertext: {exc.problem}") from None
        return cls(cts, BallotProof.from_bytes(data[cut:], width))


def encrypt_ballot(
    public_key: Element,
    context: BallotContext,
    shape: BallotShape,
    selection: Sequence[int],
) -> EncryptedBallot:
    """``selection`` encoded, encrypted under ``public_key`` and proved for ``context``
    (:class:`InputError` if the selection is no valid ballot of ``shape``)."""
    elements = encode(shape, selection)
    rs = [group.random_scalar() for _ in elements]
    cts = tuple(elgamal.encrypt(public_key, m, r) for m, r in zip(elements, rs, strict=True))
    return EncryptedBallot(cts, prove_ballot(public_key, context, cts, rs))


def check_ballot(
    public_key: Element, context: BallotContext, shape: BallotShape, data: bytes
) -> EncryptedBallot:
    """The ballot ``data`` encodes, its proof checked for ``context``; :class:`ProofRejected`
    naming the check otherwise."""
    ballot = EncryptedBallot.from_bytes(data, width(shape))
    verify_ballot(public_key, context, ballot.ciphertexts, ballot.proof)
    return ballot


@dataclass(frozen=True, slots=True)
class BallotCheck:
    """One ballot to check in a batch: where it was cast, its contest's width, its bytes."""

    context: BallotContext
    width: int
    data: bytes


@dataclass(frozen=True, slots=True)
class BallotRejection:
    """A ballot of a batch that failed: its position in the batch and the failed check."""

    index: int
    check: str
    problem: str


def _check_chunk(chunk: Sequence[tuple[Element, BallotCheck]]) -> list[ProofRejected | None]:
    out: list[ProofRejected | None] = []
    for public_key, item in chunk:
        try:
            ballot = EncryptedBallot.from_bytes(item.data, item.width)
            verify_ballot(public_key, item.context, ballot.ciphertexts, ballot.proof)
        except ProofRejected as exc:
            out.append(exc)
        else:
            out.append(None)
    return out


def check_ballots(
    public_key: Element,
    items: Sequence[BallotCheck],
    *,
    workers: int | None = None,
    pool: Executor | None = None,
) -> list[BallotRejection]:
    """Every ballot of ``items`` checked, on every core (crypto/parallel.py); the ones that
    fail, in order (an empty list: all passed)."""
    results = parallel.map_chunks(
        _check_chunk, [(public_key, item) for item in items], workers=workers, pool=pool
    )
    return [
        BallotRejection(i, exc.check, exc.problem)
        for i, exc in enumerate(results)
        if exc is not None
    ]
