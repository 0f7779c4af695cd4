"""Progress as lines when the output is not a terminal (a log, a pipe, CI), and
``demo --serve-only`` refusing a folder that holds no finished demo."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from tallyroom.cli import progress
from tallyroom.cli.main import main
from tallyroom.cli.progress import Progress, StageProgress


def test_stages_print_a_line_at_each_tenth_when_not_a_terminal() -> None:
    out = io.StringIO()
    stages = StageProgress(out)
    stages.start("cast ballots", 1_000)
    for done in range(1, 1_001):
        stages.update(done)
    stages.finish("1,000 ballots cast")
    lines = out.getvalue().splitlines()
    assert lines[0] == "cast ballots (1,000) ..."
    assert lines[1:10] == [f"cast ballots: {k * 100:,}/1,000 ({k * 10}%)" for k in range(1, 10)]
    assert lines[10:] == ["  1,000 ballots cast"]
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_a_counter_prints_lines_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "LINE_EVERY", 0.0)
    out = io.StringIO()
    with Progress("register entries", out) as counter:
        for done in (10, 20):
            counter.update(done)
    assert out.getvalue().splitlines() == [
        "register entries: 10",
        "register entries: 20",
        "register entries: 20 done",
    ]


def test_serve_only_needs_a_finished_demo(tmp_path: Path) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    done = CliRunner().invoke(main, ["demo", "--serve-only", "--dir", str(empty)])
    assert done.exit_code == 2
    assert done.output.startswith(f"tallyroom: error: {empty}: no demo in this folder (missing ")
    assert f"run 'tallyroom demo --dir {empty}' first" in done.output
    both = CliRunner().invoke(main, ["demo", "--serve-only", "--no-serve", "--dir", str(empty)])
    assert both.exit_code == 2 and "--serve-only serves" in both.output
