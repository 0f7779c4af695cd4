"""``tallyroom count``: a ballot file counted under a rule, or an electoral college of files.

Files in, a :class:`~tallyroom.count.record.Count` out; nothing is stored. The command line
parses the options and renders the result; this module reads the files, builds the rule's
parameters and the seat constraints, and counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tallyroom.count.record import Count
from tallyroom.count.rules.registry import (
    Arithmetic,
    DefeatBatch,
    QuotaRule,
    RuleParams,
    get_rule,
)
from tallyroom.errors import InputError
from tallyroom.formats.ballot_file import read_ballot_file
from tallyroom.formats.reading import ReadNote, ReadOptions

if TYPE_CHECKING:
    from tallyroom.count.ballots import CandidateTable
    from tallyroom.count.constraints import BallotRule, SeatConstraint

# The college and the constraint parsers are imported by the functions that use them: a plain
# count of a large file should not pay for loading them (docs/performance.md).

__all__ = ["FileCount", "count_college_files", "count_file"]


@dataclass(frozen=True, slots=True)
class FileCount:
    """A count from files: the result, each college section's own count, a title and the
    ballot file's stem (to name outputs)."""

    result: Count
    sections: tuple[tuple[str, Count], ...]
    title: str
    stem: str
    notes: tuple[ReadNote, ...] = ()  # what the readers took leniently, file by file


def count_file(
    ballots: Path,
    rule: str,
    *,
    seats: int | None,
    fmt: str,
    seed: int | None,
    decimals: int | None,
    constraint_specs: Sequence[str] = (),
    constraint_file: Path | None = None,
    read_options: ReadOptions | None = None,
    quota: QuotaRule | None = None,
    arithmetic: Arithmetic | None = None,
    defeat_batch: DefeatBatch | None = None,
) -> FileCount:
    """One ballot file under one rule, with any seat constraints (``--constraint``, a TOML
    groups file) and rule options (``None``: the rule's default; an option the rule does not
    take is refused before the file is read). The file's tie order (BLT ``[tie ...]``) goes
    to the rule."""
    chosen = get_rule(rule)
    chosen.check(
        RuleParams(
            decimal_places=decimals,
            quota=quota,
            arithmetic=arithmetic,
            defeat_batch=defeat_batch,
        )
    )
    election = read_ballot_file(ballots, fmt, read_options)
    n_seats = seats if seats is not None else (election.seats or 1)
    cands = election.candidates
    constraints, ballot_rules = _constraints(constraint_specs, constraint_file, cands)
    params = RuleParams(
        seats=n_seats,
        decimal_places=decimals,
        seed=seed,
        constraints=constraints,
        ballot_rules=ballot_rules,
        quota=quota,
        arithmetic=arithmetic,
        defeat_batch=defeat_batch,
        tie_order=election.tie_order,
    )
    result = chosen.count(election.store, cands, params)
    return FileCount(result, (), election.title or ballots.name, ballots.stem, election.notes)


def _constraints(
    specs: Sequence[str], path: Path | None, cands: CandidateTable
) -> tuple[tuple[SeatConstraint, ...], tuple[BallotRule, ...]]:
    """The seat constraints and ballot rules of ``--constraint`` and a TOML groups file."""
    if not specs and path is None:
        return (), ()
    from tallyroom.formats.constraint_spec import (
        ConstraintSet,
        merge_constraints,
        parse_constraint_options,
        parse_groups_toml,
    )

    given = ConstraintSet()
    if path is not None:
        text = path.read_text(encoding="utf-8")
        given = parse_groups_toml(text, cands, path=str(path))
    if specs:
        given = merge_constraints(given, ConstraintSet(parse_constraint_options(specs, cands)))
    return given.seats, given.ballots


def count_college_files(
    ballots: Path | None,
    section_specs: Sequence[str],
    *,
    fmt: str,
    seed: int | None,
    decimals: int | None,
    read_options: ReadOptions | None = None,
) -> FileCount:
    """An electoral college from one ballot file per section (``--section NAME=FILE:WEIGHT``),
    or from one file counted as a college of one section."""
    from fractions import Fraction

    from tallyroom.count.options import TiebreakMode
    from tallyroom.count.rules.college import (
        CollegeOptions,
        CollegeSection,
        aligned_section,
        count_college,
    )
    from tallyroom.formats.college_spec import SectionSpec, parse_section_specs

    if ballots is not None:
        specs = [SectionSpec(ballots.stem, str(ballots), Fraction(1))]
    else:
        specs = parse_section_specs(section_specs)
    files = []
    for spec in specs:
        path = Path(spec.path)
        if not path.is_file():
            raise InputError("no such ballot file", field="--section", value=spec.path)
        files.append(read_ballot_file(path, fmt, read_options))
    reference = files[0].candidates
    sections: list[CollegeSection] = [
        aligned_section(s.name, s.weight, f.store, f.candidates, reference, where=s.path)
        for s, f in zip(specs, files, strict=True)
    ]
    opts = CollegeOptions(
        display_places=min(4 if decimals is None else decimals, 12),
        tiebreak_mode=TiebreakMode.RANDOM if seed is not None else TiebreakMode.USE_CANDIDATE_ORDER,
        random_seed=seed,
    )
    result = count_college(sections, reference, opts)
    title = files[0].title if ballots is not None else "electoral college"
    parts = tuple((s.name, s.count) for s in result.sections)
    notes = tuple(note for f in files for note in f.notes)
    stem = Path(specs[0].path).stem
    return FileCount(result.college, parts, title or "electoral college", stem, notes)
