"""The trustees' key ceremony: Pedersen's distributed key generation with Feldman's VSS.

``n`` trustees, numbered ``1..n``, make the election key together so that any ``t`` of them
can decrypt and fewer learn nothing (T. Pedersen, "A threshold cryptosystem without a trusted
party", EUROCRYPT 1991; P. Feldman, "A practical scheme for non-interactive verifiable secret
sharing", FOCS 1987). The steps follow ElectionGuard's specification v2.0 s.3.2 ("Key
generation") and Belenios's specification ("Election setup", threshold mode: the trustees'
``cert``, ``polynomial``, ``vinput`` and ``voutput`` messages), with ristretto255 for the
group and libsodium's sealed boxes for the shares in transit:

1. **Communication keys** (:func:`make_communication_key`): each trustee ``i`` makes an
   X25519 key pair and publishes :class:`CommunicationKey` (ElectionGuard s.3.2.2 uses the
   guardian's own ElGamal key to encrypt shares; Belenios a separate ``cert`` key: this is
   Belenios's choice). The private half stays in the trustee's file (:class:`TrusteeSecrets`).
   The messages pass through the server, which could substitute its own key and read the
   shares sealed to it: each trustee therefore compares every other trustee's
   :meth:`CommunicationKey.fingerprint` out of band before dealing. The trustee also makes
   an Ed25519 signing key (Belenios's ``cert`` pairs a signing key with the encryption
   key): the message carries its public half, the fingerprint covers both keys, and every
   message the trustee publishes from then on is signed with it
   (crypto/trustee_signing.py), so the record shows who made each.
2. **Dealing** (:func:`deal`): trustee ``i`` draws a polynomial
   ``P_i(x) = a_{i,0} + a_{i,1} x + ... + a_{i,t-1} x^{t-1}`` with random coefficients,
   publishes :class:`Commitments` ``K_{i,j} = g^{a_{i,j}}`` each with a Schnorr proof of
   knowledge of ``a_{i,j}`` (ElectionGuard s.3.2.2 "NIZK proof"; context
   ``("coefficient", election, i, j, n, t)``), and for each other trustee ``l`` a
   :class:`SealedShare` of ``P_i(l)`` sealed to ``l``'s communication key. The sealed bytes
   name election, dealer and recipient, so a share cannot be replayed to another trustee.
3. **Share verification** (:func:`open_shares`): trustee ``l`` opens each share and checks
   ``g^{P_i(l)} = prod_j K_{i,j}^{l^j}`` (ElectionGuard s.3.2.2 "Share verification");
   a share that does not open, is addressed to someone else or fails the equation gives a
   :class:`Complaint` naming the dealer and the reason. The dealer answers a complaint with
   a :class:`RevealedShare` that anyone checks against the commitments
   (:func:`check_revealed_share`): if it holds, the complaint is dismissed and the recipient
   uses it; otherwise the dealer is excluded and the ceremony restarts without it
   (ElectionGuard s.3.2.2, last paragraphs).
4. **The keys** (:func:`election_key`, :func:`finish`): the election key is
   ``H = prod_i K_{i,0}`` (the secret ``sum_i a_{i,0}`` is never formed); trustee ``l``'s
   secret share is ``s_l = sum_i P_i(l)`` and its verification key ``K_l = g^{s_l} =
   prod_i prod_j K_{i,j}^{l^j}``, which anyone computes from the commitments (Belenios
   ``voutput``'s verification keys; ElectionGuard s.3.6 checks decryption shares against it).
   Each trustee whose shares all verified computes the election key itself and publishes a
   signed :class:`KeyConfirmation` of its SHA-256 (:func:`confirm_key`; Belenios's
   administrator likewise takes each trustee's ``voutput`` before the key is final): the key
   is final only when every trustee confirmed it (:func:`check_confirmations`).

The messages are frozen dataclasses with canonical JSON bytes, in crypto/ceremony_messages.py
(re-exported here); the election record keeps them as they were published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import nacl.exceptions
import nacl.public

from tallyroom.crypto import group, passphrase, trustee_signing
from tallyroom.crypto.ceremony_messages import (
    Ceremony,
    Commitments,
    CommunicationKey,
    Complaint,
    ElectionKey,
    KeyConfirmation,
    RevealedShare,
    SealedShare,
    SignedMessage,
    TrusteeSecrets,
    check_signature,
    signed,
)
from tallyroom.crypto.ceremony_messages import u32 as _u32
from tallyroom.crypto.group import ORDER, Element
from tallyroom.crypto.proofs import prove_schnorr, verify_schnorr
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
    "TrusteeSecrets",
    "check_commitments",
    "check_confirmations",
    "check_revealed_share",
    "check_signatures",
    "confirm_key",
    "deal",
    "election_key",
    "finish",
    "load_secrets",
    "make_communication_key",
    "open_shares",
    "reveal_share",
    "save_secrets",
    "verification_key",
    "verify_ceremony",
]

_SHARE_TAG = b"tallyroom/v1/share"


def save_secrets(path: Path, secrets: TrusteeSecrets, passphrase_text: str) -> None:
    """The trustee's file: its secrets sealed under its passphrase (crypto/passphrase.py)."""
    label = f"{secrets.election} trustee {secrets.trustee}"
    passphrase.seal_file(path, label, secrets.to_json(), passphrase_text)


def load_secrets(path: Path, passphrase_text: str) -> TrusteeSecrets:
    """The secrets of a trustee's file; :class:`InputError` for a wrong passphrase."""
    label, data = passphrase.open_file(path, passphrase_text)
    try:
        secrets = TrusteeSecrets.from_json(data)
    except InputError as exc:
        raise InputError(f"not a trustee's file ({exc})", path=str(path)) from None
    if label != f"{secrets.election} trustee {secrets.trustee}":
        raise InputError("the file's label is not its content's", path=str(path), value=label)
    return secrets


def make_communication_key(
    ceremony: Ceremony, trustee: int
) -> tuple[TrusteeSecrets, CommunicationKey]:
    """Step 1 for ``trustee``: its secrets (to save) and its public message."""
    ceremony.check_trustee(trustee)
    key = nacl.public.PrivateKey.generate()
    seed = trustee_signing.new_seed()
    secrets = TrusteeSecrets(ceremony.election, trustee, bytes(key), seed)
    public = CommunicationKey(
        ceremony.election, trustee, bytes(key.public_key), trustee_signing.public_key_of(seed)
    )
    return secrets, signed(public, seed)


def _check_secrets(ceremony: Ceremony, secrets: TrusteeSecrets) -> None:
    if secrets.election != ceremony.election:
        raise InputError(
            "a trustee's file of another election", field="election", value=secrets.election
        )
    ceremony.check_trustee(secrets.trustee)


def _evaluate(polynomial: Sequence[int], x: int) -> int:
    out = 0
    for a in reversed(polynomial):
        out = (out * x + a) % ORDER
    return out


def _share_plaintext(election: str, dealer: int, recipient: int, share: int) -> bytes:
    name = election.encode("utf-8")
    return (
        _SHARE_TAG
        + len(name).to_bytes(4, "big")
        + name
        + _u32(dealer)
        + _u32(recipient)
        + group.scalar_bytes(share)
    )


def _keys_by_trustee(
    ceremony: Ceremony, keys: Sequence[CommunicationKey]
) -> dict[int, CommunicationKey]:
    """One communication key per trustee, each signed by its own signing key."""
    out: dict[int, CommunicationKey] = {}
    for key in keys:
        ceremony.check_trustee(key.trustee)
        if key.election != ceremony.election or key.trustee in out:
            raise InputError(
                "one communication key per trustee of this election", value=key.trustee
            )
        check_signature(key, key)
        out[key.trustee] = key
    if len(out) != ceremony.trustees:
        missing = sorted(set(range(1, ceremony.trustees + 1)) - set(out))
        raise InputError("a communication key from every trustee", field="trustee", value=missing)
    return out


def deal(
    ceremony: Ceremony,
    secrets: TrusteeSecrets,
    keys: Sequence[CommunicationKey],
) -> tuple[TrusteeSecrets, Commitments, tuple[SealedShare, ...]]:
    """Step 2 for the trustee of ``secrets``: its new secrets (with the polynomial: save them),
    its public commitments, and one sealed share for each other trustee."""
    _check_secrets(ceremony, secrets)
    i = secrets.trustee
    recipients = _keys_by_trustee(ceremony, keys)
    poly = tuple(group.random_scalar() for _ in range(ceremony.threshold))
    coefficients = tuple(group.exp_base(a) for a in poly)
    proofs = tuple(prove_schnorr(a, ceremony.coefficient_context(i, j)) for j, a in enumerate(poly))
    seed = secrets.signing_seed
    commitments = signed(Commitments(ceremony.election, i, coefficients, proofs), seed)
    sealed = tuple(
        signed(
            SealedShare(
                ceremony.election,
                i,
                r,
                bytes(
                    nacl.public.SealedBox(nacl.public.PublicKey(recipients[r].public_key)).encrypt(
                        _share_plaintext(ceremony.election, i, r, _evaluate(poly, r))
                    )
                ),
            ),
            seed,
        )
        for r in range(1, ceremony.trustees + 1)
        if r != i
    )
    return replace(secrets, polynomial=poly), commitments, sealed


def check_commitments(ceremony: Ceremony, commitments: Commitments) -> None:
    """Nothing, or :class:`ProofRejected` naming the dealer and what is wrong."""
    who = f"trustee {commitments.trustee}"
    ceremony.check_trustee(commitments.trustee)
    if commitments.election != ceremony.election:
        raise ProofRejected("election", f"commitments for {commitments.election!r}", subject=who)
    t = ceremony.threshold
    if len(commitments.coefficients) != t or len(commitments.proofs) != t:
        raise ProofRejected(
            "coefficients", f"{t} commitments with {t} proofs expected", subject=who
        )
    for j, (k, proof) in enumerate(zip(commitments.coefficients, commitments.proofs, strict=True)):
        try:
            verify_schnorr(k, ceremony.coefficient_context(commitments.trustee, j), proof)
        except ProofRejected as exc:
            raise ProofRejected(
                "coefficient-proof", f"coefficient {j}: {exc}", subject=who
            ) from None


def _expected_share_key(commitments: Commitments, recipient: int) -> Element:
    """``prod_j K_{i,j}^{l^j}``: ``g`` to the share the dealer owes ``recipient``."""
    return group.multi_exp(
        commitments.coefficients,
        [pow(recipient, j, ORDER) for j in range(len(commitments.coefficients))],
    )


def _by_trustee(ceremony: Ceremony, commitments: Sequence[Commitments]) -> dict[int, Commitments]:
    out: dict[int, Commitments] = {}
    for c in commitments:
        check_commitments(ceremony, c)
        if c.trustee in out:
            raise ProofRejected(
                "duplicate", "two sets of commitments", subject=f"trustee {c.trustee}"
            )
        out[c.trustee] = c
    missing = sorted(set(range(1, ceremony.trustees + 1)) - set(out))
    if missing:
        raise ProofRejected("missing", f"no commitments from trustee(s) {missing}")
    return out


def open_shares(
    ceremony: Ceremony,
    secrets: TrusteeSecrets,
    commitments: Sequence[Commitments],
    sealed: Sequence[SealedShare],
) -> tuple[dict[int, int], tuple[Complaint, ...]]:
    """Step 3 for the trustee of ``secrets``: the shares that verify, by dealer (its own
    included), and a complaint for each dealer whose share is missing or wrong.

    First the trustee checks that the commitments published under its number are the ones
    it made (:class:`ProofRejected`, check ``own-commitments``, otherwise): a server that
    replaced every dealer's commitments and shares with its own would know the election
    secret, and only the dealers can tell their commitments from the server's."""
    _check_secrets(ceremony, secrets)
    me = secrets.trustee
    dealt = _by_trustee(ceremony, commitments)
    if not secrets.polynomial:
        raise InputError("this trustee has not dealt yet", field="polynomial", value=me)
    if dealt[me].coefficients != tuple(group.exp_base(a) for a in secrets.polynomial):
        raise ProofRejected(
            "own-commitments",
            "the commitments published under my number are not the ones I made",
            subject=f"trustee {me}",
        )
    box = nacl.public.SealedBox(nacl.public.PrivateKey(secrets.communication_key))
    good: dict[int, int] = {}
    complaints: list[Complaint] = []

    def complain(dealer: int, reason: str) -> None:
        complaint = Complaint(ceremony.election, dealer, me, reason)
        complaints.append(signed(complaint, secrets.signing_seed))

    good[me] = _evaluate(secrets.polynomial, me)
    mine = {s.dealer: s for s in sealed if s.recipient == me and s.election == ceremony.election}
    for dealer in range(1, ceremony.trustees + 1):
        if dealer == me:
            continue
        envelope = mine.get(dealer)
        if envelope is None:
            complain(dealer, "no share received")
            continue
        try:
            plain = bytes(box.decrypt(envelope.sealed))
        except nacl.exceptions.CryptoError:
            complain(dealer, "the share does not open with my communication key")
            continue
        head = _share_plaintext(ceremony.election, dealer, me, 0)[:-32]
        if len(plain) != len(head) + 32 or plain[: len(head)] != head:
            complain(dealer, "the sealed share names another election, dealer or recipient")
            continue
        share = int.from_bytes(plain[len(head) :], "little")
        if share >= ORDER:
            complain(dealer, "the share is not a canonical scalar")
            continue
        if group.exp_base(share) != _expected_share_key(dealt[dealer], me):
            complain(dealer, "the share does not match the dealer's commitments")
            continue
        good[dealer] = share
    return good, tuple(complaints)


def check_revealed_share(
    ceremony: Ceremony, commitments: Commitments, revealed: RevealedShare
) -> None:
    """Nothing if the revealed share matches the dealer's commitments (the complaint is
    dismissed), else :class:`ProofRejected`: the dealer is excluded."""
    who = f"trustee {revealed.dealer}"
    if (revealed.election, revealed.dealer) != (ceremony.election, commitments.trustee):
        raise ProofRejected("revealed-share", "not this dealer's share", subject=who)
    ceremony.check_trustee(revealed.recipient, "recipient")
    if not 0 <= revealed.share < ORDER or group.exp_base(revealed.share) != _expected_share_key(
        commitments, revealed.recipient
    ):
        raise ProofRejected(
            "revealed-share",
            f"the share for trustee {revealed.recipient} does not match the commitments",
            subject=who,
        )


def reveal_share(
    ceremony: Ceremony, secrets: TrusteeSecrets, complaint: Complaint
) -> RevealedShare:
    """The dealer's public answer to ``complaint`` about its share: the share in the clear,
    from the polynomial in its secrets."""
    _check_secrets(ceremony, secrets)
    if (complaint.election, complaint.dealer) != (ceremony.election, secrets.trustee):
        raise InputError(
            "a complaint about another dealer's share", field="dealer", value=complaint.dealer
        )
    ceremony.check_trustee(complaint.recipient, "recipient")
    if not secrets.polynomial:
        raise InputError("the polynomial is no longer held", field="polynomial")
    share = _evaluate(secrets.polynomial, complaint.recipient)
    revealed = RevealedShare(ceremony.election, secrets.trustee, complaint.recipient, share)
    return signed(revealed, secrets.signing_seed)


def finish(
    ceremony: Ceremony, secrets: TrusteeSecrets, shares: Mapping[int, int]
) -> TrusteeSecrets:
    """Step 4 for a trustee: its secret share ``s_l = sum_i P_i(l)`` from every dealer's
    verified share; the polynomial is dropped (save the result over the old file)."""
    _check_secrets(ceremony, secrets)
    missing = sorted(set(range(1, ceremony.trustees + 1)) - set(shares))
    if missing:
        raise InputError("a verified share from every trustee", field="dealer", value=missing)
    return replace(secrets, polynomial=(), share=sum(shares.values()) % ORDER)


def verification_key(
    ceremony: Ceremony, commitments: Sequence[Commitments], trustee: int
) -> Element:
    """``K_l = prod_i prod_j K_{i,j}^{l^j}``: ``g^{s_l}``, from public data only."""
    ceremony.check_trustee(trustee)
    dealt = _by_trustee(ceremony, commitments)
    return group.product(_expected_share_key(dealt[i], trustee) for i in sorted(dealt))


def election_key(ceremony: Ceremony, commitments: Sequence[Commitments]) -> ElectionKey:
    """The election key ``H = prod_i K_{i,0}`` and every verification key, each commitment's
    proofs checked first (:class:`ProofRejected` naming the trustee otherwise)."""
    dealt = _by_trustee(ceremony, commitments)
    public = group.product(dealt[i].coefficients[0] for i in sorted(dealt))
    keys = tuple(
        group.product(_expected_share_key(dealt[i], trustee) for i in sorted(dealt))
        for trustee in range(1, ceremony.trustees + 1)
    )
    return ElectionKey(ceremony.election, ceremony.trustees, ceremony.threshold, public, keys)


def confirm_key(
    ceremony: Ceremony, secrets: TrusteeSecrets, commitments: Sequence[Commitments]
) -> KeyConfirmation:
    """The trustee's signed confirmation of the election key it computes itself from
    ``commitments`` (each one's proofs checked first): the SHA-256 of the canonical
    ``election-key`` message."""
    _check_secrets(ceremony, secrets)
    key = election_key(ceremony, commitments)
    confirmation = KeyConfirmation(ceremony.election, secrets.trustee, key.sha256())
    return signed(confirmation, secrets.signing_seed)


def check_signatures(
    ceremony: Ceremony, keys: Sequence[CommunicationKey], messages: Sequence[SignedMessage]
) -> None:
    """Nothing if every communication key is signed by its own signing key and every one of
    ``messages`` by the signing key of the trustee who sent it; else :class:`ProofRejected`
    (check ``signature``) naming that trustee."""
    by_trustee = _keys_by_trustee(ceremony, keys)
    for message in messages:
        ceremony.check_trustee(message.signer)
        check_signature(message, by_trustee[message.signer])


def check_confirmations(
    ceremony: Ceremony, key: ElectionKey, confirmations: Sequence[KeyConfirmation]
) -> None:
    """Nothing if every trustee confirmed ``key`` (signatures are :func:`check_signatures`'s);
    else :class:`ProofRejected`, check ``key-confirmation``, naming who has not confirmed
    and who confirmed another key."""
    wanted = key.sha256()
    mine = {c.trustee: c for c in confirmations if c.election == ceremony.election}
    missing = [i for i in range(1, ceremony.trustees + 1) if i not in mine]
    other = sorted(i for i, c in mine.items() if c.election_key_sha256 != wanted)
    problems = []
    if missing:
        problems.append(f"no key confirmation from trustee(s) {missing}")
    if other:
        problems.append(
            f"trustee(s) {other} confirmed another key than the commitments' (SHA-256"
            f" {wanted.hex()[:16]}…)"
        )
    if problems:
        raise ProofRejected("key-confirmation", "; ".join(problems))


def verify_ceremony(
    ceremony: Ceremony,
    keys: Sequence[CommunicationKey],
    commitments: Sequence[Commitments],
    complaints: Sequence[Complaint],
    revealed: Sequence[RevealedShare],
    confirmations: Sequence[KeyConfirmation],
    key: ElectionKey,
) -> None:
    """The verifier's check of a published ceremony: every message signed by its trustee's
    signing key, every commitment's proofs, every complaint answered by a revealed share
    that matches the dealer's commitments, the published election key and verification keys
    recomputed from the commitments, and every trustee's confirmation of that key.
    :class:`ProofRejected` naming the check and the trustee otherwise."""
    check_signatures(ceremony, keys, [*commitments, *complaints, *revealed, *confirmations])
    dealt = _by_trustee(ceremony, commitments)
    answers = {(r.dealer, r.recipient): r for r in revealed}
    for complaint in complaints:
        who = f"trustee {complaint.dealer}"
        if complaint.election != ceremony.election or complaint.dealer not in dealt:
            raise ProofRejected(
                "complaint", "a complaint about no dealer of this ceremony", subject=who
            )
        answer = answers.get((complaint.dealer, complaint.recipient))
        if answer is None:
            raise ProofRejected(
                "complaint",
                f"trustee {complaint.recipient}'s complaint was not answered",
                subject=who,
            )
        check_revealed_share(ceremony, dealt[complaint.dealer], answer)
    expected = election_key(ceremony, commitments)
    if key != expected:
        raise ProofRejected("election-key", "the published keys are not the commitments' keys")
    check_confirmations(ceremony, key, confirmations)
