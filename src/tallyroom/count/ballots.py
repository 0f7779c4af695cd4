"""Cast vote records held column-wise, and the compact ballot store the rules count from.

A contest's cast vote records (CVRs) are a matrix of *codes*: ``ranks[i, r-1]`` is what ballot
``i`` marked at rank ``r``. A code is one of

* ``0 .. n-1``: a candidate, indexing :attr:`CandidateTable.names`;
* :data:`SKIP`: nothing marked at this rank (a blank, or the source's skipped-rank label);
* :data:`OVERVOTE`: an overvote whose candidates the source does not say (an overvote label);
* ``OVERVOTE_SET_BASE - k`` (``k >= 0``): an overvote whose candidates are known, namely
  ``overvote_sets[k]`` (a tuple of candidate codes in the source's order, sorted when the
  source has none; a code appears twice when the same candidate was marked twice at that
  rank, which RCTab also treats as an overvote). The order matters only to rules that read
  an overvote as equal preferences in order (Meek's equalized fixed-point count); for every
  other rule a set is a set.

Codes are stored as ``int32``. Identical rows are grouped by :meth:`CastVoteRecords.grouped`
into a :class:`BallotStore` (unique rows plus an integer weight), which is what the rules
count: a million ballots with a few thousand distinct rankings count in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "OVERVOTE",
    "OVERVOTE_SET_BASE",
    "SKIP",
    "BallotStore",
    "CandidateTable",
    "CastVoteRecords",
    "Codes",
    "overvote_set_code",
]

SKIP = -1
OVERVOTE = -2
OVERVOTE_SET_BASE = -3

Codes = npt.NDArray[np.int32]
Weights = npt.NDArray[np.int64]


def overvote_set_code(index: int) -> int:
    """The code of ``overvote_sets[index]``."""
    return OVERVOTE_SET_BASE - index


@dataclass(frozen=True, slots=True)
class CandidateTable:
    """The candidates of a contest in declared order; a candidate's code is its index.

    ``undeclared_write_in`` is the code of the "Undeclared Write-ins" pseudo-candidate when the
    contest has one (it can never win). ``excluded`` holds the codes of candidates removed from
    the count before the first round.
    """

    names: tuple[str, ...]
    undeclared_write_in: int | None = None
    excluded: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if len(set(self.names)) != len(self.names):
            dupes = sorted({n for n in self.names if self.names.count(n) > 1})
            raise ValueError(f"candidate names must be unique: {dupes}")
        if self.undeclared_write_in is not None and not (
            0 <= self.undeclared_write_in < len(self.names)
        ):
            raise ValueError("undeclared_write_in is not a candidate code")

    def __len__(self) -> int:
        return len(self.names)

    def code(self, name: str) -> int:
        return self.names.index(name)


@dataclass(slots=True)
class CastVoteRecords:
    """The cast vote records of one contest, column-wise (see the module docstring).

    ``precincts`` and ``batches`` index ``precinct_names`` / ``batch_names`` (``-1``: none
    given). ``ids`` are the records' identifiers when the source has them.
    """

    candidates: CandidateTable
    ranks: Codes
    overvote_sets: tuple[tuple[int, ...], ...] = ()
    precincts: Codes | None = None
    precinct_names: tuple[str, ...] = ()
    batches: Codes | None = None
    batch_names: tuple[str, ...] = ()
    ids: tuple[str, ...] | None = None
    sources: tuple[str, ...] = ()
    source_index: Codes | None = field(default=None)

    def __post_init__(self) -> None:
        if self.ranks.ndim != 2:
            raise ValueError("ranks must be a 2-D matrix")
        n = self.ranks.shape[0]
        for name in ("precincts", "batches", "source_index"):
            col = getattr(self, name)
            if col is not None and col.shape != (n,):
                raise ValueError(f"{name} must have one entry per record")
        if self.ids is not None and len(self.ids) != n:
            raise ValueError("ids must have one entry per record")

    def __len__(self) -> int:
        return int(self.ranks.shape[0])

    @property
    def max_rank(self) -> int:
        return int(self.ranks.shape[1])

    def grouped(self, key: Codes | None = None) -> BallotStore:
        """Group identical rankings (and identical ``key`` values, if given) with a weight."""
        return BallotStore.from_rows(self.ranks, self.overvote_sets, key=key)

    def grouped_with_index(self, key: Codes | None = None) -> tuple[BallotStore, Codes]:
        """As :meth:`grouped`, also giving each record's group (to trace a record's vote)."""
        table = self.ranks if key is None else np.column_stack([self.ranks, key])
        table = np.ascontiguousarray(table, dtype=np.int32)
        rows, counts, inverse = _group_rows(table, with_inverse=True)
        width = self.max_rank
        store = BallotStore(
            rows=np.ascontiguousarray(rows[:, :width]),
            weights=counts,
            overvote_sets=self.overvote_sets,
            keys=None if key is None else np.ascontiguousarray(rows[:, width]),
        )
        return store, inverse

    @staticmethod
    def concat(parts: Sequence[CastVoteRecords]) -> CastVoteRecords:
        """Join the records of several sources of the same contest, in order."""
        if not parts:
            raise ValueError("nothing to join")
        first = parts[0]
        if len(parts) == 1:
            return first
        width = max(p.max_rank for p in parts)
        sets: list[tuple[int, ...]] = []
        set_index: dict[tuple[int, ...], int] = {}
        blocks: list[Codes] = []
        for p in parts:
            block = np.full((len(p), width), SKIP, dtype=np.int32)
            block[:, : p.max_rank] = p.ranks
            if p.overvote_sets:
                remap = np.empty(len(p.overvote_sets), dtype=np.int32)
                for k, s in enumerate(p.overvote_sets):
                    if s not in set_index:
                        set_index[s] = len(sets)
                        sets.append(s)
                    remap[k] = overvote_set_code(set_index[s])
                is_set = block <= OVERVOTE_SET_BASE
                block[is_set] = remap[OVERVOTE_SET_BASE - block[is_set]]
            blocks.append(block)
        precincts, precinct_names = _concat_labels(
            [(p.precincts, p.precinct_names, len(p)) for p in parts]
        )
        batches, batch_names = _concat_labels([(p.batches, p.batch_names, len(p)) for p in parts])
        ids: tuple[str, ...] | None = None
        if all(p.ids is not None for p in parts):
            ids = tuple(i for p in parts for i in (p.ids or ()))
        sources: list[str] = []
        source_index: list[Codes] = []
        for p in parts:
            offset = len(sources)
            sources.extend(p.sources or ("",))
            idx = p.source_index if p.source_index is not None else np.zeros(len(p), np.int32)
            source_index.append((idx + offset).astype(np.int32))
        return CastVoteRecords(
            candidates=first.candidates,
            ranks=np.concatenate(blocks, axis=0),
            overvote_sets=tuple(sets),
            precincts=precincts,
            precinct_names=precinct_names,
            batches=batches,
            batch_names=batch_names,
            ids=ids,
            sources=tuple(sources),
            source_index=np.concatenate(source_index),
        )


def _concat_labels(
    parts: list[tuple[Codes | None, tuple[str, ...], int]],
) -> tuple[Codes | None, tuple[str, ...]]:
    if all(col is None for col, _, _ in parts):
        return None, ()
    names: list[str] = []
    index: dict[str, int] = {}
    cols: list[Codes] = []
    for col, labels, n in parts:
        if col is None:
            cols.append(np.full(n, -1, dtype=np.int32))
            continue
        remap = np.empty(len(labels) + 1, dtype=np.int32)
        remap[-1] = -1
        for k, label in enumerate(labels):
            if label not in index:
                index[label] = len(names)
                names.append(label)
            remap[k] = index[label]
        cols.append(remap[col])
    return np.concatenate(cols), tuple(names)


@dataclass(frozen=True, slots=True)
class BallotStore:
    """Distinct rankings with how many ballots carry each (the unit the rules count).

    ``rows[g]`` is a ranking in the code form of :class:`CastVoteRecords`; ``weights[g]`` the
    number of ballots with that ranking; ``keys[g]`` the grouping key (for example a precinct)
    when one was given, else ``None``.
    """

    rows: Codes
    weights: Weights
    overvote_sets: tuple[tuple[int, ...], ...] = ()
    keys: Codes | None = None

    @staticmethod
    def from_rows(
        ranks: Codes,
        overvote_sets: tuple[tuple[int, ...], ...] = (),
        *,
        key: Codes | None = None,
    ) -> BallotStore:
        """Group identical rows of ``ranks`` (and ``key``) and count them."""
        n, width = ranks.shape
        if n == 0:
            return BallotStore(
                rows=np.empty((0, width), dtype=np.int32),
                weights=np.empty(0, dtype=np.int64),
                overvote_sets=overvote_sets,
                keys=None if key is None else np.empty(0, dtype=np.int32),
            )
        table = ranks if key is None else np.column_stack([ranks, key])
        table = np.ascontiguousarray(table, dtype=np.int32)
        grouped, counts, _ = _group_rows(table)
        return BallotStore(
            rows=np.ascontiguousarray(grouped[:, :width]),
            weights=counts,
            overvote_sets=overvote_sets,
            keys=None if key is None else np.ascontiguousarray(grouped[:, width]),
        )

    @staticmethod
    def from_rankings(
        rankings: Sequence[Sequence[int]], weights: Sequence[int] | None = None
    ) -> BallotStore:
        """Build a store from plain rankings (candidate codes, best first)."""
        width = max((len(r) for r in rankings), default=0) or 1
        ranks = np.full((len(rankings), width), SKIP, dtype=np.int32)
        for i, r in enumerate(rankings):
            ranks[i, : len(r)] = r
        if weights is None:
            return BallotStore.from_rows(ranks)
        return BallotStore(rows=ranks, weights=np.asarray(weights, dtype=np.int64))

    @property
    def total(self) -> int:
        return int(self.weights.sum())

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def recoded(self, new_code: Sequence[int]) -> BallotStore:
        """The same ballots with candidate ``c`` renamed ``new_code[c]`` (a permutation), in
        the rows and in the overvote sets (their order kept): for counting ballots read
        against one candidate table by another holding the same candidates."""
        if sorted(new_code) != list(range(len(new_code))):
            raise ValueError("new_code must be a permutation of the candidate codes")
        table = np.asarray([*new_code], dtype=np.int32)
        rows = self.rows.copy()
        cand = rows >= 0
        rows[cand] = table[rows[cand]]
        sets = tuple(tuple(new_code[c] for c in s) for s in self.overvote_sets)
        return BallotStore(rows=rows, weights=self.weights, overvote_sets=sets, keys=self.keys)


# Rows are grouped by packing each into one integer when the codes allow it: a counting pass
# (np.bincount over the packed values) when their range is small, a sort of int64 otherwise,
# and a sort of opaque byte strings as the general fallback. Groups come out in packed order,
# which is deterministic; no count depends on the order of the groups.
_DENSE_LIMIT = 1 << 23


def _group_rows(table: Codes, *, with_inverse: bool = False) -> tuple[Codes, Weights, Codes]:
    n, width = table.shape
    low = int(table.min())
    high = int(table.max())
    base = high - low + 1
    if base**width < (1 << 62):
        packed = np.zeros(n, dtype=np.int64)
        for c in range(width):
            packed *= base
            packed += table[:, c].astype(np.int64) - low
        inverse = np.empty(0, dtype=np.int32)
        if base**width <= _DENSE_LIMIT:
            counts_all = np.bincount(packed, minlength=0)
            uniq = np.flatnonzero(counts_all)
            counts = counts_all[uniq].astype(np.int64)
            if with_inverse:
                inverse = np.searchsorted(uniq, packed).astype(np.int32)
        else:
            uniq, inv, counts = np.unique(packed, return_inverse=True, return_counts=True)
            counts = counts.astype(np.int64)
            inverse = inv.astype(np.int32)
        rows = np.empty((uniq.shape[0], width), dtype=np.int32)
        rest = uniq.astype(np.int64)
        for c in range(width - 1, -1, -1):
            rest, digit = np.divmod(rest, base)
            rows[:, c] = digit + low
        return rows, counts, inverse
    void = table.view(np.dtype((np.void, table.dtype.itemsize * width))).ravel()
    _, first, inv, counts = np.unique(
        void, return_index=True, return_inverse=True, return_counts=True
    )
    return table[first], counts.astype(np.int64), inv.astype(np.int32)
