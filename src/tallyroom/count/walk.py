"""Walking ballots down their rankings to the next continuing candidate, vectorised.

The walk follows RCTab's per-ballot loop (``Tabulator.computeTalliesForRound``) for every
distinct ranking at once. For each marked rank, in order:

1. too many skipped ranks since the previous mark (``rank - last > maxSkipped + 1``):
   inactive, *skipped rankings*;
2. with ``exhaustOnDuplicateCandidate``, a candidate already marked at an earlier rank:
   inactive, *repeated rankings*;
3. an overvote: *overvotes* under ``exhaustImmediately``; passed over under
   ``alwaysSkipToNextRank`` (on the last marked rank: *exhausted choices*); under
   ``exhaustIfMultipleContinuing`` an overvote with two or more continuing candidates is an
   *overvote*, with exactly one it counts for that one, with none it is passed over;
4. a continuing candidate takes the ballot; otherwise, on the last marked rank: *exhausted
   choices*.

Steps 1-2 depend only on the ballot, so they are computed once per distinct ranking
(:class:`CellFlags`). Continuing candidates only ever drop out, so resuming a ballot's walk at
the rank that last held it gives the same answer as RCTab's walk from the first rank.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import OVERVOTE, OVERVOTE_SET_BASE, SKIP, Codes
from tallyroom.count.options import OvervoteRule

__all__ = ["CellFlags", "Status", "WalkResult", "cell_flags", "walk"]

Bools = npt.NDArray[np.bool_]


class Status(enum.IntEnum):
    """A ballot's state; every value but ACTIVE is a reason for being inactive."""

    ACTIVE = 0
    OVERVOTE = 1
    SKIPPED_RANKINGS = 2
    EXHAUSTED_CHOICES = 3
    REPEATED_RANKINGS = 4
    FINAL_ROUND_SURPLUS = 5
    NO_RANKINGS = 6


# plain ints for numpy (an IntEnum member costs a conversion in every array operation)
_ACTIVE = int(Status.ACTIVE)
_OVERVOTE = int(Status.OVERVOTE)
_SKIPPED = int(Status.SKIPPED_RANKINGS)
_EXHAUSTED = int(Status.EXHAUSTED_CHOICES)
_REPEATED = int(Status.REPEATED_RANKINGS)


@dataclass(frozen=True, slots=True)
class CellFlags:
    """Static facts about each cell of each distinct ranking.

    ``columns`` holds the rankings column by column (rank by rank): the walk reads the cells
    of many rankings at once, and numpy runs an operation over a (W, G) array as W long loops
    where over a (G, W) array it runs G loops of W cells.
    """

    first: Codes  # (G,) column of the first marked rank
    last: Codes  # (G,) column of the last marked rank (-1: nothing marked)
    gap: Bools | None  # (G, W) too many ranks skipped before this mark
    repeat: Bools | None  # (G, W) repeats a candidate marked at an earlier rank
    columns: Codes  # (W, G) the rankings, transposed

    @property
    def empty(self) -> Bools:
        return self.last < 0


def cell_flags(
    rows: Codes,
    overvote_sets: tuple[tuple[int, ...], ...],
    n_candidates: int,
    *,
    max_skipped: int | None,
    check_repeats: bool,
) -> CellFlags:
    g, w = rows.shape
    columns = np.ascontiguousarray(rows.T)
    first = np.zeros(g, dtype=np.int32)  # 0 for a ranking with no mark, as argmax gives
    last = np.full(g, -1, dtype=np.int32)
    for c in range(w):
        last = np.where(columns[c] != SKIP, c, last).astype(np.int32, copy=False)
    for c in range(w - 1, -1, -1):
        first = np.where(columns[c] != SKIP, c, first).astype(np.int32, copy=False)
    gap = None
    if max_skipped is not None:
        marked = rows != SKIP
        rank = np.arange(1, w + 1, dtype=np.int32)
        # rank of the previous mark (0 before the first), per cell
        prev = np.zeros((g, w), dtype=np.int32)
        if w > 1:
            prev[:, 1:] = np.maximum.accumulate(np.where(marked, rank, 0), axis=1)[:, :-1]
        gap = marked & ((rank - prev) > (max_skipped + 1))
    repeat = None
    if check_repeats:
        repeat = _repeats(rows, overvote_sets, n_candidates)
    return CellFlags(first=first, last=last, gap=gap, repeat=repeat, columns=columns)


def _repeats(rows: Codes, overvote_sets: tuple[tuple[int, ...], ...], n: int) -> Bools:
    """Cells naming a candidate (or the overvote label) already named at an earlier rank."""
    g, w = rows.shape
    label = n  # the overvote label counts as a name of its own, as in RCTab
    members = np.zeros((len(overvote_sets) + 1, n + 1), dtype=bool)
    # a set naming one candidate twice (two marks for A at one rank) repeats A within the rank
    doubled = np.zeros(len(overvote_sets) + 1, dtype=bool)
    for k, s in enumerate(overvote_sets):
        members[k, list(s)] = True
        doubled[k] = len(set(s)) < len(s)
    seen = np.zeros((g, n + 1), dtype=bool)
    out = np.zeros((g, w), dtype=bool)
    gi = np.arange(g)
    for c in range(w):
        col = rows[:, c]
        mask = np.zeros((g, n + 1), dtype=bool)
        cand = col >= 0
        mask[gi[cand], col[cand]] = True
        mask[col == OVERVOTE, label] = True
        is_set = col <= OVERVOTE_SET_BASE
        out[:, c] = False
        if is_set.any():
            which = OVERVOTE_SET_BASE - col[is_set]
            mask[is_set] = members[which]
            out[is_set, c] = doubled[which]
        out[:, c] |= (seen & mask).any(axis=1)
        seen |= mask
    return out


@dataclass(frozen=True, slots=True)
class WalkResult:
    recipient: Codes  # candidate code, or -1 when the ballot became inactive
    status: npt.NDArray[np.int8]
    position: Codes  # column where the ballot now rests


def walk(
    rows: Codes,
    flags: CellFlags,
    groups: npt.NDArray[np.intp],
    start: Codes,
    continuing: Bools,
    overvote_sets: tuple[tuple[int, ...], ...],
    rule: OvervoteRule,
) -> WalkResult:
    """Move each of ``groups`` from column ``start`` to its next continuing candidate.

    Each cell's outcome depends only on the cell (its code, its flags, who continues), so
    every cell of every group is judged at once and each group stops at its first cell, at or
    after ``start``, that ends the walk; the order of the tests is the order of steps 1-4.
    A group with no such cell walked past its last rank: *exhausted choices*, at column
    ``width``.
    """
    n = groups.shape[0]
    width = rows.shape[1]
    if n == 0 or width == 0:  # nothing to walk, or no rank to walk to
        return WalkResult(
            recipient=np.full(n, -1, dtype=np.int32),
            status=np.full(n, _EXHAUSTED, dtype=np.int8),
            position=np.maximum(start, width).astype(np.int32),
        )
    code = np.take(flags.columns, groups, axis=1)  # (width, n): rank by rank
    marked = code != SKIP
    col = np.arange(width, dtype=np.int32)[:, None]
    # an overvote passed over simply does not take the ballot (choice stays negative)
    choice = code
    over: Bools | None = None  # step 3: an overvote that makes the ballot inactive
    if rule is not OvervoteRule.ALWAYS_SKIP_TO_NEXT_RANK and (code < SKIP).any():
        if rule is OvervoteRule.EXHAUST_IMMEDIATELY:
            over = code < SKIP
        else:
            is_set = code <= OVERVOTE_SET_BASE
            if is_set.any():
                set_count, set_member = _continuing_in_sets(overvote_sets, continuing)
                k = np.where(is_set, OVERVOTE_SET_BASE - code, 0)
                cnt = set_count[k]
                over = is_set & (cnt >= 2)
                choice = np.where(is_set & (cnt == 1), set_member[k], code)
    # step 4: a continuing candidate; a code below 0 (an overvote, no mark) names nobody
    lowest = OVERVOTE_SET_BASE - len(overvote_sets)
    named = np.concatenate([np.zeros(-lowest, dtype=bool), continuing])
    takes = np.take(named, choice - lowest)
    gap = marked & flags.gap[groups].T if flags.gap is not None else None  # step 1
    repeat = marked & flags.repeat[groups].T if flags.repeat is not None else None  # step 2
    # the cells where a walk ends: any of steps 1-4, or the last mark
    stops = takes | (col == flags.last[groups])
    for ends in (over, repeat, gap):
        if ends is not None:
            stops |= ends
    stops &= col >= start
    first = np.full(n, width, dtype=np.int32)  # width: no cell ends the walk
    for c in range(width - 1, -1, -1):
        first = np.where(stops[c], c, first).astype(np.int32, copy=False)
    stopped = first < width
    cell = np.minimum(first, width - 1) * n + np.arange(n)  # each ballot's ending cell
    # what ended the walk, in the order of the steps: the earliest step wins
    taken = stopped & takes.reshape(-1)[cell]
    status = np.where(taken, _ACTIVE, _EXHAUSTED).astype(np.int8)
    for reason, ends in ((_OVERVOTE, over), (_REPEATED, repeat), (_SKIPPED, gap)):
        if ends is not None:
            hit = stopped & ends.reshape(-1)[cell]
            status[hit] = reason
            taken &= ~hit
    recipient = np.where(taken, choice.reshape(-1)[cell], -1).astype(np.int32)
    return WalkResult(recipient=recipient, status=status, position=first)


def _continuing_in_sets(
    overvote_sets: tuple[tuple[int, ...], ...], continuing: Bools
) -> tuple[Codes, Codes]:
    count = np.zeros(max(len(overvote_sets), 1), dtype=np.int32)
    member = np.full(max(len(overvote_sets), 1), -1, dtype=np.int32)
    for k, s in enumerate(overvote_sets):
        live = [c for c in s if continuing[c]]
        count[k] = len(live)
        if len(live) == 1:
            member[k] = live[0]
    return count, member
