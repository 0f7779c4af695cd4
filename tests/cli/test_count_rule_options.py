"""``tallyroom count``'s rule options: the file's tie order, --quota, --arithmetic,
--defeat-batch, and the refusal of an option a rule does not take."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tallyroom.cli.main import main
from tallyroom.count.rules.registry import RULES

# Droop's test/blt/42.blt: Pollux and Helen tie for the second seat in exact arithmetic
CASTOR = """3 2
{tie}4 1 2 0
2 3 0
0
"Castor"
"Pollux"
"Helen"
"Pollux and Helen should tie"
"""


def _count(tmp_path: Path, *args: str, tie: str = "") -> tuple[int, str]:
    src = tmp_path / "castor.blt"
    src.write_text(CASTOR.format(tie=tie), encoding="utf-8")
    res = CliRunner().invoke(main, ["count", str(src), *args])
    return res.exit_code, res.output


@pytest.mark.parametrize("rule", ["meek", "warren"])
def test_the_file_s_tie_order_decides_an_exact_tie(tmp_path: Path, rule: str) -> None:
    """Droop (``meek``/``warren rational``): without ``[tie]`` Pollux, listed first, is
    defeated; with ``[tie 3 2 1]`` Helen is."""
    code, out = _count(tmp_path, "--rule", rule, "--arithmetic", "rational")
    assert code == 0, out
    assert "Elected: Castor, Helen" in out
    code, out = _count(tmp_path, "--rule", rule, "--arithmetic", "rational", tie="[tie 3 2 1]\n")
    assert code == 0, out
    assert "Elected: Castor, Pollux" in out
    assert "Helen chosen by tie order" in out


def test_wigm_takes_the_pr_foundation_s_fractional_quota(tmp_path: Path) -> None:
    code, out = _count(tmp_path, "--rule", "wigm", "--quota", "droop-fractional", "--decimals", "4")
    assert code == 0, out
    threshold = next(line for line in out.splitlines() if line.startswith("Threshold"))
    assert threshold.split()[1] == "2.0001"  # 6 / 3 + 0.0001, as Droop's wigm-prf
    assert "1.9996" in out  # Castor's surplus 1.9999 over 4 ballots, 0.4999 each
    code, out = _count(tmp_path, "--rule", "wigm", "--decimals", "4")
    threshold = next(line for line in out.splitlines() if line.startswith("Threshold"))
    assert threshold.split()[1] == "3"  # the default: floor(6 / 3) + 1


def test_the_reference_rules_match_droop(tmp_path: Path) -> None:
    code, out = _count(tmp_path, "--rule", "wigm-prf")
    assert code == 0 and "Elected: Castor, Helen" in out and "2.0001" in out
    code, out = _count(tmp_path, "--rule", "meek-prf", tie="[tie 3 2 1]\n")
    assert code == 0 and "Elected: Castor, Helen" in out  # not tied in 9 places


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--rule", "irv", "--quota", "hare"), "rule 'irv' cannot take quota 'hare'"),
        (("--rule", "meek", "--quota", "droop"), "rule 'meek' cannot take quota 'droop'"),
        (
            ("--rule", "wigm-prf", "--arithmetic", "rational"),
            "rule 'wigm-prf' cannot take arithmetic 'rational'; it takes no such option",
        ),
        (
            ("--rule", "meek-prf", "--defeat-batch", "safe"),
            "rule 'meek-prf' cannot take defeat_batch 'safe'",
        ),
        (("--rule", "stv", "--arithmetic", "fixed"), "rule 'stv' cannot take arithmetic"),
        (("--rule", "meek", "--decimals", "6"), "rule 'meek' fixes its own decimal places"),
        (("--rule", "qpq", "--decimals", "2"), "rule 'qpq' fixes its own decimal places"),
    ],
)
def test_an_option_the_rule_cannot_take_is_one_error_naming_both(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    code, out = _count(tmp_path, *args)
    assert code == 2
    assert said in out
    assert out.count("\n") == 1 and "Traceback" not in out


def test_an_unknown_option_value_is_refused_by_name(tmp_path: Path) -> None:
    code, out = _count(tmp_path, "--rule", "wigm", "--quota", "imperiali")
    assert code == 2
    assert "imperiali" in out and "droop-fractional" in out


def test_the_college_takes_no_rule_options(tmp_path: Path) -> None:
    code, out = _count(tmp_path, "--rule", "college", "--quota", "droop")
    assert code == 2 and "rule 'college' cannot take --quota" in out


def test_every_rule_is_named_in_the_help() -> None:
    res = CliRunner().invoke(main, ["count", "--help"])
    text = " ".join(res.output.split())
    for name in RULES:
        assert name in text, name


def test_every_option_offered_is_in_the_help() -> None:
    res = CliRunner().invoke(main, ["count", "--help"])
    text = " ".join(res.output.split())
    for option in ("--quota", "--arithmetic", "--defeat-batch"):
        assert option in text
    for rule in RULES.values():
        for choice in (*rule.quotas, *rule.arithmetics, *rule.batches):
            assert choice.value in text


DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"


@pytest.mark.parametrize(
    "name", sorted(n for n, r in RULES.items() if r.quotas or r.arithmetics or r.batches)
)
def test_every_option_a_rule_takes_is_on_its_page(name: str) -> None:
    page = (DOCS / f"{name}.md").read_text(encoding="utf-8")
    rule = RULES[name]
    for option, values in (
        ("--quota", rule.quotas),
        ("--arithmetic", rule.arithmetics),
        ("--defeat-batch", rule.batches),
    ):
        if values:
            assert option in page, (name, option)
        for value in values:
            assert f"`{value.value}`" in page, (name, value)


def test_guarded_arithmetic_from_the_cli(tmp_path: Path) -> None:
    """Droop's default ``meek`` (guarded, batch defeats) on 42.blt: Pollux and Helen tie
    exactly (quasi-exact arithmetic); the tie order decides, as in Droop's reference count."""
    code, out = _count(
        tmp_path, "--rule", "meek", "--arithmetic", "guarded", "--defeat-batch", "safe"
    )
    assert code == 0, out
    assert "Elected: Castor, Helen" in out and "Pollux chosen by tie order" in out
    code, out = _count(tmp_path, "--rule", "warren", "--arithmetic", "guarded", tie="[tie 3 2 1]\n")
    assert code == 0 and "Elected: Castor, Pollux" in out


def test_wigm_in_guarded_arithmetic_from_the_cli(tmp_path: Path) -> None:
    """Guarded WIGM on 42.blt: the quota is exactly 2 (no added unit), so Castor's surplus 2
    moves whole to Pollux, who ties Helen at 2; in fixed point at 4 places the quota is 2.0001
    and Pollux gets only 1.9996."""
    code, out = _count(
        tmp_path, "--rule", "wigm", "--arithmetic", "guarded", "--quota", "droop-fractional"
    )
    assert code == 0, out
    assert "Elected: Castor, Helen" in out
    assert "Tie in round 3 (eliminated) between Pollux, Helen" in out
    threshold = next(line for line in out.splitlines() if line.startswith("Threshold"))
    assert threshold.split()[1:] == ["2", "2", "2"]
