"""The delivery secret: each voter's credential derived, so that a resend repeats it.

While credentials are being delivered, the election has a *delivery secret* (32 random
bytes, in a 0600 file beside the credential key). A voter's credential is

    credential = first 110 bits of HMAC-SHA256(delivery secret,
                 "tallyroom credential v1" 0x00 entry key 0x00 issue number)

written in the usual 22-character form (:func:`tallyroom.crypto.credentials.credential_from_bytes`).
The credential is therefore never stored anywhere, not even for the mail merge: a sender
killed after a message left and restarted derives the *same* credential again, and a voter
cannot receive two different ones from one issue. Whoever holds the secret can derive every
credential of its round, so it is destroyed when delivery ends; afterwards only the keyed
hashes remain, and a resend is a reissue under a new secret.

The store keeps :meth:`DeliverySecret.check_value` of each round so that a wrong or
replaced secret file is refused instead of producing credentials that do not work.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable

from tallyroom.crypto.credentials import credential_from_bytes, credentials_from_blocks
from tallyroom.errors import InputError

__all__ = ["SECRET_SIZE", "DeliverySecret"]

SECRET_SIZE = 32
_LABEL = b"tallyroom credential v1"
_CHECK_MESSAGE = b"tallyroom delivery secret check v1"


class DeliverySecret:
    """A round's delivery secret: derives each voter's credential for one issue."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) != SECRET_SIZE:
            raise InputError(
                f"a delivery secret is {SECRET_SIZE} bytes", field="delivery_secret",
                value=len(secret),
            )  # fmt: skip
        self._secret = bytes(secret)

    @classmethod
    def generate(cls) -> DeliverySecret:
        return cls(secrets.token_bytes(SECRET_SIZE))

    @property
    def secret(self) -> bytes:
        return self._secret

    def credential(self, entry_key: str, issue_number: int) -> str:
        """The credential of register entry ``entry_key`` at ``issue_number``."""
        message = b"\x00".join(
            (_LABEL, entry_key.encode("utf-8"), str(issue_number).encode("ascii"))
        )
        return credential_from_bytes(hmac.digest(self._secret, message, "sha256"))

    def credentials(self, entries: Iterable[tuple[str, int]]) -> list[str]:
        """:meth:`credential` of each ``(entry key, issue number)``, encoded in one call."""
        key, label = self._secret, _LABEL
        material = b"".join(
            hmac.digest(
                key, b"\x00".join((label, k.encode("utf-8"), str(n).encode("ascii"))), "sha256"
            )[:15]
            for k, n in entries
        )
        return credentials_from_blocks(material)

    def check_value(self) -> bytes:
        return hmac.digest(self._secret, _CHECK_MESSAGE, "sha256")

    def __repr__(self) -> str:
        return "DeliverySecret(<secret>)"
