"""The per-election credential key: the secret credentials are hashed under (HMAC-SHA256).

The key lives outside the database (a file of the returning officer's, mode 0600), so a
stolen database alone cannot test guesses against the stored hashes. The election row keeps
:meth:`CredentialKey.check_value` so that a wrong key is refused instead of failing every
login.
"""

from __future__ import annotations

import hmac
import secrets

from tallyroom.errors import InputError

__all__ = ["KEY_SIZE", "CredentialKey"]

KEY_SIZE = 32
_CHECK_MESSAGE = b"tallyroom credential key check v1"


class CredentialKey:
    """The per-election secret key credentials are hashed under (HMAC-SHA256)."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) < KEY_SIZE:
            raise InputError(
                f"a credential key is at least {KEY_SIZE} bytes",
                field="credential_key",
                value=len(secret),
            )
        self._secret = bytes(secret)

    @classmethod
    def generate(cls) -> CredentialKey:
        return cls(secrets.token_bytes(KEY_SIZE))

    @property
    def secret(self) -> bytes:
        return self._secret

    def digest(self, credential: str) -> bytes:
        """HMAC-SHA256 of ``credential`` (UTF-8) under this key."""
        return hmac.digest(self._secret, credential.encode("utf-8"), "sha256")

    def check_value(self) -> bytes:
        return hmac.digest(self._secret, _CHECK_MESSAGE, "sha256")

    def __repr__(self) -> str:
        return "CredentialKey(<secret>)"
