"""The complete, frozen record of a count: the results contract every report is rendered from.

A :class:`Count` holds one :class:`Round` per round (or stage) in order. Each round carries the
tally of every candidate still in the count (elected candidates held at the quota included),
the threshold in force, the decisions taken at the end of the round with the transfers they
caused, the cumulative inactive ballots by reason, and every tie met with how it was broken.
Vote values are fixed-point integers in units of ``10**-scale.places`` votes (see
:mod:`tallyroom.count.numbers`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from tallyroom.count.numbers import Scale

__all__ = [
    "EXHAUSTED",
    "RESIDUAL_SURPLUS",
    "Count",
    "Decision",
    "DecisionKind",
    "InactiveReason",
    "Round",
    "SliceCount",
    "TieBreak",
]

EXHAUSTED = "exhausted"
RESIDUAL_SURPLUS = "residual surplus"


class InactiveReason(enum.Enum):
    """Why a ballot no longer counts for any candidate (RCTab's report keys as values)."""

    OVERVOTE = "overvotes"
    SKIPPED_RANKINGS = "skippedRankings"
    EXHAUSTED_CHOICES = "exhaustedChoices"
    REPEATED_RANKINGS = "repeatedRankings"
    FINAL_ROUND_SURPLUS = "finalRoundSurplus"
    NO_RANKINGS = "undervotes"
    INVALID = "invalid"


class DecisionKind(enum.Enum):
    ELECTED = "elected"
    ELIMINATED = "eliminated"


@dataclass(frozen=True, slots=True)
class Decision:
    """A candidate elected or eliminated at the end of a round, with where the votes went.

    ``transfers`` maps a candidate, :data:`EXHAUSTED` or :data:`RESIDUAL_SURPLUS` to units.
    """

    kind: DecisionKind
    candidate: str
    transfers: tuple[tuple[str, int], ...] = ()

    @property
    def transfer_map(self) -> dict[str, int]:
        return dict(self.transfers)


@dataclass(frozen=True, slots=True)
class TieBreak:
    """A tie met in ``round`` and how it was resolved."""

    round: int
    purpose: DecisionKind
    tied: tuple[str, ...]
    chosen: str
    method: str
    explanation: str


@dataclass(frozen=True, slots=True)
class Round:
    number: int
    threshold: int | None
    tally: tuple[tuple[str, int], ...]
    decisions: tuple[Decision, ...] = ()
    inactive: tuple[tuple[InactiveReason, int], ...] = ()
    residual_surplus: int = 0
    ties: tuple[TieBreak, ...] = ()
    label: str = ""  # a stage's action as a count sheet names it ("surplus of X")

    @property
    def tally_map(self) -> dict[str, int]:
        return dict(self.tally)

    @property
    def inactive_map(self) -> dict[InactiveReason, int]:
        return dict(self.inactive)

    @property
    def active(self) -> int:
        """Units counting for a candidate in this round (elected ones at the quota included)."""
        return sum(v for _, v in self.tally)

    @property
    def elected(self) -> tuple[str, ...]:
        return tuple(d.candidate for d in self.decisions if d.kind is DecisionKind.ELECTED)

    @property
    def eliminated(self) -> tuple[str, ...]:
        return tuple(d.candidate for d in self.decisions if d.kind is DecisionKind.ELIMINATED)


@dataclass(frozen=True, slots=True)
class SliceCount:
    """The rounds of a count restricted to one precinct or batch (decisions are contest-wide)."""

    kind: str
    name: str
    rounds: tuple[Round, ...]
    total_ballots: int
    undervotes: int


@dataclass(frozen=True, slots=True)
class Count:
    """A finished count."""

    rule: str
    candidates: tuple[str, ...]
    seats: int
    scale: Scale
    rounds: tuple[Round, ...]
    winners: tuple[str, ...]
    total_ballots: int
    undervotes: int = 0
    slices: tuple[SliceCount, ...] = ()
    options: Mapping[str, object] = field(default_factory=dict)

    @property
    def ties(self) -> tuple[TieBreak, ...]:
        return tuple(t for r in self.rounds for t in r.ties)

    @property
    def final_threshold(self) -> int | None:
        return self.rounds[-1].threshold if self.rounds else None

    def first_round_votes(self, candidate: str) -> int:
        return self.rounds[0].tally_map.get(candidate, 0) if self.rounds else 0
