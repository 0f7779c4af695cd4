"""Run every benchmark and print one combined markdown report for docs/performance.md.

Each benchmark runs as its own process (so one's memory never weighs on the next) and writes
``benchmarks/results/<name>.json``; this script then joins those written in this run into a
single table of every row, a table of every goal, and the machine they were measured on,
prints it, and saves it as ``benchmarks/results/summary.md`` and ``summary.json``.

    .venv-bench/bin/python benchmarks/run_all.py [--quick] [--peers-only] [--only irv stv ...]

``--quick`` shrinks every contest (for a smoke test; the figures are not the documented
ones). ``--report-only`` runs nothing and rebuilds the summary from the JSON files already in
``results/``. ``--peers-only`` measures the peers without tallyroom (the CLI and RCTab benchmarks,
which are tallyroom alone or need it, are skipped). Exit status: 0 if every benchmark ran,
1 if any failed (its error is in the report).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import harness


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    script: str
    quick: tuple[str, ...]
    peers_only: bool  # accepts --peers-only


BENCHMARKS = (
    Benchmark("irv", "bench_irv.py", ("--ballots", "100000"), True),
    Benchmark("stv", "bench_stv.py", ("--ballots", "10000"), True),
    Benchmark("cli_blt", "bench_cli_blt.py", ("--ballots", "100000", "--repeats", "1"), True),
    Benchmark("minneapolis_scale", "bench_minneapolis_scale.py", ("--repeats", "1"), False),
)


def run(bench: Benchmark, quick: bool, peers_only: bool) -> tuple[int, float]:
    cmd = [sys.executable, str(harness.BENCH_DIR / bench.script)]
    if quick:
        cmd += bench.quick
    if peers_only:
        cmd.append("--peers-only")
    harness.log(f"\n=== {bench.name}: {' '.join(cmd[1:])}")
    t0 = time.perf_counter()
    # Output passes straight through, so progress shows as it happens.
    code = subprocess.run(cmd, check=False).returncode
    return code, time.perf_counter() - t0


def combined(results: Sequence[dict[str, Any]], failures: Sequence[str], quick: bool) -> str:
    env = results[0]["environment"] if results else harness.environment()
    lines = ["# tallyroom benchmark results", ""]
    if quick:
        lines += ["**Quick run (reduced contests): not the documented figures.**", ""]
    lines += [
        f"Measured {env['date']} on {env['cpu']} ({env['cores']} cores), {env['platform']}; "
        f"Python {env['python']}, numpy {env['numpy']}, tallyroom {env['tallyroom']} "
        f"(commit {env['git_commit']}).",
        "",
    ]
    peer_envs = _peer_environments(results)
    if peer_envs:
        lines += [f"Peers ran in their own processes: {peer_envs}.", ""]
    lines += [
        "Seconds are the best of N runs where it says so; a peer measured once on a prefix of "
        "the ballots is scaled up linearly and marked *extrapolated*. Ratios are a tool's "
        "seconds over tallyroom's on the same case. Winners are compared with tallyroom's on "
        "exactly the ballots each tool counted.",
        "",
        "| case | tool | seconds (best of N) | ratio vs tallyroom | winners agree? | notes |",
        "|---|---|---:|---:|:---:|---|",
    ]
    for result in results:
        lines += result["table"].splitlines()[2:]
    lines += ["", "| goal | target | measured | met? |", "|---|---|---|:---:|"]
    for result in results:
        if result["goals_table"]:
            lines += result["goals_table"].splitlines()[2:]
    status = _peer_status_note()
    if status:
        lines += ["", status]
    if failures:
        lines += ["", "Benchmarks that did not finish: " + "; ".join(failures) + "."]
    return "\n".join(lines) + "\n"


def _peer_environments(results: Sequence[dict[str, Any]]) -> str:
    seen: dict[str, str] = {}
    for result in results:
        for row in result["rows"]:
            run = row.get("extra", {}).get("run")
            if run and run["tool"] not in seen:
                seen[run["tool"]] = (
                    f"{run['tool']} {run['version']} (Python {run['python']}, numpy {run['numpy']})"
                )
    return ", ".join(seen.values())


def _peer_status_note() -> str:
    if not harness.PEER_STATUS.exists():
        return ""
    status = json.loads(harness.PEER_STATUS.read_text(encoding="utf-8"))
    notes = []
    for name, entry in status.items():
        if entry.get("error"):
            reason = harness.pip_conflict_summary(entry["error"])
            notes.append(f"{name} could not be installed: {reason}")
        elif entry.get("not_in_main_venv_because"):
            reason = harness.pip_conflict_summary(entry["not_in_main_venv_because"])
            notes.append(
                f"{name} runs in {entry['venv']}, as it cannot share tallyroom's venv: {reason}"
            )
    return "Install notes:\n\n" + "\n".join(f"- {n}" for n in notes) if notes else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small contests (smoke test)")
    parser.add_argument("--peers-only", action="store_true", help="skip tallyroom")
    parser.add_argument("--only", nargs="*", choices=[b.name for b in BENCHMARKS])
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: join the results/*.json already there into summary.md",
    )
    args = parser.parse_args(argv)

    results: list[dict[str, Any]] = []
    failures: list[str] = []
    for bench in BENCHMARKS:
        if args.only and bench.name not in args.only:
            continue
        if args.peers_only and not bench.peers_only:
            continue
        path = harness.RESULTS_DIR / f"{bench.name}.json"
        if args.report_only:
            if path.exists():
                results.append(json.loads(path.read_text(encoding="utf-8")))
            continue
        started = time.time()
        code, seconds = run(bench, args.quick, args.peers_only)
        fresh = path.exists() and path.stat().st_mtime >= started
        if code != 0 or not fresh:
            failures.append(f"{bench.name} (exit {code})")
        if fresh:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["meta"]["run_all_seconds"] = seconds
            results.append(data)

    report = combined(results, failures, args.quick)
    harness.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (harness.RESULTS_DIR / "summary.md").write_text(report, encoding="utf-8")
    summary = {"quick": args.quick, "failures": failures, "benchmarks": results}
    (harness.RESULTS_DIR / "summary.json").write_text(
        json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8"
    )
    print("\n" + report)
    print(f"(written to {(harness.RESULTS_DIR / 'summary.md').relative_to(harness.REPO)})")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
