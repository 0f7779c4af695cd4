"""tallyroom against the peer libraries on one in-memory contest (shared by the IRV and STV
benchmarks).

Two cases per contest:

* **count only**: tallyroom counts from a prebuilt ``BallotStore``; a peer's figure is its
  count excluding the conversion into its own ballot objects.
* **end to end**: from the padded int32 rankings matrix in memory to a complete result. For
  tallyroom: ``BallotStore.from_rows`` plus the full count record; for a peer: converting to
  its ballot objects plus its count.

tallyroom is timed in this process (best of N). Each peer runs once in a fresh worker process
(``peers.py``) on the same rankings, saved to a ``.npy`` file; a peer that would need more than
``--budget`` seconds on every ballot is measured on a prefix and extrapolated linearly, which
its row says. Winners are compared with tallyroom's on exactly the ballots the peer counted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import harness
import numpy as np
from harness import Engine, Goal, Row
from synthetic import Contest


@dataclass(frozen=True, slots=True)
class Cases:
    label: str
    count_only: str
    end_to_end: str


def add_arguments(
    parser: argparse.ArgumentParser, ballots: int, count_repeats: int, e2e_repeats: int
) -> None:
    parser.add_argument("--ballots", type=int, default=ballots)
    parser.add_argument(
        "--peers",
        nargs="*",
        default=list(harness.ALL_PEERS),
        choices=harness.ALL_PEERS,
        help="peers to measure (default: all)",
    )
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per peer run")
    parser.add_argument("--count-repeats", type=int, default=count_repeats)
    parser.add_argument("--e2e-repeats", type=int, default=e2e_repeats)
    parser.add_argument("--peers-only", action="store_true", help="skip tallyroom")


def engine_or_exit(args: argparse.Namespace) -> Engine | None:
    """The engine, ``None`` with ``--peers-only``; exits with status 2 if it is missing."""
    if args.peers_only:
        return None
    try:
        return harness.load_engine()
    except harness.EngineMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def size_label(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n:,}"


def compare(
    contest: Contest, rule: str, label: str, engine: Engine | None, args: argparse.Namespace
) -> tuple[list[Row], Cases]:
    """Measure tallyroom and every requested peer on ``contest``; rows sorted by case."""
    size = size_label(contest.ballots)
    cases = Cases(
        label, f"{label} {size} ballots: count only", f"{label} {size} ballots: end to end"
    )
    rows: list[Row] = []
    reference: dict[int, tuple[str, ...]] = {}

    def reference_winners(n: int) -> tuple[str, ...] | None:
        if engine is None:
            return None
        if n not in reference:
            part = contest.prefix(n)
            store = engine.store_from_rows(part.ranks)
            count = engine.count(store, engine.table(part.names), engine.options(part.seats))
            reference[n] = engine.summary(count).winners
        return reference[n]

    if engine is not None:
        harness.log(f"tallyroom {engine.version}: {label} on {contest.ballots:,} ballots")
        rows.extend(_tallyroom_rows(engine, contest, cases, args, reference))

    with tempfile.TemporaryDirectory(prefix="tallyroom-bench-") as tmp:
        ballots_npy = Path(tmp) / "ranks.npy"
        names_json = Path(tmp) / "names.json"
        np.save(ballots_npy, contest.ranks)
        names_json.write_text(json.dumps(list(contest.names)), encoding="utf-8")
        for tool in args.peers:
            harness.log(f"{tool}: {label}")
            result = harness.measure_peer(
                tool,
                rule,
                ballots_npy,
                names_json,
                contest.ballots,
                seats=contest.seats,
                budget=args.budget,
                log=harness.log,
            )
            rows.extend(
                harness.peer_rows(
                    result,
                    cases.end_to_end,
                    cases.count_only,
                    reference_winners,
                    harness.PEER_CONVERSIONS[tool],
                )
            )

    rows.sort(key=lambda r: (r.case != cases.count_only, r.tool != "tallyroom"))
    harness.fill_ratios(rows)
    return rows, cases


def _tallyroom_rows(
    engine: Engine,
    contest: Contest,
    cases: Cases,
    args: argparse.Namespace,
    reference: dict[int, tuple[str, ...]],
) -> list[Row]:
    table = engine.table(contest.names)
    options = engine.options(contest.seats)
    ranks = contest.ranks

    def end_to_end() -> object:
        return engine.count(engine.store_from_rows(ranks), table, options)

    t_store, store = harness.best_of(lambda: engine.store_from_rows(ranks), args.e2e_repeats)

    def count_only() -> object:
        return engine.count(store, table, options)

    t_count, count = harness.best_of(count_only, args.count_repeats)
    t_e2e, count_e2e = harness.best_of(end_to_end, args.e2e_repeats)
    summary = engine.summary(count)
    if engine.summary(count_e2e) != summary:
        raise AssertionError("tallyroom gave different results on the same ballots")
    reference[contest.ballots] = summary.winners
    detail = (
        f"tallyroom {engine.version}; {len(store):,} distinct rankings; "
        f"{summary.rounds} rounds; winner(s): {', '.join(summary.winners)}"
    )
    return [
        Row(
            cases.count_only,
            "tallyroom",
            t_count,
            repeats=args.count_repeats,
            note=f"from a prebuilt BallotStore; {detail}",
            winners=summary.winners,
            measured_ballots=contest.ballots,
        ),
        Row(
            cases.end_to_end,
            "tallyroom",
            t_e2e,
            repeats=args.e2e_repeats,
            note=(
                f"(n, {contest.max_rank}) int32 matrix -> BallotStore.from_rows "
                f"(best {harness.format_seconds(t_store)}) -> full count record; {detail}"
            ),
            winners=summary.winners,
            measured_ballots=contest.ballots,
        ),
    ]


def speedup_goal(rows: list[Row], cases: Cases, target: float | None) -> Goal:
    """tallyroom end to end against the fastest peer end to end (``target`` None: no goal)."""
    tr = next((r for r in rows if r.case == cases.end_to_end and r.tool == "tallyroom"), None)
    peers = [r for r in rows if r.case == cases.end_to_end and r.tool != "tallyroom"]
    timed = [r for r in peers if r.seconds is not None]
    fastest = min(timed, key=lambda r: r.seconds or float("inf"), default=None)
    wanted = "none set (informational)" if target is None else f">= {target:g}x"
    if tr is None or tr.seconds is None or fastest is None or fastest.seconds is None:
        return Goal(f"{cases.label}: end to end vs the fastest peer", wanted, "not measured", None)
    ratio = fastest.seconds / tr.seconds
    return Goal(
        f"{cases.label}: end to end vs the fastest peer ({fastest.tool})",
        wanted,
        f"{ratio:,.1f}x ({harness.format_seconds(tr.seconds)} vs "
        f"{harness.format_seconds(fastest.seconds)})",
        None if target is None else ratio >= target,
    )
