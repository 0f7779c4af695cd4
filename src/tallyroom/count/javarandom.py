"""The pseudo-random generator of ``java.util.Random``, so that lots drawn match RCTab's.

RCTab draws its random tie-breaks from ``java.util.Random(seed)``. The generator is the 48-bit
linear congruential generator specified in the Java SE API documentation (D. Knuth, TAOCP
vol. 2, 3.2.1): ``seed' = (seed * 0x5DEECE66D + 0xB) mod 2**48``, the seed scrambled with
``0x5DEECE66D`` when set. This module implements that published algorithm and the two
consumers RCTab uses: ``nextDouble`` and ``Collections.shuffle``.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import TypeVar

__all__ = ["JavaRandom", "java_shuffle"]

_MULTIPLIER = 0x5DEECE66D
_ADDEND = 0xB
_MASK = (1 << 48) - 1

T = TypeVar("T")


def _to_int32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


class JavaRandom:
    """``java.util.Random``: same seed, same sequence."""

    __slots__ = ("_seed",)

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ _MULTIPLIER) & _MASK

    def next_bits(self, bits: int) -> int:
        """``next(bits)``: the top ``bits`` bits of the new state, as a signed 32-bit int."""
        self._seed = (self._seed * _MULTIPLIER + _ADDEND) & _MASK
        return _to_int32(self._seed >> (48 - bits))

    def next_double(self) -> tuple[int, int]:
        """``nextDouble()`` as an exact fraction ``(numerator, 2**53)``: no float involved."""
        hi = self.next_bits(26) & ((1 << 26) - 1)
        lo = self.next_bits(27) & ((1 << 27) - 1)
        return (hi << 27) + lo, 1 << 53

    def next_index(self, k: int) -> int:
        """``(int) Math.floor(nextDouble() * k)``, computed exactly."""
        num, den = self.next_double()
        # The double num/2**53 times k is exact in binary for k < 2**11; beyond that Java's
        # product may round, but floor(num*k/den) is what the exact product gives and tied
        # lists are never that long.
        return (num * k) // den

    def next_int(self, bound: int) -> int:
        """``nextInt(bound)``: uniform in ``[0, bound)``, with Java's rejection loop."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        if bound & (bound - 1) == 0:
            return _to_int32((bound * self.next_bits(31)) >> 31)
        while True:
            bits = self.next_bits(31)
            val = bits % bound
            if _to_int32(bits - val + (bound - 1)) >= 0:
                return val


def java_shuffle(items: MutableSequence[T], rnd: JavaRandom) -> None:
    """``Collections.shuffle(list, rnd)`` in place: swap ``i-1`` with ``nextInt(i)``, i = n..2."""
    for i in range(len(items), 1, -1):
        j = rnd.next_int(i)
        items[i - 1], items[j] = items[j], items[i - 1]
