"""Trustees' Ed25519 signatures on the ceremony's messages and their key confirmations: each
attack (another trustee's key, a flipped byte, a key not the one published, a missing or
disagreeing confirmation) is refused, naming the check."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import nacl.signing
import pytest

from tallyroom.crypto import canonical, dkg, threshold, trustee_signing
from tallyroom.crypto.ceremony_messages import (
    Ceremony,
    Commitments,
    CommunicationKey,
    Complaint,
    KeyConfirmation,
    RevealedShare,
    SealedShare,
    check_signature,
    signed,
)
from tallyroom.crypto.drill_messages import DrillShare
from tallyroom.errors import InputError, ProofRejected

C = Ceremony("leader-2016", trustees=3, threshold=2)


def _ceremony() -> tuple[
    list[dkg.TrusteeSecrets],
    list[CommunicationKey],
    list[Commitments],
    list[SealedShare],
    list[KeyConfirmation],
    dkg.ElectionKey,
]:
    step1 = [dkg.make_communication_key(C, i) for i in (1, 2, 3)]
    keys = [k for _, k in step1]
    dealt = [dkg.deal(C, own, keys) for own, _ in step1]
    secrets = [s for s, _, _ in dealt]
    commitments = [c for _, c, _ in dealt]
    sealed = [x for _, _, shares in dealt for x in shares]
    finished, confirmations = [], []
    for s in secrets:
        good, none = dkg.open_shares(C, s, commitments, sealed)
        assert none == ()
        finished.append(dkg.finish(C, s, good))
        confirmations.append(dkg.confirm_key(C, s, commitments))
    return finished, keys, commitments, sealed, confirmations, dkg.election_key(C, commitments)


SECRETS, KEYS, COMMITMENTS, SEALED, CONFIRMATIONS, KEY = _ceremony()


def _flip(signature: bytes, at: int = 5) -> bytes:
    return signature[:at] + bytes([signature[at] ^ 1]) + signature[at + 1 :]


def test_every_message_is_signed_over_the_documented_bytes() -> None:
    """docs/verifiable.md: Ed25519 over tag || u32(len(kind)) || kind || u32(1) || the
    canonical JSON without the signature field; the JSON carries it as lower-case hex."""
    seed = SECRETS[1].signing_seed
    complaint = signed(Complaint(C.election, 1, 2, "no share received"), seed)
    revealed = signed(RevealedShare(C.election, 2, 3, 12345), seed)
    messages = [KEYS[1], COMMITMENTS[1], *SEALED[2:4], complaint, revealed, CONFIRMATIONS[1]]
    for message in messages:
        assert message.signer == 2
        unsigned = message.unsigned_json()
        kind = message.KIND.encode()
        expected = (
            b"tallyroom/v1/trustee-signature"
            + len(kind).to_bytes(4, "big")
            + kind
            + (1).to_bytes(4, "big")
            + unsigned
        )
        nacl.signing.VerifyKey(KEYS[1].signing_key).verify(expected, message.signature)
        data = message.to_json()
        doc = json.loads(data)
        assert doc.pop("signature") == message.signature.hex()
        assert canonical.dumps(
            doc.pop("type"), {k: v for k, v in doc.items() if k != "version"}
        ) == (unsigned)
        assert type(message).from_json(data) == message
        check_signature(message, KEYS[1])


def test_the_signature_field_is_the_one_encoding_and_unsigned_messages_are_not_published() -> None:
    data = COMMITMENTS[0].to_json()
    sig = COMMITMENTS[0].signature.hex().encode()
    for bad in (
        data.replace(sig, sig.upper()),  # upper-case hex
        data.replace(sig, sig[:-2]),  # 63 bytes
        data.replace(b',"signature":"' + sig + b'"', b""),  # no signature
        data.replace(b'"signature":"' + sig + b'"', b'"signature":null'),
    ):
        with pytest.raises(InputError) as info:
            Commitments.from_json(bad)
        assert info.value.field in ("signature", "encoding")
    unsigned = replace(COMMITMENTS[0], signature=b"")
    with pytest.raises(InputError, match="signed"):
        unsigned.to_json()


def test_a_message_signed_by_another_trustees_key_is_refused() -> None:
    forged = signed(replace(COMMITMENTS[1], signature=b""), SECRETS[0].signing_seed)
    with pytest.raises(ProofRejected) as info:
        dkg.check_signatures(C, KEYS, [COMMITMENTS[0], forged, COMMITMENTS[2]])
    assert (info.value.check, info.value.subject) == ("signature", "trustee 2")
    assert "communication-key-2" in str(info.value)


def test_a_flipped_signature_byte_is_refused() -> None:
    for message in (COMMITMENTS[2], SEALED[0], CONFIRMATIONS[0]):
        bad = replace(message, signature=_flip(message.signature))
        with pytest.raises(ProofRejected) as info:
            dkg.check_signatures(C, KEYS, [bad])
        assert info.value.check == "signature"


def test_a_message_resigned_by_a_key_not_in_the_communication_key_is_refused() -> None:
    """The server (or anyone) re-signing a changed message with a key of its own."""
    own_seed = trustee_signing.new_seed()
    changed = replace(CONFIRMATIONS[2], election_key_sha256=bytes(32))
    resigned = signed(changed, own_seed)
    with pytest.raises(ProofRejected) as info:
        dkg.check_signatures(C, KEYS, [resigned])
    assert (info.value.check, info.value.subject) == ("signature", "trustee 3")


def test_a_communication_key_must_be_signed_by_the_signing_key_it_carries() -> None:
    """A server substituting the signing key in trustee 1's message cannot sign for it; if it
    signs with its own, the fingerprint read out at the ceremony no longer matches."""
    intruder = trustee_signing.new_seed()
    swapped = replace(KEYS[0], signing_key=trustee_signing.public_key_of(intruder))
    with pytest.raises(ProofRejected) as info:
        dkg.check_signatures(C, [swapped, *KEYS[1:]], [])
    assert (info.value.check, info.value.subject) == ("signature", "trustee 1")
    with pytest.raises(ProofRejected, match="signature"):
        dkg.deal(C, SECRETS[1], [swapped, *KEYS[1:]])
    resigned = signed(swapped, intruder)
    dkg.check_signatures(C, [resigned, *KEYS[1:]], [])  # consistent, but...
    assert resigned.fingerprint() != KEYS[0].fingerprint()


def test_a_signature_is_bound_to_its_message_kind() -> None:
    """The prefix names the kind: a signature made for one kind never checks as another's."""
    message = CONFIRMATIONS[0]
    with pytest.raises(ProofRejected, match="signature"):
        trustee_signing.verify(
            "commitments",
            message.unsigned_json(),
            message.signature,
            KEYS[0].signing_key,
            signer=1,
        )


def test_drill_shares_are_signed_by_their_trustee() -> None:
    challenge = threshold.start_key_drill(KEY)
    share = SECRETS[0].share
    assert share is not None
    part = threshold.partial_decrypt(
        C.election, 1, share, KEY.verification_key(1), challenge.ciphertext
    )
    good = signed(DrillShare(C.election, part), SECRETS[0].signing_seed)
    assert DrillShare.from_json(good.to_json()) == good
    check_signature(good, KEYS[0])
    with pytest.raises(ProofRejected, match="signature"):
        check_signature(signed(DrillShare(C.election, part), SECRETS[1].signing_seed), KEYS[0])
    with pytest.raises(ProofRejected, match="not its sender"):
        check_signature(good, KEYS[1])


def test_confirmations_must_come_from_every_trustee_and_confirm_the_key() -> None:
    dkg.check_confirmations(C, KEY, CONFIRMATIONS)
    assert CONFIRMATIONS[0].election_key_sha256 == KEY.sha256()
    # Ed25519 is deterministic: confirming again publishes the same bytes
    again = dkg.confirm_key(C, SECRETS[0], COMMITMENTS)
    assert again.to_json() == CONFIRMATIONS[0].to_json()
    with pytest.raises(ProofRejected) as info:
        dkg.check_confirmations(C, KEY, CONFIRMATIONS[:2])
    assert info.value.check == "key-confirmation" and "[3]" in info.value.problem
    other = signed(
        KeyConfirmation(C.election, 2, bytes(32)),
        SECRETS[1].signing_seed,
    )
    with pytest.raises(ProofRejected) as info:
        dkg.check_confirmations(C, KEY, [CONFIRMATIONS[0], other, CONFIRMATIONS[2]])
    assert info.value.check == "key-confirmation" and "trustee(s) [2]" in info.value.problem
    # the verifier's whole check names the same
    with pytest.raises(ProofRejected) as info:
        dkg.verify_ceremony(C, KEYS, COMMITMENTS, [], [], CONFIRMATIONS[1:], KEY)
    assert info.value.check == "key-confirmation" and "[1]" in info.value.problem
    dkg.verify_ceremony(C, KEYS, COMMITMENTS, [], [], CONFIRMATIONS, KEY)


def test_the_trustees_file_keeps_the_signing_seed(tmp_path: Path) -> None:
    path = tmp_path / "t1.key"
    dkg.save_secrets(path, SECRETS[0], "correct horse")
    loaded = dkg.load_secrets(path, "correct horse")
    assert loaded.signing_seed == SECRETS[0].signing_seed
    assert trustee_signing.public_key_of(loaded.signing_seed) == KEYS[0].signing_key
    assert SECRETS[0].signing_seed.hex() not in repr(loaded)
