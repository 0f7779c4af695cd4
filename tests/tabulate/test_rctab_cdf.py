"""``generateCdfJson`` from a real count, checked against the CDF files RCTab wrote.

Every ``*_expected_cdf_cvr.json`` of a counting case (one with an expected detailed report) is
reproduced from the case's config and CVRs, ignoring the generating device and date and
comparing precinct units by name (RCTab numbers them in hash order). 11 of the 12 match
exactly. The twelfth, ``aliases_cdf_json``, differs only where RCTab names a selection by the
alias the CVR file used (``cs-candidate_a_name_file_1``, an id its ``Election`` never declares)
and, because its allocations are keyed by the candidate's name, never marks that selection
allocable. :func:`rctab_alias_naming` applies that behaviour to our file; then it matches too.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import datetime
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
from tallyroom.count.options import RctabOptions, WinnerMode
from tallyroom.count.rules.rctab import RoundState, tabulate
from tallyroom.count.walk import Status
from tallyroom.errors import ConfigError
from tallyroom.formats.rctab.config import ContestConfig, load_config
from tallyroom.formats.rctab.cvr import candidate_table, declared_candidates, read_contest
from tallyroom.tabulate.rctab_cdf import (
    rctab_cdf_records,
    rctab_record_ids,
    sanitize,
    write_contest_cdf,
)
from tallyroom.tabulate.rctab_count import cdf_allocations, count_contest, count_with_allocations

CASES = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "rctab" / "cases"
COUNTED = sorted(
    p
    for p in CASES.glob("*/*_expected_cdf_cvr.json")
    if any(p.parent.glob("*_expected_detailed_report.json"))
)
# RCTab names these cases' selections by the CVR's alias (see the module docstring)
ALIASED = {"aliases_cdf_json", "conversions_from_cdf", "conversions_from_dominion"}
needs_cases = pytest.mark.skipif(not COUNTED, reason="../shared/conformance missing")


def case_config(case: str) -> ContestConfig:
    return load_config(next((CASES / case).glob("*config.json")))


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """Without the generating device and date; precinct units by name."""
    doc = copy.deepcopy(doc)
    unit_name = {u["@id"]: u["Name"] for u in doc["GpUnit"]}
    for cvr in doc["CVR"]:
        if "BallotStyleUnitId" in cvr:
            cvr["BallotStyleUnitId"] = unit_name[cvr["BallotStyleUnitId"]]
    doc["GpUnit"] = sorted((u["Name"], u["Type"], u.get("OtherType")) for u in doc["GpUnit"])
    del doc["ReportingDevice"], doc["GeneratedDate"]
    return doc


def rctab_alias_naming(
    ours: dict[str, Any], expected: dict[str, Any], config: ContestConfig
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Copies of both reports with RCTab's alias naming applied to ours, and how many
    selections that renamed.

    Where RCTab's selection id is not declared, it must be the id of an alias of the candidate
    our selection names; ours takes RCTab's id, and in interpreted snapshots RCTab's "not found"
    position (``IsAllocable: no``, ``NumberVotes: 1``). RCTab sorts selections marked at the
    same first rank by that raw text, so those snapshots are compared in (rank, id) order.
    """
    ours, expected = copy.deepcopy(ours), copy.deepcopy(expected)
    declared = {s["@id"] for s in expected["Election"][0]["Contest"][0]["ContestSelection"]}
    our_id = {c["Name"]: "cs-" + c["@id"][2:] for c in ours["Election"][0]["Candidate"]}
    alias_id = {
        "cs-" + sanitize(alias).lower(): our_id[cand.name]
        for cand in declared_candidates(config)
        for alias in cand.aliases
    }
    renamed = 0
    for cvr_o, cvr_e in zip(ours["CVR"], expected["CVR"], strict=True):
        for snap_o, snap_e in zip(cvr_o["CVRSnapshot"], cvr_e["CVRSnapshot"], strict=True):
            sels_o = snap_o["CVRContest"][0]["CVRContestSelection"]
            sels_e = snap_e["CVRContest"][0]["CVRContestSelection"]
            by_id = {s["ContestSelectionId"]: s for s in sels_o}
            touched = False
            for sel_e in sels_e:
                raw = sel_e["ContestSelectionId"]
                if raw in declared:
                    continue
                assert raw in alias_id, f"{raw} is neither declared nor an alias"
                sel_o = by_id[alias_id[raw]]
                sel_o["ContestSelectionId"] = raw
                if snap_o["Type"] == "interpreted":
                    for pos in sel_o["SelectionPosition"]:
                        pos.update(IsAllocable="no", NumberVotes=1)
                        pos.pop("FractionalVotes", None)
                touched = True
                renamed += 1
            if touched:
                for sels in (sels_o, sels_e):
                    sels.sort(
                        key=lambda s: (s["SelectionPosition"][0]["Rank"], s["ContestSelectionId"])
                    )
    return ours, expected, renamed


# -- against RCTab's files ----------------------------------------------------------------------
@needs_cases
@pytest.mark.parametrize("path", COUNTED, ids=lambda p: p.parent.name)
def test_counted_case_matches_rctab_cdf(path: Path, tmp_path: Path) -> None:
    case = path.parent.name
    config = case_config(case)
    assert config.output.generate_cdf_json
    records = read_contest(config)
    table = candidate_table(config)
    expected = json.loads(path.read_text(encoding="utf-8"))
    when = datetime.fromisoformat(expected["GeneratedDate"])
    run = write_contest_cdf(config, records, table, tmp_path / "cvr_cdf.json", generated=when)
    assert run.files == (tmp_path / "cvr_cdf.json",)
    assert run.counts == count_contest(config, records, table)  # the reports' counts
    ours = json.loads(run.files[0].read_text(encoding="utf-8"))
    assert ours["GeneratedDate"] == expected["GeneratedDate"]
    ours, expected, renamed = rctab_alias_naming(ours, expected, config)
    assert (renamed > 0) == (case in ALIASED), f"{case}: {renamed} selections named by alias"
    assert comparable(ours) == comparable(expected)


@needs_cases
@pytest.mark.parametrize("path", COUNTED, ids=lambda p: p.parent.name)
def test_allocations_add_up_to_the_round_tallies(path: Path) -> None:
    """Each round, the shares given to a candidate still in the count sum to their tally."""
    config = case_config(path.parent.name)
    records = read_contest(config)
    (done,) = count_with_allocations(config, records, candidate_table(config))
    count = done.count
    names = count.candidates
    elected_in = {name: r.number for r in count.rounds for name in r.elected}
    assert len(done.rounds) == len(count.rounds)
    one = count.scale.one
    for rnd, shares in zip(count.rounds, done.rounds, strict=True):
        per_record = np.bincount(shares.record, weights=shares.units, minlength=len(records))
        assert per_record.max(initial=0) <= one
        totals = np.bincount(shares.candidate, weights=shares.units, minlength=len(names))
        for name, votes in rnd.tally:
            if elected_in.get(name, rnd.number) >= rnd.number:
                assert int(totals[names.index(name)]) == votes, f"round {rnd.number}: {name}"


@needs_cases
def test_multi_pass_irv_writes_one_report_per_pass(tmp_path: Path) -> None:
    config = case_config("sequential_with_batch")
    assert config.rules.counting.winner_mode is WinnerMode.MULTI_PASS_IRV
    records = read_contest(config)
    table = candidate_table(config)
    run = write_contest_cdf(config, records, table, tmp_path / "cvr_cdf.json")
    counts = count_contest(config, records, table)
    assert run.counts == counts and len(counts) == 3
    assert [f.name for f in run.files] == ["cvr_cdf_1.json", "cvr_cdf_2.json", "cvr_cdf_3.json"]
    for f, count in zip(run.files, counts, strict=True):
        doc = json.loads(f.read_text(encoding="utf-8"))
        assert {len(c["CVRSnapshot"]) for c in doc["CVR"]} == {len(count.rounds) + 1}


@needs_cases
def test_written_file_is_deterministic(tmp_path: Path) -> None:
    config = case_config("test_set_multi_winner_whole_threshold")
    records = read_contest(config)
    table = candidate_table(config)
    when = datetime(2026, 1, 1, 12, 0).astimezone()
    a = write_contest_cdf(config, records, table, tmp_path / "a.json", generated=when)
    b = write_contest_cdf(config, records, table, tmp_path / "b.json", generated=when)
    assert a.files[0].read_bytes() == b.files[0].read_bytes()


@needs_cases
def test_refuses_precinct_tabulation_without_precincts() -> None:
    config = case_config("test_set_0_skipped_first_choice")
    config = replace(config, output=replace(config.output, tabulate_by_precinct=True))
    records = read_contest(config)
    with pytest.raises(ConfigError, match="tabulateByPrecinct"):
        count_with_allocations(config, records, candidate_table(config))


# -- snapshot semantics -------------------------------------------------------------------------
def state(
    round_no: int,
    recipient: list[int],
    value: list[int],
    status: list[int],
    kept: dict[int, tuple[list[int], list[int]]] | None = None,
) -> RoundState:
    return RoundState(
        round=round_no,
        recipient=np.array(recipient, dtype=np.int32),
        value=np.array(value, dtype=np.int64),
        status=np.array(status, dtype=np.int8),
        kept={
            c: (np.array(g, dtype=np.intp), np.array(u, dtype=np.int64))
            for c, (g, u) in (kept or {}).items()
        },
    )


def shares(allocation: Any) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = {}
    for r, c, u in zip(
        allocation.record.tolist(),
        allocation.candidate.tolist(),
        allocation.units.tolist(),
        strict=True,
    ):
        out.setdefault(r, []).append((c, u))
    return {r: sorted(v) for r, v in sorted(out.items())}


def test_snapshots_repeat_until_a_ballot_is_reassigned() -> None:
    active, gone = int(Status.ACTIVE), int(Status.EXHAUSTED_CHOICES)
    # groups: 0 -> records 0 and 2, 1 -> record 1, 2 -> record 3
    group_of = np.array([0, 1, 0, 2], dtype=np.int32)
    states = [
        state(1, [0, 1, 2], [100, 100, 100], [active] * 3),
        # candidate 0 elected in round 1 (ballots keep 60), its ballots move on at 40
        state(2, [1, 1, 2], [40, 100, 100], [active] * 3, {0: ([0], [60])}),
        # candidate 2 eliminated: group 2 exhausts; group 1 does not move
        state(3, [1, 1, -1], [40, 100, 100], [active, active, gone], {0: ([0], [60])}),
    ]
    rounds = [shares(a) for a in cdf_allocations(states, group_of)]
    assert rounds[0] == {0: [(0, 100)], 1: [(1, 100)], 2: [(0, 100)], 3: [(2, 100)]}
    assert rounds[1] == {0: [(0, 60), (1, 40)], 1: [(1, 100)], 2: [(0, 60), (1, 40)], 3: [(2, 100)]}
    # an exhausted ballot keeps only what it left with winners: nothing here
    assert rounds[2] == {0: [(0, 60), (1, 40)], 1: [(1, 100)], 2: [(0, 60), (1, 40)]}
    assert cdf_allocations([], group_of) == []
    with pytest.raises(ValueError, match="group"):
        cdf_allocations(states, np.array([0, 3], dtype=np.int32))


def test_stv_surplus_shares_from_a_real_count() -> None:
    """Two seats, 9 ballots: A wins with 5 (quota 4), each A ballot keeps 0.8 and passes 0.2."""
    rows = [[0, 1]] * 5 + [[1]] * 1 + [[2]] * 3
    records = CastVoteRecords(
        candidates=CandidateTable(names=("A", "B", "C")),
        ranks=np.array([r + [SKIP] * (2 - len(r)) for r in rows], dtype=np.int32),
    )
    store, group_of = records.grouped_with_index()
    options = RctabOptions(
        winner_mode=WinnerMode.MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND,
        seats=2,
        decimal_places=4,
    )
    states: list[RoundState] = []
    count = tabulate(store, records.candidates, options, observer=states.append)
    rounds = [shares(a) for a in cdf_allocations(states, group_of)]
    assert count.winners[0] == "A"
    assert rounds[0][0] == [(0, 10_000)]
    assert rounds[1][0] == [(0, 8_000), (1, 2_000)]
    assert rounds[1][5] == [(1, 10_000)]  # never moved: repeats round 1


# -- how RCTab presents the records -------------------------------------------------------------
@needs_cases
def test_candidates_in_java_order_with_the_overvote_pseudo_candidate() -> None:
    config = case_config("conversions_from_ess")  # its source has an overvote label
    names = ("b", "\uff21", "B", "\U0001f600", "a")
    ranks = np.array(
        [[0, OVERVOTE, overvote_set_code(0)], [SKIP, 4, 2]],
        dtype=np.int32,
    )
    records = CastVoteRecords(
        candidates=CandidateTable(names=names, undeclared_write_in=4, excluded=frozenset({0})),
        ranks=ranks,
        overvote_sets=((0, 3),),
        source_index=np.zeros(2, dtype=np.int32),
    )
    view, recode = rctab_cdf_records(config, records)
    # UTF-16 code units: U+1F600 is D83D DE00, before U+FF21
    assert view.candidates.names == ("B", "a", "b", "overvote", "\U0001f600", "\uff21")
    assert recode.tolist() == [2, 5, 0, 4, 1, 3]
    assert view.ranks.tolist() == [[2, 3, overvote_set_code(0)], [SKIP, 1, 0]]
    assert view.overvote_sets == ((2, 4),)
    assert view.candidates.undeclared_write_in == 1
    assert view.candidates.excluded == frozenset({2})
    assert view.ids == ("simple_ess_cvr.xlsx-1", "simple_ess_cvr.xlsx-2")
    assert view.precincts is None


@needs_cases
def test_rctab_record_ids_per_provider() -> None:
    cdf = case_config("test_set_8_multi_cdf")
    records = read_contest(cdf)
    ids = rctab_record_ids(cdf, records)
    assert ids[0] == "test_set_8_multi_cdf_cvr_1.json(1)"
    assert ids[12] == "test_set_8_multi_cdf_cvr_2.json(1)"
    dominion = case_config("conversions_from_dominion")
    assert rctab_record_ids(dominion, read_contest(dominion))[:2] == ("42-1-1", "42-1-2")
    ess = case_config("batch_example")
    assert rctab_record_ids(ess, read_contest(ess))[-1] == "batch_example_cvr.xlsx-100"
    assert sanitize("a b(1)/é.json") == "a_b_1___.json"
