"""A trustee's secret in a file only its passphrase opens (Argon2id, then a secretbox).

The same construction as the returning officer's key file (crypto/sealing.py): a key derived
from the passphrase with Argon2id (libsodium's ``crypto_pwhash``, the "moderate" limits:
256 MiB and 3 passes), then XSalsa20-Poly1305 (``crypto_secretbox``) over the secret's bytes.
The file is JSON, readable by its owner only; what it holds besides the sealed bytes (the
``label``: election and trustee) is public and checked against the sealed content by the
caller, so a file cannot be mistaken for another trustee's.
"""

from __future__ import annotations

import json
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from tallyroom.errors import InputError

__all__ = ["open_file", "seal_file"]

_KDF = nacl.pwhash.argon2id


def _box_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return bytes(
        _KDF.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode("utf-8"),
            salt,
            opslimit=opslimit,
            memlimit=memlimit,
        )
    )


def seal_file(path: Path, label: str, secret: bytes, passphrase: str) -> None:
    """Write ``secret`` sealed under ``passphrase`` to ``path`` (mode 0600)."""
    if not passphrase:
        raise InputError("a trustee's file needs a passphrase", path=str(path), field="passphrase")
    salt = nacl.utils.random(_KDF.SALTBYTES)
    ops, mem = _KDF.OPSLIMIT_MODERATE, _KDF.MEMLIMIT_MODERATE
    sealed = nacl.secret.SecretBox(_box_key(passphrase, salt, ops, mem)).encrypt(secret)
    doc = {
        "kdf": "argon2id",
        "opslimit": ops,
        "memlimit": mem,
        "salt": salt.hex(),
        "label": label,
        "sealed": bytes(sealed).hex(),
    }
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def open_file(path: Path, passphrase: str) -> tuple[str, bytes]:
    """The label and the secret of a file :func:`seal_file` wrote."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc["kdf"] != "argon2id":
            raise ValueError(f"unknown kdf {doc['kdf']!r}")
        key = _box_key(
            passphrase, bytes.fromhex(doc["salt"]), int(doc["opslimit"]), int(doc["memlimit"])
        )
        secret = nacl.secret.SecretBox(key).decrypt(bytes.fromhex(doc["sealed"]))
        label = str(doc["label"])
    except nacl.exceptions.CryptoError:
        raise InputError("wrong passphrase for this trustee's file", path=str(path)) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"not a trustee's file ({exc})", path=str(path)) from None
    return label, bytes(secret)
