"""The ``tallyroom`` command, driven in-process with real files, and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tallyroom.cli.main import main

SHARED = Path(__file__).resolve().parents[3] / "shared" / "conformance"
CASES = SHARED / "rctab" / "cases"
DOCS = Path(__file__).resolve().parents[2] / "docs"

needs_shared = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/conformance missing")

BLT = """4 2
1 1 2 0
1 1 3 0
2 2 1 0
1 3 0
1 4 3 0
0
"Ann"
"Bob"
"Cy"
"Di"
"Test committee"
"""


def test_count_prints_rounds_and_writes_json(tmp_path: Path) -> None:
    src = tmp_path / "c.blt"
    src.write_text(BLT, encoding="utf-8")
    out = tmp_path / "r.json"
    res = CliRunner().invoke(main, ["count", str(src), "--rule", "stv", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "Test committee" in res.output and "Round 1" in res.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["jsonFormatVersion"] == "1"
    assert doc["summary"]["numWinners"] == 2
    assert doc["summary"]["totalNumBallots"] == "6"
    elected = [a["elected"] for r in doc["results"] for a in r["tallyResults"] if "elected" in a]
    assert len(elected) == 2


@pytest.mark.parametrize("rule", ["irv", "plurality", "block", "scottish-stv", "wigm", "ers97"])
def test_every_registered_rule_counts_from_the_cli(tmp_path: Path, rule: str) -> None:
    src = tmp_path / "c.blt"
    src.write_text(BLT, encoding="utf-8")
    res = CliRunner().invoke(main, ["count", str(src), "--rule", rule, "--seed", "7"])
    assert res.exit_code == 0, res.output
    assert "Elected:" in res.output


def test_a_lot_needs_a_seed(tmp_path: Path) -> None:
    src = tmp_path / "c.blt"
    src.write_text(BLT, encoding="utf-8")
    res = CliRunner().invoke(main, ["count", str(src), "--rule", "scottish-stv"])
    assert res.exit_code == 2
    assert "Cy, Di" in res.output and "--seed" in res.output


def test_bad_input_is_one_line_naming_file_and_value(tmp_path: Path) -> None:
    src = tmp_path / "bad.blt"
    src.write_text('2 1\n1 1 7 0\n0\n"A"\n"B"\n"T"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["count", str(src)])
    assert res.exit_code == 2
    line = res.output.strip()
    assert "\n" not in line
    assert "bad.blt" in line and "7" in line


def test_unknown_rule_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "c.blt"
    src.write_text(BLT, encoding="utf-8")
    res = CliRunner().invoke(main, ["count", str(src), "--rule", "borda"])
    assert res.exit_code == 2
    assert "borda" in res.output and "known rules" in res.output


def test_convert_round_trip_blt_csv_blt(tmp_path: Path) -> None:
    src = tmp_path / "c.blt"
    src.write_text(BLT, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["convert", str(src), str(tmp_path / "c.csv")]).exit_code == 0
    assert runner.invoke(main, ["convert", str(src), str(tmp_path / "c.json")]).exit_code == 0
    cdf = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert len(cdf["CVR"]) == 6
    a = runner.invoke(main, ["count", str(src), "--rule", "stv", "--seats", "2"])
    b = runner.invoke(main, ["count", str(tmp_path / "c.csv"), "--rule", "stv", "--seats", "2"])
    assert a.exit_code == b.exit_code == 0
    assert a.output.split("Elected:")[1] == b.output.split("Elected:")[1]


@needs_shared
def test_rctab_writes_reports(tmp_path: Path) -> None:
    config = CASES / "2015_portland_mayor" / "2015_portland_mayor_config.json"
    res = CliRunner().invoke(main, ["rctab", str(config), "--output-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "detailed_report.json").is_file()
    assert (tmp_path / "detailed_report.csv").is_file()


@needs_shared
def test_rctab_converts_records(tmp_path: Path) -> None:
    config = CASES / "conversions_from_ess" / "conversions_from_ess_config.json"
    args = ["rctab", str(config), "-o", str(tmp_path), "--convert-to", "csv"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    written = list(tmp_path.glob("*.csv"))
    assert len(written) == 1
    assert written[0].read_text(encoding="utf-8").startswith("Source Filepath,CVR Provider")


@needs_shared
def test_rctab_config_error_exits_2(tmp_path: Path) -> None:
    config = CASES / "invalid_params_test" / "invalid_params_test_config.json"
    res = CliRunner().invoke(main, ["rctab", str(config), "-o", str(tmp_path)])
    assert res.exit_code == 2
    assert "tiebreakMode" in res.output and "whatever" in res.output


def test_every_command_is_documented() -> None:
    guide = (DOCS / "user-guide.md").read_text(encoding="utf-8")
    for name in main.list_commands(click.Context(main)):
        assert f"tallyroom {name}" in guide, f"docs/user-guide.md does not document {name!r}"


@needs_shared
def test_same_result_whatever_the_hash_seed(tmp_path: Path) -> None:
    config = CASES / "tiebreak_generate_permutation_test"
    cfg = next(config.glob("*config.json"))
    outputs = []
    for seed in ("0", "1", "4242"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "tallyroom.cli.main", "rctab", str(cfg), "-o", str(out)],
            check=True,
            env=env,
            capture_output=True,
        )
        outputs.append((out / "detailed_report.json").read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1] == outputs[2]


# -- reading real files: notes on stderr, --strict, the CSV options ------------------------------
EVE = '5 1\n1 3 1 5\n1 2\n1 3 1 5 2 4\n0\n"P A"\n"P B"\n"P C"\n"P D"\n"P E"\n"CSM X"\n'


def test_lenient_reads_are_noted_on_stderr_and_strict_refuses(tmp_path: Path) -> None:
    src = tmp_path / "csm.blt"
    src.write_text(EVE, encoding="utf-8")
    res = CliRunner().invoke(main, ["count", str(src)])
    assert res.exit_code == 0, res.output
    assert f"tallyroom: note: {src}: ballot lines without the closing 0" in res.stderr
    assert "Elected: P C" in res.stdout
    res = CliRunner().invoke(main, ["count", str(src), "--strict"])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"tallyroom: error: {src}:2: ballot: a ballot line must end with 0 "
        "(and 2 more problems) ('1 3 1 5')"
    )


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("3 1\n", "the file ends before its ballots"),
        ("2 1\n1 1 0\n0\n" + '"' + "N" * 140_000 + '"\n"B"\n', "longer than 131,072"),
        ("99999999999999999999999 1\n", "number too large"),
    ],
)
def test_hostile_blt_is_one_line(tmp_path: Path, content: str, words: str) -> None:
    src = tmp_path / "h.blt"
    src.write_text(content, encoding="utf-8")
    res = CliRunner().invoke(main, ["count", str(src)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and len(res.stderr) < 300
    assert str(src) in res.stderr and words in res.stderr


def test_csv_header_options(tmp_path: Path) -> None:
    src = tmp_path / "b.csv"
    src.write_text("Zed,Yan\nAnne,Bob\nYan,\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["count", str(src)])
    assert res.exit_code == 2 and "--header or --no-header" in res.stderr
    res = CliRunner().invoke(main, ["count", str(src), "--no-header"])
    assert res.exit_code == 0 and "Ballots: 3" in res.stdout
    res = CliRunner().invoke(main, ["count", str(src), "--header"])
    assert res.exit_code == 0 and "Ballots: 2" in res.stdout


def test_csv_columns_candidates_and_new_names(tmp_path: Path) -> None:
    src = tmp_path / "f.csv"
    src.write_text("When,Pick A,Pick B\n2024-05-01,Anne,Bob\n2024-05-02,Dave,\n", encoding="utf-8")
    args = ["count", str(src), "--columns", "2-3", "--candidates", "Anne,Bob"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert f"{src}:3: Pick A: not one of the candidates ('Dave')" in res.stderr
    res = CliRunner().invoke(main, [*args, "--new-names"])
    assert res.exit_code == 0, res.output
    assert "new names, not among the candidates, added: 'Dave' (1)" in res.stderr
    res = CliRunner().invoke(
        main, ["convert", str(src), str(tmp_path / "f.blt"), "--columns", "2-3", "--header"]
    )
    assert res.exit_code == 0, res.output
