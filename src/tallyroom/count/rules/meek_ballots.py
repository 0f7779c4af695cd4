"""Ballots as a Meek (or Wright) count walks them: withdrawn candidates struck, skipped ranks
closed up, rankings without equal preferences in a matrix and the others as lists of ranks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import OVERVOTE_SET_BASE, SKIP, BallotStore, CandidateTable

__all__ = ["PreparedBallots", "Ranking", "prepare_ballots"]

Ranking = tuple[tuple[int, ...], ...]  # ranks best first; each rank one or more candidates


@dataclass(frozen=True, slots=True)
class PreparedBallots:
    """Ballots as the count walks them: withdrawn candidates struck, skipped ranks closed up.

    ``strict`` holds the rankings without equal preferences as a matrix of candidate codes
    (``-1`` after the last), ``strict_weights`` their weights; ``tied`` the others. ``counted``
    is the total weight of both; ``dropped`` the weight of ballots naming nobody standing.
    """

    strict: npt.NDArray[np.int32]
    strict_weights: tuple[int, ...]
    tied: tuple[tuple[Ranking, int], ...]
    counted: int
    dropped: int


def prepare_ballots(store: BallotStore, candidates: CandidateTable) -> PreparedBallots:
    """Rankings for an iterative count (see the module docstring for what is struck)."""
    n = len(candidates)
    rows = np.asarray(store.rows, dtype=np.int32)
    weights = np.asarray(store.weights)
    width = rows.shape[1] if rows.ndim == 2 else 0
    if rows.shape[0] == 0 or width == 0:
        return PreparedBallots(np.full((0, 1), -1, np.int32), (), (), 0, int(weights.sum()))
    cells = rows.copy()
    if candidates.excluded:
        gone = np.isin(cells, sorted(candidates.excluded))
        cells[gone] = SKIP
    # Plain rows (candidate codes and skips only, no repeats) are closed up with numpy.
    plain = ~np.any(cells < SKIP, axis=1)
    order = np.argsort(cells == SKIP, axis=1, kind="stable")
    packed = np.take_along_axis(cells, order, axis=1)
    ordered = np.sort(np.where(packed == SKIP, n + np.arange(width), packed), axis=1)
    plain &= ~np.any(ordered[:, 1:] == ordered[:, :-1], axis=1)
    plain &= weights > 0
    nonempty = packed[:, 0] != SKIP
    dropped = int(weights[plain & ~nonempty].sum())
    take = plain & nonempty
    strict_rows: list[npt.NDArray[np.int32]] = [packed[take]]
    strict_w: list[int] = [int(w) for w in weights[take].tolist()]
    tied: list[tuple[Ranking, int]] = []
    for i in np.flatnonzero(~plain & (weights > 0)).tolist():
        ranking = _ranking(cells[i].tolist(), store.overvote_sets, candidates.excluded)
        weight = int(weights[i])
        if not ranking:
            dropped += weight
        elif all(len(r) == 1 for r in ranking):
            row = np.full((1, width), SKIP, dtype=np.int32)
            row[0, : len(ranking)] = [r[0] for r in ranking]
            strict_rows.append(row)
            strict_w.append(weight)
        else:
            tied.append((ranking, weight))
    strict = np.concatenate(strict_rows, axis=0) if strict_rows else packed[:0]
    used = int(np.max(np.sum(strict != SKIP, axis=1))) if strict.shape[0] else 1
    strict = np.ascontiguousarray(strict[:, : max(used, 1)])
    counted = sum(strict_w) + sum(w for _, w in tied)
    return PreparedBallots(strict, tuple(strict_w), tuple(tied), counted, dropped)


def _ranking(
    cells: list[int], sets: tuple[tuple[int, ...], ...], withdrawn: frozenset[int]
) -> Ranking:
    """One row's ranks: equal preferences expanded, withdrawn and repeated candidates struck."""
    seen: set[int] = set(withdrawn)
    ranks: list[tuple[int, ...]] = []
    for code in cells:
        if code == SKIP:
            continue
        if code >= 0:
            members: tuple[int, ...] = (code,)
        elif code <= OVERVOTE_SET_BASE:
            members = sets[OVERVOTE_SET_BASE - code]
        else:
            break  # [tallyroom] an overvote of unknown candidates: the ballot ends here
        kept = tuple(c for c in members if c not in seen)
        seen.update(members)
        if kept:
            ranks.append(kept)
    return tuple(ranks)
