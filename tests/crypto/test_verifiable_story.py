"""The verifiable ballot's cryptography as one story: the ceremony, the drill, casting, a
(stand-in) mix, threshold decryption by two of three trustees, decoding, and the checks a
verifier makes at each step. The real shuffle and its proof are built elsewhere; here the
board is re-encrypted and permuted row by row, as the shuffle does."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from tallyroom.crypto import dkg, elgamal, group, threshold
from tallyroom.crypto.ballot_encoding import (
    InvalidBallot,
    InvalidReason,
    Ranking,
    SingleChoice,
    decode_rows,
    width,
)
from tallyroom.crypto.encrypted_ballot import (
    BallotCheck,
    EncryptedBallot,
    check_ballots,
    encrypt_ballot,
)
from tallyroom.crypto.proofs import BallotContext, prove_ballot

ELECTION = "coop-2026"


def test_an_election_from_key_ceremony_to_decoded_ballots(tmp_path: Path) -> None:
    # 1. the ceremony: three trustees, any two decrypt; each keeps its file
    ceremony = dkg.Ceremony(ELECTION, trustees=3, threshold=2)
    step1 = [dkg.make_communication_key(ceremony, i) for i in (1, 2, 3)]
    keys = [k for _, k in step1]
    dealt = [dkg.deal(ceremony, own, keys) for own, _ in step1]
    commitments = [c for _, c, _ in dealt]
    sealed = [s for _, _, shares in dealt for s in shares]
    files = {}
    confirmations = []
    for own, _, _ in dealt:
        good, complaints = dkg.open_shares(ceremony, own, commitments, sealed)
        assert complaints == ()
        confirmations.append(dkg.confirm_key(ceremony, own, commitments))
        files[own.trustee] = tmp_path / f"trustee-{own.trustee}.key"
        dkg.save_secrets(files[own.trustee], dkg.finish(ceremony, own, good), f"pass {own.trustee}")
    key = dkg.election_key(ceremony, commitments)
    dkg.verify_ceremony(ceremony, keys, commitments, [], [], confirmations, key)  # the verifier

    # 2. the key drill: trustees 1 and 2 prove they can decrypt
    secrets = {t: dkg.load_secrets(files[t], f"pass {t}") for t in (1, 2)}
    challenge = threshold.start_key_drill(key)
    drill = threshold.finish_key_drill(
        key,
        challenge,
        [
            threshold.partial_decrypt(
                ELECTION, t, s.share or 0, key.verification_key(t), challenge.ciphertext
            )
            for t, s in secrets.items()
        ],
    )
    threshold.verify_key_drill(key, threshold.KeyDrill.from_json(drill.to_json()))

    # 3. casting: two contests, one of them wide (a 60-candidate ranking needs 2 elements)
    rng = random.Random(2026)
    contests = {"chair": SingleChoice(3), "board": Ranking(60, 60)}
    assert width(contests["board"]) == 2
    cast: dict[str, list[tuple[int, ...]]] = {name: [] for name in contests}
    board: dict[str, list[bytes]] = {name: [] for name in contests}
    for _ in range(25):
        for name, shape in contests.items():
            if isinstance(shape, Ranking):
                selection = tuple(rng.sample(range(60), rng.randint(0, 60)))
            else:
                selection = tuple(rng.sample(range(3), rng.randint(0, 1)))
            cast[name].append(selection)
            ballot = encrypt_ballot(key.public_key, BallotContext(ELECTION, name), shape, selection)
            board[name].append(ballot.to_bytes())
    # one voter's device encrypted a code that is no ballot: it casts, and is found at the end
    bad_code = elgamal.encrypt(key.public_key, group.exp_base(12345), 99)
    rogue = EncryptedBallot(
        (bad_code,),
        prove_ballot(key.public_key, BallotContext(ELECTION, "chair"), [bad_code], [99]),
    )
    board["chair"].append(rogue.to_bytes())
    for name, shape in contests.items():
        items = [BallotCheck(BallotContext(ELECTION, name), width(shape), b) for b in board[name]]
        assert check_ballots(key.public_key, items, workers=1) == []

    # 4. the mix (stand-in for the verifiable shuffle): rows re-encrypted and permuted
    for name, shape in contests.items():
        rows = [EncryptedBallot.from_bytes(b, width(shape)).ciphertexts for b in board[name]]
        mixed = [
            tuple(elgamal.reencrypt(key.public_key, ct, group.random_scalar()) for ct in row)
            for row in rows
        ]
        rng.shuffle(mixed)
        flat = [ct for row in mixed for ct in row]

        # 5. two of three trustees decrypt with proofs; anyone checks and combines
        shares = {
            t: threshold.partial_decrypt_many(ELECTION, t, s.share or 0, flat, workers=1)
            for t, s in secrets.items()
        }
        for t in shares:
            assert threshold.verify_shares_many(key, flat, shares[t], workers=1) == []
        plain = threshold.combine_many(key, flat, [shares[1], shares[2]], workers=1)

        # 6. the decoded ballots are the ballots cast, as a multiset; the rogue one is named
        decoded = decode_rows(shape, plain)
        valid = [d for d in decoded if not isinstance(d, InvalidBallot)]
        invalid = [d for d in decoded if isinstance(d, InvalidBallot)]
        assert Counter(valid) == Counter(cast[name])
        if name == "chair":
            assert len(invalid) == 1
            assert invalid[0].reason in {InvalidReason.RANGE, InvalidReason.COUNTER}
        else:
            assert invalid == []
