"""Each proof: an honest one verifies; another statement, context or any changed part fails."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.crypto import elgamal, group, proofs
from tallyroom.crypto.ballot_encoding import Ranking, SingleChoice, encode
from tallyroom.crypto.encrypted_ballot import (
    BallotCheck,
    EncryptedBallot,
    check_ballot,
    check_ballots,
    encrypt_ballot,
)
from tallyroom.crypto.proofs import BallotContext
from tallyroom.errors import ProofRejected

scalars = st.integers(1, group.ORDER - 1)
contexts = st.lists(st.binary(max_size=8), max_size=3).map(tuple)
SECRET = 123456789
KEY = group.exp_base(SECRET)
HERE = BallotContext("leader-2016", "leader")


def _rejected(check: str, call: object, *args: object) -> None:
    with pytest.raises(ProofRejected) as info:
        call(*args)  # type: ignore[operator]
    assert info.value.check == check


@settings(max_examples=40, deadline=None)
@given(scalars, contexts, contexts, st.integers(0, 63))
def test_schnorr(k: int, context: tuple[bytes, ...], other: tuple[bytes, ...], bit: int) -> None:
    public = group.exp_base(k)
    proof = proofs.prove_schnorr(k, context)
    proofs.verify_schnorr(public, context, proof)
    assert proofs.SchnorrProof.from_bytes(proof.to_bytes()) == proof
    if other != context:
        _rejected("challenge", proofs.verify_schnorr, public, other, proof)
    _rejected("challenge", proofs.verify_schnorr, group.exp_base(k + 1), context, proof)
    data = bytearray(proof.to_bytes())
    data[bit // 8 * 8 % 64] ^= 1 << (bit % 8)
    try:
        changed = proofs.SchnorrProof.from_bytes(bytes(data))
    except ProofRejected as exc:
        assert exc.check == "encoding"
    else:
        _rejected("challenge", proofs.verify_schnorr, public, context, changed)


def test_schnorr_refuses_non_canonical_scalars_and_elements() -> None:
    proof = proofs.prove_schnorr(5, (b"x",))
    too_big = group.ORDER.to_bytes(32, "little") + group.scalar_bytes(proof.response)
    _rejected("encoding", proofs.SchnorrProof.from_bytes, too_big)
    _rejected("encoding", proofs.SchnorrProof.from_bytes, proof.to_bytes()[:-1])
    shifted = proofs.SchnorrProof(proof.challenge, proof.response + group.ORDER)
    _rejected("encoding", proofs.verify_schnorr, group.exp_base(5), (b"x",), shifted)
    bad = group.Element(b"\xff" * 32)
    _rejected("encoding", proofs.verify_schnorr, bad, (b"x",), proof)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 99), unique=True, max_size=100), st.integers(0, 10_000))
def test_a_ballot_proof_binds_election_contest_and_every_byte(marks: list[int], pos: int) -> None:
    shape = Ranking(100, 100)  # width 3: a multi-element ballot
    ballot = encrypt_ballot(KEY, HERE, shape, marks)
    data = ballot.to_bytes()
    assert check_ballot(KEY, HERE, shape, data) == ballot
    assert EncryptedBallot.from_bytes(data, 3) == ballot
    _rejected("challenge", check_ballot, KEY, BallotContext("leader-2017", "leader"), shape, data)
    _rejected("challenge", check_ballot, KEY, BallotContext("leader-2016", "deputy"), shape, data)
    _rejected("challenge", check_ballot, group.exp_base(SECRET + 1), HERE, shape, data)
    changed = bytearray(data)
    changed[pos % len(data)] ^= 1 << (pos % 8)
    with pytest.raises(ProofRejected) as info:
        check_ballot(KEY, HERE, shape, bytes(changed))
    assert info.value.check in {"encoding", "challenge"}


def test_a_reencrypted_or_spliced_ballot_fails() -> None:
    """Re-randomising a board ballot (to cast it again unrecognised) needs its randomness."""
    shape = SingleChoice(2)
    ballot = encrypt_ballot(KEY, HERE, shape, (1,))
    moved = EncryptedBallot(
        tuple(elgamal.reencrypt(KEY, ct, 77) for ct in ballot.ciphertexts), ballot.proof
    )
    _rejected("challenge", check_ballot, KEY, HERE, shape, moved.to_bytes())
    other = encrypt_ballot(KEY, HERE, shape, (0,))
    spliced = EncryptedBallot(other.ciphertexts, ballot.proof)
    _rejected("challenge", check_ballot, KEY, HERE, shape, spliced.to_bytes())
    _rejected("encoding", check_ballot, KEY, HERE, Ranking(100, 100), ballot.to_bytes())
    bad = bytearray(ballot.to_bytes())
    bad[0:32] = b"\xff" * 32
    _rejected("encoding", check_ballot, KEY, HERE, shape, bytes(bad))
    assert elgamal.decrypt(SECRET, ballot.ciphertexts[0]) != group.IDENTITY
    # randomness 0 proves fine but shows the vote to everyone: refused
    (m,) = encode(shape, (1,))
    clear = elgamal.Ciphertext(group.IDENTITY, m)
    in_clear = EncryptedBallot((clear,), proofs.prove_ballot(KEY, HERE, [clear], [0]))
    _rejected("encoding", check_ballot, KEY, HERE, shape, in_clear.to_bytes())


@settings(max_examples=30, deadline=None)
@given(scalars, scalars, contexts, st.integers(0, 3))
def test_chaum_pedersen(s: int, r: int, context: tuple[bytes, ...], part: int) -> None:
    ct = elgamal.encrypt(KEY, group.exp_base(r + 7), r)
    key = group.exp_base(s)
    share = group.exp(ct.a, s)
    proof = proofs.prove_equal_logs(s, key, context, ct, share)
    proofs.verify_equal_logs(key, context, ct, share, proof)
    assert proofs.EqualLogsProof.from_bytes(proof.to_bytes()) == proof
    wrong_share = group.exp(ct.a, s + 1)
    _rejected("challenge", proofs.verify_equal_logs, key, context, ct, wrong_share, proof)
    _rejected("challenge", proofs.verify_equal_logs, key, (*context, b"!"), ct, share, proof)
    other_ct = elgamal.Ciphertext(ct.a, group.mul(ct.b, group.GENERATOR))
    _rejected("challenge", proofs.verify_equal_logs, key, context, other_ct, share, proof)
    if part == 0:
        changed = proofs.EqualLogsProof(proof.challenge ^ 1, proof.response)
    elif part == 1:
        changed = proofs.EqualLogsProof(proof.challenge, (proof.response + 1) % group.ORDER)
    else:
        changed = proofs.prove_equal_logs(s + 1, group.exp_base(s + 1), context, ct, share)
    _rejected("challenge", proofs.verify_equal_logs, key, context, ct, share, changed)


def test_batch_check_names_each_failure_in_order() -> None:
    shape = SingleChoice(2)
    good = [encrypt_ballot(KEY, HERE, shape, (i % 2,)).to_bytes() for i in range(40)]
    items = [BallotCheck(HERE, 1, data) for data in good]
    items[7] = BallotCheck(BallotContext("leader-2016", "deputy"), 1, good[7])
    items[30] = BallotCheck(HERE, 1, good[30][:-1])
    for workers in (1, 2):
        rejected = check_ballots(KEY, items, workers=workers)
        assert [(r.index, r.check) for r in rejected] == [(7, "challenge"), (30, "encoding")]


def test_batch_check_on_two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    from tallyroom.crypto import parallel

    monkeypatch.setattr(parallel, "DEFAULT_CHUNK", 8)
    shape = SingleChoice(2)
    items = [
        BallotCheck(HERE, 1, encrypt_ballot(KEY, HERE, shape, (1,)).to_bytes()) for _ in range(30)
    ]
    items[21] = BallotCheck(HERE, 1, items[3].data[:64] + items[4].data[64:])
    rejected = check_ballots(KEY, items, workers=2)
    assert [(r.index, r.check) for r in rejected] == [(21, "challenge")]
