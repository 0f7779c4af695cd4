"""The candidate table of a contest, and the ranking limit, as RCTab derives them.

* Declared candidates keep their config order; a candidate's code is its position. Excluded
  candidates stay in the table (their codes go in ``CandidateTable.excluded``).
* RCTab adds the pseudo-candidate "Undeclared Write-ins" when *any* source has an
  ``undeclaredWriteInLabel`` or ``treatBlankAsUndeclaredWriteIn`` (``ContestConfig
  .undeclaredWriteInsEnabled``). RCTab keeps candidate names in a hash set, so it has no order
  of its own; here it is appended last, after every declared candidate.
* ``maxRankingsAllowed: "max"`` means the number of declared candidates (excluded ones
  included, the write-in pseudo-candidate not), as in RCTab's ``getNumDeclaredCandidates``.
* A config with no candidates: RCTab refuses to tabulate it ("must contain at least 1 declared
  candidate") and only offers to auto-load names in its GUI. Here the names are derived from
  the sources instead, in file order (each provider's ``read_candidates``), with the
  vendor's candidate code as an alias where the file has one (Dominion, Hart).
"""

from __future__ import annotations

from functools import lru_cache

from tallyroom.count.ballots import CandidateTable
from tallyroom.formats.rctab.config import (
    UNDECLARED_WRITE_IN,
    CandidateConfig,
    ContestConfig,
    CvrSource,
)
from tallyroom.formats.rctab.cvr.registry import provider_of

__all__ = ["candidate_table", "declared_candidates", "rank_limit"]


def candidate_table(config: ContestConfig) -> CandidateTable:
    """Declared candidates in config order, then "Undeclared Write-ins" when a source uses it."""
    declared = declared_candidates(config)
    names = [c.name for c in declared]
    uwi: int | None = None
    if config.uses_undeclared_write_ins:
        uwi = len(names)
        names.append(UNDECLARED_WRITE_IN)
    excluded = frozenset(i for i, c in enumerate(declared) if c.excluded)
    return CandidateTable(names=tuple(names), undeclared_write_in=uwi, excluded=excluded)


def rank_limit(config: ContestConfig) -> int:
    """The highest rank a CVR may use: ``maxRankingsAllowed``, or "max" = declared candidates."""
    if config.rules.max_rankings_allowed is not None:
        return config.rules.max_rankings_allowed
    return max(len(declared_candidates(config)), 1)


def declared_candidates(config: ContestConfig) -> tuple[CandidateConfig, ...]:
    """The config's candidates, or (when it lists none) those named by the sources."""
    if config.candidates:
        return config.candidates
    return _derived(config)


@lru_cache(maxsize=16)
def _derived(config: ContestConfig) -> tuple[CandidateConfig, ...]:
    merged: dict[str, list[str]] = {}
    for source in config.sources:
        for cand in _from_source(source):
            aliases = merged.setdefault(cand.name, [])
            for alias in cand.aliases:
                if alias != cand.name and alias not in aliases:
                    aliases.append(alias)
    taken: set[str] = set()
    out: list[CandidateConfig] = []
    for name, aliases in merged.items():
        # A name or alias claimed by an earlier candidate stays with that candidate.
        mine = tuple(a for a in aliases if a not in taken and a not in merged)
        taken.update(mine)
        out.append(CandidateConfig(name=name, aliases=mine))
    return tuple(out)


def _from_source(source: CvrSource) -> list[CandidateConfig]:
    labels = {
        source.overvote_label,
        source.skipped_rank_label,
        source.undeclared_write_in_label,
        UNDECLARED_WRITE_IN,
        "",
    }
    found = provider_of(source).read_candidates(source)
    return [c for c in found if c.name not in labels]
