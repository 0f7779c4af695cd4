"""Published CSVs cannot run a formula in a spreadsheet (CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.rules.registry import RuleParams, get_rule
from tallyroom.report.rctab_csv import count_to_csv
from tallyroom.report.rctab_json import ReportLabels
from tallyroom.report.spreadsheet import neutralise

HOSTILE = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    "text",
    [HOSTILE, "+1+1", "-2+3", "@SUM(A1:A9)", "\tx", "\rx", "=1", "-", "+", '=HYPERLINK("x")'],
)
def test_text_that_opens_like_a_formula_is_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["-1234.5", "+12", "-0.25", "12,345", "-7%", 12, -3, "Ann", ""])
def test_numbers_and_plain_text_are_left_alone(value: object) -> None:
    assert neutralise(value) == value


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_rctab_summary_csv_neutralises_a_hostile_name_and_keeps_negative_transfers() -> None:
    names = ("Ann", HOSTILE, "Cy")
    ballots = [(0, 1)] * 3 + [(1, 0)] * 2 + [(2, 1)] * 2
    store = BallotStore.from_rankings(ballots)
    count = get_rule("irv").count(store, CandidateTable(names), RuleParams())
    cells = _cells(count_to_csv(count, ReportLabels(contest="c")))
    assert HOSTILE not in cells
    assert "'" + HOSTILE in cells
    assert any(c.startswith("-") and c[1:].replace(",", "").isdigit() for c in cells)
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
