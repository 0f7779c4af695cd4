"""Sub-parcels of whole ballot papers, and which of a sub-parcel's papers are transferred.

In an Irish count (Electoral Act 1992, Part XIX) every paper is worth one vote and moves whole:
a candidate holds the parcel of their first preferences and then one *sub-parcel* per count at
which they received papers. A surplus that arises later is taken from "the sub-parcel last
received" only [s.121(2)(b)], and when a sub-parcel holds more transferable papers than the
surplus, only some of them move: the number is fixed by proportion [s.121(4)], but *which*
papers move is decided by their place in the sub-parcel, and the papers were mixed before the
count began [s.119(1), s.114]. Which papers move matters later, because their next preferences
differ. :func:`take` draws them: one draw of the count's lot generator per paper moved (a
partial Fisher-Yates shuffle, :meth:`~tallyroom.count.lot.LotDrawer.sample`), the seed recorded
with the result so that anyone can draw the same papers again.

A sub-parcel is kept per distinct ranking (papers with the same ranking at the same rank are
alike), so a million papers with a few thousand rankings stay a few thousand entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tallyroom.count.lot import LotDrawer

__all__ = ["SubParcel", "take"]

Index = npt.NDArray[np.intp]
Counts = npt.NDArray[np.int64]
Columns = npt.NDArray[np.int32]


@dataclass(slots=True)
class SubParcel:
    """Papers received together at one count (mutable: papers leave it when transferred).

    ``groups[i]`` is a distinct ranking of the ballot store, ``papers[i]`` how many of its
    papers are in the sub-parcel and ``pos[i]`` the column of the preference that put them
    here; entries are kept in ranking order, which is the order the draw reads them in.
    """

    count: int  # the count at which the papers were received (1: first preferences)
    groups: Index
    papers: Counts
    pos: Columns

    @property
    def size(self) -> int:
        return int(self.papers.sum())

    @staticmethod
    def join(count: int, parcels: list[SubParcel]) -> SubParcel:
        """All the papers of ``parcels`` as one (a candidate's papers "taken together")."""
        if not parcels:
            return SubParcel(
                count,
                np.empty(0, np.intp),
                np.empty(0, np.int64),
                np.empty(0, np.int32),
            )
        return SubParcel(
            count,
            np.concatenate([p.groups for p in parcels]),
            np.concatenate([p.papers for p in parcels]),
            np.concatenate([p.pos for p in parcels]),
        )


def take(papers: Counts, k: int, drawer: LotDrawer, *, what: str) -> tuple[Counts, bool]:
    """How many papers of each entry (``papers[i]`` papers each, in order) to move when ``k``
    of them must: all when ``k`` covers them, none for ``k == 0``, and otherwise ``k`` drawn by
    lot, unless every paper is alike (one entry). Returns the counts and whether a draw was made.
    """
    total = int(papers.sum())
    if k >= total:
        return papers.copy(), False
    live = np.flatnonzero(papers > 0)
    if k <= 0:
        return np.zeros_like(papers), False
    if live.size == 1:
        out = np.zeros_like(papers)
        out[live[0]] = k
        return out, False
    positions = np.asarray(drawer.sample(total, k, what=what), dtype=np.int64)
    bounds: npt.NDArray[Any] = np.cumsum(papers)
    entry = np.searchsorted(bounds, positions, side="right")
    moved: Counts = np.bincount(entry, minlength=papers.size).astype(np.int64)
    return moved, True
