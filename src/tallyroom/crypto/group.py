"""The prime-order group of the verifiable ballot: ristretto255, through libsodium.

ristretto255 (RFC 9496, "The ristretto255 and decaf448 Groups") is a group of prime order
``ORDER`` = 2^252 + 27742317777372353535851937790883648493 built on Curve25519: every valid
32-byte encoding is one group element and every element has exactly one encoding, so
elements can be compared, hashed and published as bytes without cofactor traps (RFC 9496
s.4.3.1 decoding refuses non-canonical encodings; s.4.3.2 encodes canonically).

The arithmetic is libsodium's (``crypto_core_ristretto255_*``, ``crypto_scalarmult_ristretto255*``)
through ``rbcl``, which bundles libsodium; nothing here implements field or curve arithmetic.
Scalars are Python integers modulo ``ORDER`` (exact, and cheaper than calls into C); elements
are their canonical 32-byte encodings (:data:`Element`).

The group is written multiplicatively, as the protocol papers write it: :func:`mul` is the
group operation, :func:`exp` raises an element to a scalar, :func:`exp_base` raises the
standard generator (RFC 9496 s.4.4).

Hashing into the group and into scalars (:func:`hash_to_element`, :func:`hash_to_scalar`)
uses SHA-512 over a domain-separation tag and length-prefixed parts, so that no two different
lists of parts hash the same input (a Fiat-Shamir transcript must be unambiguous);
``hash_to_element`` maps the 64-byte digest with RFC 9496 s.4.3.4 (``from_hash``), whose
output has no known discrete logarithm with respect to any other element: independent
generators for commitments come from it (:func:`independent_generators`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from typing import NewType

import rbcl

from tallyroom.errors import InputError

__all__ = [
    "ELEMENT_BYTES",
    "GENERATOR",
    "IDENTITY",
    "ORDER",
    "Element",
    "decode_element",
    "div",
    "exp",
    "exp_base",
    "hash_to_element",
    "hash_to_scalar",
    "independent_generators",
    "inverse",
    "mul",
    "multi_exp",
    "product",
    "random_scalar",
    "scalar_bytes",
    "scalar_from_bytes",
]

#: The order of ristretto255 (RFC 9496 s.4: the prime l of edwards25519's subgroup).
ORDER = 2**252 + 27742317777372353535851937790883648493

#: Bytes of an element's canonical encoding.
ELEMENT_BYTES = 32

#: A group element: its canonical encoding (RFC 9496 s.4.3.2).
Element = NewType("Element", bytes)

#: The identity element encodes as 32 zero bytes (RFC 9496 s.4.3.2).
IDENTITY = Element(bytes(ELEMENT_BYTES))

#: The standard generator B (RFC 9496 s.4.4).
GENERATOR = Element(rbcl.crypto_scalarmult_ristretto255_base((1).to_bytes(32, "little")))


def scalar_bytes(s: int) -> bytes:
    """``s`` reduced modulo the order, as 32 little-endian bytes (libsodium's scalar form)."""
    return (s % ORDER).to_bytes(32, "little")


def scalar_from_bytes(data: bytes, *, field: str = "scalar") -> int:
    """The scalar a 32-byte little-endian string encodes; refused unless canonical (< ORDER)."""
    if len(data) != 32:
        raise InputError(f"a scalar is 32 bytes, not {len(data)}", field=field, value=data.hex())
    value = int.from_bytes(data, "little")
    if value >= ORDER:
        raise InputError("a scalar must be below the group order", field=field, value=data.hex())
    return value


def decode_element(data: bytes, *, field: str = "element") -> Element:
    """``data`` as an element, refused unless it is a canonical ristretto255 encoding."""
    if len(data) != ELEMENT_BYTES:
        raise InputError(
            f"a group element is {ELEMENT_BYTES} bytes, not {len(data)}",
            field=field,
            value=data.hex(),
        )
    if data != IDENTITY and not rbcl.crypto_core_ristretto255_is_valid_point(data):
        raise InputError("not a ristretto255 element", field=field, value=data.hex())
    return Element(bytes(data))


def random_scalar() -> int:
    """A uniformly random nonzero scalar from the operating system's CSPRNG."""
    return 1 + secrets.randbelow(ORDER - 1)


def mul(a: Element, b: Element) -> Element:
    """The group operation."""
    return Element(rbcl.crypto_core_ristretto255_add(a, b))


def div(a: Element, b: Element) -> Element:
    """``a`` times the inverse of ``b``."""
    return Element(rbcl.crypto_core_ristretto255_sub(a, b))


def inverse(a: Element) -> Element:
    """The inverse of ``a``."""
    return Element(rbcl.crypto_core_ristretto255_sub(IDENTITY, a))


def exp(a: Element, s: int) -> Element:
    """``a`` raised to the scalar ``s`` (any integer; reduced modulo the order)."""
    s %= ORDER
    if s == 0 or a == IDENTITY:
        return IDENTITY
    return Element(rbcl.crypto_scalarmult_ristretto255(s.to_bytes(32, "little"), a))


def exp_base(s: int) -> Element:
    """The generator raised to ``s``."""
    s %= ORDER
    if s == 0:
        return IDENTITY
    return Element(rbcl.crypto_scalarmult_ristretto255_base(s.to_bytes(32, "little")))


def product(elements: Iterable[Element]) -> Element:
    """The product of ``elements`` (the identity for none)."""
    out = IDENTITY
    for e in elements:
        out = mul(out, e)
    return out


def multi_exp(bases: Sequence[Element], exponents: Sequence[int]) -> Element:
    """The product of ``bases[i] ** exponents[i]``; the two sequences have one length."""
    if len(bases) != len(exponents):
        raise ValueError("multi_exp: bases and exponents differ in length")
    return product(exp(b, s) for b, s in zip(bases, exponents, strict=True))


def _transcript(domain: str, parts: Iterable[bytes]) -> hashlib._Hash:
    h = hashlib.sha512()
    tag = domain.encode("utf-8")
    h.update(len(tag).to_bytes(8, "big"))
    h.update(tag)
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h


def hash_to_scalar(domain: str, *parts: bytes) -> int:
    """SHA-512 of the domain tag and the length-prefixed parts, reduced modulo the order."""
    return int.from_bytes(_transcript(domain, parts).digest(), "little") % ORDER


def hash_to_element(domain: str, *parts: bytes) -> Element:
    """An element with no known logarithm: RFC 9496 s.4.3.4 on SHA-512 of the tagged parts."""
    return Element(rbcl.crypto_core_ristretto255_from_hash(_transcript(domain, parts).digest()))


def independent_generators(domain: str, count: int) -> list[Element]:
    """``count`` elements whose logarithms to each other and to the generator nobody knows."""
    return [hash_to_element(domain, i.to_bytes(8, "big")) for i in range(count)]
