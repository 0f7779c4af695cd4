"""The zero-knowledge proofs of the verifiable ballot: Schnorr, ballot knowledge, Chaum-Pedersen.

Each is a Sigma protocol made non-interactive by the *strong* Fiat-Shamir transform: the
challenge hashes every public input of the statement (the group's generator, every element,
the context that says where the proof belongs), not only the prover's commitments, as
Bernhard, Pereira and Warinschi require ("How not to prove yourself: pitfalls of the
Fiat-Shamir heuristic and applications to Helios", ASIACRYPT 2012, s.3-4: a weak transform
lets a prover choose the statement after the challenge). Proofs are published in the compact
form ``(c, z)`` of ElectionGuard's specification v2.0 (s.3.2.2 "NIZK proof" of each
coefficient; s.3.6 "Verifiable decryption"): the verifier recomputes the commitments from the
response and checks that they hash to the challenge.

Hashes (crypto/group.py :func:`~tallyroom.crypto.group.hash_to_scalar`): SHA-512 over a
domain tag and length-prefixed parts (each part: its length as 8 big-endian bytes, then its
bytes), reduced modulo the group order. The parts, in order, for each proof:

* **Schnorr** (:func:`prove_schnorr`), knowledge of ``k`` with ``K = g^k`` (ElectionGuard
  v2.0 s.3.2.2; Belenios specification, "Election setup", the trustees' ``cert`` and
  ``polynomial`` proofs): tag ``tallyroom/v1/schnorr``; the context's parts count (8 bytes),
  each context part; ``g``, ``K``, ``u``. Prover: ``w`` random, ``u = g^w``, ``c = H(...)``,
  ``z = w + c*k``. Verifier: ``u = g^z / K^c``, then ``c == H(...)``.
* **Ballot knowledge** (:func:`prove_ballot`), knowledge of every ``r_i`` with
  ``a_i = g^{r_i}`` for the ballot's ciphertexts ``(a_i, b_i) = (g^{r_i}, m_i h^{r_i})``:
  tag ``tallyroom/v1/ballot``; the election id (UTF-8), the contest id (UTF-8); ``g``, ``h``;
  the width ``w`` (8 bytes); ``a_0, b_0, ..., a_{w-1}, b_{w-1}``; ``u_0, ..., u_{w-1}``. One
  challenge for all elements, one response each: ``z_i = w_i + c*r_i``; ``u_i = g^{z_i} /
  a_i^c``. Knowing ``r`` means knowing the plaintext, so a ballot copied from the board (to
  another election, contest, or re-randomised) cannot be proved without its encryptor's
  randomness: the replay defence of Cortier and Smyth ("Attacking and fixing Helios",
  CSF 2011, s.5) and ElectionGuard v2.0 s.3.3 (the contest's proofs hash its context).
* **Chaum-Pedersen** (:func:`prove_equal_logs`), equality of logarithms ``K = g^s``,
  ``M = A^s`` (a trustee's decryption share ``M = A^s`` of a ciphertext ``(A, B)`` against
  its verification key ``K``: ElectionGuard v2.0 s.3.6, verification steps (A)-(E); Belenios
  specification, "Partial decryptions"): tag ``tallyroom/v1/chaum-pedersen``; the context's
  parts count and parts; ``g``, ``K``, ``A``, ``B``, ``M``, ``u``, ``v``. Prover: ``u = g^w``,
  ``v = A^w``, ``z = w + c*s``; verifier: ``u = g^z / K^c``, ``v = A^z / M^c``.

A ballot whose ciphertext has ``a`` the identity (randomness 0: its plaintext in the clear) is
refused as ``encoding``. Every proof encodes as 32-byte little-endian scalars, the challenge
first; every scalar must be below the order and every element of a statement canonical.
Verify functions return ``None`` or raise :class:`~tallyroom.errors.ProofRejected` naming the
check: ``encoding`` (a scalar or element that is not canonical, a wrong length or width) or
``challenge`` (the recomputed challenge differs: a wrong statement, context, commitment or
response).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tallyroom.crypto import group
from tallyroom.crypto.elgamal import Ciphertext
from tallyroom.crypto.group import GENERATOR, ORDER, Element
from tallyroom.errors import InputError, ProofRejected

__all__ = [
    "BALLOT_TAG",
    "CHAUM_PEDERSEN_TAG",
    "SCHNORR_TAG",
    "BallotContext",
    "BallotProof",
    "EqualLogsProof",
    "SchnorrProof",
    "prove_ballot",
    "prove_equal_logs",
    "prove_schnorr",
    "verify_ballot",
    "verify_equal_logs",
    "verify_schnorr",
]

SCHNORR_TAG = "tallyroom/v1/schnorr"
BALLOT_TAG = "tallyroom/v1/ballot"
CHAUM_PEDERSEN_TAG = "tallyroom/v1/chaum-pedersen"

_SCALAR = 32


def _scalars(data: bytes, count: int | None, what: str) -> list[int]:
    if len(data) % _SCALAR or (count is not None and len(data) != _SCALAR * count):
        want = f"{_SCALAR * count}" if count is not None else f"a multiple of {_SCALAR}"
        raise ProofRejected("encoding", f"{what} is {want} bytes, not {len(data)}")
    out = []
    for i in range(0, len(data), _SCALAR):
        value = int.from_bytes(data[i : i + _SCALAR], "little")
        if value >= ORDER:
            raise ProofRejected("encoding", f"{what}: a scalar not below the group order")
        out.append(value)
    return out


def _check_scalars(values: Sequence[int], what: str) -> None:
    for v in values:
        if not isinstance(v, int) or not 0 <= v < ORDER:
            raise ProofRejected("encoding", f"{what}: a scalar not below the group order")


def _check_elements(elements: Sequence[bytes], what: str) -> None:
    for e in elements:
        try:
            group.decode_element(e)
        except InputError:
            raise ProofRejected("encoding", f"{what}: not a canonical element") from None


def _context_parts(context: Sequence[bytes]) -> list[bytes]:
    return [len(context).to_bytes(8, "big"), *context]


@dataclass(frozen=True, slots=True)
class SchnorrProof:
    """A proof of knowledge of ``k`` with ``K = g^k``: challenge and response (64 bytes)."""

    challenge: int
    response: int

    def to_bytes(self) -> bytes:
        return group.scalar_bytes(self.challenge) + group.scalar_bytes(self.response)

    @classmethod
    def from_bytes(cls, data: bytes) -> SchnorrProof:
        c, z = _scalars(data, 2, "a Schnorr proof")
        return cls(c, z)


def _schnorr_challenge(context: Sequence[bytes], public: Element, u: Element) -> int:
    return group.hash_to_scalar(SCHNORR_TAG, *_context_parts(context), GENERATOR, public, u)


def prove_schnorr(secret: int, context: Sequence[bytes]) -> SchnorrProof:
    """A proof that the prover knows ``secret`` for ``g^secret``, bound to ``context``."""
    w = group.random_scalar()
    c = _schnorr_challenge(context, group.exp_base(secret), group.exp_base(w))
    return SchnorrProof(c, (w + c * secret) % ORDER)


def verify_schnorr(public: Element, context: Sequence[bytes], proof: SchnorrProof) -> None:
    """Nothing, or :class:`ProofRejected` naming the failed check."""
    _check_elements([public], "the public value")
    _check_scalars([proof.challenge, proof.response], "the proof")
    u = group.div(group.exp_base(proof.response), group.exp(public, proof.challenge))
    if _schnorr_challenge(context, public, u) != proof.challenge:
        raise ProofRejected("challenge", "the Schnorr proof does not hash to its challenge")


@dataclass(frozen=True, slots=True)
class BallotContext:
    """Where a ballot belongs: its election and contest (both hashed into its proof)."""

    election: str
    contest: str

    def parts(self) -> tuple[bytes, bytes]:
        return self.election.encode("utf-8"), self.contest.encode("utf-8")


@dataclass(frozen=True, slots=True)
class BallotProof:
    """Knowledge of each ciphertext's randomness: one challenge, one response per element
    (``32 * (1 + width)`` bytes)."""

    challenge: int
    responses: tuple[int, ...]

    def to_bytes(self) -> bytes:
        return b"".join(group.scalar_bytes(s) for s in (self.challenge, *self.responses))

    @classmethod
    def from_bytes(cls, data: bytes, width: int) -> BallotProof:
        c, *z = _scalars(data, 1 + width, "a ballot proof")
        return cls(c, tuple(z))


def _ballot_challenge(
    public_key: Element,
    context: BallotContext,
    ciphertexts: Sequence[Ciphertext],
    commitments: Sequence[Element],
) -> int:
    return group.hash_to_scalar(
        BALLOT_TAG,
        *context.parts(),
        GENERATOR,
        public_key,
        len(ciphertexts).to_bytes(8, "big"),
        *(part for ct in ciphertexts for part in (ct.a, ct.b)),
        *commitments,
    )


def prove_ballot(
    public_key: Element,
    context: BallotContext,
    ciphertexts: Sequence[Ciphertext],
    randomness: Sequence[int],
) -> BallotProof:
    """The proof for ciphertexts made with ``randomness`` (``a_i = g^{r_i}``)."""
    if len(ciphertexts) != len(randomness) or not ciphertexts:
        raise InputError("one randomness per ciphertext", field="randomness")
    ws = [group.random_scalar() for _ in ciphertexts]
    c = _ballot_challenge(public_key, context, ciphertexts, [group.exp_base(w) for w in ws])
    return BallotProof(c, tuple((w + c * r) % ORDER for w, r in zip(ws, randomness, strict=True)))


def verify_ballot(
    public_key: Element,
    context: BallotContext,
    ciphertexts: Sequence[Ciphertext],
    proof: BallotProof,
) -> None:
    """Nothing, or :class:`ProofRejected` naming the failed check."""
    if not ciphertexts or len(proof.responses) != len(ciphertexts):
        raise ProofRejected(
            "encoding", f"{len(proof.responses)} responses for {len(ciphertexts)} ciphertexts"
        )
    _check_elements([public_key], "the election key")
    _check_elements([e for ct in ciphertexts for e in (ct.a, ct.b)], "the ciphertexts")
    if any(ct.a == group.IDENTITY for ct in ciphertexts):
        # randomness 0: the plaintext in the clear, on a public board
        raise ProofRejected("encoding", "a ciphertext made with randomness 0 (a = identity)")
    _check_scalars([proof.challenge, *proof.responses], "the proof")
    c = proof.challenge
    commitments = [
        group.div(group.exp_base(z), group.exp(ct.a, c))
        for ct, z in zip(ciphertexts, proof.responses, strict=True)
    ]
    if _ballot_challenge(public_key, context, ciphertexts, commitments) != c:
        raise ProofRejected("challenge", "the ballot proof does not hash to its challenge")


@dataclass(frozen=True, slots=True)
class EqualLogsProof:
    """A Chaum-Pedersen proof that ``log_g K = log_A M``: challenge and response (64 bytes)."""

    challenge: int
    response: int

    def to_bytes(self) -> bytes:
        return group.scalar_bytes(self.challenge) + group.scalar_bytes(self.response)

    @classmethod
    def from_bytes(cls, data: bytes) -> EqualLogsProof:
        c, z = _scalars(data, 2, "a Chaum-Pedersen proof")
        return cls(c, z)


def _equal_logs_challenge(
    context: Sequence[bytes],
    key: Element,
    ciphertext: Ciphertext,
    share: Element,
    u: Element,
    v: Element,
) -> int:
    return group.hash_to_scalar(
        CHAUM_PEDERSEN_TAG,
        *_context_parts(context),
        GENERATOR,
        key,
        ciphertext.a,
        ciphertext.b,
        share,
        u,
        v,
    )


def prove_equal_logs(
    secret: int,
    key: Element,
    context: Sequence[bytes],
    ciphertext: Ciphertext,
    share: Element,
) -> EqualLogsProof:
    """A proof that ``share = A^secret`` for ``key = g^secret`` (both computed once by the
    caller, who has them already)."""
    w = group.random_scalar()
    u, v = group.exp_base(w), group.exp(ciphertext.a, w)
    c = _equal_logs_challenge(context, key, ciphertext, share, u, v)
    return EqualLogsProof(c, (w + c * secret) % ORDER)


def verify_equal_logs(
    key: Element,
    context: Sequence[bytes],
    ciphertext: Ciphertext,
    share: Element,
    proof: EqualLogsProof,
) -> None:
    """Nothing, or :class:`ProofRejected` naming the failed check."""
    _check_elements([key, ciphertext.a, ciphertext.b, share], "the statement")
    _check_scalars([proof.challenge, proof.response], "the proof")
    c, z = proof.challenge, proof.response
    u = group.div(group.exp_base(z), group.exp(key, c))
    v = group.div(group.exp(ciphertext.a, z), group.exp(share, c))
    if _equal_logs_challenge(context, key, ciphertext, share, u, v) != c:
        raise ProofRejected("challenge", "the Chaum-Pedersen proof does not hash to its challenge")
