"""Cast vote records written as a NIST SP 1500-103 (CDF) cast vote record report, in JSON.

The structure follows RCTab's output when ``generateCdfJson`` is set (RCTab 2.0): a
``CVR.CastVoteRecordReport`` with

* ``Election``: one election listing every candidate (``c-<slug>``) and one
  ``CandidateContest`` (``contest-001``) with a ``ContestSelection`` (``cs-<slug>``) each;
* ``GpUnit``: the election's scope (the jurisdiction) and one ``precinct`` unit per precinct;
* ``CVR``: one per record, ``BallotPrePrintedId`` its id, ``BallotStyleUnitId`` its
  precinct, and a ``CVRSnapshot`` of ``Type`` ``original`` (``@id`` ``ballot-<id>``) whose
  ``CVRContestSelection`` lists each marked candidate, in order of its first rank, with a
  ``SelectionPosition`` (``HasIndication: yes``, ``IsAllocable: unknown``, ``NumberVotes: 1``,
  ``Rank``) for every rank it is marked at. An overvote marks each of its candidates at that
  rank; a skipped rank marks nothing.

For the rounds of a count, pass one :class:`RoundAllocation` per round: each record then gets
an ``interpreted`` snapshot per round (``ballot-<id>-round-<k>``), whose positions are
``IsAllocable: no`` except the first position of each candidate the record counts for in that
round: ``yes``, with ``NumberVotes: 1`` for a whole vote or ``NumberVotes: 0`` and
``FractionalVotes`` (``.8889``) for part of one. ``CurrentSnapshotId`` names the last snapshot.

Slugs are the names lower-cased with spaces as underscores (RCTab's rule). Where RCTab takes a
selection id from the raw CVR text (a candidate code or alias), this writer uses the name.
Large reports are streamed: one CVR is built and written at a time.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import (
    OVERVOTE,
    OVERVOTE_SET_BASE,
    SKIP,
    CastVoteRecords,
    Codes,
)
from tallyroom.count.numbers import Scale
from tallyroom.errors import FormatError

__all__ = ["CdfReport", "RoundAllocation", "cdf_report", "write_cdf_json"]

CONTEST_ID = "contest-001"
ELECTION_ID = "election-001"
SCOPE_ID = "gpu-election"
DEVICE_ID = "rd-001"
CDF_VERSION = "1.0.0"


@dataclass(frozen=True, slots=True)
class RoundAllocation:
    """Where the records' votes sit in one round, as parallel arrays of shares.

    Share ``j`` gives ``units[j]`` (in units of the report's scale) of record ``record[j]`` to
    candidate ``candidate[j]``. A record counting for nobody has no share; a record split by a
    surplus transfer has several.
    """

    record: Codes
    candidate: Codes
    units: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        if not self.record.shape == self.candidate.shape == self.units.shape:
            raise ValueError("record, candidate and units must be parallel arrays")


@dataclass(frozen=True, slots=True)
class CdfReport:
    """What the report says about its election, beyond the records."""

    contest_name: str
    jurisdiction: str = ""
    generated: datetime = field(default_factory=lambda: datetime.now().astimezone())
    application: str = "tallyroom"
    scale: Scale = field(default_factory=lambda: Scale(4))  # of the round allocations
    overvote_label: str | None = None  # listed as a candidate; marks overvotes of unknown names


def cdf_report(
    records: CastVoteRecords,
    report: CdfReport,
    rounds: Sequence[RoundAllocation] = (),
) -> dict[str, Any]:
    """The whole report as a JSON-ready dict (for small contests; see :func:`write_cdf_json`)."""
    body = _header(records, report)
    body["CVR"] = list(_cvrs(records, report, rounds))
    return body


def write_cdf_json(
    target: str | os.PathLike[str] | TextIO,
    records: CastVoteRecords,
    report: CdfReport,
    rounds: Sequence[RoundAllocation] = (),
) -> None:
    """Write the report as JSON (keys sorted, as RCTab writes them), one CVR at a time."""
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", encoding="utf-8", newline="\n") as stream:
            _stream(stream, records, report, rounds)
    else:
        _stream(target, records, report, rounds)


def _stream(
    out: TextIO,
    records: CastVoteRecords,
    report: CdfReport,
    rounds: Sequence[RoundAllocation],
) -> None:
    header = _header(records, report)
    header["CVR"] = []
    head, tail = json.dumps(header, indent=2, sort_keys=True).split('"CVR": []', 1)
    out.write(head + '"CVR": [')
    for i, cvr in enumerate(_cvrs(records, report, rounds)):
        out.write(",\n" if i else "\n")
        out.write(json.dumps(cvr, sort_keys=True))
    out.write("\n  ]" + tail + "\n")


# -- the election --------------------------------------------------------------------------------
def _selection_names(records: CastVoteRecords, report: CdfReport) -> list[str]:
    names = list(records.candidates.names)
    if report.overvote_label is not None:
        names.append(report.overvote_label)
    return names


_UNSAFE = re.compile(r"[^a-zA-Z0-9_\-.]")


def _slug(name: str) -> str:
    """An id part as RCTab makes it: characters outside ``[a-zA-Z0-9_-.]`` become ``_``."""
    return _UNSAFE.sub("_", name).lower()


def _slugs(names: list[str]) -> list[str]:
    slugs = [_slug(n) for n in names]
    if len(set(slugs)) != len(slugs):
        clash = next(n for i, n in enumerate(names) if _slug(n) in slugs[:i])
        raise FormatError(f"two candidates share the CDF id of {clash!r}")
    return slugs


def _header(records: CastVoteRecords, report: CdfReport) -> dict[str, Any]:
    names = _selection_names(records, report)
    slugs = _slugs(names)
    units: list[dict[str, Any]] = [
        {
            "@id": SCOPE_ID,
            "@type": "GpUnit",
            "Name": report.jurisdiction,
            "OtherType": "Election Scope Jurisdiction",
            "Type": "other",
        }
    ]
    if records.precincts is not None:
        units.extend(
            {"@id": f"gpu-{k + 1}", "@type": "GpUnit", "Name": name, "Type": "precinct"}
            for k, name in enumerate(records.precinct_names)
        )
    return {
        "@type": "CVR.CastVoteRecordReport",
        "Election": [
            {
                "@id": ELECTION_ID,
                "@type": "Election",
                "Candidate": [
                    {"@id": f"c-{s}", "Name": n} for s, n in zip(slugs, names, strict=True)
                ],
                "Contest": [
                    {
                        "@id": CONTEST_ID,
                        "@type": "CandidateContest",
                        "ContestSelection": [
                            {
                                "@id": f"cs-{s}",
                                "@type": "ContestSelection",
                                "CandidateIds": [f"c-{s}"],
                            }
                            for s in slugs
                        ],
                        "Name": report.contest_name,
                    }
                ],
                "ElectionScopeId": SCOPE_ID,
            }
        ],
        "GeneratedDate": report.generated.isoformat(timespec="seconds"),
        "GpUnit": units,
        "ReportGeneratingDeviceIds": [DEVICE_ID],
        "ReportingDevice": [
            {
                "@id": DEVICE_ID,
                "@type": "CVR.ReportingDevice",
                "Application": report.application,
                "Manufacturer": report.application,
            }
        ],
        "Version": CDF_VERSION,
    }


# -- the records ---------------------------------------------------------------------------------
def _cvrs(
    records: CastVoteRecords,
    report: CdfReport,
    rounds: Sequence[RoundAllocation],
) -> Iterator[dict[str, Any]]:
    names = _selection_names(records, report)
    selection_ids = [f"cs-{s}" for s in _slugs(names)]
    overvote_code = len(records.candidates) if report.overvote_label is not None else None
    shares = [_shares_by_record(r, len(records)) for r in rounds]
    one = report.scale.one
    for i, row in enumerate(records.ranks.tolist()):
        ballot_id = records.ids[i] if records.ids is not None else str(i + 1)
        marks = _marks(row, records.overvote_sets, overvote_code, ballot_id)
        original = f"ballot-{ballot_id}"
        snapshots = [_snapshot(original, "original", marks, selection_ids, None, one, report)]
        for k, by_record in enumerate(shares, start=1):
            got = by_record.get(i, {})
            unknown = [c for c in got if c not in marks]
            if unknown:
                raise FormatError(
                    f"round {k} gives record {ballot_id!r} to a candidate it does not mark"
                    f" ({names[unknown[0]]!r})"
                )
            snapshots.append(
                _snapshot(
                    f"{original}-round-{k}", "interpreted", marks, selection_ids, got, one, report
                )
            )
        cvr: dict[str, Any] = {
            "@type": "CVR",
            "BallotPrePrintedId": ballot_id,
            "CVRSnapshot": snapshots,
            "CurrentSnapshotId": snapshots[-1]["@id"],
            "ElectionId": ELECTION_ID,
        }
        if records.precincts is not None and records.precincts[i] >= 0:
            cvr["BallotStyleUnitId"] = f"gpu-{int(records.precincts[i]) + 1}"
        yield cvr


def _marks(
    row: list[int],
    sets: tuple[tuple[int, ...], ...],
    overvote_code: int | None,
    ballot_id: str,
) -> dict[int, list[int]]:
    """Candidate -> the ranks it is marked at, candidates in order of their first rank."""
    marks: dict[int, list[int]] = {}
    for rank, code in enumerate(row, start=1):
        if code == SKIP:
            continue
        if code >= 0:
            members: tuple[int, ...] = (code,)
        elif code == OVERVOTE:
            if overvote_code is None:
                raise FormatError(
                    f"record {ballot_id!r} has an overvote of unknown candidates at rank {rank};"
                    " give an overvote_label to write it"
                )
            members = (overvote_code,)
        else:
            members = sets[OVERVOTE_SET_BASE - code]
        for candidate in members:
            marks.setdefault(candidate, []).append(rank)
    return marks


def _snapshot(
    snapshot_id: str,
    kind: str,
    marks: dict[int, list[int]],
    selection_ids: list[str],
    shares: dict[int, int] | None,
    one: int,
    report: CdfReport,
) -> dict[str, Any]:
    selections = []
    for candidate, ranks in marks.items():
        positions = []
        for j, rank in enumerate(ranks):
            position: dict[str, Any] = {
                "@type": "CVR.SelectionPosition",
                "HasIndication": "yes",
                "IsAllocable": "unknown",
                "NumberVotes": 1,
                "Rank": rank,
            }
            if shares is not None:
                units = shares.get(candidate) if j == 0 else None
                position["IsAllocable"] = "no" if units is None else "yes"
                if units is not None and units != one:
                    position["NumberVotes"] = 0
                    position["FractionalVotes"] = _fraction(units, report.scale)
            positions.append(position)
        selections.append(
            {
                "@type": "CVR.CVRContestSelection",
                "ContestSelectionId": selection_ids[candidate],
                "SelectionPosition": positions,
            }
        )
    return {
        "@id": snapshot_id,
        "@type": "CVR.CVRSnapshot",
        "CVRContest": [
            {
                "@type": "CVR.CVRContest",
                "CVRContestSelection": selections,
                "ContestId": CONTEST_ID,
            }
        ],
        "Type": kind,
    }


def _fraction(units: int, scale: Scale) -> str:
    """Part of a vote as RCTab writes it: ``.8889`` (all the scale's places, no leading 0)."""
    text = scale.format(units)
    return text[1:] if text.startswith("0.") else text


def _shares_by_record(allocation: RoundAllocation, size: int) -> dict[int, dict[int, int]]:
    if allocation.record.size and (
        int(allocation.record.min()) < 0 or int(allocation.record.max()) >= size
    ):
        raise FormatError("a round allocation names a record that does not exist")
    by_record: dict[int, dict[int, int]] = {}
    for record, candidate, units in zip(
        allocation.record.tolist(),
        allocation.candidate.tolist(),
        allocation.units.tolist(),
        strict=True,
    ):
        held = by_record.setdefault(record, {})
        held[candidate] = held.get(candidate, 0) + units
    return by_record
