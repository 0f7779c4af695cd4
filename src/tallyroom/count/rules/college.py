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

Modules: this one holds the count and its record; :mod:`.college_inputs` the sections, options
and the ``--section NAME=FILE[:WEIGHT]`` syntax; :mod:`.college_section` one section's ballots
and round-by-round record (:func:`count_section`); :mod:`.college_shares` the display rounding
and the [share] formula on published figures. Every public name is importable from here.

Deviations: none known. The sources say nothing of ties or of unreadable preferences; the
policies used are options, recorded in the count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from tallyroom.count.ballots import CandidateTable
from tallyroom.count.numbers import Scale
from tallyroom.count.record import Count, Decision, DecisionKind, Round, TieBreak
from tallyroom.count.rules.college_inputs import (
    CollegeOptions,
    CollegeSection,
    aligned_section,
    options_record,
)
from tallyroom.count.rules.college_section import (
    SECTION_RULE,
    Reading,
    SectionReader,
    count_section,
    section_count,
    section_rounds,
)
from tallyroom.count.rules.college_shares import SectionShares, combine_shares, display_percent
from tallyroom.count.tiebreak import TieBreaker
from tallyroom.errors import ConfigError

__all__ = [
    "RULE_NAME",
    "SECTION_RULE",
    "CollegeCount",
    "CollegeOptions",
    "CollegeSection",
    "SectionCount",
    "SectionShares",
    "aligned_section",
    "combine_shares",
    "count_college",
    "count_section",
    "display_percent",
]

RULE_NAME = "college irv"


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
    readers = [SectionReader(s.ballots, n, opts) for s in sections]
    continuing = np.ones(n, dtype=bool)
    for c in candidates.excluded:
        continuing[c] = False
    breaker = TieBreaker(opts.tiebreak_mode, names, seed=opts.random_seed)
    history: list[dict[str, int]] = []
    readings: list[list[Reading]] = []
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
    readers: Sequence[SectionReader],
    reads: Sequence[Reading],
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
    readers: Sequence[SectionReader],
    readings: Sequence[Sequence[Reading]],
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
        options=options_record(opts, weights),
    )
    per_section = []
    for k, (section, reader) in enumerate(zip(sections, readers, strict=True)):
        reads = [r[k] for r in readings]
        srounds = section_rounds(
            reader, reads, decisions, names, ties_by_round, candidates.excluded
        )
        per_section.append(
            SectionCount(
                section.name,
                section.weight,
                section_count(
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
