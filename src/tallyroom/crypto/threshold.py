"""Verifiable threshold decryption: trustees' decryption shares, their proofs, their combination.

After the shuffle, each of ``t`` trustees (or more) publishes, for every ciphertext
``(A, B)``, its decryption share ``M_l = A^{s_l}`` with a Chaum-Pedersen proof that
``log_A M_l = log_g K_l`` for its verification key ``K_l`` (crypto/dkg.py; ElectionGuard
specification v2.0 s.3.6 "Verifiable decryption", checks (A)-(E); Belenios specification,
"Partial decryptions"). The shares of any set ``U`` of at least ``t`` trustees combine with
the Lagrange coefficients at zero, ``w_l = prod_{m in U, m != l} m / (m - l) mod q``
(ElectionGuard v2.0 s.3.6, the combination of shares when guardians are missing; Shamir,
"How to share a secret", CACM 1979), into ``M = B / prod_{l in U} M_l^{w_l}``, the plaintext
element (crypto/ballot_encoding.py decodes it). Since ``sum_l w_l s_l`` is the election
secret for any such ``U``, every ``t``-subset gives the same plaintext; fewer than ``t``
shares are refused, and a set that is too small would give a wrong element anyway.

A share's proof is bound to ``("decryption", election, l)`` and to the whole ciphertext
(crypto/proofs.py). A share travels as 100 bytes: the trustee (4 bytes, big-endian), ``M_l``
(32), the proof (64). A key drill (:func:`start_key_drill`, :func:`finish_key_drill`) has
``t`` trustees decrypt a test ciphertext of a published message before the poll opens
(issue 15, item 1); :class:`KeyDrill` is its transcript, checked by
:func:`verify_key_drill`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace

from tallyroom.crypto import canonical, elgamal, group, parallel
from tallyroom.crypto.ceremony_messages import ElectionKey
from tallyroom.crypto.elgamal import Ciphertext
from tallyroom.crypto.group import ORDER, Element
from tallyroom.crypto.proofs import EqualLogsProof, prove_equal_logs, verify_equal_logs
from tallyroom.errors import InputError, ProofRejected

__all__ = [
    "DRILL_TAG",
    "SHARE_BYTES",
    "DecryptionShare",
    "DrillChallenge",
    "KeyDrill",
    "ShareRejection",
    "combine",
    "combine_many",
    "decryption_context",
    "finish_key_drill",
    "lagrange_at_zero",
    "partial_decrypt",
    "partial_decrypt_many",
    "start_key_drill",
    "verify_key_drill",
    "verify_share",
    "verify_shares_many",
]

#: Bytes of a decryption share.
SHARE_BYTES = 4 + group.ELEMENT_BYTES + 64

DRILL_TAG = "tallyroom/v1/key-drill"


def decryption_context(election: str, trustee: int) -> tuple[bytes, ...]:
    """What a decryption share's proof is bound to (besides its ciphertext)."""
    return (b"decryption", election.encode("utf-8"), trustee.to_bytes(4, "big"))


@dataclass(frozen=True, slots=True)
class DecryptionShare:
    """Trustee ``trustee``'s share ``M = A^{s}`` of one ciphertext, with its proof."""

    trustee: int
    share: Element
    proof: EqualLogsProof

    def to_bytes(self) -> bytes:
        return self.trustee.to_bytes(4, "big") + bytes(self.share) + self.proof.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> DecryptionShare:
        if len(data) != SHARE_BYTES:
            raise ProofRejected(
                "encoding", f"a decryption share is {SHARE_BYTES} bytes, not {len(data)}"
            )
        try:
            share = group.decode_element(data[4:36], field="share")
        except InputError as exc:
            raise ProofRejected("encoding", exc.problem) from None
        return cls(int.from_bytes(data[:4], "big"), share, EqualLogsProof.from_bytes(data[36:]))


def partial_decrypt(
    election: str, trustee: int, secret: int, key: Element, ciphertext: Ciphertext
) -> DecryptionShare:
    """The trustee's share of ``ciphertext`` and its proof (``key = g^secret``, its
    verification key)."""
    m = group.exp(ciphertext.a, secret)
    proof = prove_equal_logs(secret, key, decryption_context(election, trustee), ciphertext, m)
    return DecryptionShare(trustee, m, proof)


def verify_share(key: ElectionKey, ciphertext: Ciphertext, share: DecryptionShare) -> None:
    """Nothing, or :class:`ProofRejected` naming the trustee and the failed check."""
    who = f"trustee {share.trustee}"
    if not 1 <= share.trustee <= key.trustees:
        raise ProofRejected("trustee", f"trustees are numbered 1..{key.trustees}", subject=who)
    try:
        verify_equal_logs(
            key.verification_key(share.trustee),
            decryption_context(key.election, share.trustee),
            ciphertext,
            share.share,
            share.proof,
        )
    except ProofRejected as exc:
        raise ProofRejected(exc.check, exc.problem, subject=who) from None


def lagrange_at_zero(trustees: Sequence[int]) -> dict[int, int]:
    """``w_l = prod_{m != l} m / (m - l) mod q`` for each trustee ``l`` of the set."""
    out = {}
    for l_ in trustees:
        num, den = 1, 1
        for m in trustees:
            if m != l_:
                num = num * m % ORDER
                den = den * (m - l_) % ORDER
        out[l_] = num * pow(den, -1, ORDER) % ORDER
    return out


def _check_set(key: ElectionKey, trustees: Sequence[int]) -> None:
    if len(set(trustees)) != len(trustees):
        raise InputError("a trustee's share given twice", field="trustee", value=sorted(trustees))
    if any(not 1 <= t <= key.trustees for t in trustees):
        raise InputError(
            f"trustees are numbered 1..{key.trustees}", field="trustee", value=sorted(trustees)
        )
    if len(trustees) < key.threshold:
        raise InputError(
            f"decryption needs the shares of {key.threshold} trustees, not {len(trustees)}",
            field="trustee",
            value=sorted(trustees),
        )


def combine(key: ElectionKey, ciphertext: Ciphertext, shares: Sequence[DecryptionShare]) -> Element:
    """The plaintext element from the shares of at least ``t`` distinct trustees (their
    proofs checked beforehand: :func:`verify_share`)."""
    trustees = [s.trustee for s in shares]
    _check_set(key, trustees)
    w = lagrange_at_zero(trustees)
    return group.div(ciphertext.b, group.product(group.exp(s.share, w[s.trustee]) for s in shares))


def _combine_chunk(
    chunk: Sequence[tuple[ElectionKey, Ciphertext, tuple[DecryptionShare, ...]]],
) -> list[Element]:
    return [combine(key, ct, shares) for key, ct, shares in chunk]


def combine_many(
    key: ElectionKey,
    ciphertexts: Sequence[Ciphertext],
    shares: Sequence[Sequence[DecryptionShare]],
    *,
    workers: int | None = None,
    pool: Executor | None = None,
) -> list[Element]:
    """The plaintext of every ciphertext, in order, on every core: ``shares`` holds one list
    per trustee of the decrypting set, each with one share per ciphertext (their proofs
    checked beforehand: :func:`verify_shares_many`)."""
    if any(len(per) != len(ciphertexts) for per in shares):
        raise InputError("each trustee's list has one share per ciphertext", field="shares")
    items = [(key, ct, tuple(per[i] for per in shares)) for i, ct in enumerate(ciphertexts)]
    return parallel.map_chunks(_combine_chunk, items, workers=workers, pool=pool)


def _decrypt_chunk(
    chunk: Sequence[tuple[str, int, int, Element, Ciphertext]],
) -> list[DecryptionShare]:
    return [partial_decrypt(e, t, s, k, ct) for e, t, s, k, ct in chunk]


def partial_decrypt_many(
    election: str,
    trustee: int,
    secret: int,
    ciphertexts: Sequence[Ciphertext],
    *,
    workers: int | None = None,
    pool: Executor | None = None,
) -> list[DecryptionShare]:
    """The trustee's share of every ciphertext, in order, on every core. A ballot of width
    ``w`` is ``w`` consecutive ciphertexts of the list."""
    key = group.exp_base(secret)
    items = [(election, trustee, secret, key, ct) for ct in ciphertexts]
    return parallel.map_chunks(_decrypt_chunk, items, workers=workers, pool=pool)


@dataclass(frozen=True, slots=True)
class ShareRejection:
    """A share of a batch that failed: its position, the trustee, the failed check."""

    index: int
    trustee: int
    check: str
    problem: str


def _verify_chunk(
    chunk: Sequence[tuple[ElectionKey, Ciphertext, DecryptionShare]],
) -> list[ProofRejected | None]:
    out: list[ProofRejected | None] = []
    for key, ct, share in chunk:
        try:
            verify_share(key, ct, share)
        except ProofRejected as exc:
            out.append(exc)
        else:
            out.append(None)
    return out


def verify_shares_many(
    key: ElectionKey,
    ciphertexts: Sequence[Ciphertext],
    shares: Sequence[DecryptionShare],
    *,
    workers: int | None = None,
    pool: Executor | None = None,
) -> list[ShareRejection]:
    """``shares[i]`` checked against ``ciphertexts[i]``, on every core; the failures."""
    if len(ciphertexts) != len(shares):
        raise InputError("one share per ciphertext", field="shares", value=len(shares))
    items = [(key, ct, s) for ct, s in zip(ciphertexts, shares, strict=True)]
    results = parallel.map_chunks(_verify_chunk, items, workers=workers, pool=pool)
    return [
        ShareRejection(i, shares[i].trustee, exc.check, exc.problem)
        for i, exc in enumerate(results)
        if exc is not None
    ]


@dataclass(frozen=True, slots=True)
class DrillChallenge:
    """A key drill's test: a published message, encrypted under the election key."""

    election: str
    nonce: bytes
    message: Element
    ciphertext: Ciphertext


def _drill_message(election: str, nonce: bytes) -> Element:
    return group.hash_to_element(DRILL_TAG, election.encode("utf-8"), nonce)


def start_key_drill(key: ElectionKey) -> DrillChallenge:
    """A fresh test ciphertext for the trustees to decrypt."""
    nonce = secrets.token_bytes(16)
    message = _drill_message(key.election, nonce)
    ct = elgamal.encrypt(key.public_key, message, group.random_scalar())
    return DrillChallenge(key.election, nonce, message, ct)


@dataclass(frozen=True, slots=True)
class KeyDrill:
    """The transcript of a key drill: the test, the trustees' shares, and the result."""

    election: str
    nonce: bytes
    ciphertext: Ciphertext
    shares: tuple[DecryptionShare, ...]
    decrypted: Element

    def to_json(self) -> bytes:
        return canonical.dumps(
            "key-drill",
            {
                "election": self.election,
                "nonce": self.nonce.hex(),
                "ciphertext": self.ciphertext.to_bytes().hex(),
                "shares": [s.to_bytes().hex() for s in self.shares],
                "decrypted": bytes(self.decrypted).hex(),
            },
        )

    @classmethod
    def from_json(cls, data: bytes) -> KeyDrill:
        f = canonical.loads(data, "key-drill")
        f.expect("election", "nonce", "ciphertext", "shares", "decrypted")
        try:
            shares = tuple(DecryptionShare.from_bytes(s) for s in f.hex_list("shares", SHARE_BYTES))
        except ProofRejected as exc:
            raise InputError(exc.problem, field="shares") from None
        return cls(
            f.text("election"),
            f.hex("nonce", 16),
            Ciphertext.from_bytes(f.hex("ciphertext", 64), field="ciphertext"),
            shares,
            f.element("decrypted"),
        )


def finish_key_drill(
    key: ElectionKey, challenge: DrillChallenge, shares: Sequence[DecryptionShare]
) -> KeyDrill:
    """The drill's transcript once its shares decrypt the test message; otherwise
    :class:`ProofRejected` naming the trustee or the check (``drill``) that failed."""
    for share in shares:
        verify_share(key, challenge.ciphertext, share)
    unfinished = KeyDrill(
        challenge.election, challenge.nonce, challenge.ciphertext, tuple(shares), group.IDENTITY
    )
    drill = replace(unfinished, decrypted=_combined(key, unfinished))
    verify_key_drill(key, drill)
    return drill


def _combined(key: ElectionKey, drill: KeyDrill) -> Element:
    try:
        return combine(key, drill.ciphertext, drill.shares)
    except InputError as exc:
        raise ProofRejected("drill", exc.problem) from None


def verify_key_drill(key: ElectionKey, drill: KeyDrill) -> None:
    """Nothing, or :class:`ProofRejected`: every share's proof holds, at least ``t`` distinct
    trustees took part, and their combination is the drill's published message."""
    if drill.election != key.election:
        raise ProofRejected("election", f"a drill of {drill.election!r}")
    for share in drill.shares:
        verify_share(key, drill.ciphertext, share)
    decrypted = _combined(key, drill)
    if decrypted != drill.decrypted or decrypted != _drill_message(drill.election, drill.nonce):
        raise ProofRejected("drill", "the shares do not decrypt the drill's message")
