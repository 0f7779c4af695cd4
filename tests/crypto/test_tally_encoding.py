"""The tally's published parts as bytes (crypto/tally_encoding.py): a mix stage and a
trustee's decryption shares round-trip exactly, and every malformed file is refused as a
ProofRejected naming the encoding, never a traceback."""

from __future__ import annotations

import pytest

from tallyroom.crypto import elgamal, group
from tallyroom.crypto.mixnet import mix
from tallyroom.crypto.tally_encoding import (
    shares_bytes,
    shares_from_bytes,
    stage_bytes,
    stage_from_bytes,
)
from tallyroom.crypto.threshold import partial_decrypt_many
from tallyroom.errors import InputError, ProofRejected

SECRET = 0x5EC12E7_0000_1111
PK = group.exp_base(SECRET)


def _rows(n: int, w: int) -> list[tuple[elgamal.Ciphertext, ...]]:
    return [
        tuple(
            elgamal.encrypt(PK, group.exp_base(i + k + 1), group.random_scalar()) for k in range(w)
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(("n", "w"), [(0, 1), (1, 1), (5, 2)])
def test_a_stage_round_trips(n: int, w: int) -> None:
    (stage,) = mix(_rows(n, w), PK, 1, context="e/c/s", workers=1)
    data = stage_bytes(stage)
    assert stage_from_bytes(data) == stage
    assert stage_bytes(stage_from_bytes(data)) == data


def test_shares_round_trip_and_stay_the_trustees_own() -> None:
    cts = [ct for row in _rows(3, 1) for ct in row]
    shares = partial_decrypt_many("e", 2, SECRET, cts, workers=1)
    data = shares_bytes(2, shares)
    assert shares_from_bytes(data) == (2, tuple(shares))
    with pytest.raises(InputError):
        shares_bytes(3, shares)
    # trustee 2's shares relabelled as trustee 3's file: the shares inside still say 2
    forged = data[:6] + (3).to_bytes(4, "big") + data[10:]
    with pytest.raises(ProofRejected, match="trustee 3's file holds shares of trustees"):
        shares_from_bytes(forged)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[:-1],
        lambda d: d + b"\0",
        lambda d: b"XXXXXX" + d[6:],
        lambda d: d[:20] + bytes([d[20] ^ 0xFF]) + d[21:],  # inside the first ciphertext
        lambda d: b"",
    ],
)
def test_a_damaged_stage_is_refused_as_encoding(damage: object) -> None:
    (stage,) = mix(_rows(3, 1), PK, 1, context="e/c/s", workers=1)
    data = damage(stage_bytes(stage))  # type: ignore[operator]
    try:
        got = stage_from_bytes(data)
    except ProofRejected as exc:
        assert exc.check == "encoding"
    else:  # a flipped byte may still decode: then it is another stage, never the same
        assert got != stage


@pytest.mark.parametrize("cut", [0, 5, 13, 50])
def test_damaged_shares_are_refused(cut: int) -> None:
    cts = [ct for row in _rows(2, 1) for ct in row]
    data = shares_bytes(1, partial_decrypt_many("e", 1, SECRET, cts, workers=1))
    with pytest.raises(ProofRejected):
        shares_from_bytes(data[:cut])
