"""The alternative vote in a weighted electoral college: Labour's leadership elections to 2010.

Source: the Labour Party's electoral college for leader and deputy leader (replaced by one
member, one vote from 2015), as recorded in ``../shared/conformance/official`` (``NOTES.md``
section 3 and ``official_results.json``, record ``labour-leader-2010``, ``method``):

[sections]  "three sections, each worth one third: (a) MPs and MEPs, (b) individual members,
            (c) individual members of affiliated organisations"
[share]     "in every round a candidate's college share = (1/3) * sum over sections of
            (candidate's votes in section / valid votes for continuing candidates in that
            section) * 100"
[exclude]   "lowest college share eliminated", and their ballots "move to next preferences in
            every section": "elimination is decided by the college total, not by each section"
[elect]     "elected when college share > 50%"

The count, round by round:

1. **Tally** [sections]: in each section every ballot counts for its highest-ranked continuing
   candidate, read by the walk of the RCTab rules (:mod:`tallyroom.count.walk`; overvotes by
   :attr:`CollegeOptions.overvote_rule`). Whole votes; blank ballots count for nobody.
2. **Share** [share]: a section's share for a candidate is their votes over the section's
   votes for continuing candidates (exhausted ballots leave the base); the college share is
   the sum of the sections' shares times their weights. Exact rational arithmetic
   (:class:`fractions.Fraction`), nothing rounded. A section with no votes for continuing
   candidates adds nothing (its weight is lost, not shared out).
3. **Elect** [elect]: a candidate with a college share of more than one half is elected; so is
   the last candidate left.
4. **Exclude** [exclude]: otherwise the candidate with the lowest college share is excluded in
   every section; a tie for lowest (exact shares) is broken by the
   :class:`~tallyroom.count.tiebreak.TieBreaker` policy of :attr:`CollegeOptions.tiebreak_mode`,
   earlier rounds compared on their exact shares, and recorded.

Display: shares are shown as percentages rounded to :attr:`CollegeOptions.display_places`
decimal places, **halves rounded up** (``display_percent``). Labour published the college to
two places and section shares to three (37.78; 44.064); rounded figures need not add to 100.

The record is a :class:`CollegeCount`: the college's :class:`~tallyroom.count.record.Count`
(tallies in units of ``10**-display_places`` percentage points, the 50% mark as threshold,
decisions without transfers), one :class:`~tallyroom.count.record.Count` per section (whole
votes, the college's decisions with where each excluded candidate's ballots went in that
section, inactive ballots by reason), and the exact shares of every round.

Deviations: none known. The sources say nothing of ties or of unreadable preferences; the
policies used are options, recorded in the count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import BallotStore, CandidateTable, Codes
from tallyroom.count.numbers import Scale, pow10
from tallyroom.count.options import OvervoteRule, TiebreakMode
from tallyroom.count.record import (
    EXHAUSTED,
    Count,
    Decision,
    DecisionKind,
    InactiveReason,
    Round,
    TieBreak,
)
from tallyroom.count.tiebreak import TieBreaker
from tallyroom.count.walk import Status, cell_flags, walk
from tallyroom.errors import ConfigError

__all__ = [
    "CollegeCount",
    "CollegeOptions",
    "CollegeSection",
    "SectionCount",
    "SectionShares",
    "combine_shares",
    "count_college",
    "count_section",
    "display_percent",
]

RULE_NAME = "college irv"
SECTION_RULE = "college section"

_REPORTED = (
    (Status.OVERVOTE, InactiveReason.OVERVOTE),
    (Status.SKIPPED_RANKINGS, InactiveReason.SKIPPED_RANKINGS),
    (Status.EXHAUSTED_CHOICES, InactiveReason.EXHAUSTED_CHOICES),
    (Status.REPEATED_RANKINGS, InactiveReason.REPEATED_RANKINGS),
)


# -- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CollegeSection:
    """One section of the college: its ballots and its weight (the weights add up to 1)."""

    name: str
    weight: Fraction
    ballots: BallotStore

    def __post_init__(self) -> None:
        if not isinstance(self.weight, Fraction) or self.weight <= 0:
            raise ConfigError("a section weight must be a positive Fraction", value=self.weight)


@dataclass(frozen=True, slots=True)
class CollegeOptions:
    """How a college count reads ballots, breaks ties and shows shares."""

    display_places: int = 3
    tiebreak_mode: TiebreakMode = TiebreakMode.USE_CANDIDATE_ORDER
    random_seed: int | None = None
    overvote_rule: OvervoteRule = OvervoteRule.ALWAYS_SKIP_TO_NEXT_RANK
    max_skipped_ranks_allowed: int | None = None
    exhaust_on_duplicate_candidate: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.display_places <= 12:
            raise ConfigError(
                "display places must be in [0..12]",
                field="display_places",
                value=self.display_places,
            )


# -- the record ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SectionCount:
    """A section's weight and its round-by-round count under the college's decisions."""

    name: str
    weight: Fraction
    count: Count


@dataclass(frozen=True, slots=True)
class CollegeCount:
    """A finished college count: the college, each section, and the exact shares by round."""

    college: Count
    sections: tuple[SectionCount, ...]
    shares: tuple[tuple[tuple[str, Fraction], ...], ...] = field(default=())

    @property
    def winner(self) -> str:
        return self.college.winners[0]

    def share(self, round_number: int, candidate: str) -> Fraction:
        """A continuing candidate's exact college share (a fraction of 1) in a round."""
        return dict(self.shares[round_number - 1])[candidate]

    def section(self, name: str) -> Count:
        for s in self.sections:
            if s.name == name:
                return s.count
        raise KeyError(name)


# -- display ---------------------------------------------------------------------------------


def display_percent(share: Fraction, places: int) -> Decimal:
    """``share`` (a fraction of 1) as a percentage to ``places`` places, halves rounded up."""
    scaled = share * 100 * pow10(places)
    units = math.floor(scaled + Fraction(1, 2))
    return Decimal(units).scaleb(-places)


# -- combining published section figures ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class SectionShares:
    """A section's shares (fractions of 1) of the votes for continuing candidates."""

    name: str
    weight: Fraction
    shares: tuple[tuple[str, Fraction], ...]

    @staticmethod
    def from_votes(
        name: str, weight: Fraction, votes: Mapping[str, int], continuing: int
    ) -> SectionShares:
        """Shares from votes and the section's total votes for continuing candidates."""
        if continuing <= 0:
            raise ConfigError("a section needs votes for continuing candidates", value=continuing)
        return SectionShares(
            name, weight, tuple((c, Fraction(v, continuing)) for c, v in votes.items())
        )

    @staticmethod
    def from_percentages(
        name: str, weight: Fraction, percentages: Mapping[str, Decimal]
    ) -> SectionShares:
        """Shares from published percentages, taken exactly as printed."""
        return SectionShares(
            name, weight, tuple((c, Fraction(p) / 100) for c, p in percentages.items())
        )


def combine_shares(sections: Sequence[SectionShares]) -> dict[str, Fraction]:
    """[share] The college share of every candidate named by every section, exactly."""
    if not sections:
        return {}
    named = [dict(s.shares) for s in sections]
    common = [c for c in named[0] if all(c in n for n in named[1:])]
    return {
        c: sum((s.weight * n[c] for s, n in zip(sections, named, strict=True)), Fraction(0))
        for c in common
    }


# -- counting --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reading:
    """Where each distinct ballot of a section rests in one round."""

    recipient: Codes  # candidate code, or -1
    status: npt.NDArray[np.int8]


class _Section:
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

    def read(self, continuing: npt.NDArray[np.bool_]) -> _Reading:
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
        return _Reading(recipient, status)

    def tally(self, reading: _Reading) -> list[int]:
        active = reading.recipient >= 0
        # exact: integer weights summed per candidate (np.bincount would sum them as floats)
        sums = np.zeros(self.n, dtype=np.int64)
        np.add.at(sums, reading.recipient[active], self.weights[active])
        return [int(v) for v in sums.tolist()]

    def inactive(self, reading: _Reading) -> tuple[tuple[InactiveReason, int], ...]:
        return tuple(
            (reason, int(self.weights[reading.status == st].sum())) for st, reason in _REPORTED
        )

    def blank(self) -> int:
        return int(self.weights[self.flags.empty].sum())

    def moves(
        self, before: _Reading, after: _Reading, names: tuple[str, ...], code: int
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


def count_college(
    sections: Sequence[CollegeSection],
    candidates: CandidateTable,
    options: CollegeOptions | None = None,
) -> CollegeCount:
    """Count an electoral college (see the module docstring)."""
    opts = options or CollegeOptions()
    _check(sections, candidates)
    n = len(candidates)
    names = candidates.names
    readers = [_Section(s.ballots, n, opts) for s in sections]
    continuing = np.ones(n, dtype=bool)
    for c in candidates.excluded:
        continuing[c] = False
    breaker = TieBreaker(opts.tiebreak_mode, names, seed=opts.random_seed)
    history: list[dict[str, int]] = []
    readings: list[list[_Reading]] = []
    shares_by_round: list[dict[int, Fraction]] = []
    decisions: list[tuple[DecisionKind, int]] = []
    ties_by_round: list[tuple[TieBreak, ...]] = []
    while True:
        round_no = len(readings) + 1
        live = [c for c in range(n) if continuing[c]]
        reads = [r.read(continuing) for r in readers]
        shares = _college_shares(sections, readers, reads, live)
        readings.append(reads)
        shares_by_round.append(shares)
        history.append(_exact_ints(shares, names))
        over = [c for c in live if shares[c] > Fraction(1, 2)]
        if over or len(live) == 1:
            # [elect] more than one half (at most one can have it), or the last one left
            decisions.append((DecisionKind.ELECTED, over[0] if over else live[0]))
            ties_by_round.append(())
            break
        # [exclude] the lowest college share, ties broken by the policy
        low = min(shares[c] for c in live)
        lowest = [c for c in live if shares[c] == low]
        ties: tuple[TieBreak, ...] = ()
        if len(lowest) > 1:
            tb = breaker.choose(
                round_no, [names[c] for c in lowest], DecisionKind.ELIMINATED, history
            )
            ties = (tb,)
            lowest = [names.index(tb.chosen)]
        decisions.append((DecisionKind.ELIMINATED, lowest[0]))
        ties_by_round.append(ties)
        continuing[lowest[0]] = False
    return _record(
        sections, candidates, opts, readers, readings, shares_by_round, decisions, ties_by_round
    )


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
    reader = _Section(store, n, opts)
    continuing = np.ones(n, dtype=bool)
    for c in candidates.excluded:
        continuing[c] = False
    reads: list[_Reading] = []
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
    rounds = _section_rounds(
        reader, reads, decisions, names, [() for _ in reads], candidates.excluded
    )
    return _section_count(name, store, reader, rounds, names, elected, opts)


# -- helpers ---------------------------------------------------------------------------------


def _check(sections: Sequence[CollegeSection], candidates: CandidateTable) -> None:
    if not sections:
        raise ConfigError("a college needs at least one section", field="sections", value=0)
    seen = [s.name for s in sections]
    if len(set(seen)) != len(seen):
        raise ConfigError("section names must be unique", field="sections", value=seen)
    total = sum((s.weight for s in sections), Fraction(0))
    if total != 1:
        raise ConfigError("section weights must add up to 1", field="weight", value=str(total))
    if candidates.undeclared_write_in is not None:
        raise ConfigError(
            "a college count has no undeclared write-ins",
            field="candidates",
            value=candidates.names[candidates.undeclared_write_in],
        )
    if len(candidates) - len(candidates.excluded) < 1:
        raise ConfigError("no candidates in the count", field="candidates", value=0)


def _college_shares(
    sections: Sequence[CollegeSection],
    readers: Sequence[_Section],
    reads: Sequence[_Reading],
    live: Sequence[int],
) -> dict[int, Fraction]:
    shares = {c: Fraction(0) for c in live}
    for section, reader, reading in zip(sections, readers, reads, strict=True):
        tally = reader.tally(reading)
        base = sum(tally[c] for c in live)
        if base == 0:
            continue  # [share] no votes for continuing candidates: the section adds nothing
        for c in live:
            shares[c] += section.weight * Fraction(tally[c], base)
    return shares


def _exact_ints(shares: Mapping[int, Fraction], names: tuple[str, ...]) -> dict[str, int]:
    """A round's shares as integers over a common denominator (order kept exactly), for the
    tie-break's look at earlier rounds."""
    common = math.lcm(*(s.denominator for s in shares.values())) if shares else 1
    return {names[c]: int(s * common) for c, s in shares.items()}


def _record(
    sections: Sequence[CollegeSection],
    candidates: CandidateTable,
    opts: CollegeOptions,
    readers: Sequence[_Section],
    readings: Sequence[Sequence[_Reading]],
    shares_by_round: Sequence[dict[int, Fraction]],
    decisions: Sequence[tuple[DecisionKind, int]],
    ties_by_round: Sequence[tuple[TieBreak, ...]],
) -> CollegeCount:
    names = candidates.names
    places = opts.display_places
    scale = Scale(places)
    half = 50 * scale.one
    label = (
        f"college shares in %, halves rounded up to {places} places; "
        f"elected on more than {scale.format(half)}%"
    )
    rounds = []
    for i, shares in enumerate(shares_by_round):
        kind, code = decisions[i]
        tally = tuple(
            (names[c], int(display_percent(s, places).scaleb(places))) for c, s in shares.items()
        )
        rounds.append(
            Round(
                number=i + 1,
                threshold=half,
                tally=tally,
                decisions=(Decision(kind, names[code]),),
                ties=ties_by_round[i],
                label=label,
            )
        )
    winner = names[decisions[-1][1]]
    weights = {s.name: str(s.weight) for s in sections}
    college = Count(
        rule=RULE_NAME,
        candidates=names,
        seats=1,
        scale=scale,
        rounds=tuple(rounds),
        winners=(winner,),
        total_ballots=sum(s.ballots.total for s in sections),
        undervotes=sum(r.blank() for r in readers),
        options=_options(opts, weights),
    )
    per_section = []
    for k, (section, reader) in enumerate(zip(sections, readers, strict=True)):
        reads = [r[k] for r in readings]
        srounds = _section_rounds(
            reader, reads, decisions, names, ties_by_round, candidates.excluded
        )
        per_section.append(
            SectionCount(
                section.name,
                section.weight,
                _section_count(
                    section.name,
                    section.ballots,
                    reader,
                    srounds,
                    names,
                    winner,
                    opts,
                    weight=section.weight,
                ),
            )
        )
    exact = tuple(tuple((names[c], s) for c, s in shares.items()) for shares in shares_by_round)
    return CollegeCount(college, tuple(per_section), exact)


def _section_rounds(
    reader: _Section,
    reads: Sequence[_Reading],
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


def _section_count(
    name: str,
    store: BallotStore,
    reader: _Section,
    rounds: tuple[Round, ...],
    names: tuple[str, ...],
    winner: str | None,
    opts: CollegeOptions,
    *,
    weight: Fraction | None = None,
) -> Count:
    options: dict[str, object] = {"section": name, **_options(opts, {})}
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


def _options(opts: CollegeOptions, weights: Mapping[str, str]) -> dict[str, object]:
    out: dict[str, object] = {
        "display_places": opts.display_places,
        "display_rounding": "half up",
        "tiebreak": opts.tiebreak_mode.value,
        "seed": opts.random_seed,
        "overvote_rule": opts.overvote_rule.value,
        "max_skipped_ranks_allowed": opts.max_skipped_ranks_allowed,
        "exhaust_on_duplicate_candidate": opts.exhaust_on_duplicate_candidate,
    }
    if weights:
        out["weights"] = dict(weights)
    return out
