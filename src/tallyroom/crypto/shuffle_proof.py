"""A proof of shuffle as a record and as bytes (crypto/shuffle.py makes and checks it).

The proof holds, in the CHVote Protocol Specification's names (s.8, GenShuffleProof): the
permutation commitment c_1..c_N, the commitment chain ĉ_1..ĉ_N, the prover's commitments
t1, t2, t3, t4 (w pairs: one per column of a row) and t̂_1..t̂_N, and the responses s1, s2,
s3, s4 (w scalars), ŝ_1..ŝ_N and s'_1..s'_N. The challenge is not stored: the verifier
recomputes it from the statement and the t's.

Its canonical encoding, ``6 + 32 * (5N + 3w + 6)`` bytes::

    N   4 bytes, big-endian        w   2 bytes, big-endian (>= 1)
    c_1 .. c_N                     N elements
    ĉ_1 .. ĉ_N                     N elements
    t1, t2, t3                     3 elements
    t4a_1 .. t4a_w                 w elements (the g side)
    t4b_1 .. t4b_w                 w elements (the public-key side)
    t̂_1 .. t̂_N                     N elements
    s1, s2, s3                     3 scalars
    s4_1 .. s4_w                   w scalars
    ŝ_1 .. ŝ_N                     N scalars
    s'_1 .. s'_N                   N scalars

Elements are canonical ristretto255 encodings (32 bytes, RFC 9496 s.4.3.2); scalars are 32
bytes little-endian, below the group order. :meth:`ShuffleProof.from_bytes` refuses any
other length, any non-canonical element or scalar, and names the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from tallyroom.crypto import group
from tallyroom.crypto.group import Element
from tallyroom.errors import InputError

__all__ = ["ShuffleProof", "encoded_length"]

_HEADER = 6
_ITEM = 32


def encoded_length(n: int, w: int) -> int:
    """Bytes of the encoding of a proof for ``n`` rows of width ``w``."""
    return _HEADER + _ITEM * (5 * n + 3 * w + 6)


@dataclass(frozen=True, slots=True)
class ShuffleProof:
    """GenShuffleProof's output π = (t, s, c, ĉ) without the challenge."""

    c: tuple[Element, ...]
    c_hat: tuple[Element, ...]
    t1: Element
    t2: Element
    t3: Element
    t4a: tuple[Element, ...]
    t4b: tuple[Element, ...]
    t_hat: tuple[Element, ...]
    s1: int
    s2: int
    s3: int
    s4: tuple[int, ...]
    s_hat: tuple[int, ...]
    s_prime: tuple[int, ...]

    @property
    def n(self) -> int:
        """The number of rows shuffled."""
        return len(self.c)

    @property
    def w(self) -> int:
        """The width of a row."""
        return len(self.s4)

    def __post_init__(self) -> None:
        n, w = len(self.c), len(self.s4)
        sizes = {
            "c_hat": (len(self.c_hat), n),
            "t_hat": (len(self.t_hat), n),
            "s_hat": (len(self.s_hat), n),
            "s_prime": (len(self.s_prime), n),
            "t4a": (len(self.t4a), w),
            "t4b": (len(self.t4b), w),
        }
        for name, (got, want) in sizes.items():
            if got != want:
                raise InputError(f"has {got} entries, not {want}", field=f"shuffle proof {name}")
        if w < 1:
            raise InputError("a proof is for rows of width 1 or more", field="shuffle proof w")

    def to_bytes(self) -> bytes:
        """The canonical encoding (module docstring)."""
        out = [len(self.c).to_bytes(4, "big"), len(self.s4).to_bytes(2, "big")]
        out.extend(self.c)
        out.extend(self.c_hat)
        out.extend((self.t1, self.t2, self.t3))
        out.extend(self.t4a)
        out.extend(self.t4b)
        out.extend(self.t_hat)
        scalars = (self.s1, self.s2, self.s3, *self.s4, *self.s_hat, *self.s_prime)
        out.extend(group.scalar_bytes(s) for s in scalars)
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes, *, field: str = "shuffle proof") -> ShuffleProof:
        """The proof ``data`` encodes, refused unless canonical (module docstring)."""
        if len(data) < _HEADER:
            raise InputError(f"is {len(data)} bytes, shorter than its header", field=field)
        n = int.from_bytes(data[:4], "big")
        w = int.from_bytes(data[4:6], "big")
        if w < 1:
            raise InputError("a proof is for rows of width 1 or more", field=f"{field} w", value=w)
        if len(data) != encoded_length(n, w):
            raise InputError(
                f"is {len(data)} bytes; a proof for {n} rows of width {w} is "
                f"{encoded_length(n, w)}",
                field=field,
            )
        at = _HEADER

        def elements(name: str, count: int) -> tuple[Element, ...]:
            nonlocal at
            out = []
            for i in range(count):
                out.append(
                    group.decode_element(data[at : at + _ITEM], field=f"{field} {name}[{i + 1}]")
                )
                at += _ITEM
            return tuple(out)

        def scalars(name: str, count: int) -> tuple[int, ...]:
            nonlocal at
            out = []
            for i in range(count):
                out.append(
                    group.scalar_from_bytes(data[at : at + _ITEM], field=f"{field} {name}[{i + 1}]")
                )
                at += _ITEM
            return tuple(out)

        c = elements("c", n)
        c_hat = elements("c_hat", n)
        t1, t2, t3 = elements("t", 3)
        t4a = elements("t4a", w)
        t4b = elements("t4b", w)
        t_hat = elements("t_hat", n)
        s1, s2, s3 = scalars("s", 3)
        s4 = scalars("s4", w)
        s_hat = scalars("s_hat", n)
        s_prime = scalars("s_prime", n)
        return cls(c, c_hat, t1, t2, t3, t4a, t4b, t_hat, s1, s2, s3, s4, s_hat, s_prime)
