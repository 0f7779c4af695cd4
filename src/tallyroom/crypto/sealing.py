"""Ballots sealed to the election's public key (libsodium sealed boxes, via PyNaCl).

During voting the server holds only the election's *public* key: a ballot is encrypted with
``crypto_box_seal`` (an ephemeral X25519 key and XSalsa20-Poly1305), so nobody on the server
can read it. The returning officer keeps the private key in a file protected by a passphrase
(Argon2id key derivation, ``crypto_secretbox``), and brings it to the count. A voter's receipt
is the SHA-256 of the sealed ballot, published with every other receipt after the close.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.public
import nacl.pwhash
import nacl.secret
import nacl.utils

from tallyroom.errors import InputError

__all__ = [
    "BallotOpener",
    "ElectionKeys",
    "load_private_key",
    "open_ballot",
    "receipt_of",
    "seal_ballot",
]

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


@functools.lru_cache(maxsize=8)
def _sealer(public_key: bytes) -> nacl.public.SealedBox[nacl.public.PublicKey]:
    return nacl.public.SealedBox(nacl.public.PublicKey(public_key))


def seal_ballot(public_key: bytes, ballot: bytes) -> bytes:
    """``ballot`` sealed to ``public_key`` (a fresh ephemeral key each time)."""
    return bytes(_sealer(public_key).encrypt(ballot))


class BallotOpener:
    """Opens sealed ballots with the private key, for one count.

    The box is built once (building it derives the public key, a scalar multiplication as
    costly as opening a ballot), and :meth:`open_many` opens a contest's ballots on several
    threads: libsodium runs without Python's global lock, so the cores share the work. The
    key lives as long as the opener: let it go when the count is done.
    """

    CHUNK = 4096

    def __init__(self, keys: ElectionKeys) -> None:
        self._box = nacl.public.SealedBox(nacl.public.PrivateKey(keys.private))

    def open(self, sealed: bytes) -> bytes:
        try:
            return bytes(self._box.decrypt(sealed))
        except nacl.exceptions.CryptoError:
            raise InputError("a sealed ballot does not open with this key") from None

    def _open_chunk(self, chunk: Sequence[bytes]) -> list[bytes]:
        return [self.open(sealed) for sealed in chunk]

    def open_many(self, sealed: Sequence[bytes], *, workers: int | None = None) -> list[bytes]:
        """Every ballot of ``sealed`` opened, in order."""
        threads = workers if workers is not None else min(os.cpu_count() or 1, 8)
        if threads <= 1 or len(sealed) <= self.CHUNK:
            return self._open_chunk(sealed)
        chunks = [sealed[i : i + self.CHUNK] for i in range(0, len(sealed), self.CHUNK)]
        with ThreadPoolExecutor(threads, thread_name_prefix="open-ballots") as pool:
            return [ballot for part in pool.map(self._open_chunk, chunks) for ballot in part]


def open_ballot(keys: ElectionKeys, sealed: bytes) -> bytes:
    """One sealed ballot opened (to open many, make one :class:`BallotOpener`)."""
    return BallotOpener(keys).open(sealed)


def receipt_of(sealed: bytes) -> str:
    """The voter's receipt: SHA-256 of the sealed ballot, as hex."""
    return hashlib.sha256(sealed).hexdigest()
