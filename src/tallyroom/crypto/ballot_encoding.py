"""A contest's ballot as a canonical integer, and that integer as ristretto255 elements.

A verifiable ballot is encrypted (crypto/elgamal.py), shuffled and decrypted as group
elements, so each contest's ballot must become elements injectively and come back from the
decrypted elements unambiguously. Two steps, each a bijection onto its image:

**1. Ballot -> code.** Every valid ballot of a contest gets one integer in ``[0, size)``
(:class:`BallotShape`): ballots are numbered by length (all ballots with fewer marks come
first), then within one length:

* :class:`Ranking` (``n`` candidates, up to ``k`` preferences; STV, IRV): a ranking
  ``(c_0, ..., c_{L-1})`` of distinct candidates is the lexicographic rank of the
  ``L``-permutation, a mixed-radix number whose ``i``-th digit (radix ``n - i``) is the number
  of candidates below ``c_i`` not already ranked; ``size = sum_{L<=k} n!/(n-L)!``.
* :class:`ChoiceSet` (``n`` candidates, up to ``k`` marks; block vote): a set
  ``c_0 < ... < c_{s-1}`` is its colexicographic rank ``sum_i C(c_i, i+1)`` (the
  combinatorial number system); ``size = sum_{s<=k} C(n, s)``.
* :class:`SingleChoice` (one of ``n`` candidates) and :class:`MotionChoice` (one of a
  motion's options, for example for/against/abstain): blank is 0, option ``c`` is ``c + 1``.

A selection is always a tuple of 0-based candidate (or option) indices in ballot-paper order,
so an invalid selection (a repeated candidate, an index out of range, too many marks) has no
code and :meth:`BallotShape.code` refuses it; conversely every code below ``size`` decodes to
a valid selection, so a decrypted plaintext can be invalid only by its element encoding or by
a code out of range: a repeated candidate cannot be encrypted at all.

**2. Code -> elements.** The code is cut into 240-bit limbs, little-endian, one limb per
element; a contest's ballots all have the same number of elements, its :func:`width`
``= max(1, ceil(bits(size - 1) / 240))``. A limb ``m`` becomes the element whose canonical
32-byte encoding (RFC 9496 s.4.3.2) is::

    byte 0        2 * (k mod 128)        the counter's low 7 bits, shifted: the byte is even
    bytes 1..30   m, 30 bytes little-endian
    byte 31       k div 128              0 or 1: the top bit stays clear

for the *smallest* counter ``k`` in ``[0, 256)`` for which these bytes are a valid
ristretto255 encoding other than the identity ("try-and-increment"). RFC 9496 s.4.3.1
decoding needs the 255-bit little-endian number ``s`` canonical (below 2^255 - 19: the top
bit is clear, and libsodium refuses the rare larger ``s`` itself) and non-negative (even: the
low bit of byte 0 clear), then a square root that exists for about a quarter of the ``s``
(measured: 0.25), so the expected number of tries is 4 and the chance that no counter works
is (3/4)^256, about 2^-106 (no larger counter is ever used, so that decoding a hostile
plaintext costs at most 255 checks, 1.3 ms). The decrypted element's own encoding gives ``m``
back.

**Decoding** (:func:`decode`) checks, and reports an :class:`InvalidBallot` (never an
exception) naming the first failure: the number of elements is the contest's width; no element
is the identity; each element's counter is below 256 and the *smallest* that works (every
smaller counter gives bytes that are not an element), so that a voter cannot mark a ballot
with a chosen counter and find it among the decrypted ballots ("the Italian attack" on a mix
net); the code is below ``size``.

**Limits** (``python -m tallyroom.crypto.ballot_encoding`` prints them): one element holds
240 bits: a full ranking of up to 54 candidates (sum of L-permutations of 54: 2^238.5; of
55: 2^244.3), any set of up to 240 candidates, any single choice. The 2016 demo's contests
(2 candidates) take one element; an STV contest of 40 candidates fully ranked needs 160.6
bits, one element. A 100-candidate full ranking needs 526 bits: width 3.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import rbcl

from tallyroom.count.rules.registry import BallotKind
from tallyroom.crypto.group import ELEMENT_BYTES, IDENTITY, Element
from tallyroom.errors import InputError

__all__ = [
    "COUNTER_LIMIT",
    "LIMB_BITS",
    "BallotShape",
    "ChoiceSet",
    "InvalidBallot",
    "InvalidReason",
    "MotionChoice",
    "Ranking",
    "Selection",
    "SingleChoice",
    "code_from_elements",
    "code_to_elements",
    "decode",
    "decode_rows",
    "element_for_limb",
    "encode",
    "limb_of_element",
    "shape_for",
    "width",
]

#: Bits of a code carried by one element (bytes 1..30 of its encoding).
LIMB_BITS = 240

#: Counters tried per element: byte 0 holds 7 bits of the counter, byte 31 the eighth.
COUNTER_LIMIT = 256

#: A selection: 0-based candidate (or option) indices, in preference order for a ranking,
#: ascending for a set, one or none for a single choice.
Selection = tuple[int, ...]


class InvalidReason(enum.Enum):
    """Why a decrypted plaintext is not a valid ballot (published with the ballot)."""

    WIDTH = "width"  # not the contest's number of elements
    IDENTITY = "identity"  # an element is the identity, which encodes nothing
    COUNTER = "counter"  # an element's counter is not the smallest that works (marked)
    RANGE = "range"  # the code is not below the contest's number of ballots


@dataclass(frozen=True, slots=True)
class InvalidBallot:
    """A decrypted plaintext that is no valid ballot: the reason and what was found."""

    reason: InvalidReason
    detail: str


class BallotShape(Protocol):
    """The valid ballots of a contest, numbered ``0 .. size - 1``."""

    @property
    def size(self) -> int: ...

    def code(self, selection: Sequence[int]) -> int:
        """The selection's number; :class:`InputError` if it is no valid ballot."""
        ...

    def selection(self, code: int) -> Selection:
        """The selection numbered ``code`` (``0 <= code < size``)."""
        ...


def _check_marks(selection: Sequence[int], n: int, k: int, noun: str) -> tuple[int, ...]:
    raw = tuple(selection)
    try:  # any integer type (numpy's too, from the count's rank matrix), never a bool
        marks = tuple(operator.index(c) for c in raw if not isinstance(c, bool))
    except TypeError:
        marks = ()
    if len(marks) != len(raw) or any(not 0 <= c < n for c in marks):
        raise InputError(f"no such {noun} (0..{n - 1})", field="selection", value=raw)
    if len(marks) > k:
        raise InputError(f"a ballot marks at most {k} {noun}s", field="selection", value=marks)
    if len(set(marks)) != len(marks):
        raise InputError(f"a {noun} is marked twice", field="selection", value=marks)
    return marks


def _check_range(code: int, size: int) -> None:
    if not 0 <= code < size:
        raise InputError(f"a code is below {size}", field="code", value=code)


@dataclass(frozen=True, slots=True)
class Ranking:
    """Rankings of up to ``max_ranks`` distinct candidates out of ``candidates``."""

    candidates: int
    max_ranks: int

    def __post_init__(self) -> None:
        if self.candidates < 1 or not 0 <= self.max_ranks <= self.candidates:
            raise InputError(
                "a ranking needs 1 or more candidates and 0..candidates ranks",
                field="max_ranks",
                value=(self.candidates, self.max_ranks),
            )

    @property
    def size(self) -> int:
        return _ranking_offset(self.candidates, self.max_ranks + 1)

    def code(self, selection: Sequence[int]) -> int:
        marks = _check_marks(selection, self.candidates, self.max_ranks, "candidate")
        n = self.candidates
        rank = 0
        for i, c in enumerate(marks):
            digit = c - sum(1 for earlier in marks[:i] if earlier < c)
            rank = rank * (n - i) + digit
        return _ranking_offset(n, len(marks)) + rank

    def selection(self, code: int) -> Selection:
        _check_range(code, self.size)
        n = self.candidates
        length = 0
        while _ranking_offset(n, length + 1) <= code:
            length += 1
        rank = code - _ranking_offset(n, length)
        digits = []
        for i in reversed(range(length)):
            rank, digit = divmod(rank, n - i)
            digits.append(digit)
        digits.reverse()
        left = list(range(n))
        return tuple(left.pop(d) for d in digits)


def _ranking_offset(n: int, length: int) -> int:
    """How many rankings of ``n`` candidates have fewer than ``length`` preferences."""
    return sum(math.perm(n, j) for j in range(length))


@dataclass(frozen=True, slots=True)
class ChoiceSet:
    """Sets of up to ``max_choices`` candidates out of ``candidates`` (a block vote)."""

    candidates: int
    max_choices: int

    def __post_init__(self) -> None:
        if self.candidates < 1 or not 0 <= self.max_choices <= self.candidates:
            raise InputError(
                "a set needs 1 or more candidates and 0..candidates choices",
                field="max_choices",
                value=(self.candidates, self.max_choices),
            )

    @property
    def size(self) -> int:
        return _set_offset(self.candidates, self.max_choices + 1)

    def code(self, selection: Sequence[int]) -> int:
        marks = sorted(_check_marks(selection, self.candidates, self.max_choices, "candidate"))
        colex = sum(math.comb(c, i + 1) for i, c in enumerate(marks))
        return _set_offset(self.candidates, len(marks)) + colex

    def selection(self, code: int) -> Selection:
        _check_range(code, self.size)
        n = self.candidates
        s = 0
        while _set_offset(n, s + 1) <= code:
            s += 1
        rest = code - _set_offset(n, s)
        marks = []
        c = n - 1
        for i in range(s, 0, -1):
            while math.comb(c, i) > rest:
                c -= 1
            marks.append(c)
            rest -= math.comb(c, i)
            c -= 1
        return tuple(reversed(marks))


def _set_offset(n: int, size: int) -> int:
    """How many sets of ``n`` candidates have fewer than ``size`` members."""
    return sum(math.comb(n, j) for j in range(size))


@dataclass(frozen=True, slots=True)
class SingleChoice:
    """One of ``candidates`` candidates, or blank: blank is 0, candidate ``c`` is ``c + 1``."""

    candidates: int

    def __post_init__(self) -> None:
        if self.candidates < 1:
            raise InputError("a choice needs a candidate", field="candidates", value=0)

    @property
    def size(self) -> int:
        return self.candidates + 1

    def code(self, selection: Sequence[int]) -> int:
        marks = _check_marks(selection, self.candidates, 1, "candidate")
        return marks[0] + 1 if marks else 0

    def selection(self, code: int) -> Selection:
        _check_range(code, self.size)
        return (code - 1,) if code else ()


@dataclass(frozen=True, slots=True)
class MotionChoice:
    """One of a motion's ``options`` (for example for, against, abstain), or blank; numbered
    as a :class:`SingleChoice` of the options."""

    options: int

    def __post_init__(self) -> None:
        if self.options < 2:
            raise InputError("a motion has 2 or more options", field="options", value=self.options)

    @property
    def size(self) -> int:
        return self.options + 1

    def code(self, selection: Sequence[int]) -> int:
        marks = _check_marks(selection, self.options, 1, "option")
        return marks[0] + 1 if marks else 0

    def selection(self, code: int) -> Selection:
        _check_range(code, self.size)
        return (code - 1,) if code else ()


def shape_for(kind: BallotKind, *, candidates: int, seats: int) -> BallotShape:
    """The shape of a counting rule's ballot (count/rules/registry.py's ballot kinds)."""
    if kind is BallotKind.SINGLE:
        return SingleChoice(candidates)
    if kind is BallotKind.CHOICE:  # a motion: its answers are the "candidates"
        return MotionChoice(candidates)
    if kind is BallotKind.MULTI:
        return ChoiceSet(candidates, min(seats, candidates))
    return Ranking(candidates, candidates)


def width(shape: BallotShape) -> int:
    """Elements per ballot of the contest: ``max(1, ceil(bits(size - 1) / 240))``."""
    return max(1, -(-(shape.size - 1).bit_length() // LIMB_BITS))


def _candidate(limb: int, counter: int) -> bytes:
    """The bytes for a limb and a counter (the table in the module docstring)."""
    return (
        bytes([(counter & 0x7F) << 1])
        + limb.to_bytes(LIMB_BITS // 8, "little")
        + bytes([counter >> 7])
    )


def _is_element(data: bytes) -> bool:
    # the identity (32 zero bytes: limb 0, counter 0) is an element but encodes nothing
    return data != IDENTITY and bool(rbcl.crypto_core_ristretto255_is_valid_point(data))


def element_for_limb(limb: int) -> Element:
    """The element carrying a 240-bit ``limb``: the smallest counter that gives an element."""
    if not 0 <= limb < 1 << LIMB_BITS:
        raise InputError(f"a limb is below 2^{LIMB_BITS}", field="limb", value=limb)
    for counter in range(COUNTER_LIMIT):
        data = _candidate(limb, counter)
        if _is_element(data):
            return Element(data)
    raise InputError("no counter gives an element (probability 2^-106)", value=limb)


def limb_of_element(element: Element) -> int | InvalidBallot:
    """The limb an element carries, or why it carries none."""
    if len(element) != ELEMENT_BYTES:
        return InvalidBallot(InvalidReason.WIDTH, f"an element of {len(element)} bytes")
    if element == IDENTITY:
        return InvalidBallot(InvalidReason.IDENTITY, "the identity encodes no ballot")
    counter = (element[0] >> 1) | (element[31] << 7)
    limb = int.from_bytes(element[1:31], "little")
    if counter >= COUNTER_LIMIT:
        return InvalidBallot(
            InvalidReason.COUNTER, f"counter {counter}, above any encoder's ({element.hex()})"
        )
    for smaller in range(counter):
        if _is_element(_candidate(limb, smaller)):
            return InvalidBallot(
                InvalidReason.COUNTER,
                f"counter {counter} where {smaller} already gives an element ({element.hex()})",
            )
    return limb


def code_to_elements(code: int, elements: int) -> tuple[Element, ...]:
    """``code`` as ``elements`` elements, 240 bits each, least significant first."""
    if not 0 <= code < 1 << (LIMB_BITS * elements):
        raise InputError(f"a code does not fit {elements} element(s)", field="code", value=code)
    mask = (1 << LIMB_BITS) - 1
    return tuple(element_for_limb((code >> (LIMB_BITS * i)) & mask) for i in range(elements))


def code_from_elements(elements: Sequence[Element]) -> int | InvalidBallot:
    """The code carried by ``elements`` (least significant first), or why there is none."""
    code = 0
    for i, element in enumerate(elements):
        limb = limb_of_element(element)
        if isinstance(limb, InvalidBallot):
            return InvalidBallot(limb.reason, f"element {i}: {limb.detail}")
        code |= limb << (LIMB_BITS * i)
    return code


def encode(shape: BallotShape, selection: Sequence[int]) -> tuple[Element, ...]:
    """The elements of a valid ballot (:class:`InputError` if it is no valid ballot)."""
    return code_to_elements(shape.code(selection), width(shape))


def decode(shape: BallotShape, elements: Sequence[Element]) -> Selection | InvalidBallot:
    """The ballot decrypted ``elements`` carry, or an :class:`InvalidBallot` with its reason."""
    expected = width(shape)
    if len(elements) != expected:
        return InvalidBallot(
            InvalidReason.WIDTH, f"{len(elements)} element(s) where the contest has {expected}"
        )
    code = code_from_elements(elements)
    if isinstance(code, InvalidBallot):
        return code
    if code >= shape.size:
        return InvalidBallot(InvalidReason.RANGE, f"code {code} of a contest of {shape.size}")
    return shape.selection(code)


def decode_rows(
    shape: BallotShape, plaintexts: Sequence[Element]
) -> list[Selection | InvalidBallot]:
    """The ballots of decrypted rows laid end to end (``width(shape)`` elements a ballot, as
    threshold decryption returns a shuffled board's rows flattened), in order."""
    w = width(shape)
    if len(plaintexts) % w:
        raise InputError(f"rows of {w} elements", field="plaintexts", value=len(plaintexts))
    return [decode(shape, plaintexts[i : i + w]) for i in range(0, len(plaintexts), w)]


if __name__ == "__main__":  # pragma: no cover - prints the limits the docstring states
    for n in (2, 10, 40, 54, 55, 100):
        size = Ranking(n, n).size
        print(f"full ranking of {n:3}: {math.log2(size):7.1f} bits, width {width(Ranking(n, n))}")
