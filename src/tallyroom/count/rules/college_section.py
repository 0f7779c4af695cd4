"""One section of an electoral college: its ballots read against the continuing candidates,
and its round-by-round record under the college's decisions ([sections], [exclude] in
:mod:`tallyroom.count.rules.college`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import BallotStore, CandidateTable, Codes
from tallyroom.count.numbers import Scale
from tallyroom.count.record import (
    EXHAUSTED,
    Count,
    Decision,
    DecisionKind,
    InactiveReason,
    Round,
    TieBreak,
)
from tallyroom.count.rules.college_inputs import CollegeOptions, options_record
from tallyroom.count.walk import Status, cell_flags, walk
from tallyroom.errors import ConfigError

__all__ = [
    "SECTION_RULE",
    "Reading",
    "SectionReader",
    "count_section",
    "section_count",
    "section_rounds",
]

SECTION_RULE = "college section"

_REPORTED = (
    (Status.OVERVOTE, InactiveReason.OVERVOTE),
    (Status.SKIPPED_RANKINGS, InactiveReason.SKIPPED_RANKINGS),
    (Status.EXHAUSTED_CHOICES, InactiveReason.EXHAUSTED_CHOICES),
    (Status.REPEATED_RANKINGS, InactiveReason.REPEATED_RANKINGS),
)


@dataclass(frozen=True, slots=True)
class Reading:
    """Where each distinct ballot of a section rests in one round."""

    recipient: Codes  # candidate code, or -1
    status: npt.NDArray[np.int8]


class SectionReader:
    """The ballots of one section, read against a set of continuing candidates."""

    def __init__(self, store: BallotStore, n: int, options: CollegeOptions) -> None:
        self.store = store
        self.n = n
        self.options = options
        self.flags = cell_flags(
            store.rows,
            store.overvote_sets,
            n,
            max_skipped=options.max_skipped_ranks_allowed,
            check_repeats=options.exhaust_on_duplicate_candidate,
        )
        self.weights = store.weights.astype(np.int64)

    def read(self, continuing: npt.NDArray[np.bool_]) -> Reading:
        """Walk every ballot from its first mark: a ballot's continuing candidates only ever
        leave, so this is where an incremental walk would leave it too (see walk.py)."""
        g = len(self.store)
        recipient = np.full(g, -1, dtype=np.int32)
        status = np.full(g, Status.NO_RANKINGS, dtype=np.int8)
        marked = np.flatnonzero(~self.flags.empty)
        if marked.size:
            res = walk(
                self.store.rows,
                self.flags,
                marked,
                self.flags.first[marked],
                continuing,
                self.store.overvote_sets,
                self.options.overvote_rule,
            )
            recipient[marked] = res.recipient
            status[marked] = res.status
        return Reading(recipient, status)

    def tally(self, reading: Reading) -> list[int]:
        active = reading.recipient >= 0
        # exact: integer weights summed per candidate (np.bincount would sum them as floats)
        sums = np.zeros(self.n, dtype=np.int64)
        np.add.at(sums, reading.recipient[active], self.weights[active])
        return [int(v) for v in sums.tolist()]

    def inactive(self, reading: Reading) -> tuple[tuple[InactiveReason, int], ...]:
        return tuple(
            (reason, int(self.weights[reading.status == st].sum())) for st, reason in _REPORTED
        )

    def blank(self) -> int:
        return int(self.weights[self.flags.empty].sum())

    def moves(
        self, before: Reading, after: Reading, names: tuple[str, ...], code: int
    ) -> tuple[tuple[str, int], ...]:
        """Where the ballots held by ``code`` in ``before`` went in ``after``."""
        held = before.recipient == code
        out: list[tuple[str, int]] = []
        for c in range(self.n):
            v = int(self.weights[held & (after.recipient == c)].sum())
            if v:
                out.append((names[c], v))
        gone = int(self.weights[held & (after.recipient < 0)].sum())
        if gone:
            out.append((EXHAUSTED, gone))
        return tuple(out)


def count_section(
    store: BallotStore,
    candidates: CandidateTable,
    eliminations: Sequence[str],
    *,
    elected: str | None = None,
    options: CollegeOptions | None = None,
    name: str = "",
) -> Count:
    """One section counted under exclusions decided elsewhere (by the college).

    Round ``k`` (``k = 1 .. len(eliminations)``) excludes ``eliminations[k-1]``; the last round
    elects ``elected`` when given. The tallies are whole votes for continuing candidates.
    """
    opts = options or CollegeOptions()
    n = len(candidates)
    names = candidates.names
    unknown = [e for e in [*eliminations, *([elected] if elected else [])] if e not in names]
    if unknown:
        raise ConfigError("not a candidate", field="eliminations", value=unknown)
    reader = SectionReader(store, n, opts)
    continuing = np.ones(n, dtype=bool)
    for c in candidates.excluded:
        continuing[c] = False
    reads: list[Reading] = []
    decisions: list[tuple[DecisionKind, int]] = []
    for out in eliminations:
        reads.append(reader.read(continuing))
        code = names.index(out)
        if not continuing[code]:
            raise ConfigError(
                "excluded twice, or never in the count", field="eliminations", value=out
            )
        decisions.append((DecisionKind.ELIMINATED, code))
        continuing[code] = False
    reads.append(reader.read(continuing))
    if elected is not None:
        decisions.append((DecisionKind.ELECTED, names.index(elected)))
    rounds = section_rounds(
        reader, reads, decisions, names, [() for _ in reads], candidates.excluded
    )
    return section_count(name, store, reader, rounds, names, elected, opts)


def section_rounds(
    reader: SectionReader,
    reads: Sequence[Reading],
    decisions: Sequence[tuple[DecisionKind, int]],
    names: tuple[str, ...],
    ties_by_round: Sequence[tuple[TieBreak, ...]],
    never: frozenset[int],
) -> tuple[Round, ...]:
    rounds = []
    excluded: set[int] = set(never)
    for i, reading in enumerate(reads):
        tally = reader.tally(reading)
        live = [c for c in range(len(names)) if c not in excluded]
        made: list[Decision] = []
        if i < len(decisions):
            kind, code = decisions[i]
            moved: tuple[tuple[str, int], ...] = ()
            if kind is DecisionKind.ELIMINATED and i + 1 < len(reads):
                moved = reader.moves(reading, reads[i + 1], names, code)
                excluded.add(code)
            made.append(Decision(kind, names[code], moved))
        rounds.append(
            Round(
                number=i + 1,
                threshold=None,
                tally=tuple((names[c], tally[c]) for c in live),
                decisions=tuple(made),
                inactive=reader.inactive(reading),
                ties=ties_by_round[i] if i < len(ties_by_round) else (),
            )
        )
    return tuple(rounds)


def section_count(
    name: str,
    store: BallotStore,
    reader: SectionReader,
    rounds: tuple[Round, ...],
    names: tuple[str, ...],
    winner: str | None,
    opts: CollegeOptions,
    *,
    weight: Fraction | None = None,
) -> Count:
    options: dict[str, object] = {"section": name, **options_record(opts, {})}
    if weight is not None:
        options["weight"] = str(weight)
    return Count(
        rule=SECTION_RULE,
        candidates=names,
        seats=1,
        scale=Scale(0),
        rounds=rounds,
        winners=(winner,) if winner is not None else (),
        total_ballots=store.total,
        undervotes=reader.blank(),
        options=options,
    )
