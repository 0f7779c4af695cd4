"""The command line on a 1,000,000-line BLT file: ``tallyroom count FILE --rule irv --json OUT``
against a plain Python script that groups the file's identical lines and counts them with
pyrankvote (``benchmarks/blt_pyrankvote.py``).

Both run as subprocesses in the same run, so interpreter start-up, imports, parsing, the count
and tallyroom's JSON report are all included. Each is the best of 3 runs (the baseline stops
early once it has spent 60 s); the ratio is printed for wall-clock time and for CPU time (user
+ system of the child process), which is the steadier figure on a machine shared with other
work. Goal: tallyroom at least 10x faster.

Winners are checked: tallyroom's from its JSON report, the baseline's from its printout.

    .venv-bench/bin/python benchmarks/bench_cli_blt.py [--ballots N] [--repeats 3]

Without the ``.venv-bench`` console script, ``python -m tallyroom.cli.main`` of this
interpreter is timed instead (pyrankvote: ``pip install pyrankvote==2.0.6``, the bench extra).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
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


def timed(cmd: Sequence[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall-clock and CPU seconds (user + system of the child) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        message = harness.error_line(proc.stderr)
        raise RuntimeError(f"`{' '.join(cmd)}` exited {proc.returncode}: {message}")
    return elapsed, cpu, proc


def best_of_runs(
    cmd: Sequence[str], repeats: int, budget: float
) -> tuple[float, float, int, subprocess.CompletedProcess[str]]:
    """The best wall-clock and the best CPU seconds of up to ``repeats`` runs."""
    best = best_cpu = float("inf")
    spent = 0.0
    runs = 0
    proc: subprocess.CompletedProcess[str] | None = None
    while runs < repeats and (runs == 0 or spent < budget):
        elapsed, cpu, proc = timed(cmd)
        harness.log(f"  {Path(cmd[0]).name} ...: {elapsed:.3f} s ({cpu:.3f} s CPU)")
        best, best_cpu = min(best, elapsed), min(best_cpu, cpu)
        spent += elapsed
        runs += 1
    assert proc is not None
    return best, best_cpu, runs, proc


def tallyroom_command() -> list[str] | None:
    """The ``tallyroom`` console script of .venv-bench, else this interpreter's module."""
    try:
        return [str(harness.tallyroom_cli())]
    except harness.EngineMissing:
        probe = subprocess.run(
            [sys.executable, "-c", "import tallyroom.cli.main"], capture_output=True, check=False
        )
        return [sys.executable, "-m", "tallyroom.cli.main"] if probe.returncode == 0 else None


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

    cli: list[str] | None = None
    if not args.peers_only:
        cli = tallyroom_command()
        if cli is None:
            print("error: tallyroom cannot be imported; run benchmarks/setup.sh", file=sys.stderr)
            return 2
    baseline_python = harness.peer_python("pyrankvote")
    cpu: dict[str, float] = {}

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
            harness.log("tallyroom count --json")
            report_json = Path(tmp) / "report.json"
            cmd = [*cli, "count", str(blt), "--rule", "irv", "--json", str(report_json)]
            try:
                seconds, cpu["tallyroom"], runs, proc = best_of_runs(
                    cmd, args.repeats, float("inf")
                )
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
                            f"`tallyroom count FILE --rule irv --json OUT` ({' '.join(cli)}); "
                            f"process start included; {cpu['tallyroom']:.3f} s CPU; winner(s): "
                            f"{', '.join(cli_winners or ('?',))}"
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
                seconds, cpu["baseline"], runs, proc = best_of_runs(
                    cmd, args.repeats, args.baseline_budget
                )
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
                            f"`python benchmarks/blt_pyrankvote.py FILE`: groups identical "
                            f"lines, pyrankvote {harness.peer_version('pyrankvote')} "
                            f"instant_runoff_voting; {cpu['baseline']:.3f} s CPU; winner(s): "
                            f"{', '.join(winners)}"
                        ),
                    )
                )
            except (RuntimeError, OSError) as exc:
                rows.append(Row(case, tool, None, note=f"failed: {exc}"))

    harness.fill_ratios(rows)
    goals = [_speedup_goal(rows), _cpu_goal(cpu)]
    if "tallyroom" in cpu and "baseline" in cpu:
        print(
            f"ratio: {_ratio(rows):.1f}x wall-clock, "
            f"{cpu['baseline'] / cpu['tallyroom']:.1f}x CPU (goal {SPEEDUP_GOAL:g}x)"
        )
    title = f"Command line: {contest.ballots:,}-ballot BLT file, IRV"
    harness.report(title, rows, goals, NAME)
    return 1 if any(r.seconds is None for r in rows) else 0


def _ratio(rows: Sequence[Row]) -> float:
    tr = next(r for r in rows if r.tool == "tallyroom")
    base = next(r for r in rows if r.tool != "tallyroom")
    assert tr.seconds and base.seconds
    return base.seconds / tr.seconds


def _cpu_goal(cpu: dict[str, float]) -> Goal:
    name = "CLI: tallyroom count vs the pyrankvote script, CPU time"
    target = f">= {SPEEDUP_GOAL:g}x"
    if "tallyroom" not in cpu or "baseline" not in cpu:
        return Goal(name, target, "not measured", None)
    ratio = cpu["baseline"] / cpu["tallyroom"]
    return Goal(
        name,
        target,
        f"{ratio:,.1f}x ({cpu['tallyroom']:.3f} s vs {cpu['baseline']:.3f} s CPU)",
        ratio >= SPEEDUP_GOAL,
    )


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
