"""A real contest at scale: ``tallyroom rctab`` on the 2013 Minneapolis mayor conformance case
scaled to 1,041,313 ballots in 13 ES&S xlsx files (36 candidates, 33 rounds in RCTab).

The command runs as a subprocess under ``/usr/bin/time -v`` (when present) for its wall time
and peak resident memory; without it, wall time comes from this process's clock and peak
memory from ``getrusage(RUSAGE_CHILDREN)`` (the largest child so far). Best of 3 for time,
the largest peak of the runs for memory. Goals: at most 5 s and 1 GB.

The winner, the number of rounds and the final threshold of tallyroom's
``detailed_report.json`` are compared with RCTab's expected report for the case.

    .venv-bench/bin/python benchmarks/bench_minneapolis_scale.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import harness
from harness import Goal, Row

NAME = "minneapolis_scale"
CASE_DIR = Path("/work/shared/conformance/rctab/cases/2013_minneapolis_mayor_scale")
CONFIG = CASE_DIR / "2013_minneapolis_mayor_scale_config.json"
EXPECTED = CASE_DIR / "2013_minneapolis_mayor_scale_expected_detailed_report.json"
GNU_TIME = Path("/usr/bin/time")
WALL_GOAL_SECONDS = 5.0
RSS_GOAL_MB = 1024.0


@dataclass(frozen=True, slots=True)
class Run:
    wall_seconds: float
    peak_rss_mb: float
    cpu_seconds: float
    method: str


def _parse_elapsed(text: str) -> float:
    """GNU time's ``h:mm:ss`` or ``m:ss.cc`` elapsed field, in seconds."""
    seconds = 0.0
    for part in text.strip().split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def run_once(cmd: Sequence[str]) -> Run:
    if GNU_TIME.exists():
        proc = subprocess.run(
            [str(GNU_TIME), "-v", *cmd], capture_output=True, text=True, check=False
        )
        _check(proc, cmd)
        stats = dict(
            line.strip().rsplit(": ", 1) for line in proc.stderr.splitlines() if ": " in line
        )
        return Run(
            wall_seconds=_parse_elapsed(stats["Elapsed (wall clock) time (h:mm:ss or m:ss)"]),
            peak_rss_mb=int(stats["Maximum resident set size (kbytes)"]) / 1024,
            cpu_seconds=float(stats["User time (seconds)"]) + float(stats["System time (seconds)"]),
            method="/usr/bin/time -v",
        )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    _check(proc, cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, after.ru_maxrss / 1024, cpu, "perf_counter + RUSAGE_CHILDREN")


def _check(proc: subprocess.CompletedProcess[str], cmd: Sequence[str]) -> None:
    if proc.returncode != 0:
        message = harness.error_line(proc.stderr)
        raise RuntimeError(f"`{' '.join(cmd)}` exited {proc.returncode}: {message}")


def summary_of(report: dict[str, Any]) -> dict[str, Any]:
    """Winner(s), rounds and final threshold of an RCTab-style detailed report."""
    results = report.get("results", [])
    winners = [
        r["elected"] for rnd in results for r in rnd.get("tallyResults", []) if r.get("elected")
    ]
    return {
        "winners": winners,
        "rounds": len(results),
        "final_threshold": str(report.get("summary", {}).get("finalThreshold", "")),
    }


def _describe(summary: dict[str, Any]) -> str:
    return (
        f"{', '.join(summary['winners'])}, {summary['rounds']} rounds, "
        f"threshold {summary['final_threshold']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        cli = harness.tallyroom_cli()
    except harness.EngineMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not CONFIG.exists():
        print(f"error: conformance case not found: {CONFIG}", file=sys.stderr)
        return 2

    expected = summary_of(json.loads(EXPECTED.read_text(encoding="utf-8")))
    case = "RCTab config: 2013 Minneapolis mayor x scale (1,041,313 ballots, 13 xlsx)"
    runs: list[Run] = []
    got: dict[str, Any] = {}
    error = ""
    with tempfile.TemporaryDirectory(prefix="tallyroom-bench-") as tmp:
        out = Path(tmp) / "out"
        cmd = [str(cli), "rctab", str(CONFIG), "--output-dir", str(out)]
        try:
            for _ in range(max(1, args.repeats)):
                run = run_once(cmd)
                harness.log(
                    f"  tallyroom rctab: {run.wall_seconds:.2f} s, "
                    f"peak RSS {run.peak_rss_mb:,.0f} MB"
                )
                runs.append(run)
            reports = sorted(out.rglob("*.json"))
            detailed = [p for p in reports if "detailed" in p.name] or reports
            if detailed:
                got = summary_of(json.loads(detailed[0].read_text(encoding="utf-8")))
        except (RuntimeError, OSError, KeyError, ValueError) as exc:
            error = str(exc)

    rows: list[Row] = []
    if runs:
        best = min(r.wall_seconds for r in runs)
        peak = max(r.peak_rss_mb for r in runs)
        matches = bool(got) and got == expected
        rows.append(
            Row(
                case,
                "tallyroom",
                best,
                agree=matches if got else None,
                winners=tuple(got.get("winners", ())),
                repeats=len(runs),
                measured_ballots=1_041_313,
                note=(
                    f"`tallyroom rctab CONFIG --output-dir DIR`, process start included; "
                    f"peak RSS {peak:,.0f} MB; CPU {min(r.cpu_seconds for r in runs):.2f} s; "
                    f"measured with {runs[0].method}; vs RCTab's expected report: "
                    f"winner {', '.join(got.get('winners', [])) or '?'}, "
                    f"{got.get('rounds', '?')} rounds (expected "
                    f"{', '.join(expected['winners'])}, {expected['rounds']} rounds)"
                ),
                extra={"runs": [asdict(r) for r in runs], "expected": expected, "got": got},
            )
        )
    else:
        rows.append(Row(case, "tallyroom", None, note=f"failed: {error}"))

    seconds = rows[0].seconds
    peak_mb = max((r.peak_rss_mb for r in runs), default=None)
    goals = [
        Goal(
            "Minneapolis at scale: wall time, process start included",
            f"<= {WALL_GOAL_SECONDS:g} s",
            harness.format_seconds(seconds),
            None if seconds is None else seconds <= WALL_GOAL_SECONDS,
        ),
        Goal(
            "Minneapolis at scale: peak resident memory",
            "<= 1 GB",
            "—" if peak_mb is None else f"{peak_mb:,.0f} MB",
            None if peak_mb is None else peak_mb <= RSS_GOAL_MB,
        ),
        Goal(
            "Minneapolis at scale: same winner, rounds and threshold as RCTab",
            _describe(expected),
            "—" if not got else _describe(got),
            None if not got else got == expected,
        ),
    ]
    harness.report("RCTab contest at scale: 2013 Minneapolis mayor", rows, goals, NAME)
    return 0 if runs and got == expected else 1


if __name__ == "__main__":
    raise SystemExit(main())
