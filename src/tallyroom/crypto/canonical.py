"""Canonical JSON for the verifiable ballot's published messages (the key ceremony's, the
trustees' decryption shares): one byte string per message, so that a message can be hashed,
chained and checked byte for byte in the election record.

The canonical form is RFC 8785's in the subset these messages use: an object with keys sorted
by code point, no whitespace (``,`` and ``:`` separators), strings in UTF-8 without escapes
other than JSON's required ones, integers without sign or leading zeros (all are small and
non-negative), bytes as lower-case hex strings, lists in their given order; every message
carries ``"type"`` and ``"version"``. :func:`loads` refuses a document that is not exactly the
canonical encoding of what it parses to, so two different byte strings never pass as one
message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tallyroom.crypto import group
from tallyroom.crypto.group import Element
from tallyroom.errors import InputError

__all__ = ["VERSION", "Fields", "dumps", "loads"]

#: The version of the message formats this module reads and writes.
VERSION = 1


def dumps(kind: str, fields: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a message of ``kind`` with ``fields``."""
    doc = {"type": kind, "version": VERSION, **fields}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes, kind: str) -> Fields:
    """The fields of a message of ``kind``; :class:`InputError` unless ``data`` is canonical."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"not a JSON {kind} message ({exc})") from None
    if not isinstance(doc, dict) or doc.get("type") != kind:
        raise InputError(f"not a {kind} message", field="type", value=_shown(doc))
    if doc.get("version") != VERSION:
        raise InputError(f"a {kind} message of version {VERSION}", field="version")
    fields = {k: v for k, v in doc.items() if k not in ("type", "version")}
    if dumps(kind, fields) != data:
        raise InputError(f"a {kind} message not in its canonical encoding", field="encoding")
    return Fields(kind, fields)


def _shown(doc: object) -> object:
    return doc.get("type") if isinstance(doc, dict) else type(doc).__name__


class Fields:
    """A parsed message's fields, read with their types checked (errors name the field)."""

    def __init__(self, kind: str, fields: dict[str, Any]) -> None:
        self._kind = kind
        self._fields = fields

    def _get(self, name: str) -> Any:
        if name not in self._fields:
            raise InputError(f"a {self._kind} message needs {name}", field=name)
        return self._fields[name]

    def expect(self, *names: str) -> None:
        """Refuse fields other than ``names``."""
        extra = sorted(set(self._fields) - set(names))
        if extra:
            raise InputError(f"unknown field(s) in a {self._kind} message", field=extra[0])

    def integer(self, name: str) -> int:
        value = self._get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InputError("a non-negative integer", field=name, value=value)
        return value

    def boolean(self, name: str) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise InputError("true or false", field=name, value=value)
        return value

    def text(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise InputError("a string", field=name, value=value)
        return value

    def hex(self, name: str, length: int | None = None) -> bytes:
        return _hex(self._get(name), name, length)

    def optional_hex(self, name: str, length: int | None = None) -> bytes | None:
        value = self._get(name)
        return None if value is None else _hex(value, name, length)

    def hex_list(self, name: str, length: int | None = None) -> tuple[bytes, ...]:
        value = self._get(name)
        if not isinstance(value, list):
            raise InputError("a list", field=name, value=value)
        return tuple(_hex(item, name, length) for item in value)

    def element(self, name: str) -> Element:
        return group.decode_element(self.hex(name, group.ELEMENT_BYTES), field=name)

    def elements(self, name: str) -> tuple[Element, ...]:
        return tuple(
            group.decode_element(e, field=name) for e in self.hex_list(name, group.ELEMENT_BYTES)
        )


def _hex(value: object, name: str, length: int | None) -> bytes:
    if not isinstance(value, str) or value != value.lower():
        raise InputError("lower-case hex", field=name, value=value)
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise InputError("lower-case hex", field=name, value=value) from None
    if data.hex() != value or (length is not None and len(data) != length):
        raise InputError(f"{length} bytes of hex", field=name, value=value)
    return data
