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
  the contest's own count is then the college's, in shares;
* a **weighted** contest (the definition's ``[weights]``) gives each candidate's votes
  (ballots, people) and **weight** (their ballots' weights added, exactly) with its share,
  the contest's total weight, and counts by weight; valid, spoilt and turnout stay counts of
  ballots. Its published ``<contest>-cvr.blt`` holds each ranking once with its ballots'
  weights added up, in units of the weights' last decimal place: no ballot's own weight;
* ``results.csv`` gives per candidate their **groups** and, in a contest with seat
  constraints, what a constraint did to them (:mod:`.constraint_notes`).
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
from tallyroom.count.weighting import weighted_store
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
    """A candidate's votes (ballots: first preferences or marks) and their share; in a
    weighted contest also their weight (those ballots' weights added, exactly) and its
    share."""

    name: str
    votes: int
    percent: Decimal
    weight: Decimal | None = None
    weight_percent: Decimal | None = None


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
    # each candidate's groups (as declared), and what a constraint did to them (in words)
    candidate_groups: tuple[tuple[str, ...], ...] = ()
    constraint_notes: tuple[str, ...] = ()
    # a weighted contest: the weights' decimal places, and each CVR's weight in units of
    # 10**-weight_places (parallel to ``cvrs``; published only added up by ranking)
    weight_places: int | None = None
    cvr_weights: tuple[int, ...] = ()
    motion: MotionResult | None = None  # a motion: carried or not and why; its units

    @property
    def ballots_returned(self) -> int:
        return self.valid + self.spoilt

    @property
    def weighted(self) -> bool:
        return self.weight_places is not None

    @property
    def total_weight(self) -> Decimal | None:
        """The valid ballots' weights added up (``None`` unweighted)."""
        if self.weight_places is None:
            return None
        return Decimal(sum(self.cvr_weights)).scaleb(-self.weight_places)

    def groups_of(self, k: int) -> tuple[str, ...]:
        return self.candidate_groups[k] if k < len(self.candidate_groups) else ()

    def note_of(self, k: int) -> str:
        return self.constraint_notes[k] if k < len(self.constraint_notes) else ""


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


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _candidates_json(results: Sequence[CandidateResult]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        entry: dict[str, Any] = {"name": r.name, "votes": r.votes, "percent": str(r.percent)}
        if r.weight is not None:
            entry["weight"] = _decimal(r.weight)
            entry["weight_percent"] = _decimal(r.weight_percent)
        out.append(entry)
    return out


def _contest_candidates_json(c: ContestDeclaration) -> list[dict[str, Any]]:
    """The contest's candidates, each with their groups and what a constraint did to them
    when the contest has constraints."""
    out = _candidates_json(c.candidates)
    if c.constraints:
        for k, entry in enumerate(out):
            entry["groups"] = list(c.groups_of(k))
            entry["constraint"] = c.note_of(k)
    return out


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
        "candidates": _contest_candidates_json(c),
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
        **_weights_json(c),
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


def _weights_json(c: ContestDeclaration) -> dict[str, Any]:
    """A weighted contest's ``weights``: the places and the valid ballots' total weight
    (an unweighted contest has no such key, so its JSON is as before weights existed)."""
    if c.weight_places is None:
        return {}
    return {
        "weights": {"decimal_places": c.weight_places, "total": _decimal(c.total_weight)},
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


CSV_COLUMNS = (
    "contest",
    "section",
    "candidate",
    "votes",
    "percent",
    "weight",
    "weight_percent",
    "groups",
    "constraint",
)


def declaration_csv(decl: Declaration) -> str:
    """One row per contest x (whole contest or published section) x candidate
    (:data:`CSV_COLUMNS`): votes (ballots) and percent; in a weighted contest the weight and
    its percent (empty otherwise); the candidate's groups (``;``-separated) and what a
    constraint did to them (the contest's rows only; empty without constraints)."""
    out = io.StringIO()
    writer = csv_writer(out)  # names that open like formulas are neutralised
    writer.writerow(CSV_COLUMNS)
    for c in decl.contests:
        for k, r in enumerate(c.candidates):
            writer.writerow([c.contest, "", *_row(r), ";".join(c.groups_of(k)), c.note_of(k)])
        for s in c.sections:
            for k, r in enumerate(s.candidates):
                writer.writerow([c.contest, s.name, *_row(r), ";".join(c.groups_of(k)), ""])
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


def _row(r: CandidateResult) -> list[object]:
    return [
        r.name,
        r.votes,
        r.percent,
        _decimal(r.weight) or "",
        _decimal(r.weight_percent) or "",
    ]


def write_cvrs_blt(
    target: str | os.PathLike[str] | TextIO,
    c: ContestDeclaration,
    section: CollegeSectionResult | None = None,
) -> None:
    """The contest's anonymised ballots as a BLT file (identical rankings grouped); or those
    of one section of its electoral college."""
    cvrs = c.cvrs if section is None else section.cvrs
    title = c.title if section is None else f"{c.title}: {section.label}"
    if section is None and c.weight_places is not None:
        # weighted: each ranking once, its ballots' weights added up, in units of
        # 10**-places (a whole number, as BLT weights are); no ballot's own weight is shown
        ballots = weighted_store(list(cvrs), c.cvr_weights)
        title = f"{title} (weights in units of 10^-{c.weight_places})"
    else:
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
