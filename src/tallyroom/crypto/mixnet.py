"""A mix net: the board shuffled by several mixers in turn, each with its proof.

After the close, the board's rows pass through ``k`` mixers (at least two for an election: a
voter's privacy then holds if any one of them forgets its permutation). Mixer ``j`` (1-based
position) takes the rows mixer ``j - 1`` published (mixer 1 takes the board), runs
:func:`tallyroom.crypto.shuffle.gen_shuffle`, proves it with
:func:`~tallyroom.crypto.shuffle.gen_shuffle_proof` bound to the election's context and its
own position, publishes the output rows and the proof, and forgets its witness.
:func:`verify_mix` checks the whole chain and returns the rows that go to decryption.

In an election each mixer is a trustee on their own machine; :func:`mix` runs them in
sequence in one process (the demo, the tests, the benchmark).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tallyroom.crypto.group import Element
from tallyroom.crypto.shuffle import (
    Row,
    ShuffleProof,
    check_shuffle_proof,
    gen_shuffle,
    gen_shuffle_proof,
)
from tallyroom.errors import InputError, ProofRejected

__all__ = ["MIN_MIXERS", "MixStage", "mix", "verify_mix"]

#: An election's board passes through at least this many mixers.
MIN_MIXERS = 2


@dataclass(frozen=True, slots=True)
class MixStage:
    """What mixer ``position`` publishes: its output rows and its proof."""

    position: int
    outputs: tuple[Row, ...]
    proof: ShuffleProof


def mix(
    board: Sequence[Row],
    public_key: Element,
    mixers: int,
    *,
    context: str,
    workers: int = 2,
) -> tuple[MixStage, ...]:
    """``board`` shuffled by ``mixers`` mixers in turn (positions 1..mixers), each proved."""
    if mixers < 1:
        raise InputError("a mix net has one mixer or more", field="mixers", value=mixers)
    stages: list[MixStage] = []
    rows: Sequence[Row] = board
    for position in range(1, mixers + 1):
        shuffled = gen_shuffle(rows, public_key, workers=workers)
        proof = gen_shuffle_proof(
            rows, shuffled, public_key, context=context, position=position, workers=workers
        )
        stages.append(MixStage(position, shuffled.outputs, proof))
        rows = shuffled.outputs
    return tuple(stages)


def verify_mix(
    board: Sequence[Row],
    public_key: Element,
    stages: Sequence[MixStage],
    *,
    context: str,
    minimum: int = MIN_MIXERS,
    workers: int = 2,
) -> tuple[Row, ...]:
    """The rows the last mixer published, once every stage's proof is checked against the
    rows before it; raises :class:`ProofRejected` naming the first stage that fails."""
    if len(stages) < minimum:
        raise ProofRejected(
            "mix",
            f"mix net of {context}: {len(stages)} mixer(s) published, at least {minimum} needed",
        )
    rows: tuple[Row, ...] = tuple(board)
    for expected, stage in enumerate(stages, start=1):
        if stage.position != expected:
            raise ProofRejected(
                "mix", f"mix net of {context}: stage {expected} claims position {stage.position}"
            )
        check_shuffle_proof(
            rows,
            stage.outputs,
            stage.proof,
            public_key,
            context=context,
            position=stage.position,
            workers=workers,
        )
        rows = stage.outputs
    return rows
