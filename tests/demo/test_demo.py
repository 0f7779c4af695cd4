"""The README's main command, ``tallyroom demo --no-serve --json``, run in full: Labour's 2016
leadership ballot from a 660,000-entry register to the declaration, checked figure by figure
against the published result (``../shared/conformance/official/official_results.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tallyroom.cli.main import main
from tallyroom.services.audit_log import verify_log
from tallyroom.store import open_store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

OFFICIAL = Path(__file__).parents[3] / "shared" / "conformance" / "official"


def published() -> dict[str, object]:
    records = json.loads((OFFICIAL / "official_results.json").read_text(encoding="utf-8"))
    found: dict[str, object] = next(r for r in records if r["id"] == "labour-leader-2016")
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], str, Path]:
    folder = tmp_path_factory.mktemp("demo")
    out = folder / "demo.json"
    res = CliRunner().invoke(
        main, ["demo", "--no-serve", "--json", str(out), "--dir", str(folder / "run")]
    )
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text(encoding="utf-8")), res.stdout, folder / "run"


def test_the_declaration_gives_the_published_figures(
    demo: tuple[dict[str, object], str, Path],
) -> None:
    doc, text, _ = demo
    record = published()
    assert doc["electorate"] == record["electorate"] == 654_006
    assert doc["ballots_returned"] == record["ballots_returned"] == 507_480
    assert doc["valid"] == 506_438
    assert doc["spoilt"] == 1_042
    assert doc["turnout_percent"] == 77.6
    (round_1,) = record["rounds"]  # type: ignore[attr-defined]
    assert {c["name"]: c["votes"] for c in doc["candidates"]} == round_1["votes"]  # type: ignore[attr-defined]
    assert {c["name"]: c["percent"] for c in doc["candidates"]} == round_1["pct_published"]  # type: ignore[attr-defined]
    assert doc["winners"] == ["Jeremy Corbyn"]
    sections = {s["name"]: s for s in doc["sections"]}  # type: ignore[attr-defined]
    for section in record["sections"]:  # type: ignore[attr-defined]
        ours = sections[section["name"]]
        assert {c["name"]: c["votes"] for c in ours["candidates"]} == section["votes"]
        assert {c["name"]: c["percent"] for c in ours["candidates"]} == section["pct_published"]
    previous = {p["name"]: p for p in doc["previous"]["candidates"]}  # type: ignore[index]
    assert previous["Jeremy Corbyn"]["previous_percent"] == 59.5
    assert previous["Jeremy Corbyn"]["change"] == 2.3
    for line in ("Jeremy Corbyn      313,209   61.8%  elected", "turnout 77.6%", "spoilt 1,042"):
        assert line in text


def test_the_demo_leaves_a_verifiable_record(demo: tuple[dict[str, object], str, Path]) -> None:
    _, _, folder = demo
    with open_store(folder / "tallyroom.db") as store:
        result = verify_log(store, "labour-leader-2016")
    assert result.ok, result.summary()
    assert result.checked >= 10


def test_the_demo_store_serves_the_declaration(demo: tuple[dict[str, object], str, Path]) -> None:
    """What ``tallyroom demo`` serves after the count: the results page with its charts and
    the figures, the downloads, and the OpenAPI document."""
    _, _, folder = demo
    settings = WebSettings(
        database=f"sqlite:///{folder / 'tallyroom.db'}",
        data_dir=folder,
        session_secret="a test secret of some length",
    )
    client = TestClient(create_app(settings))
    page = client.get("/e/labour-leader-2016/results")
    assert page.status_code == 200
    for text in ("313,209", "193,229", "61.8%", "77.6%", "1,042", "Registered supporters",
                 "59.5%", 'class="plot"'):  # fmt: skip
        assert text in page.text, text
    # the demo's own declaration day, not the day the demo ran; and the majority needed
    assert "Declared on Saturday 24 September 2016 (the declaration day" in page.text
    assert "To win: 253,220 = floor(506,438 / 2) + 1" in page.text
    files = client.get("/api/elections/labour-leader-2016/results/files").json()
    assert {"results.json", "results.csv", "leader-cvr.blt"} <= {f["name"] for f in files}
    assert "/api/elections/{slug}/cast" in client.get("/openapi.json").json()["paths"]
