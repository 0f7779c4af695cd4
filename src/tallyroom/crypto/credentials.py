"""Voting credentials: random, typeable, stored only as a keyed hash.

A credential is 110 random bits written as 22 characters of Crockford's base-32 alphabet
(no I, L, O or U, so nothing reads as another character), in groups of four or two with
hyphens: ``7KQ2-M9XD-4HRT-0ZPB-WC6N-AF``. Typing is forgiving: case, spaces and hyphens are
ignored and I/L read as 1, O as 0. The server keeps only ``HMAC-SHA256(election key,
canonical form)``, so a stolen database does not yield usable credentials without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from tallyroom.errors import InputError

__all__ = [
    "CREDENTIAL_BITS",
    "credential_from_bytes",
    "credential_hash",
    "credentials_from_blocks",
    "new_credential",
    "new_credentials",
    "new_hash_key",
    "normalise_credential",
]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CHARS = 22
CREDENTIAL_BITS = _CHARS * 5  # 110 bits of entropy
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


# RFC 4648's base-32 digits, in order, mapped onto Crockford's: base64.b32encode then does
# the arithmetic in C.
_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode("ascii"))
# 15 random bytes are 24 base-32 digits, with no padding; the first 22 carry 110 bits, each
# digit uniform and independent of the others.
_BYTES_EACH = 15


def _grouped(text: str) -> str:
    # spelt out: five times as fast as joining a generator, over 654,006 credentials
    return f"{text[0:4]}-{text[4:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:22]}"


def credential_from_bytes(material: bytes) -> str:
    """The credential whose 110 bits are the first 110 of ``material`` (15 bytes or more),
    in the written form: for credentials derived from a secret instead of drawn at random."""
    if len(material) < _BYTES_EACH:
        raise ValueError(f"a credential needs {_BYTES_EACH} bytes of material")
    return credentials_from_blocks(material[:_BYTES_EACH])[0]


def credentials_from_blocks(material: bytes) -> list[str]:
    """One credential from each 15-byte block of ``material`` (as :func:`credential_from_bytes`
    of each), encoded in one call."""
    if len(material) % _BYTES_EACH:
        raise ValueError(f"credential material comes in blocks of {_BYTES_EACH} bytes")
    text = base64.b32encode(material).translate(_FROM_RFC4648).decode("ascii")
    each = _BYTES_EACH * 8 // 5
    return [_grouped(text[k : k + _CHARS]) for k in range(0, len(text), each)]


def new_credentials(count: int) -> list[str]:
    """``count`` fresh credentials from the operating system's CSPRNG."""
    digits = base64.b32encode(secrets.token_bytes(_BYTES_EACH * count)).translate(_FROM_RFC4648)
    text = digits.decode("ascii")
    each = _BYTES_EACH * 8 // 5
    return [_grouped(text[k : k + _CHARS]) for k in range(0, each * count, each)]


def new_credential() -> str:
    """A fresh credential from the operating system's CSPRNG."""
    return new_credentials(1)[0]


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
