"""Threshold decryption: any t of n decrypt alike, and every wrong share or set is caught."""

from __future__ import annotations

import itertools
from dataclasses import replace
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.crypto import dkg, elgamal, group, threshold
from tallyroom.crypto.ballot_encoding import Ranking, decode, encode
from tallyroom.crypto.dkg import Ceremony, ElectionKey
from tallyroom.crypto.proofs import EqualLogsProof
from tallyroom.errors import InputError, ProofRejected

ELECTION = "leader-2016"


@cache
def ceremony(n: int = 3, t: int = 2) -> tuple[ElectionKey, tuple[int, ...]]:
    """The election key and each trustee's share, from a real ceremony."""
    c = Ceremony(ELECTION, n, t)
    step1 = [dkg.make_communication_key(c, i) for i in range(1, n + 1)]
    keys = [k for _, k in step1]
    dealt = [dkg.deal(c, own, keys) for own, _ in step1]
    commitments = [cm for _, cm, _ in dealt]
    sealed = [s for _, _, shares in dealt for s in shares]
    shares = []
    for own, _, _ in dealt:
        good, complaints = dkg.open_shares(c, own, commitments, sealed)
        assert complaints == ()
        share = dkg.finish(c, own, good).share
        assert share is not None
        shares.append(share)
    return dkg.election_key(c, commitments), tuple(shares)


def _shares(ct: elgamal.Ciphertext, trustees: tuple[int, ...]) -> list[threshold.DecryptionShare]:
    key, secrets = ceremony()
    return [
        threshold.partial_decrypt(ELECTION, t, secrets[t - 1], key.verification_key(t), ct)
        for t in trustees
    ]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 39), unique=True, max_size=40), st.integers(1, group.ORDER - 1))
def test_any_two_of_three_give_the_same_ballot(marks: list[int], r: int) -> None:
    key, _ = ceremony()
    (m,) = encode(Ranking(40, 40), marks)
    ct = elgamal.encrypt(key.public_key, m, r)
    for pair in itertools.combinations((1, 2, 3), 2):
        shares = _shares(ct, pair)
        for s in shares:
            threshold.verify_share(key, ct, s)
            assert threshold.DecryptionShare.from_bytes(s.to_bytes()) == s
        assert threshold.combine(key, ct, shares) == m
    assert threshold.combine(key, ct, _shares(ct, (1, 2, 3))) == m
    assert decode(Ranking(40, 40), (m,)) == tuple(marks)


def test_three_of_five_and_the_lagrange_coefficients() -> None:
    key, _ = ceremony(5, 3)
    w = threshold.lagrange_at_zero([1, 2, 3])
    assert sum(w.values()) % group.ORDER == 1  # interpolating a constant gives the constant
    assert key.threshold == 3 and len(key.verification_keys) == 5


def test_too_few_repeated_or_unknown_trustees_are_refused() -> None:
    key, _ = ceremony()
    m = group.hash_to_element("t", b"m")
    ct = elgamal.encrypt(key.public_key, m, 5)
    one = _shares(ct, (2,))
    with pytest.raises(InputError, match="shares of 2 trustees, not 1"):
        threshold.combine(key, ct, one)
    # one trustee's share alone, used as if it were the whole key, gives no plaintext
    assert group.div(ct.b, one[0].share) != m
    with pytest.raises(InputError, match="twice"):
        threshold.combine(key, ct, one * 2)
    with pytest.raises(InputError, match=r"1\.\.3"):
        threshold.combine(key, ct, [*one, replace(one[0], trustee=4)])


def test_a_wrong_share_or_proof_is_caught_naming_the_trustee() -> None:
    key, secrets = ceremony()
    ct = elgamal.encrypt(key.public_key, group.hash_to_element("t", b"m"), 5)
    good = _shares(ct, (1,))[0]
    cases = {
        "wrong share": replace(good, share=group.exp(ct.a, secrets[0] + 1)),
        "another trustee's share": replace(good, trustee=2),
        "changed challenge": replace(
            good, proof=EqualLogsProof(good.proof.challenge ^ 4, good.proof.response)
        ),
        "changed response": replace(
            good, proof=EqualLogsProof(good.proof.challenge, good.proof.response ^ 4)
        ),
        "another ciphertext's proof": replace(
            good, proof=_shares(elgamal.reencrypt(key.public_key, ct, 3), (1,))[0].proof
        ),
    }
    for name, bad in cases.items():
        with pytest.raises(ProofRejected) as info:
            threshold.verify_share(key, ct, bad)
        assert info.value.check in {"challenge", "encoding"}, name
        assert info.value.subject == f"trustee {bad.trustee}", name
    other = elgamal.encrypt(key.public_key, group.GENERATOR, 9)
    with pytest.raises(ProofRejected):
        threshold.verify_share(key, other, good)  # a share of another ciphertext
    with pytest.raises(ProofRejected, match="encoding"):
        threshold.DecryptionShare.from_bytes(good.to_bytes()[:-1])
    with pytest.raises(ProofRejected, match="encoding"):
        threshold.DecryptionShare.from_bytes(
            good.to_bytes()[:4] + b"\xff" * 32 + good.to_bytes()[36:]
        )


def test_batches_on_two_processes_keep_order_and_name_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tallyroom.crypto import parallel

    monkeypatch.setattr(parallel, "DEFAULT_CHUNK", 16)
    key, secrets = ceremony()
    messages = [group.exp_base(i + 1) for i in range(50)]
    cts = [elgamal.encrypt(key.public_key, m, 1000 + i) for i, m in enumerate(messages)]
    by = {
        t: threshold.partial_decrypt_many(ELECTION, t, secrets[t - 1], cts, workers=2)
        for t in (1, 3)
    }
    for t in (1, 3):
        assert threshold.verify_shares_many(key, cts, by[t], workers=2) == []
    assert [
        threshold.combine(key, ct, [by[1][i], by[3][i]]) for i, ct in enumerate(cts)
    ] == messages
    tampered = list(by[3])
    tampered[33] = replace(tampered[33], share=tampered[32].share)
    failures = threshold.verify_shares_many(key, cts, tampered, workers=2)
    assert [(f.index, f.trustee, f.check) for f in failures] == [(33, 3, "challenge")]


def test_a_key_drill_and_its_transcript() -> None:
    key, secrets = ceremony()
    challenge = threshold.start_key_drill(key)
    shares = _shares(challenge.ciphertext, (1, 3))
    drill = threshold.finish_key_drill(key, challenge, shares)
    assert drill.decrypted == challenge.message
    again = threshold.KeyDrill.from_json(drill.to_json())
    assert again == drill
    threshold.verify_key_drill(key, again)
    with pytest.raises(ProofRejected, match="drill"):
        threshold.finish_key_drill(key, challenge, shares[:1])  # one trustee cannot
    lied = replace(drill, decrypted=group.GENERATOR)
    with pytest.raises(ProofRejected, match="drill"):
        threshold.verify_key_drill(key, lied)
    other = replace(drill, nonce=bytes(16))
    with pytest.raises(ProofRejected, match="drill"):
        threshold.verify_key_drill(key, other)  # the message is the nonce's
    del secrets


@settings(max_examples=150, deadline=None)
@given(st.integers(0, threshold.SHARE_BYTES - 1), st.integers(1, 255))
def test_any_byte_changed_in_a_decryption_share_is_caught(pos: int, delta: int) -> None:
    key, _ = ceremony()
    ct = elgamal.encrypt(key.public_key, group.hash_to_element("t", b"any"), 11)
    data = bytearray(_shares(ct, (2,))[0].to_bytes())
    data[pos] = (data[pos] + delta) % 256
    with pytest.raises(ProofRejected):
        threshold.verify_share(key, ct, threshold.DecryptionShare.from_bytes(bytes(data)))
