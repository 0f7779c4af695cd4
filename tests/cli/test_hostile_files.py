"""Hostile files at the command line: each one line naming the file, exit status 1 or 2,
no traceback, and the store unchanged."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tallyroom.cli.main import main

DEFINITION = """\
[election]
name = "Branch committee"
organisation = "Branch"

[timetable]
nominations_open = 2026-01-01T00:00:00+00:00
nominations_close = 2026-01-10T00:00:00+00:00
ballot_open = 2026-01-11T00:00:00+00:00
ballot_close = 2026-01-20T00:00:00+00:00

[[sections]]
name = "members"

[[contests]]
name = "chair"
rule = "irv"
seats = 1
sections = ["members"]

[[contests.candidates]]
name = "Ann"

[[contests.candidates]]
name = "Bob"

[eligibility]
statuses = ["active"]
"""


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _branch(tmp_path: Path) -> str:
    """A draft election ``branch`` created from the command line; its store's URL."""
    definition = tmp_path / "branch.toml"
    definition.write_text(DEFINITION, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 't.db'}"
    key = str(tmp_path / "k")
    code, out = _run(
        "election", "create", str(definition), "--db", db, "--private-key", key,
        "--passphrase", "a long enough passphrase",
    )  # fmt: skip
    assert code == 0, out
    return db


def _one_line(code: int, output: str, *needles: str) -> None:
    assert code != 0, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) <= 3, output
    for needle in needles:
        assert needle in output, output


def test_a_definition_nested_five_thousand_deep(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 't.db'}"
    code, out = _run(
        "election",
        "create",
        str(deep),
        "--db",
        db,
        "--private-key",
        str(tmp_path / "k"),
        "--passphrase",
        "a long enough passphrase",
    )
    _one_line(code, out, "deep.toml", "nested too deeply")


def test_a_csv_renamed_xlsx_as_a_register(tmp_path: Path) -> None:
    db = _branch(tmp_path)
    fake = tmp_path / "members.xlsx"
    fake.write_text("person_id,section,status\nP1,members,active\n", encoding="utf-8")
    code, out = _run("register", "import", str(fake), "--election", "branch", "--db", db)
    _one_line(code, out, "members.xlsx", "not a readable spreadsheet")
    code, out = _run("election", "status", "--election", "branch", "--db", db)
    assert code == 0 and "register        0 entries" in out, out  # nothing imported


def test_an_exported_log_that_is_not_utf8_or_too_deep(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"\xff\xfe not UTF-8\n" + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"\n")
    code, out = _run("audit", "verify", "--file", str(log))
    assert code == 1 and "Traceback" not in out, out
    assert "line 1: not UTF-8" in out and "line 2: not an event (nested too deeply)" in out


def test_an_rctab_config_nested_too_deeply(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"a":' * 5000 + "1" + "}" * 5000, encoding="utf-8")
    code, out = _run("rctab", str(config), "-o", str(tmp_path / "out"))
    _one_line(code, out, "config.json", "nested too deeply")


def test_two_register_files_from_the_command_line(tmp_path: Path) -> None:
    """P1 in members (first file) and again in another file: one eligible entry, whatever
    the order; the second file needs --reason; --replace removes the unlisted."""
    db = _branch(tmp_path)
    first = tmp_path / "a.csv"
    head = "person_id,section,membership_number,status,joined,registered\n"
    first.write_text(head + "P1,members,M1,active,2015-01-01,\nP2,members,M2,active,2015-01-01,\n")
    second = tmp_path / "b.csv"
    second.write_text(head + "P1,members,X9,active,2015-01-01,\n")
    sel = ("--election", "branch", "--db", db)
    code, out = _run("register", "import", str(first), *sel)
    assert code == 0 and "2 eligible" in out, out
    code, out = _run("register", "import", str(second), *sel)
    _one_line(code, out, "reason")
    code, out = _run("register", "import", str(second), *sel, "--reason", "late list")
    assert code == 0 and "2 eligible" in out, out  # P1 listed twice holds one vote
    code, out = _run(
        "register", "import", str(second), *sel, "--reason", "the final list", "--replace"
    )
    assert code == 0 and "1 eligible" in out, out
