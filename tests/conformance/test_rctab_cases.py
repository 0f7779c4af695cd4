"""Every public RCTab test case, counted by ``tallyroom rctab`` and compared round by round.

The expected reports are RCTab 2.0's own output (../shared/conformance/rctab/cases). Numbers
are compared as exact decimals (RCTab writes some with trailing zeros), ``tallyResults`` as a
multiset, as the conformance README advises.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tallyroom.errors import TallyroomError
from tallyroom.tabulate.rctab import run_contest

CASES = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "rctab" / "cases"
NO_CVR = {"2018_maine_governor_primary", "dominion_kansas"}
MUST_FAIL = {
    "invalid_params_test",
    "invalid_sources_test",
    "max_ranking_enforcement",
    "tabulate_by_precinct_without_precincts",
}


def _case_dirs() -> list[Path]:
    if not CASES.is_dir():
        return []
    return sorted(p for p in CASES.iterdir() if p.is_dir() and list(p.glob("*config.json")))


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _decisions(
    entries: list[dict[str, Any]],
) -> Counter[tuple[str, str, frozenset[tuple[str, Decimal]]]]:
    out: Counter[tuple[str, str, frozenset[tuple[str, Decimal]]]] = Counter()
    for e in entries:
        kind = "elected" if "elected" in e else "eliminated"
        transfers = frozenset((k, _dec(v)) for k, v in e.get("transfers", {}).items())
        out[(kind, e[kind], transfers)] += 1
    return out


def assert_same_report(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    gs, ws = got["summary"], want["summary"]
    assert _dec(gs["totalNumBallots"]) == _dec(ws["totalNumBallots"]), f"{where}: totalNumBallots"
    assert gs["undervotes"] == ws["undervotes"], f"{where}: undervotes"
    assert gs["numCandidates"] == ws["numCandidates"], f"{where}: numCandidates"
    assert gs["numWinners"] == ws["numWinners"], f"{where}: numWinners"
    assert _dec(gs["finalThreshold"]) == _dec(ws["finalThreshold"]), f"{where}: finalThreshold"
    assert len(got["results"]) == len(want["results"]), (
        f"{where}: {len(got['results'])} rounds, expected {len(want['results'])}"
    )
    for g, w in zip(got["results"], want["results"], strict=True):
        r = w["round"]
        assert g["round"] == r
        assert _dec(g["threshold"]) == _dec(w["threshold"]), f"{where} round {r}: threshold"
        gt = {k: _dec(v) for k, v in g["tally"].items()}
        wt = {k: _dec(v) for k, v in w["tally"].items()}
        assert gt == wt, f"{where} round {r}: tally"
        gi = {k: _dec(v) for k, v in g["inactiveBallots"].items()}
        wi = {k: _dec(v) for k, v in w["inactiveBallots"].items()}
        assert gi == wi, f"{where} round {r}: inactiveBallots"
        assert _decisions(g["tallyResults"]) == _decisions(w["tallyResults"]), (
            f"{where} round {r}: tallyResults"
        )


def _expected_reports(case: Path) -> list[tuple[str, Path]]:
    """(our file name, expected file) pairs for the contest-wide reports."""
    name = case.name
    pairs = []
    for f in sorted(case.glob(f"{name}_*expected_detailed_report.json")):
        middle = f.name[len(name) : -len("_expected_detailed_report.json")]
        pairs.append((f"detailed_report{middle}.json", f))
    return pairs


@pytest.mark.parametrize("case", _case_dirs(), ids=lambda p: p.name)
def test_rctab_case(case: Path, tmp_path: Path) -> None:
    config = next(case.glob("*config.json"))
    if case.name in NO_CVR:
        pytest.skip(f"{case.name}: the suite ships no cast vote records (too large)")
    if case.name in MUST_FAIL:
        with pytest.raises(TallyroomError) as info:
            run_contest(config, tmp_path)
        assert str(info.value), "the error must say what is wrong"
        return
    pairs = _expected_reports(case)
    if not pairs and list(case.glob("*_expected.csv")):
        pytest.skip(f"{case.name}: a CVR conversion case: tests/tabulate/test_rctab_convert.py")
    run = run_contest(config, tmp_path)
    assert pairs, f"{case.name}: no expected report"
    for ours, expected in pairs:
        got = json.loads((tmp_path / ours).read_text(encoding="utf-8"))
        want = json.loads(expected.read_text(encoding="utf-8"))
        assert_same_report(got, want, f"{case.name}/{ours}")
    for folder in case.glob("Tabulate by *"):
        kind = folder.name.split()[-1].lower()
        for expected in sorted(folder.glob("*_detailed_report.json")):
            want = json.loads(expected.read_text(encoding="utf-8"))
            label = want["config"][kind]
            count = run.counts[0]
            match = [s for s in count.slices if s.name == label]
            assert match, f"{case.name}: no {kind} {label!r} in our count"
            from tallyroom.report.rctab_json import ReportLabels, count_to_json

            got = count_to_json(count, ReportLabels(), slice_count=match[0])
            assert_same_report(got, want, f"{case.name}/{kind} {label}")
