"""The mix net: the board through k mixers in turn; a broken link anywhere fails verification."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import pytest

from tallyroom.crypto import elgamal, group
from tallyroom.crypto.mixnet import MixStage, mix, verify_mix
from tallyroom.crypto.shuffle import Row, gen_shuffle, gen_shuffle_proof
from tallyroom.errors import InputError, ProofRejected

SECRET = 0xC0FFEE_1234_5678_9ABC_DEF0
PK = group.exp_base(SECRET)
CONTEXT = "labour-2016/leader"


def board(n: int, w: int = 1) -> list[Row]:
    return [
        tuple(
            elgamal.encrypt(PK, group.exp_base(i % 4 + k + 1), group.random_scalar())
            for k in range(w)
        )
        for i in range(n)
    ]


def opened(rows: Sequence[Row]) -> Counter[tuple[group.Element, ...]]:
    return Counter(tuple(elgamal.decrypt(SECRET, ct) for ct in row) for row in rows)


@pytest.mark.parametrize(("n", "w", "mixers"), [(0, 1, 2), (1, 1, 2), (7, 1, 3), (5, 2, 2)])
def test_a_mix_verifies_and_keeps_the_plaintexts(n: int, w: int, mixers: int) -> None:
    rows = board(n, w)
    stages = mix(rows, PK, mixers, context=CONTEXT, workers=1)
    assert [s.position for s in stages] == list(range(1, mixers + 1))
    final = verify_mix(rows, PK, stages, context=CONTEXT, workers=1)
    assert final == stages[-1].outputs
    assert opened(final) == opened(rows)


def test_a_tampered_stage_is_named() -> None:
    rows = board(4)
    stages = list(mix(rows, PK, 3, context=CONTEXT, workers=1))
    # mixer 2's outputs swapped after it proved: its proof fails, and mixer 3's input is
    # no longer what mixer 3 shuffled
    out = list(stages[1].outputs)
    out[0], out[1] = out[1], out[0]
    stages[1] = dataclasses.replace(stages[1], outputs=tuple(out))
    with pytest.raises(ProofRejected, match="mixer 2"):
        verify_mix(rows, PK, stages, context=CONTEXT, workers=1)


def test_a_stage_that_skips_its_input_fails() -> None:
    # mixer 2 shuffles the original board instead of mixer 1's output (mixer 1 then learns
    # nothing, but the chain is broken): mixer 2's proof is checked against mixer 1's rows
    rows = board(4)
    first = mix(rows, PK, 1, context=CONTEXT, workers=1)[0]
    shuffled = gen_shuffle(rows, PK, workers=1)
    proof = gen_shuffle_proof(rows, shuffled, PK, context=CONTEXT, position=2, workers=1)
    second = MixStage(2, shuffled.outputs, proof)
    with pytest.raises(ProofRejected, match="mixer 2"):
        verify_mix(rows, PK, [first, second], context=CONTEXT, workers=1)


def test_stages_out_of_order_too_few_or_from_another_election_fail() -> None:
    rows = board(3)
    stages = mix(rows, PK, 2, context=CONTEXT, workers=1)
    with pytest.raises(ProofRejected, match="stage 1 claims position 2"):
        verify_mix(rows, PK, stages[::-1], context=CONTEXT, workers=1)
    with pytest.raises(ProofRejected, match="1 mixer\\(s\\) published, at least 2 needed"):
        verify_mix(rows, PK, stages[:1], context=CONTEXT, workers=1)
    with pytest.raises(ProofRejected, match="mixer 1"):
        verify_mix(rows, PK, stages, context="labour-2016/deputy", workers=1)
    with pytest.raises(ProofRejected, match="mixer 1"):
        verify_mix(board(3), PK, stages, context=CONTEXT, workers=1)
    with pytest.raises(InputError, match="one mixer or more"):
        mix(rows, PK, 0, context=CONTEXT)
