"""The bytes of the tally's published parts: a mixer's stage and a trustee's decryption shares.

After the close each group of the board (one contest's ballots of one voter section) passes
through the mixers, then each decrypting trustee publishes a share of every element of the
last mixer's rows (services/tally.py). Both travel as files between the trustees' machines
and the server and are stored and published as these bytes (all integers big-endian)::

    mix stage      "TRMIX1" || u32 position || u32 n || u16 w
                   || n rows of w ciphertexts, 64 bytes each (crypto/elgamal.py)
                   || the shuffle proof (crypto/shuffle_proof.py, its own length-prefixed form)
    decryption     "TRDEC1" || u32 trustee || u32 count
                   || count shares, 100 bytes each (crypto/threshold.py DecryptionShare: u32
                      trustee || share element || Chaum-Pedersen proof c, z)

A decryption file's shares are, in order, one per element of the last mixer's rows (a row of
width ``w`` is ``w`` consecutive elements). Every element and scalar must be canonical; a file
that is not exactly this is refused as :class:`~tallyroom.errors.ProofRejected` (check
``encoding``) naming what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

from tallyroom.crypto.elgamal import CIPHERTEXT_BYTES, Ciphertext
from tallyroom.crypto.mixnet import MixStage
from tallyroom.crypto.shuffle import Row
from tallyroom.crypto.shuffle_proof import ShuffleProof
from tallyroom.crypto.threshold import SHARE_BYTES, DecryptionShare
from tallyroom.errors import InputError, ProofRejected

__all__ = [
    "DECRYPTION_MAGIC",
    "MIX_MAGIC",
    "rows_bytes",
    "rows_from_bytes",
    "shares_bytes",
    "shares_from_bytes",
    "stage_bytes",
    "stage_from_bytes",
]

MIX_MAGIC = b"TRMIX1"
DECRYPTION_MAGIC = b"TRDEC1"
_MIX_HEADER = len(MIX_MAGIC) + 4 + 4 + 2
_DEC_HEADER = len(DECRYPTION_MAGIC) + 4 + 4


def rows_bytes(rows: Sequence[Row]) -> bytes:
    """The rows' ciphertexts laid end to end."""
    return b"".join(ct.to_bytes() for row in rows for ct in row)


def rows_from_bytes(data: bytes, n: int, w: int, *, what: str = "rows") -> tuple[Row, ...]:
    """``n`` rows of width ``w`` read from ``data`` (exactly that long)."""
    if len(data) != n * w * CIPHERTEXT_BYTES:
        raise ProofRejected(
            "encoding", f"{what}: {n} rows of width {w} are {n * w * 64} bytes, not {len(data)}"
        )
    try:
        cts = [
            Ciphertext.from_bytes(data[i : i + CIPHERTEXT_BYTES])
            for i in range(0, len(data), CIPHERTEXT_BYTES)
        ]
    except InputError as exc:
        raise ProofRejected("encoding", f"{what}: {exc.problem}") from None
    return tuple(tuple(cts[r * w : (r + 1) * w]) for r in range(n))


def stage_bytes(stage: MixStage) -> bytes:
    """A mixer's published stage as bytes (module docstring)."""
    n = len(stage.outputs)
    w = len(stage.outputs[0]) if n else stage.proof.w
    head = MIX_MAGIC + stage.position.to_bytes(4, "big") + n.to_bytes(4, "big")
    return head + w.to_bytes(2, "big") + rows_bytes(stage.outputs) + stage.proof.to_bytes()


def stage_from_bytes(data: bytes) -> MixStage:
    """The stage ``data`` encodes; :class:`ProofRejected` (``encoding``) unless canonical."""
    if len(data) < _MIX_HEADER or not data.startswith(MIX_MAGIC):
        raise ProofRejected("encoding", "not a mix stage (it does not start with TRMIX1)")
    at = len(MIX_MAGIC)
    position = int.from_bytes(data[at : at + 4], "big")
    n = int.from_bytes(data[at + 4 : at + 8], "big")
    w = int.from_bytes(data[at + 8 : at + 10], "big")
    if w < 1:
        raise ProofRejected("encoding", f"a mix stage's rows have width 1 or more, not {w}")
    cut = _MIX_HEADER + n * w * CIPHERTEXT_BYTES
    if len(data) < cut:
        raise ProofRejected("encoding", f"a mix stage of {n} rows is cut short")
    outputs = rows_from_bytes(data[_MIX_HEADER:cut], n, w, what="mix stage rows")
    try:
        proof = ShuffleProof.from_bytes(data[cut:])
    except InputError as exc:
        raise ProofRejected("encoding", f"{exc.field}: {exc.problem}") from None
    if proof.n != n or proof.w != w:
        raise ProofRejected(
            "encoding", f"the proof is for {proof.n} rows of width {proof.w}, not {n} x {w}"
        )
    return MixStage(position, outputs, proof)


def shares_bytes(trustee: int, shares: Sequence[DecryptionShare]) -> bytes:
    """A trustee's decryption shares as bytes (module docstring)."""
    if any(s.trustee != trustee for s in shares):
        raise InputError("every share is the trustee's own", field="trustee", value=trustee)
    head = DECRYPTION_MAGIC + trustee.to_bytes(4, "big") + len(shares).to_bytes(4, "big")
    return head + b"".join(s.to_bytes() for s in shares)


def shares_from_bytes(data: bytes) -> tuple[int, tuple[DecryptionShare, ...]]:
    """The trustee and the shares ``data`` encodes; :class:`ProofRejected` otherwise."""
    if len(data) < _DEC_HEADER or not data.startswith(DECRYPTION_MAGIC):
        raise ProofRejected("encoding", "not a trustee's decryption (it does not start TRDEC1)")
    at = len(DECRYPTION_MAGIC)
    trustee = int.from_bytes(data[at : at + 4], "big")
    count = int.from_bytes(data[at + 4 : at + 8], "big")
    if len(data) != _DEC_HEADER + count * SHARE_BYTES:
        raise ProofRejected(
            "encoding",
            f"{count} shares are {_DEC_HEADER + count * SHARE_BYTES} bytes, not {len(data)}",
        )
    shares = tuple(
        DecryptionShare.from_bytes(data[i : i + SHARE_BYTES])
        for i in range(_DEC_HEADER, len(data), SHARE_BYTES)
    )
    strangers = sorted({s.trustee for s in shares if s.trustee != trustee})
    if strangers:
        raise ProofRejected(
            "trustee", f"trustee {trustee}'s file holds shares of trustees {strangers}"
        )
    return trustee, shares
