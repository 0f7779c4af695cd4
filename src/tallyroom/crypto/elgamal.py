"""ElGamal encryption in ristretto255: the ciphertexts of the verifiable ballot.

A message is a group element ``m``; under the public key ``h = g^x`` it is encrypted with a
fresh scalar ``r`` as the pair ``(a, b) = (g^r, m * h^r)`` and recovered with the secret as
``b / a^x`` (T. ElGamal, "A public key cryptosystem and a signature scheme based on discrete
logarithms", IEEE Trans. IT-31(4), 1985). The scheme is homomorphic: multiplying a
ciphertext by an encryption of the identity, ``(g^s, h^s)``, re-encrypts it to a ciphertext
of the same message that cannot be linked to the first without the secret, which is what a
mix net does to each ballot (:func:`reencrypt`).

Ciphertexts travel as 64 bytes, ``a`` then ``b``, each a canonical element encoding
(crypto/group.py); :func:`Ciphertext.from_bytes` refuses anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from tallyroom.crypto import group
from tallyroom.crypto.group import Element
from tallyroom.errors import InputError

__all__ = ["CIPHERTEXT_BYTES", "Ciphertext", "decrypt", "encrypt", "reencrypt"]

#: Bytes of a ciphertext's encoding.
CIPHERTEXT_BYTES = 2 * group.ELEMENT_BYTES


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """An ElGamal ciphertext ``(a, b) = (g^r, m * h^r)``."""

    a: Element
    b: Element

    def to_bytes(self) -> bytes:
        return bytes(self.a) + bytes(self.b)

    @classmethod
    def from_bytes(cls, data: bytes, *, field: str = "ciphertext") -> Ciphertext:
        if len(data) != CIPHERTEXT_BYTES:
            raise InputError(
                f"a ciphertext is {CIPHERTEXT_BYTES} bytes, not {len(data)}",
                field=field,
                value=data.hex(),
            )
        return cls(
            group.decode_element(data[: group.ELEMENT_BYTES], field=field),
            group.decode_element(data[group.ELEMENT_BYTES :], field=field),
        )


def encrypt(public_key: Element, message: Element, r: int) -> Ciphertext:
    """``message`` encrypted under ``public_key`` with the randomness ``r`` (nonzero)."""
    return Ciphertext(group.exp_base(r), group.mul(message, group.exp(public_key, r)))


def reencrypt(public_key: Element, ciphertext: Ciphertext, s: int) -> Ciphertext:
    """``ciphertext`` multiplied by an encryption of the identity with randomness ``s``."""
    return Ciphertext(
        group.mul(ciphertext.a, group.exp_base(s)),
        group.mul(ciphertext.b, group.exp(public_key, s)),
    )


def decrypt(secret: int, ciphertext: Ciphertext) -> Element:
    """The message: ``b / a^secret``."""
    return group.div(ciphertext.b, group.exp(ciphertext.a, secret))
