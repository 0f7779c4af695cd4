"""Voting credentials: random, typeable, stored only as a keyed hash.

A credential is 110 random bits written as 22 characters of Crockford's base-32 alphabet
(no I, L, O or U, so nothing reads as another character), in groups of four or two with
hyphens: ``7KQ2-M9XD-4HRT-0ZPB-WC6N-AF``. Typing is forgiving: case, spaces and hyphens are
ignored and I/L read as 1, O as 0. The server keeps only ``HMAC-SHA256(election key,
canonical form)``, so a stolen database does not yield usable credentials without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from tallyroom.errors import InputError

__all__ = [
    "CREDENTIAL_BITS",
    "credential_hash",
    "new_credential",
    "new_hash_key",
    "normalise_credential",
]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CHARS = 22
CREDENTIAL_BITS = _CHARS * 5  # 110 bits of entropy
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_credential() -> str:
    """A fresh credential from the operating system's CSPRNG."""
    n = secrets.randbits(CREDENTIAL_BITS)
    chars = []
    for _ in range(_CHARS):
        n, d = divmod(n, 32)
        chars.append(_ALPHABET[d])
    text = "".join(chars)
    return "-".join(text[i : i + 4] for i in range(0, _CHARS, 4))


def normalise_credential(typed: str) -> str:
    """The canonical 22-character form of what a voter typed; a clear error if it cannot be."""
    text = "".join(ch for ch in typed.upper() if ch not in " -\t").translate(_READ_AS)
    if len(text) != _CHARS or any(ch not in _ALPHABET for ch in text):
        raise InputError(
            f"a credential is {_CHARS} letters and digits (hyphens optional)",
            field="credential",
        )
    return text


def new_hash_key() -> bytes:
    """A per-election key for credential hashes (32 random bytes)."""
    return secrets.token_bytes(32)


def credential_hash(key: bytes, credential: str) -> bytes:
    """``HMAC-SHA256(key, canonical credential)``: what the store keeps."""
    return hmac.new(key, normalise_credential(credential).encode("ascii"), hashlib.sha256).digest()
