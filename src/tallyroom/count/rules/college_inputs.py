"""The inputs of an electoral college count: its sections, its options, and how a returning
officer names a section on the command line (``--section NAME=FILE[:WEIGHT]``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.options import OvervoteRule, TiebreakMode
from tallyroom.errors import ConfigError, InputError

__all__ = [
    "CollegeOptions",
    "CollegeSection",
    "SectionSpec",
    "aligned_section",
    "options_record",
    "parse_section_specs",
]

SECTION_OPTION = "--section"
_WEIGHT = re.compile(r"^(\d+(/\d+)?|\d*\.\d+)$")


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


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """A section as named on the command line: its name, its ballot file, its weight."""

    name: str
    path: str
    weight: Fraction


def parse_section_specs(specs: Sequence[str], *, option: str = SECTION_OPTION) -> list[SectionSpec]:
    """``NAME=FILE[:WEIGHT]`` values; weights are fractions (``1/3``) or decimals (``0.5``),
    taken exactly. Give every section a weight, or none (then all weigh the same); the weights
    must add up to exactly 1 and the names be unique."""
    parsed: list[tuple[str, str, Fraction | None]] = []
    for spec in specs:
        name, eq, rest = spec.partition("=")
        if not eq or not name.strip() or not rest.strip():
            raise InputError(
                "a section is NAME=FILE or NAME=FILE:WEIGHT (a weight such as 1/3 or 0.25)",
                field=option,
                value=spec,
            )
        path, colon, weight_text = rest.rpartition(":")
        weight: Fraction | None = None
        if colon and _WEIGHT.match(weight_text.strip()):
            try:
                weight = Fraction(weight_text.strip())
            except ZeroDivisionError:
                raise InputError("a weight cannot divide by 0", field=option, value=spec) from None
            if weight <= 0:
                raise InputError("a section's weight must be above 0", field=option, value=spec)
        else:
            path = rest
        parsed.append((name.strip(), path.strip(), weight))
    if not parsed:
        raise InputError("an electoral college needs at least one section", field=option)
    names = [n for n, _, _ in parsed]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError("section names must be unique", field=option, value=twice)
    given = [w for _, _, w in parsed if w is not None]
    if given and len(given) != len(parsed):
        missing = [n for n, _, w in parsed if w is None]
        raise InputError(
            "give every section a weight, or none (equal weights)", field=option, value=missing
        )
    if not given:
        return [SectionSpec(n, p, Fraction(1, len(parsed))) for n, p, _ in parsed]
    total = sum(given, Fraction(0))
    if total != 1:
        raise InputError(
            f"section weights must add up to 1, not {total}",
            field=option,
            value=[f"{n}:{w}" for n, _, w in parsed],
        )
    return [SectionSpec(n, p, w) for n, p, w in parsed if w is not None]


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
