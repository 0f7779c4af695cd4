"""``tallyroom count --section``: an electoral college from one ballot file per section.

Labour's 2010 leadership election (../shared/conformance/official, as in
tests/conformance/test_labour_official.py): the 266 published ballots of the MPs' and MEPs'
section, counted by the real CLI, give the section's published votes in rounds 1 and 4; the
other sections' ballots were never published, so the three-section runs add small made-up
sections and check the college arithmetic against an independent computation.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tallyroom.cli.main import main

OFFICIAL = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "official"
MPS_2010 = OFFICIAL / "preflib_00030-00000001_uklabour2010_mps.soi"
needs_official = pytest.mark.skipif(not MPS_2010.is_file(), reason="../shared missing")

# PrefLib's candidate numbers in the MPs' file: 1 D.Abbott, 2 E.Balls, 3 A.Burnhm, 4 D.Milbnd,
# 5 E.Milbnd. A made-up section in PrefLib's format with the same five candidates:
MEMBERS = """# NUMBER ALTERNATIVES: 5
# ALTERNATIVE NAME 1: D.Abbott
# ALTERNATIVE NAME 2: E.Balls
# ALTERNATIVE NAME 3: A.Burnhm
# ALTERNATIVE NAME 4: D.Milbnd
# ALTERNATIVE NAME 5: E.Milbnd
440: 4
300: 5,4
120: 2,5
90: 3,4
50: 1,5
"""
# The same candidates in another order, as a BLT file (Ed Miliband first)
UNIONS = """5 1
410 1 0
280 2 1 0
110 3 1 0
100 4 5 1 0
100 5 1 0
0
"E.Milbnd"
"D.Milbnd"
"E.Balls"
"A.Burnhm"
"D.Abbott"
"Affiliates"
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["count", *args])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def report(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def decisions(doc: dict[str, Any], kind: str) -> list[str]:
    return [a[kind] for r in doc["results"] for a in r["tallyResults"] if kind in a]


@needs_official
def test_the_mps_section_alone_gives_the_published_votes(tmp_path: Path) -> None:
    out = tmp_path / "college.json"
    res = run("--section", f"MPs and MEPs={MPS_2010}", "--json", str(out))
    assert res.exit_code == 0, res.output
    # the section's table: round 1 and round 4 as published
    section = res.output[res.output.index("section MPs and MEPs") :]
    assert "D.Milbnd         111        111       125        140" in section
    assert "E.Milbnd          84         88        96        122" in section
    doc = report(out)
    assert len(doc["results"]) == 4  # one entry per round of the college
    assert decisions(doc, "eliminated") == ["D.Abbott", "A.Burnhm", "E.Balls"]
    assert decisions(doc, "elected") == ["D.Milbnd"]
    # the college's shares, as percentages to --decimals places, halves up: 111/266
    assert doc["results"][0]["tally"]["D.Milbnd"] == "41.7293"
    assert doc["config"]["contest"] == "electoral college"


@needs_official
def test_a_single_file_with_rule_college_is_a_college_of_one_section(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    sec = tmp_path / "sec.json"
    assert run(str(MPS_2010), "--rule", "college", "--json", str(one)).exit_code == 0
    assert run("--section", f"x={MPS_2010}:1", "--json", str(sec)).exit_code == 0
    assert report(one)["results"] == report(sec)["results"]


@needs_official
def test_three_sections_of_a_third(tmp_path: Path) -> None:
    members = write(tmp_path, "members.soi", MEMBERS)
    unions = write(tmp_path, "unions.blt", UNIONS)
    out = tmp_path / "college.json"
    res = run(
        "--section", f"MPs={MPS_2010}:1/3",
        "--section", f"Members={members}:1/3",
        "--section", f"Affiliates={unions}:1/3",
        "--decimals", "2",
        "--json", str(out),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = report(out)
    # round 1, independently: a third of each section's share of first preferences
    mps = {"D.Abbott": 7, "E.Balls": 40, "A.Burnhm": 24, "D.Milbnd": 111, "E.Milbnd": 84}
    mem = {"D.Abbott": 50, "E.Balls": 120, "A.Burnhm": 90, "D.Milbnd": 440, "E.Milbnd": 300}
    uni = {"D.Abbott": 100, "E.Balls": 110, "A.Burnhm": 100, "D.Milbnd": 280, "E.Milbnd": 410}
    for name in mps:
        share = sum(Fraction(s[name], sum(s.values())) for s in (mps, mem, uni)) / 3
        shown = doc["results"][0]["tally"][name]
        assert abs(Fraction(shown) - share * 100) <= Fraction(1, 200), name
    assert decisions(doc, "eliminated")[0] == "D.Abbott"
    assert len(decisions(doc, "elected")) == 1
    # every section's table is printed under the college's
    for name in ("MPs", "Members", "Affiliates"):
        assert f"section {name}" in res.output


@needs_official
def test_equal_weights_when_none_are_given(tmp_path: Path) -> None:
    members = write(tmp_path, "members.soi", MEMBERS)
    unions = write(tmp_path, "unions.blt", UNIONS)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run("--section", f"M={MPS_2010}", "--section", f"N={members}",
               "--section", f"U={unions}", "--json", str(a)).exit_code == 0  # fmt: skip
    assert run("--section", f"M={MPS_2010}:1/3", "--section", f"N={members}:1/3",
               "--section", f"U={unions}:1/3", "--json", str(b)).exit_code == 0  # fmt: skip
    assert report(a)["results"] == report(b)["results"]


def test_section_order_of_candidates_does_not_matter(tmp_path: Path) -> None:
    unions = write(tmp_path, "unions.blt", UNIONS)
    members = write(tmp_path, "members.soi", MEMBERS)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run("--section", f"U={unions}:0.5", "--section", f"M={members}:0.5",
               "--json", str(a)).exit_code == 0  # fmt: skip
    assert run("--section", f"M={members}:0.5", "--section", f"U={unions}:0.5",
               "--json", str(b)).exit_code == 0  # fmt: skip
    won_a, won_b = decisions(report(a), "elected"), decisions(report(b), "elected")
    assert won_a == won_b
    assert decisions(report(a), "eliminated") == decisions(report(b), "eliminated")


@pytest.mark.parametrize(
    ("sections", "words"),
    [
        (["M=members.soi:1/3", "U=unions.blt:1/3"], ["--section", "add up to 1", "2/3"]),
        (["M=members.soi:1/2", "U=unions.blt"], ["--section", "every section a weight", "U"]),
        (["M=members.soi:1/2", "M=unions.blt:1/2"], ["--section", "unique", "M"]),
        (["members.soi"], ["--section", "NAME=FILE", "members.soi"]),
        (["M=missing.blt"], ["--section", "no such ballot file", "missing.blt"]),
        (["M=members.soi:0"], ["--section", "above 0"]),
        (["M=members.soi:1", "--rule", "stv"], ["leave out --rule", "stv"]),
        (["M=members.soi:1", "--constraint", "w>=1:x"], ["--constraint", "no seat constraints"]),
        (["M=members.soi:1/2", "O=other.blt:1/2"], ["other.blt", "same candidates", "Zed"]),
    ],
)
def test_bad_sections_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sections: list[str], words: list[str]
) -> None:
    write(tmp_path, "members.soi", MEMBERS)
    write(tmp_path, "unions.blt", UNIONS)
    write(tmp_path, "other.blt", '2 1\n1 1 0\n0\n"Zed"\n"E.Milbnd"\n"T"\n')
    monkeypatch.chdir(tmp_path)
    args: list[str] = []
    it = iter(sections)
    for item in it:
        if item.startswith("--"):
            args += [item, next(it)]
        else:
            args += ["--section", item]
    res = run(*args)
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert line.startswith("tallyroom: error:") and "\n" not in line
    for w in words:
        assert w in line, line


def test_a_ballot_file_and_sections_together_are_refused(tmp_path: Path) -> None:
    members = write(tmp_path, "members.soi", MEMBERS)
    res = run(str(members), "--section", f"M={members}")
    assert res.exit_code == 2
    assert "--section" in res.output and "not both" in res.output


def test_no_ballots_at_all_is_refused() -> None:
    res = run("--rule", "college")
    assert res.exit_code == 2
    assert "ballot file" in res.output
