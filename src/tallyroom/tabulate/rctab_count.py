"""A contest's cast vote records counted under its config, and every ballot traced.

:func:`count_contest` groups the records (by precinct or batch when the config asks for
slices) and counts them under ``config.rules.counting``; multi-pass IRV is one single-seat
count per seat, earlier winners excluded. :func:`count_with_allocations` counts the same way
and also rebuilds, for each round, what every ballot counted for: RCTab's CDF *snapshot*
(``Tabulator.recordSelectionForCastVoteRecord`` / ``CastVoteRecord.logCdfSnapshotData``).

RCTab takes a snapshot of a ballot whenever the count assigns it: in round 1, and in any later
round where it moves to another candidate or becomes inactive. The snapshot lists what the
ballot keeps with each candidate it helped elect (STV) and, when it is active, its current
candidate with its current value. A round in which the ballot did not move repeats its last
snapshot. :func:`cdf_allocations` rebuilds exactly that from the
:class:`~tallyroom.count.rules.rctab.RoundState` of each round: the engine moves a ballot only
when its candidate leaves the count, so a ballot was (re)assigned in round ``r`` exactly when
its recipient or status differs from round ``r - 1``. The work is numpy over groups of
identical ballots, spread over their records at the end of each round.

Both :mod:`~tallyroom.tabulate.rctab` (reports) and :mod:`~tallyroom.tabulate.rctab_cdf` (the
CDF report) count through this module; it imports neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import BallotStore, CandidateTable, CastVoteRecords, Codes
from tallyroom.count.options import RctabOptions, TieDecider, WinnerMode
from tallyroom.count.record import Count
from tallyroom.count.rules.rctab import RoundState, SliceLabels, tabulate
from tallyroom.errors import ConfigError, FormatError
from tallyroom.formats.cdf_json import RoundAllocation
from tallyroom.formats.rctab.config import ContestConfig

__all__ = [
    "CountedPass",
    "TracedPass",
    "cdf_allocations",
    "count_contest",
    "count_contest_traced",
    "count_with_allocations",
    "slicing",
]

_MAX_UNITS = np.iinfo(np.int64).max


# -- counting -----------------------------------------------------------------------------------
def slicing(
    config: ContestConfig, records: CastVoteRecords
) -> tuple[SliceLabels | None, Codes | None]:
    """The precinct or batch slices the config asks for, and each record's slice."""
    out = config.output
    if out.tabulate_by_precinct:
        if records.precincts is None or not records.precinct_names:
            raise ConfigError(
                "tabulateByPrecinct is set but the cast vote records name no precincts",
                path=str(config.path),
                field="outputSettings.tabulateByPrecinct",
            )
        return SliceLabels("precinct", records.precinct_names), records.precincts
    if out.tabulate_by_batch:
        if records.batches is None or not records.batch_names:
            raise ConfigError(
                "tabulateByBatch is set but the cast vote records name no batches",
                path=str(config.path),
                field="outputSettings.tabulateByBatch",
            )
        return SliceLabels("batch", records.batch_names), records.batches
    return None, None


@dataclass(frozen=True, slots=True)
class TracedPass:
    """One count (one per seat in multi-pass IRV) with the state of every round."""

    count: Count
    states: tuple[RoundState, ...]


def count_contest_traced(
    config: ContestConfig,
    records: CastVoteRecords,
    table: CandidateTable,
    *,
    tie_decider: TieDecider | None = None,
) -> tuple[tuple[TracedPass, ...], Codes]:
    """As :func:`count_contest`, keeping each round's state and each record's group."""
    slices, key = slicing(config, records)
    if len(records):
        store, group_of = records.grouped_with_index(key)
    else:
        store, group_of = records.grouped(key), np.empty(0, dtype=np.int32)
    passes = _passes(config, store, table, slices, tie_decider, trace=True)
    return passes, group_of


def count_contest(
    config: ContestConfig,
    records: CastVoteRecords,
    table: CandidateTable,
    *,
    tie_decider: TieDecider | None = None,
) -> tuple[Count, ...]:
    """Count already-read records under the config's rules (one count per pass)."""
    slices, key = slicing(config, records)
    store = records.grouped(key)
    return tuple(p.count for p in _passes(config, store, table, slices, tie_decider, trace=False))


def _passes(
    config: ContestConfig,
    store: BallotStore,
    table: CandidateTable,
    slices: SliceLabels | None,
    tie_decider: TieDecider | None,
    *,
    trace: bool,
) -> tuple[TracedPass, ...]:
    options = replace(config.rules.counting, tie_decider=tie_decider)

    def one(pass_table: CandidateTable, pass_options: RctabOptions) -> TracedPass:
        states: list[RoundState] = []
        count = tabulate(
            store,
            pass_table,
            pass_options,
            slices=slices,
            observer=states.append if trace else None,
        )
        return TracedPass(count, tuple(states))

    if options.winner_mode is not WinnerMode.MULTI_PASS_IRV:
        return (one(table, options),)
    # [RCTab multiPassIrv] one single-seat IRV count per seat, earlier winners excluded
    passes: list[TracedPass] = []
    single = replace(options, winner_mode=WinnerMode.SINGLE_WINNER_MAJORITY, seats=1)
    excluded = set(table.excluded)
    for _ in range(options.seats):
        if len(table) - len(excluded) - (table.undeclared_write_in is not None) <= 0:
            break
        done = one(replace(table, excluded=frozenset(excluded)), single)
        passes.append(done)
        excluded.update(table.code(w) for w in done.count.winners)
    return tuple(passes)


# -- tracing ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CountedPass:
    """One count (one pass of multi-pass IRV) with where every ballot stood in each round."""

    count: Count
    rounds: tuple[RoundAllocation, ...]


def count_with_allocations(
    config: ContestConfig,
    records: CastVoteRecords,
    table: CandidateTable,
    *,
    tie_decider: TieDecider | None = None,
) -> tuple[CountedPass, ...]:
    """Count as :func:`count_contest` does, also tracing every ballot round by round."""
    passes, group_of = count_contest_traced(config, records, table, tie_decider=tie_decider)
    return tuple(CountedPass(p.count, tuple(cdf_allocations(p.states, group_of))) for p in passes)


def cdf_allocations(states: Sequence[RoundState], group_of: Codes) -> list[RoundAllocation]:
    """Per round, what each record counts for in RCTab's CDF snapshot of that round.

    ``states`` are the count's round states in order (from ``tabulate(..., observer=...)``);
    ``group_of[i]`` is record ``i``'s group in the store that was counted
    (:meth:`CastVoteRecords.grouped_with_index`).
    """
    if not states:
        return []
    groups = len(states[0].recipient)
    if group_of.size and (int(group_of.min()) < 0 or int(group_of.max()) >= groups):
        raise ValueError("group_of names a group the count does not have")
    members = _Members(group_of, groups)
    snap_group = np.empty(0, dtype=np.intp)
    snap_cand = np.empty(0, dtype=np.int32)
    snap_units = np.empty(0, dtype=np.int64)
    previous: RoundState | None = None
    out: list[RoundAllocation] = []
    for state in states:
        if previous is None:
            logged = np.ones(groups, dtype=bool)
        else:
            logged = (state.recipient != previous.recipient) | (state.status != previous.status)
        # groups not (re)assigned this round repeat their last snapshot
        unchanged = ~logged[snap_group]
        parts_g = [snap_group[unchanged]]
        parts_c = [snap_cand[unchanged]]
        parts_u = [snap_units[unchanged]]
        for winner in sorted(state.kept):
            won_groups, won_units = state.kept[winner]
            now = logged[won_groups]
            parts_g.append(won_groups[now].astype(np.intp))
            parts_c.append(np.full(int(now.sum()), winner, dtype=np.int32))
            parts_u.append(_units(won_units[now]))
        active = np.flatnonzero(logged & (state.recipient >= 0))
        parts_g.append(active)
        parts_c.append(state.recipient[active].astype(np.int32))
        parts_u.append(_units(state.value[active]))
        snap_group = np.concatenate(parts_g)
        snap_cand = np.concatenate(parts_c)
        snap_units = np.concatenate(parts_u)
        out.append(members.expand(snap_group, snap_cand, snap_units))
        previous = state
    return out


def _units(values: npt.NDArray[np.generic]) -> npt.NDArray[np.int64]:
    if values.dtype == np.int64:
        return values.astype(np.int64, copy=False)
    if values.size and max(int(v) for v in values.tolist()) > _MAX_UNITS:
        raise FormatError("vote values beyond 18 decimal places cannot be written as CDF shares")
    return values.astype(np.int64)


class _Members:
    """The records of each group, to spread group-level shares over records."""

    def __init__(self, group_of: Codes, groups: int) -> None:
        self.order = np.argsort(group_of, kind="stable")
        self.sizes = np.bincount(group_of, minlength=groups).astype(np.intp)
        self.starts = np.concatenate(([0], np.cumsum(self.sizes)[:-1])).astype(np.intp)

    def expand(
        self, group: npt.NDArray[np.intp], cand: Codes, units: npt.NDArray[np.int64]
    ) -> RoundAllocation:
        reps = self.sizes[group]
        share = np.repeat(np.arange(group.size), reps)
        offset = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
        record = self.order[self.starts[group][share] + offset]
        return RoundAllocation(
            record=record.astype(np.int32), candidate=cand[share], units=units[share]
        )
