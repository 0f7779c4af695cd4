"""The declaration: frozen records of an election's result, and its exports (JSON, CSV, BLT).

Figures are exact integers; each percentage is computed exactly (``Fraction``) and rounded
once, half up, to one decimal place, as results are published ("61.8%").

* a candidate's **votes** are first preferences (ranked rules and plurality) or marks (block
  vote); percent is of the contest's votes so counted;
* **valid** is the number of valid ballots in the box; **spoilt** the postal papers spoilt in
  the contest (blank, unreadable credential, invalid marks: the sealed spoilt ballots in the
  box and the papers that could not be tied to a voter); **ballots returned** is both;
* **turnout** follows the definition's ``[turnout]`` (by default ``returned``:
  (valid + spoilt) / electorate, Labour's 77.6% in 2016); the **electorate** is the eligible
  register entries in the contest's sections;
* a **section**'s figures are published only when at least ``min_published_size`` of its
  ballots were cast (otherwise ``published`` is false and no figures are given), and only
  when the sections withheld cannot be recovered by subtraction (:func:`withheld_sections`);
* **constraints** are the contest's seat constraints and ballot rules in words, as the ballot
  paper states them, and **constraint_rounds** the rounds in which one acted, with what it did
  (the count's round labels: who was passed over, doomed or guarded);
* an **electoral college** contest (:class:`CollegeSectionResult`) gives each section's
  weight and its count round by round: votes and shares of the continuing candidates' votes
  (halves rounded up to the college's places), for each section whose figures may be
  published, and that section's ballots as a BLT download (``<contest>-<section>-cvr.blt``);
  the contest's own count is then the college's, in shares.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, TextIO

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.record import Count
from tallyroom.count.rules.college_shares import display_percent
from tallyroom.formats.blt import write_blt
from tallyroom.report.motion_declaration import MotionResult, motion_json
from tallyroom.report.rctab_csv import count_to_csv
from tallyroom.report.rctab_json import ReportLabels, count_to_json
from tallyroom.report.spreadsheet import csv_writer
from tallyroom.report.suppression import percent, withheld_sections

__all__ = [
    "CandidateResult",
    "CollegeSectionResult",
    "ContestDeclaration",
    "Declaration",
    "MotionResult",
    "PreviousComparison",
    "SectionResult",
    "declaration_csv",
    "declaration_document",
    "declaration_downloads",
    "declaration_json",
    "percent",
    "withheld_sections",
    "write_cvrs_blt",
]


@dataclass(frozen=True, slots=True)
class CandidateResult:
    name: str
    votes: int
    percent: Decimal


@dataclass(frozen=True, slots=True)
class SectionResult:
    """One section's figures; ``published`` false means suppressed (too few ballots)."""

    name: str
    label: str
    published: bool
    ballots: int | None
    candidates: tuple[CandidateResult, ...]


@dataclass(frozen=True, slots=True)
class PreviousComparison:
    """A candidate's share now and in the previous contest (percentage points)."""

    name: str
    previous_percent: Decimal | None
    previous_votes: int | None
    percent: Decimal | None
    change: Decimal | None


@dataclass(frozen=True, slots=True)
class CollegeSectionResult:
    """One section of an electoral college: its weight, and its round-by-round count (whole
    votes) when its figures may be published (``count`` is ``None`` when withheld)."""

    name: str
    label: str
    weight: Fraction
    published: bool
    count: Count | None
    places: int = 3
    # the section's anonymised ballots (as the contest's ``cvrs``), when published
    cvrs: tuple[tuple[int, ...], ...] = ()

    def shares(self) -> list[dict[str, Any]]:
        """Each round's votes and shares (a percentage of the votes for continuing
        candidates, halves rounded up to ``places``), as the college used them."""
        if self.count is None:
            return []
        out = []
        for rnd in self.count.rounds:
            base = sum(v for _, v in rnd.tally)
            out.append(
                {
                    "round": rnd.number,
                    "votes": dict(rnd.tally),
                    "percent": {
                        c: str(display_percent(Fraction(v, base or 1), self.places))
                        for c, v in rnd.tally
                    },
                }
            )
        return out


@dataclass(frozen=True, slots=True)
class ContestDeclaration:
    contest: str
    title: str
    rule: str
    seats: int
    winners: tuple[str, ...]
    candidates: tuple[CandidateResult, ...]
    count: Count
    electorate: int
    valid: int
    spoilt: int
    turnout_percent: Decimal
    sections: tuple[SectionResult, ...]
    previous_name: str | None
    previous: tuple[PreviousComparison, ...]
    candidate_names: tuple[str, ...]
    # Anonymised cast vote records: candidate indexes, best first, in random order.
    cvrs: tuple[tuple[int, ...], ...]
    constraints: tuple[str, ...] = ()  # in words, as on the ballot paper
    constraint_rounds: tuple[tuple[int, str], ...] = ()  # (round, what a constraint did)
    college: tuple[CollegeSectionResult, ...] = ()
    motion: MotionResult | None = None  # a motion: carried or not and why; its units

    @property
    def ballots_returned(self) -> int:
        return self.valid + self.spoilt


@dataclass(frozen=True, slots=True)
class Declaration:
    election_id: int
    slug: str
    name: str
    contests: tuple[ContestDeclaration, ...]

    def contest(self, name: str) -> ContestDeclaration:
        for c in self.contests:
            if c.contest == name:
                return c
        raise KeyError(name)


def _candidates_json(results: Sequence[CandidateResult]) -> list[dict[str, Any]]:
    return [{"name": r.name, "votes": r.votes, "percent": str(r.percent)} for r in results]


def contest_json(c: ContestDeclaration) -> dict[str, Any]:
    """One contest's declaration as JSON (percentages as strings: no floats); a motion's
    adds ``motion`` (:func:`~tallyroom.report.motion_declaration.motion_json`)."""
    doc = _contest_json(c)
    if c.motion is not None:
        doc["motion"] = motion_json(c.motion)
    return doc


def _contest_json(c: ContestDeclaration) -> dict[str, Any]:
    return {
        "contest": c.contest,
        "title": c.title,
        "rule": c.rule,
        "seats": c.seats,
        "winners": list(c.winners),
        "electorate": c.electorate,
        "ballots_returned": c.ballots_returned,
        "valid": c.valid,
        "spoilt": c.spoilt,
        "turnout_percent": str(c.turnout_percent),
        "candidates": _candidates_json(c.candidates),
        "sections": [
            {
                "name": s.name,
                "label": s.label,
                "published": s.published,
                "ballots": s.ballots,
                "candidates": _candidates_json(s.candidates),
            }
            for s in c.sections
        ],
        "rounds": len(c.count.rounds),
        "constraints": list(c.constraints),
        "constraint_rounds": [{"round": n, "note": note} for n, note in c.constraint_rounds],
        "college": None
        if not c.college
        else {
            "sections": [
                {
                    "name": s.name,
                    "label": s.label,
                    "weight": str(s.weight),
                    "published": s.published,
                    "rounds": s.shares(),
                }
                for s in c.college
            ]
        },
        "previous": None
        if c.previous_name is None
        else {
            "name": c.previous_name,
            "candidates": [
                {
                    "name": p.name,
                    "previous_percent": None
                    if p.previous_percent is None
                    else str(p.previous_percent),
                    "previous_votes": p.previous_votes,
                    "percent": None if p.percent is None else str(p.percent),
                    "change": None if p.change is None else str(p.change),
                }
                for p in c.previous
            ],
        },
    }


def declaration_json(decl: Declaration) -> dict[str, Any]:
    """The declaration as JSON: the election, and one object per contest (:func:`contest_json`).

    Each contest carries ``electorate, ballots_returned, valid, spoilt, turnout_percent,
    candidates [{name, votes, percent}], sections [{name, candidates}]`` among its keys.
    """
    return {
        "election": decl.slug,
        "name": decl.name,
        "contests": [contest_json(c) for c in decl.contests],
    }


def declaration_csv(decl: Declaration) -> str:
    """One row per contest x (whole contest or published section) x candidate."""
    out = io.StringIO()
    writer = csv_writer(out)  # names that open like formulas are neutralised
    writer.writerow(["contest", "section", "candidate", "votes", "percent"])
    for c in decl.contests:
        for r in c.candidates:
            writer.writerow([c.contest, "", r.name, r.votes, r.percent])
        for s in c.sections:
            for r in s.candidates:
                writer.writerow([c.contest, s.name, r.name, r.votes, r.percent])
    units = [(c.contest, u) for c in decl.contests if c.motion is not None for u in c.motion.units]
    if units:  # a contest counted by unit: one row per unit and answer (or its outcome alone)
        writer.writerow([])
        writer.writerow(["contest", "group", "unit", "ballots", "answer", "votes", "percent",
                         "outcome"])  # fmt: skip
        for contest, u in units:
            for a in u.answers or [None]:
                writer.writerow(
                    [contest, u.group, u.unit, "" if u.ballots is None else u.ballots]
                    + (["", "", ""] if a is None else [a.name, a.votes, a.percent])
                    + [u.outcome]
                )
    return out.getvalue()


def write_cvrs_blt(
    target: str | os.PathLike[str] | TextIO,
    c: ContestDeclaration,
    section: CollegeSectionResult | None = None,
) -> None:
    """The contest's anonymised ballots as a BLT file (identical rankings grouped); or those
    of one section of its electoral college."""
    cvrs = c.cvrs if section is None else section.cvrs
    title = c.title if section is None else f"{c.title}: {section.label}"
    ballots = BallotStore.from_rankings(list(cvrs))
    write_blt(target, ballots, CandidateTable(c.candidate_names), c.seats, title)


def declaration_document(decl: Declaration) -> dict[str, Any]:
    """What is published at the declaration: :func:`declaration_json`, each contest with its
    count as RCTab's detailed report under ``report`` (every round's tally and transfers)."""
    doc = declaration_json(decl)
    for entry, c in zip(doc["contests"], decl.contests, strict=True):
        entry["report"] = count_to_json(c.count, ReportLabels(contest=c.title))
    return doc


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)


def declaration_downloads(decl: Declaration) -> list[tuple[str, str, bytes]]:
    """The public files of a declaration: (name, media type, content)."""
    files = [
        (
            "results.json",
            "application/json",
            (json.dumps(declaration_document(decl), indent=2, sort_keys=True) + "\n").encode(),
        ),
        ("results.csv", "text/csv", declaration_csv(decl).encode()),
    ]
    for c in decl.contests:
        stem = _safe(c.contest)
        labels = ReportLabels(contest=c.title)
        report = json.dumps(count_to_json(c.count, labels), indent=2, sort_keys=True) + "\n"
        files.append((f"{stem}-rctab-summary.json", "application/json", report.encode()))
        files.append(
            (f"{stem}-rctab-summary.csv", "text/csv", count_to_csv(c.count, labels).encode())
        )
        blt = io.StringIO()
        write_cvrs_blt(blt, c)
        files.append((f"{stem}-cvr.blt", "text/plain", blt.getvalue().encode()))
        # an electoral college's published sections, each its own ballot file, so that
        # `tallyroom count --rule college --section NAME=FILE:WEIGHT ...` recounts it
        for part in c.college:
            if part.published:
                blt = io.StringIO()
                write_cvrs_blt(blt, c, part)
                name = f"{stem}-{_safe(part.name)}-cvr.blt"
                files.append((name, "text/plain", blt.getvalue().encode()))
    return files
