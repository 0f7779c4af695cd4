"""The key drill's messages (crypto/drill_messages.py): canonical JSON both ways, the drill
message recomputed from the nonce, a share under another trustee's number refused; and a
dealer's revealed share (dkg.reveal_share) matching its commitments."""

from __future__ import annotations

import pytest

from tallyroom.crypto import dkg, group, threshold, trustee_signing
from tallyroom.crypto.ceremony_messages import Ceremony, ElectionKey, signed
from tallyroom.crypto.drill_messages import DrillShare, challenge_from_json, challenge_to_json
from tallyroom.errors import InputError

ELECTION = "leader"
SEED = trustee_signing.new_seed()


def _key() -> tuple[ElectionKey, int]:
    secret = group.random_scalar()
    public = group.exp_base(secret)
    return ElectionKey(ELECTION, 1, 1, public, (public,)), secret


def test_a_challenge_and_a_share_round_trip_and_finish_the_drill() -> None:
    key, secret = _key()
    challenge = threshold.start_key_drill(key)
    read = challenge_from_json(challenge_to_json(challenge))
    assert read == challenge  # the message recomputed from the nonce
    share = threshold.partial_decrypt(ELECTION, 1, secret, key.public_key, read.ciphertext)
    message = signed(DrillShare(ELECTION, share), SEED)
    back = DrillShare.from_json(message.to_json())
    assert back == message and back.trustee == 1
    drill = threshold.finish_key_drill(key, read, [back.share])
    threshold.verify_key_drill(key, drill)


def test_a_share_filed_under_another_trustee_or_not_canonical_is_refused() -> None:
    key, secret = _key()
    challenge = threshold.start_key_drill(key)
    share = threshold.partial_decrypt(ELECTION, 1, secret, key.public_key, challenge.ciphertext)
    data = signed(DrillShare(ELECTION, share), SEED).to_json()
    with pytest.raises(InputError, match="another trustee's"):
        DrillShare.from_json(data.replace(b'"trustee":1', b'"trustee":2'))
    with pytest.raises(InputError, match="canonical"):
        challenge_from_json(challenge_to_json(challenge).replace(b",", b", ", 1))


def test_a_revealed_share_matches_the_dealers_commitments() -> None:
    ceremony = Ceremony(ELECTION, 3, 2)
    step1 = [dkg.make_communication_key(ceremony, i) for i in (1, 2, 3)]
    keys = [k for _, k in step1]
    secrets, commitments, _ = dkg.deal(ceremony, step1[0][0], keys)
    complaint = dkg.Complaint(ELECTION, 1, 3, "the share does not open")
    dkg.check_revealed_share(ceremony, commitments, dkg.reveal_share(ceremony, secrets, complaint))
    with pytest.raises(InputError, match="another dealer"):
        dkg.reveal_share(ceremony, secrets, dkg.Complaint(ELECTION, 2, 3, "x"))
    with pytest.raises(InputError, match="polynomial"):
        dkg.reveal_share(ceremony, step1[0][0], complaint)
