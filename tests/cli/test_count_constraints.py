"""``tallyroom count --constraint / --constraint-file``: seat constraints from the command line.

Labour's 2010 Shadow Cabinet (../shared/conformance/official, as in
tests/conformance/test_labour_official.py): the published votes of the 24 named candidates,
written as a BLT file of one-mark ballots (a block-vote tally needs nothing else), counted by
the real CLI under the women's minimum, give the 19 published winners.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tallyroom.cli.main import main

OFFICIAL = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "official"
RESULTS = OFFICIAL / "official_results.json"
needs_official = pytest.mark.skipif(not RESULTS.is_file(), reason="../shared missing")

# official_results.json gives the winners' sexes; the two named women who lost are public record
LOSERS_WOMEN = ("Emily Thornberry", "Diane Abbott")

BLT = """4 2
3 1 2 0
2 2 1 0
2 2 3 0
1 3 0
1 4 3 0
0
"Ann"
"Bob"
"Cy"
"Di"
"Committee"
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["count", *args])


def ballots(tmp_path: Path, text: str = BLT, name: str = "c.blt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def report(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def elected(doc: dict[str, Any]) -> list[str]:
    return [a["elected"] for r in doc["results"] for a in r["tallyResults"] if "elected" in a]


def shadow_cabinet(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """The published votes as one-mark ballots; the winners and the women standing."""
    data = json.loads(RESULTS.read_text(encoding="utf-8"))
    sc = next(r for r in data if r["id"] == "labour-shadow-cabinet-2010")
    votes: dict[str, int] = sc["rounds"][0]["votes"]
    names = list(votes)
    lines = [f"{len(names)} {sc['seats']}"]
    lines += [f"{v} {i} 0" for i, v in enumerate(votes.values(), start=1)]
    lines += ["0", *(f'"{n}"' for n in names), '"PLP Shadow Cabinet 2010"']
    path = ballots(tmp_path, "\n".join(lines) + "\n", "shadow.blt")
    women = [n for n in names if sc["winners_gender"].get(n) == "F" or n in LOSERS_WOMEN]
    return path, sc["winners"], women


# -- Labour's Shadow Cabinet ------------------------------------------------------------------


@needs_official
def test_shadow_cabinet_2010_under_the_womens_minimum(tmp_path: Path) -> None:
    path, winners, women = shadow_cabinet(tmp_path)
    out = tmp_path / "r.json"
    res = run(
        str(path), "--rule", "block", "--constraint", f"women>=6:{','.join(women)}",
        "--json", str(out),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Rule: constrained block" in res.output
    doc = report(out)
    assert elected(doc) == winners  # in the published order of votes
    assert len(doc["results"]) == 1  # the block vote is one stage
    assert sum(1 for n in elected(doc) if n in women) == 8


@needs_official
def test_shadow_cabinet_2010_with_a_binding_minimum_from_a_groups_file(tmp_path: Path) -> None:
    """Not a published result: with 9 women required, the highest-placed woman not elected
    (Emily Thornberry, 99) replaces the lowest-placed man elected (Liam Byrne, 100)."""
    path, winners, women = shadow_cabinet(tmp_path)
    groups = tmp_path / "groups.toml"
    listed = ", ".join(f'"{w}"' for w in women)
    groups.write_text(f"[group.women]\nmembers = [{listed}]\nmin_elected = 9\n", "utf-8")
    out = tmp_path / "r.json"
    res = run(str(path), "--rule", "block", "--constraint-file", str(groups), "--json", str(out))
    assert res.exit_code == 0, res.output
    chosen = elected(report(out))
    assert chosen == [*winners[:-1], "Emily Thornberry"]
    assert "passed over to meet the constraints: Liam Byrne (100)" in res.output


@needs_official
def test_shadow_cabinet_members_by_candidate_number(tmp_path: Path) -> None:
    path, _, women = shadow_cabinet(tmp_path)
    text = path.read_text(encoding="utf-8").splitlines()
    names = [ln.strip('"') for ln in text[text.index("0") + 1 : -1]]
    numbers = ",".join(str(names.index(w) + 1) for w in women)
    by_name = run(str(path), "--rule", "block", "--constraint", f"women>=9:{','.join(women)}")
    by_number = run(str(path), "--rule", "block", "--constraint", f"women>=9:{numbers}")
    assert by_name.exit_code == by_number.exit_code == 0, by_number.output
    assert by_name.output == by_number.output


# -- STV and IRV ------------------------------------------------------------------------------


def test_stv_without_and_with_a_minimum(tmp_path: Path) -> None:
    path = ballots(tmp_path)
    plain = tmp_path / "plain.json"
    assert run(str(path), "--rule", "stv", "--json", str(plain)).exit_code == 0
    assert sorted(elected(report(plain))) == ["Ann", "Bob"]
    out = tmp_path / "r.json"
    res = run(str(path), "--rule", "stv", "--constraint", "newcomers>=1:Cy,Di", "--json", str(out))
    assert res.exit_code == 0, res.output
    doc = report(out)
    winners = elected(doc)
    assert len(winners) == 2 and ({"Cy", "Di"} & set(winners))
    assert "Rule: constrained stv" in res.output
    assert len(doc["results"]) >= 2  # one entry per stage
    assert doc["summary"]["numWinners"] == 2


def test_a_maximum_split_over_two_options(tmp_path: Path) -> None:
    path = ballots(tmp_path)
    out = tmp_path / "r.json"
    res = run(
        str(path), "--rule", "stv", "--constraint", "old>=0:Ann,Bob", "--constraint", "old<=1",
        "--json", str(out),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert len({"Ann", "Bob"} & set(elected(report(out)))) == 1


def test_irv_with_an_exact_group(tmp_path: Path) -> None:
    path = ballots(tmp_path)
    res = run(str(path), "--rule", "irv", "--constraint", "g=1:Bob")
    assert res.exit_code == 0, res.output
    assert "Elected: Bob" in res.output


def test_ballot_rules_from_a_groups_file_reject_ballots(tmp_path: Path) -> None:
    path = ballots(tmp_path)
    groups = tmp_path / "g.toml"
    groups.write_text('[group.front]\nmembers = ["Ann", "Bob"]\nmin_marked = 2\n', "utf-8")
    out = tmp_path / "r.json"
    res = run(str(path), "--rule", "block", "--constraint-file", str(groups), "--json", str(out))
    assert res.exit_code == 0, res.output
    doc = report(out)
    # only the 5 ballots marking both Ann and Bob are valid
    assert sorted(elected(doc)) == ["Ann", "Bob"]
    tally = doc["results"][0]["tally"]
    assert tally["Ann"] == "5" and tally["Cy"] == "0"


def test_same_result_whatever_the_hash_seed(tmp_path: Path) -> None:
    path = ballots(tmp_path)
    outputs = []
    for seed in ("0", "1", "777"):
        out = tmp_path / f"{seed}.json"
        subprocess.run(
            [
                sys.executable, "-m", "tallyroom.cli.main", "count", str(path), "--rule", "stv",
                "--constraint", "newcomers>=1:Cy,Di", "--json", str(out),
            ],
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
        )  # fmt: skip
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1] == outputs[2]


# -- refusals: one line, naming the option and the value ----------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--rule", "block", "--constraint", "women 6:Ann"], ["--constraint", "women 6:Ann"]),
        (["--rule", "block", "--constraint", "w>=1:Zed"], ["--constraint", "Zed"]),
        (["--rule", "block", "--constraint", "w>=1:9"], ["--constraint", "'9'"]),
        (["--rule", "block", "--constraint", "w>=1"], ["--constraint", "no members"]),
        (["--rule", "block", "--constraint", "w=3..1:Ann"], ["--constraint", "below"]),
        (
            ["--rule", "block", "--constraint", "w>=1:Ann", "--constraint", "w>=2"],
            ["--constraint", "twice"],
        ),
        (["--rule", "block", "--constraint", "w>=3:Ann,Bob"], ["cannot be met", "2 of w"]),
        (["--rule", "meek", "--constraint", "w>=1:Ann"], ["'meek'", "block", "stv"]),
        (
            ["--rule", "stv", "--constraint", "a>=1:Ann,Bob", "--constraint", "b>=1:Bob,Cy"],
            ["overlap", "Bob"],
        ),
    ],
)
def test_bad_constraints_are_one_line_errors(
    tmp_path: Path, args: list[str], words: list[str]
) -> None:
    res = run(str(ballots(tmp_path)), *args)
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert line.startswith("tallyroom: error:") and "\n" not in line
    for w in words:
        assert w in line


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("[group.w\n", ["not valid TOML"]),
        ("[group.w]\nmembers = ['Ann']\n", ["group.w", "constrains nothing"]),
        ("[group.w]\nmembers = 'Ann'\nmin_elected = 1\n", ["group.w.members", "list"]),
        ("[group.w]\nmembers = ['Ann']\nmin_elected = -1\n", ["group.w.min_elected", "-1"]),
        ("[group.w]\nmembers = ['Ann']\nmin_seats = 1\n", ["group.w", "min_seats"]),
        ("[grup.w]\nmembers = ['Ann']\n", ["grup"]),
    ],
)
def test_bad_groups_files_name_the_file_key_and_value(
    tmp_path: Path, toml: str, words: list[str]
) -> None:
    groups = tmp_path / "g.toml"
    groups.write_text(toml, "utf-8")
    res = run(str(ballots(tmp_path)), "--rule", "block", "--constraint-file", str(groups))
    assert res.exit_code == 2, res.output
    assert "g.toml" in res.output
    for w in words:
        assert w in res.output


def test_a_group_in_both_the_file_and_an_option_is_refused(tmp_path: Path) -> None:
    groups = tmp_path / "g.toml"
    groups.write_text("[group.w]\nmembers = ['Ann']\nmax_elected = 1\n", "utf-8")
    res = run(
        str(ballots(tmp_path)), "--rule", "block", "--constraint-file", str(groups),
        "--constraint", "w>=1:Ann",
    )  # fmt: skip
    assert res.exit_code == 2
    assert "--constraint" in res.output and "'w'" in res.output
