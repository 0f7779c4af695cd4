"""The results page says what observers look for: the rule in words with its page, the seats,
the quota and how it was computed, the non-transferable ballots round by round and in total,
and when the result was declared, in the election's time zone (a historical timetable's own
declaration day, with the day this copy was declared, never the run date passed off as it)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from public_election import declared_election

from tallyroom.election import load_definition
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.locale_format import moment, votes
from tallyroom.web.results_view import declared_when, exhausted_by_round, quota_of
from tallyroom.web.settings import WebSettings


def _report(thresholds: list[str], tally: dict[str, str], inactive: list[str]) -> dict:
    return {
        "results": [
            {
                "round": k + 1,
                "threshold": t,
                "tally": tally,
                "inactiveBallots": {"exhaustedChoices": i, "overvotes": "1"},
            }
            for k, (t, i) in enumerate(zip(thresholds, inactive, strict=True))
        ]
    }


TALLY = {"A": "3000", "B": "2167", "C": "1000"}  # 6,167 valid votes


@pytest.mark.parametrize(
    ("rule", "seats", "threshold", "kind", "places"),
    [
        ("stv", 4, "1234", "droop", 0),  # floor(6167 / 5) + 1
        ("irv", 1, "3084", "majority", 0),  # floor(6167 / 2) + 1
        ("wigm", 4, "1233.4", "droop-exact", 1),
        ("ers97", 4, "1233.40", "droop-exact", 1),
        ("meek", 3, "1541.750000001", "rule", 0),  # no published formula gives it
        ("ers97", 3, "1541.75", "droop-exact", 2),
        ("cfer", 2, "2055.67", "droop-up", 2),
        ("wigm", 4, "1541.75", "hare", 2),
        ("wigm-prf", 2, "2055.6667", "prf", 4),
    ],
)
def test_the_quota_is_named_only_when_its_formula_gives_it(
    rule: str, seats: int, threshold: str, kind: str, places: int
) -> None:
    quota = quota_of(rule, seats, _report([threshold], TALLY, ["0"]))
    assert quota is not None
    assert (quota.kind, quota.votes, quota.places) == (kind, "6167", places)
    assert not quota.changes


def test_no_quota_for_plurality_and_block_and_a_changing_one_is_said() -> None:
    assert quota_of("plurality", 1, _report(["0"], TALLY, ["0"])) is None
    assert quota_of("block", 2, _report(["0"], TALLY, ["0"])) is None
    moving = quota_of("irv", 1, _report(["3084", "3000"], TALLY, ["0", "5"]))
    assert moving is not None and moving.changes


def test_exhausted_ballots_add_every_reason_each_round() -> None:
    report = _report(["1234", "1234"], TALLY, ["0", "12.5"])
    assert exhausted_by_round(report) == ["1", "13.5"]


def test_the_declaration_time_of_a_replayed_election_is_its_timetables_day() -> None:
    labour = load_definition(Path("src/tallyroom/examples/labour-2016.toml"))
    replayed = declared_when("2026-12-05T16:31:38.181626Z", labour, "en")
    assert replayed.timetable_day == "Saturday 24 September 2016"
    assert replayed.recorded == "Saturday 5 December 2026, 16:31 GMT"
    on_the_day = declared_when("2016-09-24T10:42:00Z", labour, "en")
    assert on_the_day.timetable_day is None
    assert on_the_day.recorded == "Saturday 24 September 2016, 11:42 BST"
    welsh = declared_when("2016-09-24T10:42:00Z", labour, "cy")
    assert welsh.recorded.startswith("Dydd Sadwrn 24 Medi 2016, 11:42")


def test_figures_keep_every_decimal_place() -> None:
    assert votes("1234.50", "en") == "1,234.50" and votes("313209", "cy") == "313,209"
    assert votes("not a number", "en") == "not a number"
    when = datetime(2016, 12, 24, 10, 42, tzinfo=ZoneInfo("UTC"))
    assert moment(when, "Europe/London", "en") == "Saturday 24 December 2016, 10:42 GMT"


def test_the_results_page_says_what_observers_look_for(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    client = TestClient(create_app(web_settings))
    declared_election(store, web_settings, client, tmp_path, "past", 8, voters=40, past=True)
    page = client.get("/e/past/results")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "Declared on Wednesday 21 January 2026 (the declaration day in the election's " in text
    assert "This copy of the result was counted and declared on " in text
    assert 'href="/rules/stv"' in text and "Single transferable vote:" in text
    assert "<dt>Seats</dt><dd>2</dd>" in text
    assert "Droop quota: 14 = floor(40 / 3) + 1" in text
    assert re.search(r'<th scope="row">Quota</th>(<td class="num">14</td>)+</tr>', text)
    exhausted = re.search(r'<th scope="row">Non-transferable \(exhausted\)</th>(.*?)</tr>', text)
    assert exhausted is not None and exhausted.group(1).startswith('<td class="num">0</td>')
    assert "by the last round" in text
    assert "2026-12" not in text.split("This copy")[0]  # the run date is not the declaration

    # the rule's page, and an unknown rule
    rule = client.get("/rules/stv")
    assert rule.status_code == 200 and "docs/rules/rctab.md" in rule.text
    assert "Number the candidates in order of preference" in rule.text
    assert client.get("/rules/nonsense").status_code == 404


def test_a_declaration_on_time_shows_the_real_moment(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    client = TestClient(create_app(web_settings))
    declared_election(store, web_settings, client, tmp_path, "now", 3, voters=12, rule="irv",
                      seats=1)  # fmt: skip
    text = re.sub(r"\s+", " ", client.get("/e/now/results").text)
    assert re.search(r"Declared \w+day \d+ \w+ 20\d\d, \d\d:\d\d (GMT|BST)\.", text)
    assert "To win: " in text and "more than half of the valid votes" in text
