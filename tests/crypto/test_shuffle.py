"""The verifiable shuffle: an honest shuffle proves and keeps the plaintexts; every cheat fails.

Each attack is a mixer (or someone handling its published rows and proof) trying to pass
off something that is not the input board re-encrypted and permuted, or a proof made for
another statement.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.crypto import elgamal, group, shuffle
from tallyroom.crypto.elgamal import Ciphertext
from tallyroom.crypto.shuffle import Row, Shuffle, ShuffleProof
from tallyroom.crypto.shuffle_proof import encoded_length
from tallyroom.errors import InputError, ProofRejected

SECRET = 0x1234567890ABCDEF1234567890ABCDEF
PK = group.exp_base(SECRET)
CONTEXT = "labour-2016/leader"


def board(plaintexts: Sequence[Sequence[int]], pk: group.Element = PK) -> list[Row]:
    return [
        tuple(elgamal.encrypt(pk, group.exp_base(m), group.random_scalar()) for m in row)
        for row in plaintexts
    ]


def opened(rows: Sequence[Row], secret: int = SECRET) -> Counter[tuple[group.Element, ...]]:
    return Counter(tuple(elgamal.decrypt(secret, ct) for ct in row) for row in rows)


def prove(
    rows: Sequence[Row], shuffled: Shuffle, *, position: int = 1, workers: int = 1
) -> ShuffleProof:
    return shuffle.gen_shuffle_proof(
        rows, shuffled, PK, context=CONTEXT, position=position, workers=workers
    )


def check(
    rows: Sequence[Row],
    outputs: Sequence[Row],
    proof: ShuffleProof,
    *,
    pk: group.Element = PK,
    context: str = CONTEXT,
    position: int = 1,
    workers: int = 1,
) -> None:
    shuffle.check_shuffle_proof(
        rows, outputs, proof, pk, context=context, position=position, workers=workers
    )


def honest(plaintexts: Sequence[Sequence[int]]) -> tuple[list[Row], Shuffle, ShuffleProof]:
    rows = board(plaintexts)
    shuffled = shuffle.gen_shuffle(rows, PK, workers=1)
    return rows, shuffled, prove(rows, shuffled)


def boards(min_rows: int = 0, max_rows: int = 5) -> st.SearchStrategy[list[list[int]]]:
    """Boards of 0..5 rows of one width (1..3), small plaintexts with repeats."""
    return st.integers(min_value=1, max_value=3).flatmap(
        lambda w: st.lists(
            st.lists(st.integers(min_value=1, max_value=4), min_size=w, max_size=w),
            min_size=min_rows,
            max_size=max_rows,
        )
    )


def bump(ct: Ciphertext) -> Ciphertext:
    """The same ciphertext with its message multiplied by g: another plaintext."""
    return Ciphertext(ct.a, group.mul(ct.b, group.GENERATOR))


# --- honest shuffles


@settings(max_examples=25, deadline=None)
@given(boards())
def test_an_honest_shuffle_verifies_and_keeps_the_plaintexts(plaintexts: list[list[int]]) -> None:
    rows, shuffled, proof = honest(plaintexts)
    check(rows, shuffled.outputs, proof)
    assert opened(shuffled.outputs) == opened(rows)
    assert ShuffleProof.from_bytes(proof.to_bytes()) == proof
    assert len(proof.to_bytes()) == encoded_length(len(rows), proof.w)
    # every ciphertext is re-encrypted: none of the input's appears in the output
    before = {ct for row in rows for ct in row}
    assert not before & {ct for row in shuffled.outputs for ct in row}
    # the witness says which input went where
    for i, row in enumerate(shuffled.outputs):
        assert opened([row]) == opened([rows[shuffled.psi[i]]])


@pytest.mark.parametrize("n", [0, 1, 2, 17])
@pytest.mark.parametrize("w", [1, 3])
def test_sizes(n: int, w: int) -> None:
    rows, shuffled, proof = honest([[i % 5 + 1 + k for k in range(w)] for i in range(n)])
    check(rows, shuffled.outputs, proof)
    assert opened(shuffled.outputs) == opened(rows)
    assert (proof.n, proof.w) == (n, w if n else 1)  # an empty board has width 1


def test_the_chunked_path_on_two_processes_gives_what_one_process_accepts() -> None:
    # 600 rows: several chunks, run on a pool of two processes, for both prover and verifier
    rows = board([[i % 7 + 1] for i in range(600)])
    shuffled = shuffle.gen_shuffle(rows, PK, workers=2)
    proof = prove(rows, shuffled, workers=2)
    check(rows, shuffled.outputs, proof, workers=2)
    check(rows, shuffled.outputs, proof, workers=1)
    assert opened(shuffled.outputs) == opened(rows)
    # a swap far into the board, in a later chunk, fails on the pool too
    swapped = list(shuffled.outputs)
    swapped[450], swapped[451] = swapped[451], swapped[450]
    with pytest.raises(ProofRejected):
        check(rows, swapped, proof, workers=2)


def test_the_generators_are_the_groups_independent_generators() -> None:
    # t1 and t2 recomputed here from group.independent_generators(domain, N + 1): h = [0]
    # (the chain's base), h_i = [i]; the checker's chunks derive the same elements
    domain = shuffle.generator_domain(CONTEXT, 2)
    assert domain == f"tallyroom/shuffle/v1/generators/{CONTEXT}/2"
    rows = board([[1], [2], [3]])
    shuffled = shuffle.gen_shuffle(rows, PK, workers=1)
    proof = prove(rows, shuffled, position=2)
    check(rows, shuffled.outputs, proof, position=2)
    h = group.independent_generators(domain, 4)
    y = shuffle.statement_digest(CONTEXT, 2, PK, rows, shuffled.outputs, proof.c)
    u = shuffle.challenges_u(y, 3)
    c = shuffle.challenge_c(
        y, proof.c_hat, proof.t1, proof.t2, proof.t3, proof.t4a, proof.t4b, proof.t_hat
    )
    c_bar = group.div(group.product(proof.c), group.product(h[1:]))
    assert group.mul(group.exp(c_bar, c), group.exp_base(proof.s1)) == proof.t1
    c_hat = group.div(proof.c_hat[-1], group.exp(h[0], u[0] * u[1] * u[2]))
    assert group.mul(group.exp(c_hat, c), group.exp_base(proof.s2)) == proof.t2
    # and the generators of another mixer are others
    assert not set(h) & set(group.independent_generators(shuffle.generator_domain(CONTEXT, 1), 4))


def test_two_shuffles_of_one_board_differ() -> None:
    rows = board([[1], [2], [3], [4]])
    first = shuffle.gen_shuffle(rows, PK, workers=1)
    second = shuffle.gen_shuffle(rows, PK, workers=1)
    assert first.outputs != second.outputs
    assert not {ct for r in first.outputs for ct in r} & {ct for r in second.outputs for ct in r}
    # and the proofs of one shuffle made twice share no commitment
    p1, p2 = prove(rows, first), prove(rows, first)
    assert p1.t1 != p2.t1 and not set(p1.c) & set(p2.c)


def test_the_witness_is_not_shown() -> None:
    _rows, shuffled, _proof = honest([[1], [2]])
    assert "psi" not in repr(shuffled) and str(shuffled.r_tilde[0][0]) not in repr(shuffled)


# --- a mixer that cheats


@settings(max_examples=15, deadline=None)
@given(boards(min_rows=1), st.data())
def test_a_ciphertext_replaced_in_the_output_fails(
    plaintexts: list[list[int]], data: st.DataObject
) -> None:
    rows, shuffled, proof = honest(plaintexts)
    i = data.draw(st.integers(min_value=0, max_value=len(rows) - 1))
    k = data.draw(st.integers(min_value=0, max_value=proof.w - 1))
    same_plaintext = data.draw(st.booleans())
    old = shuffled.outputs[i][k]
    message = elgamal.decrypt(SECRET, old)
    if not same_plaintext:
        message = group.mul(message, group.GENERATOR)
    new = elgamal.encrypt(PK, message, group.random_scalar())
    outputs = list(shuffled.outputs)
    outputs[i] = (*outputs[i][:k], new, *outputs[i][k + 1 :])
    with pytest.raises(ProofRejected, match="equation"):
        check(rows, outputs, proof)


@settings(max_examples=15, deadline=None)
@given(boards(min_rows=2), st.data())
def test_two_outputs_swapped_after_proving_fail(
    plaintexts: list[list[int]], data: st.DataObject
) -> None:
    rows, shuffled, proof = honest(plaintexts)
    i = data.draw(st.integers(min_value=0, max_value=len(rows) - 2))
    j = data.draw(st.integers(min_value=i + 1, max_value=len(rows) - 1))
    outputs = list(shuffled.outputs)
    outputs[i], outputs[j] = outputs[j], outputs[i]
    with pytest.raises(ProofRejected, match="equation"):
        check(rows, outputs, proof)


@settings(max_examples=15, deadline=None)
@given(boards(min_rows=1), st.data())
def test_one_reencryption_with_other_randomness_than_proved_fails(
    plaintexts: list[list[int]], data: st.DataObject
) -> None:
    rows, shuffled, _proof = honest(plaintexts)
    i = data.draw(st.integers(min_value=0, max_value=len(rows) - 1))
    k = data.draw(st.integers(min_value=0, max_value=len(rows[0]) - 1))
    # the row is re-encrypted with r + delta, the witness still says r
    delta = data.draw(st.integers(min_value=1, max_value=group.ORDER - 1))
    r = shuffled.r_tilde[i][k]
    outputs = list(shuffled.outputs)
    wrong = elgamal.reencrypt(PK, rows[shuffled.psi[i]][k], r + delta)
    outputs[i] = (*outputs[i][:k], wrong, *outputs[i][k + 1 :])
    cheat = Shuffle(tuple(outputs), shuffled.psi, shuffled.r_tilde)
    with pytest.raises(ProofRejected, match="t4"):
        check(rows, cheat.outputs, prove(rows, cheat))


@settings(max_examples=15, deadline=None)
@given(boards(min_rows=1), st.data())
def test_a_plaintext_substituted_fails(plaintexts: list[list[int]], data: st.DataObject) -> None:
    rows, shuffled, _proof = honest(plaintexts)
    i = data.draw(st.integers(min_value=0, max_value=len(rows) - 1))
    k = data.draw(st.integers(min_value=0, max_value=len(rows[0]) - 1))
    outputs = list(shuffled.outputs)
    outputs[i] = (*outputs[i][:k], bump(outputs[i][k]), *outputs[i][k + 1 :])
    cheat = Shuffle(tuple(outputs), shuffled.psi, shuffled.r_tilde)
    assert opened(cheat.outputs) != opened(rows)
    with pytest.raises(ProofRejected, match="equation"):
        check(rows, cheat.outputs, prove(rows, cheat))


@settings(max_examples=15, deadline=None)
@given(boards(min_rows=2), st.data())
def test_a_wrong_permutation_in_the_proof_fails(
    plaintexts: list[list[int]], data: st.DataObject
) -> None:
    rows, shuffled, _proof = honest(plaintexts)
    i = data.draw(st.integers(min_value=0, max_value=len(rows) - 2))
    j = data.draw(st.integers(min_value=i + 1, max_value=len(rows) - 1))
    psi = list(shuffled.psi)
    psi[i], psi[j] = psi[j], psi[i]
    cheat = Shuffle(shuffled.outputs, tuple(psi), shuffled.r_tilde)
    with pytest.raises(ProofRejected, match="equation"):
        check(rows, cheat.outputs, prove(rows, cheat))


def test_a_row_duplicated_in_place_of_another_fails() -> None:
    # the classic cheat: drop one ballot, count another twice, both re-encrypted
    rows = board([[1], [2], [3]])
    psi = (0, 0, 2)
    r_tilde = tuple((group.random_scalar(),) for _ in range(3))
    outputs = tuple((elgamal.reencrypt(PK, rows[psi[i]][0], r_tilde[i][0]),) for i in range(3))
    cheat = Shuffle(outputs, psi, r_tilde)
    with pytest.raises(ProofRejected):
        check(rows, outputs, prove(rows, cheat))


# --- an honest proof shown for another statement


@settings(max_examples=15, deadline=None)
@given(boards(min_rows=1))
def test_the_proof_for_another_input_board_fails(plaintexts: list[list[int]]) -> None:
    _rows, shuffled, proof = honest(plaintexts)
    # the same plaintexts, freshly encrypted: another board that means the same
    with pytest.raises(ProofRejected, match="equation"):
        check(board(plaintexts), shuffled.outputs, proof)


@settings(max_examples=10, deadline=None)
@given(boards(min_rows=1))
def test_the_proof_under_another_public_key_fails(plaintexts: list[list[int]]) -> None:
    rows, shuffled, proof = honest(plaintexts)
    with pytest.raises(ProofRejected, match="equation"):
        check(rows, shuffled.outputs, proof, pk=group.exp_base(SECRET + 1))


@settings(max_examples=10, deadline=None)
@given(boards(min_rows=1))
def test_the_proof_for_another_context_or_mixer_fails(plaintexts: list[list[int]]) -> None:
    rows, shuffled, proof = honest(plaintexts)
    with pytest.raises(ProofRejected, match="equation"):
        check(rows, shuffled.outputs, proof, context="labour-2016/deputy")
    with pytest.raises(ProofRejected, match="equation"):
        check(rows, shuffled.outputs, proof, position=2)


def test_an_output_board_of_another_length_fails() -> None:
    rows, shuffled, proof = honest([[1], [2], [3]])
    with pytest.raises(ProofRejected, match="output board has 2 rows, the input 3"):
        check(rows, shuffled.outputs[:2], proof)
    extra = (*shuffled.outputs, shuffled.outputs[0])
    with pytest.raises(ProofRejected, match="output board has 4 rows"):
        check(rows, extra, proof)
    # a shorter board with a proof made for it does not pass for the full one either
    with pytest.raises(ProofRejected, match="the proof is for 2 rows"):
        short = honest([[1], [2]])[2]
        check(rows, shuffled.outputs, short)


def test_rows_of_another_width_fail() -> None:
    rows, shuffled, proof = honest([[1, 2], [3, 4]])
    narrow = [row[:1] for row in shuffled.outputs]
    with pytest.raises(ProofRejected, match="not 2 ciphertexts wide"):
        check(rows, narrow, proof)
    with pytest.raises(InputError, match="every row is 2 ciphertexts wide"):
        shuffle.gen_shuffle([rows[0], rows[1][:1]], PK, workers=1)


# --- the proof's bytes


def _refused(rows: Sequence[Row], outputs: Sequence[Row], data: bytes) -> bool:
    try:
        check(rows, outputs, ShuffleProof.from_bytes(data))
    except (InputError, ProofRejected):
        return True
    return False


@pytest.mark.parametrize(("plaintexts"), [[[1], [2]], [[1, 2]]], ids=["n2w1", "n1w2"])
def test_every_byte_of_the_proof_matters(plaintexts: list[list[int]]) -> None:
    rows, shuffled, proof = honest(plaintexts)
    data = proof.to_bytes()
    assert not _refused(rows, shuffled.outputs, data)
    accepted = [
        at
        for at in range(len(data))
        for flip in (0x01, 0x80)
        if not _refused(
            rows, shuffled.outputs, data[:at] + bytes([data[at] ^ flip]) + data[at + 1 :]
        )
    ]
    assert accepted == []
    assert _refused(rows, shuffled.outputs, data[:-1])
    assert _refused(rows, shuffled.outputs, data + b"\x00")


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_value_at_any_byte_of_the_proof_is_refused(data: st.DataObject) -> None:
    rows, shuffled, proof = _SMALL
    encoded = proof.to_bytes()
    at = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    value = data.draw(st.integers(min_value=0, max_value=255).filter(lambda v: v != encoded[at]))
    assert _refused(rows, shuffled.outputs, encoded[:at] + bytes([value]) + encoded[at + 1 :])


_SMALL = honest([[3], [1], [3]])


@pytest.mark.parametrize(
    ("field", "equation"),
    [
        ("s1", "equation t1 does not hold"),
        ("s2", "equation t2 does not hold"),
        ("s3", "equation t3 does not hold"),
        ("s4", r"equation t4\[1\] does not hold"),
        ("s_hat", "equation t̂_1 does not hold"),
    ],
)
def test_the_rejection_names_the_equation(field: str, equation: str) -> None:
    # a response changed in the record (the t's, hence the challenge, unchanged) breaks
    # exactly one equation, and the message names it
    rows, shuffled, proof = _SMALL
    value = getattr(proof, field)
    changed = (value[0] + 1, *value[1:]) if isinstance(value, tuple) else value + 1
    fields = {name: getattr(proof, name) for name in proof.__dataclass_fields__}
    fields[field] = changed
    with pytest.raises(ProofRejected, match=f"mixer 1 \\({CONTEXT}\\): {equation}"):
        check(rows, shuffled.outputs, ShuffleProof(**fields))


def test_a_proof_of_the_wrong_shape_is_refused() -> None:
    _rows, _shuffled, proof = _SMALL
    fields = {name: getattr(proof, name) for name in proof.__dataclass_fields__}
    fields["s_prime"] = proof.s_prime[:-1]
    with pytest.raises(InputError, match="s_prime: has 2 entries, not 3"):
        ShuffleProof(**fields)
    with pytest.raises(InputError, match="width 1 or more"):
        ShuffleProof.from_bytes(bytes(6))
    with pytest.raises(InputError, match="shorter than its header"):
        ShuffleProof.from_bytes(b"\x00\x00")
    encoded = bytearray(proof.to_bytes())
    encoded[-32:] = (group.ORDER).to_bytes(32, "little")
    with pytest.raises(InputError, match=r"s_prime\[3\]: a scalar must be below the group order"):
        ShuffleProof.from_bytes(bytes(encoded))
