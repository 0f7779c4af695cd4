"""Collecting cast vote records one at a time into :class:`CastVoteRecords`.

The record-oriented formats (CDF, Dominion, Hart, Clear Ballot, generic CSV) hand each record
to :class:`RecordsBuilder` as ``(rank, code)`` marks. The builder

* refuses ranks below 1 or above the contest's limit (RCTab's ``runAdditionalValidations`` /
  "Rankings must start at 1"), naming the file, the line or record and the value;
* joins marks that share a rank through :meth:`TokenResolver.selections` (an overvote set);
* keeps a record with no marks as an all-SKIP row (RCTab's "undervote");
* interns precinct and batch labels and keeps vendor record ids.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tallyroom.count.ballots import SKIP, CastVoteRecords
from tallyroom.errors import BallotFileError
from tallyroom.formats.rctab.cvr.tokens import TokenError, TokenResolver

__all__ = ["PROGRESS_EVERY", "RecordsBuilder", "csv_header", "located", "unreadable_csv"]

PROGRESS_EVERY = 10_000


def located(
    err: TokenError, path: Path | str, *, line: int | None = None, field: str | None = None
) -> BallotFileError:
    """A :class:`TokenError` with the place it was found."""
    return BallotFileError(err.problem, path=str(path), line=line, field=field, value=err.value)


class RecordsBuilder:
    """Accumulates records of one source; :meth:`build` returns them column-wise."""

    def __init__(
        self,
        resolver: TokenResolver,
        path: Path,
        limit: int | None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.resolver = resolver
        self.path = path
        self.limit = limit
        self._progress = progress
        self._rec: list[int] = []
        self._rank: list[int] = []
        self._code: list[int] = []
        self._n = 0
        self._precincts: list[int] = []
        self._precinct_index: dict[str, int] = {}
        self._batches: list[int] = []
        self._batch_index: dict[str, int] = {}
        self._ids: list[str | None] = []

    def __len__(self) -> int:
        return self._n

    def check_rank(self, rank: int, *, line: int | None = None, field: str | None = None) -> None:
        """Refuse a rank below 1 or beyond the contest's ``maxRankingsAllowed``."""
        if rank < 1:
            raise BallotFileError(
                "rankings must start at 1", path=str(self.path), line=line, field=field, value=rank
            )
        if self.limit is not None and rank > self.limit:
            raise BallotFileError(
                f"ranking beyond maxRankingsAllowed ({self.limit})",
                path=str(self.path),
                line=line,
                field=field,
                value=rank,
            )

    def add(
        self,
        marks: Sequence[tuple[int, int]],
        *,
        line: int | None = None,
        field: str | None = None,
        precinct: str | None = None,
        batch: str | None = None,
        record_id: str | None = None,
    ) -> None:
        """One record: its ``(rank, code)`` marks (ranks already checked), labels and id."""
        by_rank: dict[int, list[int]] = {}
        for rank, code in marks:
            if rank < 1:
                self.check_rank(rank, line=line, field=field)
            by_rank.setdefault(rank, []).append(code)
        for rank in sorted(by_rank):
            codes = by_rank[rank]
            try:
                code = codes[0] if len(codes) == 1 else self.resolver.selections(codes)
            except TokenError as err:
                raise located(err, self.path, line=line, field=field or f"rank {rank}") from None
            if code != SKIP:
                self._rec.append(self._n)
                self._rank.append(rank)
                self._code.append(code)
        self._precincts.append(_intern(precinct, self._precinct_index))
        self._batches.append(_intern(batch, self._batch_index))
        self._ids.append(record_id)
        self._n += 1
        if self._progress is not None and self._n % PROGRESS_EVERY == 0:
            self._progress(self._n)

    def build(self) -> CastVoteRecords:
        n = self._n
        width = max(self._rank, default=1)
        ranks = np.full((n, width), SKIP, dtype=np.int32)
        if self._rec:
            ranks[np.asarray(self._rec), np.asarray(self._rank) - 1] = np.asarray(
                self._code, dtype=np.int32
            )
        ids: tuple[str, ...] | None = None
        if any(i is not None for i in self._ids):
            ids = tuple(i if i is not None else "" for i in self._ids)
        precincts = None
        if self._precinct_index:
            precincts = np.asarray(self._precincts, dtype=np.int32)
        batches = None
        if self._batch_index:
            batches = np.asarray(self._batches, dtype=np.int32)
        if self._progress is not None:
            self._progress(n)
        return CastVoteRecords(
            candidates=self.resolver.table,
            ranks=ranks,
            overvote_sets=tuple(self.resolver.sets.sets),
            precincts=precincts,
            precinct_names=tuple(self._precinct_index),
            batches=batches,
            batch_names=tuple(self._batch_index),
            ids=ids,
            sources=(str(self.path),),
            source_index=np.zeros(n, dtype=np.int32),
        )


def _intern(label: str | None, index: dict[str, int]) -> int:
    if label is None:
        return -1
    k = index.get(label)
    if k is None:
        k = index[label] = len(index)
    return k


def unreadable_csv(path: Path, exc: Exception) -> BallotFileError:
    """A CSV source that cannot be read at all (missing, not UTF-8, malformed quoting)."""
    return BallotFileError(f"cannot read the CSV ({exc})", path=str(path))


def csv_header(path: Path) -> list[str]:
    """The first row of a CSV source (empty for an empty file)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise unreadable_csv(path, exc) from exc
