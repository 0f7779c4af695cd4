"""Ballots sealed to the election's public key (libsodium sealed boxes, via PyNaCl).

During voting the server holds only the election's *public* key: a ballot is encrypted with
``crypto_box_seal`` (an ephemeral X25519 key and XSalsa20-Poly1305), so nobody on the server
can read it. The returning officer keeps the private key in a file protected by a passphrase
(Argon2id key derivation, ``crypto_secretbox``), and brings it to the count. A voter's receipt
is the SHA-256 of the sealed ballot, published with every other receipt after the close.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.public
import nacl.pwhash
import nacl.secret
import nacl.utils

from tallyroom.errors import InputError

__all__ = ["ElectionKeys", "load_private_key", "open_ballot", "receipt_of", "seal_ballot"]

_KDF = nacl.pwhash.argon2id


@dataclass(frozen=True, slots=True)
class ElectionKeys:
    public: bytes
    private: bytes

    @staticmethod
    def generate() -> ElectionKeys:
        key = nacl.public.PrivateKey.generate()
        return ElectionKeys(public=bytes(key.public_key), private=bytes(key))

    def save_private(self, path: Path, passphrase: str) -> None:
        """Write the private key, encrypted under the passphrase, readable by its owner only."""
        salt = nacl.utils.random(_KDF.SALTBYTES)
        box_key = _KDF.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode("utf-8"),
            salt,
            opslimit=_KDF.OPSLIMIT_MODERATE,
            memlimit=_KDF.MEMLIMIT_MODERATE,
        )
        sealed = nacl.secret.SecretBox(box_key).encrypt(self.private)
        doc = {
            "kdf": "argon2id",
            "opslimit": _KDF.OPSLIMIT_MODERATE,
            "memlimit": _KDF.MEMLIMIT_MODERATE,
            "salt": salt.hex(),
            "public": self.public.hex(),
            "sealed_private": bytes(sealed).hex(),
        }
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        path.chmod(0o600)


def load_private_key(path: Path, passphrase: str) -> ElectionKeys:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        salt = bytes.fromhex(doc["salt"])
        box_key = _KDF.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode("utf-8"),
            salt,
            opslimit=int(doc["opslimit"]),
            memlimit=int(doc["memlimit"]),
        )
        private = nacl.secret.SecretBox(box_key).decrypt(bytes.fromhex(doc["sealed_private"]))
    except nacl.exceptions.CryptoError:
        raise InputError("wrong passphrase for the election key", path=str(path)) from None
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"not an election key file ({exc})", path=str(path)) from None
    return ElectionKeys(public=bytes.fromhex(doc["public"]), private=private)


def seal_ballot(public_key: bytes, ballot: bytes) -> bytes:
    return bytes(nacl.public.SealedBox(nacl.public.PublicKey(public_key)).encrypt(ballot))


def open_ballot(keys: ElectionKeys, sealed: bytes) -> bytes:
    try:
        return bytes(nacl.public.SealedBox(nacl.public.PrivateKey(keys.private)).decrypt(sealed))
    except nacl.exceptions.CryptoError:
        raise InputError("a sealed ballot does not open with this key") from None


def receipt_of(sealed: bytes) -> str:
    """The voter's receipt: SHA-256 of the sealed ballot, as hex."""
    return hashlib.sha256(sealed).hexdigest()
