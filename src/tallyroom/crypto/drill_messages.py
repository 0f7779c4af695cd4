"""The key drill's published messages, in canonical JSON (crypto/canonical.py).

The drill itself is :mod:`tallyroom.crypto.threshold` (``start_key_drill``,
``finish_key_drill``, the transcript :class:`~tallyroom.crypto.threshold.KeyDrill`). Between
its start and its end two messages pass between the officer and the trustees:

* **``drill-challenge``** ``{election, nonce, ciphertext}``: the test ciphertext (64 bytes
  hex) of the message ``hash_to_element("tallyroom/v1/key-drill"; utf8(election), nonce)``
  (docs/verifiable.md, "Key drill"); the message is recomputed from the nonce on reading;
* **``drill-share``** ``{election, trustee, share, signature}``: one trustee's decryption
  share of it (100 bytes hex: ``u32(trustee) || M || c || z``), whose trustee must be the
  message's, signed with the trustee's Ed25519 key (crypto/trustee_signing.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from tallyroom.crypto import canonical, group
from tallyroom.crypto.elgamal import Ciphertext
from tallyroom.crypto.threshold import DRILL_TAG, SHARE_BYTES, DecryptionShare, DrillChallenge
from tallyroom.crypto.trustee_signing import SIGNATURE_BYTES, SignedJson
from tallyroom.errors import InputError, ProofRejected

__all__ = ["DrillShare", "challenge_from_json", "challenge_to_json"]


def challenge_to_json(challenge: DrillChallenge) -> bytes:
    """The ``drill-challenge`` message of ``challenge``."""
    return canonical.dumps(
        "drill-challenge",
        {
            "election": challenge.election,
            "nonce": challenge.nonce.hex(),
            "ciphertext": challenge.ciphertext.to_bytes().hex(),
        },
    )


def challenge_from_json(data: bytes) -> DrillChallenge:
    """The challenge of a ``drill-challenge`` message (its message recomputed)."""
    f = canonical.loads(data, "drill-challenge")
    f.expect("election", "nonce", "ciphertext")
    election, nonce = f.text("election"), f.hex("nonce", 16)
    message = group.hash_to_element(DRILL_TAG, election.encode("utf-8"), nonce)
    ciphertext = Ciphertext.from_bytes(f.hex("ciphertext", 64), field="ciphertext")
    return DrillChallenge(election, nonce, message, ciphertext)


@dataclass(frozen=True, slots=True)
class DrillShare(SignedJson):
    """A trustee's decryption share of the drill's ciphertext, signed by the trustee."""

    KIND: ClassVar[str] = "drill-share"

    election: str
    share: DecryptionShare
    signature: bytes = b""

    @property
    def trustee(self) -> int:
        return self.share.trustee

    @property
    def signer(self) -> int:
        return self.share.trustee

    def _fields(self) -> dict[str, Any]:
        return {
            "election": self.election,
            "trustee": self.share.trustee,
            "share": self.share.to_bytes().hex(),
        }

    @classmethod
    def from_json(cls, data: bytes) -> DrillShare:
        f = canonical.loads(data, cls.KIND)
        f.expect("election", "trustee", "share", "signature")
        try:
            share = DecryptionShare.from_bytes(f.hex("share", SHARE_BYTES))
        except ProofRejected as exc:
            raise InputError(exc.problem, field="share") from None
        trustee = f.integer("trustee")
        if share.trustee != trustee:
            raise InputError("the share is another trustee's", field="share", value=share.trustee)
        return cls(f.text("election"), share, f.hex("signature", SIGNATURE_BYTES))
