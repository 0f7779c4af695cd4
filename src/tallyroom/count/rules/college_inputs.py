"""The inputs of an electoral college count: its sections and its options.

How a returning officer names a section on the command line (``--section
NAME=FILE[:WEIGHT]``) is a format: :mod:`tallyroom.formats.college_spec`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.options import OvervoteRule, TiebreakMode
from tallyroom.errors import ConfigError, InputError

__all__ = [
    "CollegeOptions",
    "CollegeSection",
    "aligned_section",
    "options_record",
]


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


def aligned_section(
    name: str,
    weight: Fraction,
    ballots: BallotStore,
    candidates: CandidateTable,
    reference: CandidateTable,
    *,
    where: str = "",
) -> CollegeSection:
    """A section whose ballots were read against ``candidates``, counted against ``reference``:
    the two must name the same candidates (in any order) and withdraw the same ones."""
    if sorted(candidates.names) != sorted(reference.names):
        ours, theirs = set(candidates.names), set(reference.names)
        raise InputError(
            "a section's ballot file must name the same candidates as the first section's "
            f"(missing: {sorted(theirs - ours)}, extra: {sorted(ours - theirs)})",
            path=where or None,
            field="candidates",
            value=name,
        )
    new_code = [reference.names.index(n) for n in candidates.names]
    withdrawn = frozenset(new_code[c] for c in candidates.excluded)
    if withdrawn != reference.excluded:
        raise InputError(
            "a section's ballot file withdraws other candidates than the first section's",
            path=where or None,
            field="candidates",
            value=sorted(reference.names[c] for c in withdrawn ^ reference.excluded),
        )
    store = ballots if new_code == sorted(new_code) else ballots.recoded(new_code)
    return CollegeSection(name, weight, store)


def options_record(opts: CollegeOptions, weights: Mapping[str, str]) -> dict[str, object]:
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
