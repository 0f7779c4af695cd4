"""Trustees' Ed25519 signatures on the key ceremony's messages (docs/verifiable.md, "Trustees'
signatures").

In step 1 each trustee makes an Ed25519 signing key beside its X25519 communication key
(Belenios's ``cert``: a trustee's signing and encryption keys published together and signed
with the signing key; its ``coefexps`` are a signed message too). The seed stays in the
trustee's file; the public key is published in the ``communication-key`` message, whose
fingerprint covers both keys, so comparing fingerprints out of band authenticates both. Every
later message the trustee publishes carries a ``signature`` field:

``signature = Ed25519(seed, "tallyroom/v1/trustee-signature" || u32(len(utf8(kind))) ||
utf8(kind) || u32(version) || unsigned)``

where ``unsigned`` is the message's canonical JSON (crypto/canonical.py) without its
``signature`` field: one encoding only, since a reader refuses any other bytes. Ed25519 is
deterministic (RFC 8032), so a trustee who signs the same message twice publishes the same
bytes. The prefix names the message's kind and version: a signature over one kind of message
never verifies as another's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import nacl.exceptions
import nacl.signing

from tallyroom.crypto import canonical
from tallyroom.errors import InputError, ProofRejected

__all__ = [
    "SEED_BYTES",
    "SIGNATURE_BYTES",
    "SIGNATURE_TAG",
    "SignedJson",
    "dumps_signed",
    "new_seed",
    "public_key_of",
    "sign",
    "signed_bytes",
    "verify",
]

SIGNATURE_TAG = b"tallyroom/v1/trustee-signature"
SIGNATURE_BYTES = 64
SEED_BYTES = 32
PUBLIC_BYTES = 32


def _u32(i: int) -> bytes:
    return i.to_bytes(4, "big")


def signed_bytes(kind: str, unsigned: bytes) -> bytes:
    """What is signed for a message of ``kind`` whose canonical JSON without its signature is
    ``unsigned``."""
    name = kind.encode("utf-8")
    return SIGNATURE_TAG + _u32(len(name)) + name + _u32(canonical.VERSION) + unsigned


def new_seed() -> bytes:
    """A fresh Ed25519 seed (32 bytes): the trustee's signing key."""
    return bytes(nacl.signing.SigningKey.generate())


def public_key_of(seed: bytes) -> bytes:
    """The Ed25519 public key (32 bytes) of ``seed``."""
    return bytes(nacl.signing.SigningKey(seed).verify_key)


def sign(kind: str, unsigned: bytes, seed: bytes) -> bytes:
    """The 64-byte signature of a ``kind`` message (its unsigned canonical bytes)."""
    if len(seed) != SEED_BYTES:
        raise InputError("an Ed25519 seed is 32 bytes", field="signing_seed", value=len(seed))
    return nacl.signing.SigningKey(seed).sign(signed_bytes(kind, unsigned)).signature


def verify(kind: str, unsigned: bytes, signature: bytes, public_key: bytes, *, signer: int) -> None:
    """Nothing if ``signature`` is ``public_key``'s on the message, else
    :class:`ProofRejected` (check ``signature``) naming the trustee ``signer``."""
    who = f"trustee {signer}"
    if len(signature) != SIGNATURE_BYTES or len(public_key) != PUBLIC_BYTES:
        raise ProofRejected("signature", f"a {kind} message needs a 64-byte signature", subject=who)
    try:
        nacl.signing.VerifyKey(public_key).verify(signed_bytes(kind, unsigned), signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        raise ProofRejected(
            "signature",
            f"the {kind} message is not signed by trustee {signer}'s signing key (the one in"
            f" communication-key-{signer})",
            subject=who,
        ) from None


def dumps_signed(kind: str, fields: Mapping[str, Any], signature: bytes) -> bytes:
    """The canonical bytes of a signed message: ``fields`` and ``signature`` (hex); an
    unsigned message is refused (it would not be read back)."""
    if len(signature) != SIGNATURE_BYTES:
        raise InputError(f"a {kind} message is published signed", field="signature")
    return canonical.dumps(kind, {**fields, "signature": signature.hex()})


class SignedJson:
    """The two encodings of a signed message, from its ``KIND`` and ``_fields()``: the
    canonical JSON without the signature (what is signed) and with it (what is published).
    A base of the signed messages' frozen dataclasses, each of which has a ``signature``."""

    __slots__ = ()
    KIND: ClassVar[str]
    signature: bytes

    def _fields(self) -> dict[str, Any]:
        raise NotImplementedError

    def unsigned_json(self) -> bytes:
        return canonical.dumps(self.KIND, self._fields())

    def to_json(self) -> bytes:
        return dumps_signed(self.KIND, self._fields(), self.signature)
