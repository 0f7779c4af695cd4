"""The command line on a 1,000,000-line BLT file: ``tallyroom count FILE --rule irv`` against a
plain Python script that reads the same file line by line and counts it with pyrankvote.

Both run as subprocesses, so interpreter start-up, imports, parsing and the count are all
included. Each is the best of 3 runs (the baseline stops early once it has spent 60 s).
Goal: tallyroom at least 10x faster.

Winners are checked outside the timed runs: one extra ``tallyroom count --json`` run gives
tallyroom's winners, and the baseline prints its own.

    .venv-bench/bin/python benchmarks/bench_cli_blt.py [--ballots N] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import harness
import synthetic
from harness import Goal, Row

NAME = "cli_blt"
SPEEDUP_GOAL = 10.0
BASELINE = harness.BENCH_DIR / "blt_pyrankvote.py"


def timed(cmd: Sequence[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        message = harness.error_line(proc.stderr)
        raise RuntimeError(f"`{' '.join(cmd)}` exited {proc.returncode}: {message}")
    return elapsed, proc


def best_of_runs(
    cmd: Sequence[str], repeats: int, budget: float
) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    best = float("inf")
    spent = 0.0
    runs = 0
    proc: subprocess.CompletedProcess[str] | None = None
    while runs < repeats and (runs == 0 or spent < budget):
        elapsed, proc = timed(cmd)
        harness.log(f"  {Path(cmd[0]).name} ...: {elapsed:.3f} s")
        best = min(best, elapsed)
        spent += elapsed
        runs += 1
    assert proc is not None
    return best, runs, proc


def winners_from_report(report: dict[str, Any]) -> tuple[str, ...]:
    """Elected candidates, in order, from an RCTab-style detailed report."""
    elected: list[str] = []
    for rnd in report.get("results", []):
        for result in rnd.get("tallyResults", []):
            name = result.get("elected")
            if name and name not in elected:
                elected.append(name)
    return tuple(elected)


def winners_from_output(stdout: str, names: Sequence[str]) -> tuple[str, ...]:
    """Candidates named on a printed line that speaks of electing or winning."""
    lines = [ln for ln in stdout.splitlines() if re.search(r"elect|win", ln, re.IGNORECASE)]
    return tuple(n for n in names if any(n in ln for ln in lines))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-budget", type=float, default=60.0)
    parser.add_argument("--peers-only", action="store_true", help="skip tallyroom")
    args = parser.parse_args(argv)

    cli: Path | None = None
    if not args.peers_only:
        try:
            cli = harness.tallyroom_cli()
        except harness.EngineMissing as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    baseline_python = harness.peer_python("pyrankvote")

    contest = synthetic.irv_contest(args.ballots)
    case = f"CLI: IRV from a {contest.ballots:,}-line BLT file"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tallyroom-bench-") as tmp:
        blt = Path(tmp) / "irv.blt"
        t0 = time.perf_counter()
        synthetic.write_blt(contest, blt)
        harness.log(
            f"wrote {blt.stat().st_size / 1e6:.1f} MB BLT in {time.perf_counter() - t0:.1f} s"
        )

        cli_winners: tuple[str, ...] | None = None
        if cli is not None:
            harness.log("tallyroom count")
            cmd = [str(cli), "count", str(blt), "--rule", "irv"]
            try:
                seconds, runs, proc = best_of_runs(cmd, args.repeats, float("inf"))
                # Untimed: the detailed report names the winners; else read the printout.
                report_json = Path(tmp) / "report.json"
                timed([*cmd, "--json", str(report_json)])
                found = winners_from_report(json.loads(report_json.read_text("utf-8")))
                cli_winners = found or winners_from_output(proc.stdout, contest.names) or None
                rows.append(
                    Row(
                        case,
                        "tallyroom",
                        seconds,
                        winners=cli_winners or (),
                        repeats=runs,
                        measured_ballots=contest.ballots,
                        note=(
                            f"`tallyroom count FILE --rule irv` ({cli}); process start "
                            f"included; winner(s): {', '.join(cli_winners or ('?',))}"
                        ),
                    )
                )
            except (RuntimeError, OSError, ValueError) as exc:
                rows.append(Row(case, "tallyroom", None, note=f"failed: {exc}"))

        tool = "pyrankvote script"
        if baseline_python is None:
            rows.append(Row(case, tool, None, note=harness.peer_unavailable_reason("pyrankvote")))
        else:
            harness.log("pyrankvote baseline script")
            cmd = [str(baseline_python), str(BASELINE), str(blt)]
            try:
                seconds, runs, proc = best_of_runs(cmd, args.repeats, args.baseline_budget)
                winners = tuple(re.findall(r"^winner: (.+)$", proc.stdout, flags=re.M))
                rows.append(
                    Row(
                        case,
                        tool,
                        seconds,
                        agree=harness.agree(winners, cli_winners),
                        winners=winners,
                        repeats=runs,
                        measured_ballots=contest.ballots,
                        note=(
                            f"`python benchmarks/blt_pyrankvote.py FILE`: reads the BLT line "
                            f"by line, pyrankvote {harness.peer_version('pyrankvote')} "
                            f"instant_runoff_voting; winner(s): {', '.join(winners)}"
                        ),
                    )
                )
            except (RuntimeError, OSError) as exc:
                rows.append(Row(case, tool, None, note=f"failed: {exc}"))

    harness.fill_ratios(rows)
    goals = [_speedup_goal(rows)]
    title = f"Command line: {contest.ballots:,}-ballot BLT file, IRV"
    harness.report(title, rows, goals, NAME)
    return 1 if any(r.seconds is None for r in rows) else 0


def _speedup_goal(rows: Sequence[Row]) -> Goal:
    tr = next((r for r in rows if r.tool == "tallyroom"), None)
    base = next((r for r in rows if r.tool != "tallyroom"), None)
    target = f">= {SPEEDUP_GOAL:g}x"
    if tr is None or base is None or tr.seconds is None or base.seconds is None:
        return Goal("CLI: tallyroom count vs the pyrankvote script", target, "not measured", None)
    ratio = base.seconds / tr.seconds
    return Goal(
        "CLI: tallyroom count vs the pyrankvote script",
        target,
        f"{ratio:,.1f}x ({harness.format_seconds(tr.seconds)} vs "
        f"{harness.format_seconds(base.seconds)})",
        ratio >= SPEEDUP_GOAL,
    )


if __name__ == "__main__":
    raise SystemExit(main())
