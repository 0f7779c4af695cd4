"""Drawing lots: the one way every rule decides a tie that its own steps leave unresolved.

A statute settles most ties by earlier tallies (SSI 2007/42 r.49(2): "the most recent
preceding stage"; ERS97 5.2.3: "the earliest point"); what is left is decided "by lot". In
tallyroom a lot is, in this order:

1. the returning officer's decision, when a :data:`~tallyroom.count.options.TieDecider` is
   given (a lot drawn by hand, or a decisions file);
2. else one draw of ``java.util.Random(seed)`` (:class:`~tallyroom.count.javarandom
   .JavaRandom`), one generator for the whole count, taking index ``floor(nextDouble() * k)``
   of the ``k`` tied candidates in the order the rule lists them (candidate order), as RCTab
   draws; the seed is recorded with the result so that anyone can redraw it;
3. else the count stops: no seed and no decision means nobody chose how to draw.

RCTab's own tie-break modes (:mod:`tallyroom.count.tiebreak`) draw with the same generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from tallyroom.count.javarandom import JavaRandom
from tallyroom.count.options import TieDecider
from tallyroom.errors import CountError, TieUnresolved

__all__ = ["Lot", "LotDrawer"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Lot:
    """How a count draws lots: an operator's ``decider`` first, else ``java.util.Random(seed)``;
    with neither, a tie left to lot stops the count."""

    seed: int | None = None
    decider: TieDecider | None = None

    def drawer(self) -> LotDrawer:
        """The count's generator: make one per count and draw every lot from it."""
        return LotDrawer(self)


class LotDrawer:
    """One count's draws (mutable: the generator moves on with each draw)."""

    __slots__ = ("_random", "lot")

    def __init__(self, lot: Lot) -> None:
        self.lot = lot
        self._random = JavaRandom(lot.seed) if lot.seed is not None else None

    @property
    def can_draw(self) -> bool:
        return self._random is not None

    def draw(self, tied: Sequence[T]) -> T:
        """One of ``tied``, by the generator; a :class:`CountError` without a seed."""
        if self._random is None:
            raise CountError("a tie broken by lot needs a random seed")
        return tied[self._random.next_index(len(tied))]

    def sample(self, n: int, k: int, *, what: str) -> list[int]:
        """``k`` distinct positions of ``0..n-1`` drawn by the generator, in draw order: a
        partial Fisher-Yates shuffle, position ``i`` swapped with ``i + nextInt(n - i)`` for
        ``i = 0..k-1`` (for papers mixed and drawn, e.g. Electoral Act 1992 s.121); a
        :class:`CountError` naming ``what`` without a seed. An operator's decider does not
        choose papers."""
        if self._random is None:
            raise CountError(f"{what} is drawn by lot and needs a random seed")
        moved: dict[int, int] = {}
        picked: list[int] = []
        for i in range(k):
            j = i + self._random.next_int(n - i)
            picked.append(moved.get(j, j))
            moved[j] = moved.get(i, i)
        return picked

    def choose(
        self, tied: Sequence[T], names: Sequence[str], *, stage: int, winner: bool, what: str
    ) -> T:
        """One of ``tied`` (named ``names``, in the rule's order) decided by lot: the operator's
        decision when the lot has a decider, else a draw; :class:`TieUnresolved` with neither
        (``what`` says which decision waits, e.g. "exclusion at stage 4")."""
        if self.lot.decider is not None:
            pick = self.lot.decider(stage, winner, list(names))
            if pick not in names:
                raise CountError(f"tie decision {pick!r} is not one of the tied: {list(names)}")
            return tied[list(names).index(pick)]
        if self._random is None:
            raise TieUnresolved(list(names), f"{what} (no lot seed given)")
        return tied[self._random.next_index(len(tied))]
