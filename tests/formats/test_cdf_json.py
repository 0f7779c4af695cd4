"""NIST CDF CVR JSON writing, checked against RCTab's own ``generateCdfJson`` output.

Each RCTab case's expected CDF file is turned back into cast vote records (its "original"
snapshots) and per-round allocations (its "interpreted" snapshots); writing those must give
RCTab's file again, apart from the generating device and the numbering of precinct units.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tallyroom.count.ballots import (
    OVERVOTE,
    SKIP,
    CandidateTable,
    CastVoteRecords,
    overvote_set_code,
)
from tallyroom.count.numbers import Scale
from tallyroom.errors import FormatError
from tallyroom.formats.cdf_json import CdfReport, RoundAllocation, cdf_report, write_cdf_json

CASES = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "rctab" / "cases"
EXPECTED = sorted(CASES.glob("*/*_expected_cdf_cvr.json"))


def rebuild(doc: dict[str, Any]) -> tuple[CastVoteRecords, list[RoundAllocation]] | None:
    """Records and allocations from an RCTab CDF report (None: selections named by alias)."""
    candidates = doc["Election"][0]["Candidate"]
    code_of = {c["@id"][2:]: i for i, c in enumerate(candidates)}
    declared = {s["@id"] for s in doc["Election"][0]["Contest"][0]["ContestSelection"]}
    precinct_ids = [u["@id"] for u in doc["GpUnit"] if u["Type"] == "precinct"]
    precinct_names = [u["Name"] for u in doc["GpUnit"] if u["Type"] == "precinct"]
    sets: dict[tuple[int, ...], int] = {}
    rows: list[list[int]] = []
    shares: dict[int, list[tuple[int, int, int]]] = {}
    for i, cvr in enumerate(doc["CVR"]):
        by_rank: dict[int, set[int]] = {}
        for snap in cvr["CVRSnapshot"]:
            for sel in snap["CVRContest"][0]["CVRContestSelection"]:
                if sel["ContestSelectionId"] not in declared:
                    return None
                code = code_of[sel["ContestSelectionId"][3:]]
                for pos in sel["SelectionPosition"]:
                    if snap["Type"] == "original":
                        by_rank.setdefault(pos["Rank"], set()).add(code)
                    elif pos["IsAllocable"] == "yes":
                        units = Decimal(pos.get("FractionalVotes", "1")) * 10_000
                        round_no = int(snap["@id"].rsplit("-", 1)[1])
                        shares.setdefault(round_no, []).append((i, code, int(units)))
        row = [SKIP] * max(by_rank, default=0)
        for rank, marked in by_rank.items():
            members = tuple(sorted(marked))
            single = len(members) == 1
            row[rank - 1] = (
                members[0] if single else overvote_set_code(sets.setdefault(members, len(sets)))
            )
        rows.append(row)
    ranks = np.full((len(rows), max(max(map(len, rows)), 1)), SKIP, dtype=np.int32)
    for i, row in enumerate(rows):
        ranks[i, : len(row)] = row
    precincts = None
    if precinct_ids:
        index = {p: k for k, p in enumerate(precinct_ids)}
        precincts = np.array(
            [index.get(c.get("BallotStyleUnitId"), -1) for c in doc["CVR"]], dtype=np.int32
        )
    records = CastVoteRecords(
        candidates=CandidateTable(names=tuple(c["Name"] for c in candidates)),
        ranks=ranks,
        overvote_sets=tuple(sorted(sets, key=sets.__getitem__)),
        ids=tuple(c["BallotPrePrintedId"] for c in doc["CVR"]),
        precincts=precincts,
        precinct_names=tuple(precinct_names),
    )
    allocations = []
    for round_no in sorted(shares):
        table = np.array(shares[round_no], dtype=np.int64).reshape(-1, 3)
        allocations.append(
            RoundAllocation(
                record=table[:, 0].astype(np.int32),
                candidate=table[:, 1].astype(np.int32),
                units=table[:, 2],
            )
        )
    return records, allocations


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """Precinct units by name (their numbering is RCTab's hash order), no device."""
    doc = json.loads(json.dumps(doc))
    unit_name = {u["@id"]: u["Name"] for u in doc["GpUnit"]}
    for cvr in doc["CVR"]:
        if "BallotStyleUnitId" in cvr:
            cvr["BallotStyleUnitId"] = unit_name[cvr["BallotStyleUnitId"]]
    doc["GpUnit"] = sorted((u["Name"], u["Type"], u.get("OtherType")) for u in doc["GpUnit"])
    del doc["ReportingDevice"]
    return doc


@pytest.mark.skipif(not EXPECTED, reason="../shared missing")
@pytest.mark.parametrize("path", EXPECTED, ids=lambda p: p.parent.name)
def test_reproduces_rctab_cdf_output(path: Path) -> None:
    expected = json.loads(path.read_text())
    rebuilt = rebuild(expected)
    if rebuilt is None:
        pytest.skip("RCTab names these selections by the CVR's alias or code, not by name")
    records, rounds = rebuilt
    scope = next(u for u in expected["GpUnit"] if u["@id"] == "gpu-election")
    report = CdfReport(
        contest_name=expected["Election"][0]["Contest"][0]["Name"],
        jurisdiction=scope["Name"],
        generated=datetime.fromisoformat(expected["GeneratedDate"]),
    )
    written = io.StringIO()
    write_cdf_json(written, records, report, rounds)
    streamed = json.loads(written.getvalue())
    assert streamed == cdf_report(records, report, rounds)
    assert comparable(streamed) == comparable(expected)


def small_records() -> CastVoteRecords:
    ranks = np.array(
        [[0, 1, SKIP], [overvote_set_code(0), SKIP, 2], [1, 1, 0], [SKIP, SKIP, SKIP]],
        dtype=np.int32,
    )
    return CastVoteRecords(
        candidates=CandidateTable(names=("Ann Lee", "Bob", "Cy")),
        ranks=ranks,
        overvote_sets=((0, 2),),
        precincts=np.array([0, 1, 0, -1], dtype=np.int32),
        precinct_names=("North", "South"),
    )


def test_original_snapshots_list_marks_in_rank_order() -> None:
    when = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    doc = cdf_report(small_records(), CdfReport("Mayor", "Town", when))
    assert doc["GeneratedDate"] == "2026-05-01T12:00:00+01:00"
    assert [c["@id"] for c in doc["Election"][0]["Candidate"]] == ["c-ann_lee", "c-bob", "c-cy"]
    cvrs = doc["CVR"]
    assert [c["BallotPrePrintedId"] for c in cvrs] == ["1", "2", "3", "4"]
    assert cvrs[0]["BallotStyleUnitId"] == "gpu-1" and "BallotStyleUnitId" not in cvrs[3]

    def marks(cvr: dict[str, Any]) -> list[tuple[str, list[int]]]:
        sels = cvr["CVRSnapshot"][0]["CVRContest"][0]["CVRContestSelection"]
        return [
            (s["ContestSelectionId"], [p["Rank"] for p in s["SelectionPosition"]]) for s in sels
        ]

    assert marks(cvrs[1]) == [("cs-ann_lee", [1]), ("cs-cy", [1, 3])]
    assert marks(cvrs[2]) == [("cs-bob", [1, 2]), ("cs-ann_lee", [3])]
    assert marks(cvrs[3]) == []
    assert cvrs[0]["CurrentSnapshotId"] == "ballot-1"


def test_interpreted_snapshots_carry_each_round_allocation() -> None:
    rounds = [
        RoundAllocation(
            np.array([0, 2], np.int32), np.array([0, 1], np.int32), np.array([10_000, 10_000])
        ),
        RoundAllocation(
            np.array([0, 0], np.int32), np.array([0, 1], np.int32), np.array([8_889, 1_111])
        ),
    ]
    doc = cdf_report(small_records(), CdfReport("Mayor", generated=datetime(2026, 1, 1)), rounds)
    first = doc["CVR"][0]
    assert first["CurrentSnapshotId"] == "ballot-1-round-2"
    last = first["CVRSnapshot"][2]["CVRContest"][0]["CVRContestSelection"]
    positions = [s["SelectionPosition"][0] for s in last]
    assert [(p["IsAllocable"], p["NumberVotes"], p.get("FractionalVotes")) for p in positions] == [
        ("yes", 0, ".8889"),
        ("yes", 0, ".1111"),
    ]
    third = doc["CVR"][2]["CVRSnapshot"][1]["CVRContest"][0]["CVRContestSelection"]
    # a candidate marked twice is allocable at its first position only
    assert [p["IsAllocable"] for p in third[0]["SelectionPosition"]] == ["yes", "no"]


def test_refusals() -> None:
    records = small_records()
    with pytest.raises(FormatError, match="does not mark"):
        bad = RoundAllocation(np.array([3], np.int32), np.array([0], np.int32), np.array([1]))
        cdf_report(records, CdfReport("M"), [bad])
    unknown = CastVoteRecords(
        candidates=CandidateTable(names=("A", "B")), ranks=np.array([[OVERVOTE]], np.int32)
    )
    with pytest.raises(FormatError, match="overvote_label"):
        cdf_report(unknown, CdfReport("M"))
    labelled = cdf_report(unknown, CdfReport("M", overvote_label="overvote"))
    assert labelled["Election"][0]["Candidate"][-1] == {"@id": "c-overvote", "Name": "overvote"}
    clash = CastVoteRecords(
        candidates=CandidateTable(names=("A B", "a_b")), ranks=np.zeros((1, 1), np.int32)
    )
    with pytest.raises(FormatError, match="share the CDF id"):
        cdf_report(clash, CdfReport("M"))


def test_writes_to_a_path(tmp_path: Path) -> None:
    path = tmp_path / "cvr.json"
    write_cdf_json(path, small_records(), CdfReport("Mayor", scale=Scale(4)))
    doc = json.loads(path.read_text())
    assert doc["@type"] == "CVR.CastVoteRecordReport" and len(doc["CVR"]) == 4
