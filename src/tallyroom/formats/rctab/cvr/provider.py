"""The contract every CVR provider keeps, and what one source is read with.

RCTab gives each vendor format a subclass of its ``BaseCvrReader``: built from the contest
config and one ``cvrFileSources`` entry, it reads the records of the source's contest
(``readCastVoteRecords``) and, for formats that list their candidates, that list
(``readCandidateListFromCvr``); the ranking limit may be overridden per contest
(``isRankingAllowed``, which Dominion's ``NumOfRanks`` uses). Here the same shape is two
plain functions held by a :class:`CvrProvider`:

* ``read_records(reading)`` reads one source into :class:`CastVoteRecords` coded against the
  contest's candidate table. ``reading`` is the :class:`SourceReading` of that source: the
  source, the contest, the candidate table, the ranking limit and the progress callback, with
  the source's :class:`TokenResolver` already made, so that no provider repeats that opening.
* ``read_candidates(source)`` lists the candidates the source names, in file order, for a
  config that declares none (RCTab's auto-load). It needs only the source: the contest's
  candidate table is what it helps to build.

Each provider module exposes one ``PROVIDER``; :mod:`.registry` holds them by
:class:`~tallyroom.formats.rctab.config.Provider`. A provider module imports this module,
:mod:`.records` and :mod:`.tokens`, never the modules that dispatch to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tallyroom.count.ballots import CandidateTable, CastVoteRecords
from tallyroom.formats.rctab.config import CandidateConfig, ContestConfig, CvrSource
from tallyroom.formats.rctab.cvr.records import RecordsBuilder
from tallyroom.formats.rctab.cvr.tokens import TokenResolver

__all__ = ["CvrProvider", "Progress", "SourceReading"]

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class SourceReading:
    """One source of a contest, ready to be read (built by :meth:`of`, once per read).

    ``rank_limit`` is the contest's ``maxRankingsAllowed`` ("max": the declared candidates);
    ``resolver`` maps the source's tokens to codes of ``table`` and gathers its overvote sets.
    """

    source: CvrSource
    config: ContestConfig
    table: CandidateTable
    rank_limit: int
    resolver: TokenResolver
    progress: Progress | None = None

    @classmethod
    def of(
        cls,
        source: CvrSource,
        config: ContestConfig,
        table: CandidateTable,
        *,
        declared: Sequence[CandidateConfig],
        rank_limit: int,
        progress: Progress | None = None,
    ) -> SourceReading:
        """The reading of ``source``, its resolver knowing the ``declared`` names and aliases."""
        resolver = TokenResolver(table, declared, source)
        return cls(source, config, table, rank_limit, resolver, progress)

    @property
    def path(self) -> Path:
        """The source's file or folder (``filePath``, resolved against the config's folder)."""
        return self.source.file_path

    def builder(self, *, path: Path | None = None, limit: int | None = None) -> RecordsBuilder:
        """A records builder on this source's resolver and progress callback.

        ``path``: the file errors name (default the source's); ``limit``: a contest's own
        ranking limit where the file gives one (default :attr:`rank_limit`).
        """
        return RecordsBuilder(
            self.resolver,
            self.path if path is None else path,
            self.rank_limit if limit is None else limit,
            progress=self.progress,
        )


@dataclass(frozen=True, slots=True)
class CvrProvider:
    """One vendor format: how its records are read and how its candidate list is read."""

    read_records: Callable[[SourceReading], CastVoteRecords]
    read_candidates: Callable[[CvrSource], Sequence[CandidateConfig]]
