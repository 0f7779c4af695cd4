"""Every Scottish ward of the conformance set counted under Scottish STV: tallyroom against
pref_voting's ``stv_scottish``, on the same wards in the same run.

Cases:

* **217 wards**: the 194 wards of 2017 and the 23 Glasgow wards of 2022
  (``../shared/conformance/scotland``), 1.33 million ballots;
* **350 wards, ~5 million ballots**: the same wards *repeated* - wards 1..217 then 1..133 again -
  each ward's ballots copied 2 or 3 times (every fifth ward of each pair of five thrice), so
  that the total is about five million. The copies are real rankings, not synthetic ones.

What is timed, for both tools alike, starts from each ward's rankings already in memory as a
padded int32 matrix (one row per ballot, ``-1`` after the last preference; loading the BLT files
is not timed) and ends with the winners: tallyroom groups the rows into a
:class:`~tallyroom.count.ballots.BallotStore` and runs ``count_scottish_stv``; pref_voting
builds its ``ProfileWithTies`` (``peers.run_pref_voting``, the conversion every benchmark here
uses) and runs ``stv_scottish(profile, num_seats)``. pref_voting runs in its own interpreter
(``.venv-bench-peers``, see ``harness.peer_python``) as one worker process over all wards, so
its import is not charged; tallyroom's figure is the best of ``--repeats`` runs. "Count only"
rows exclude the conversion (tallyroom: the grouping; pref_voting: the profile).

"winners agree" compares, ward by ward, the sets of winners (pref_voting returns them sorted);
pref_voting counts in floats and documents deviations of its own, so a disagreement would be a
finding, not a failure of the benchmark.

    .venv/bin/python benchmarks/bench_scottish_wards.py [--repeats 3] [--skip-scale] [--save]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

BENCH_DIR = Path(__file__).resolve().parent
CASES = BENCH_DIR.parent.parent / "shared" / "conformance" / "scotland"
TARGET_WARDS = 350
TARGET_BALLOTS = 5_000_000
GOAL_RATIO = 20.0

Ranks = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class Ward:
    name: str
    names: tuple[str, ...]
    seats: int
    ranks: Ranks  # one row per ballot


def load_wards() -> list[Ward]:
    """Every ward of the conformance set, its ballots expanded to one row each (not timed)."""
    from tallyroom.formats.blt import read_blt

    wards = []
    for blt in sorted(CASES.glob("*/*/ballots.blt")):
        election = read_blt(blt)
        store = election.ballots
        ranks = np.repeat(store.rows, store.weights, axis=0).astype(np.int32)
        wards.append(
            Ward(
                f"{blt.parent.parent.name}/{blt.parent.name}",
                election.candidates.names,
                election.seats,
                ranks,
            )
        )
    return wards


def scaled_plan(wards: Sequence[Ward]) -> list[tuple[int, int]]:
    """(ward index, copies) for the ~350-ward, ~5-million-ballot case."""
    plan = []
    for i in range(TARGET_WARDS):
        base = i % len(wards)
        plan.append((base, 3 if i % 5 < 2 else 2))
    total = sum(wards[b].ranks.shape[0] * k for b, k in plan)
    # trim or pad the copies of the last wards so the total lands near the target
    i = len(plan) - 1
    while total > TARGET_BALLOTS * 1.02 and i >= 0:
        b, k = plan[i]
        if k == 3:
            plan[i] = (b, 2)
            total -= wards[b].ranks.shape[0]
        i -= 1
    return plan


def expand(wards: Sequence[Ward], plan: Sequence[tuple[int, int]]) -> list[Ward]:
    out = []
    for n, (b, k) in enumerate(plan):
        w = wards[b]
        out.append(Ward(f"{w.name} x{k} #{n + 1}", w.names, w.seats, np.tile(w.ranks, (k, 1))))
    return out


# -- tallyroom --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Timing:
    total: float
    count_only: float
    winners: list[tuple[str, ...]]


def time_tallyroom(wards: Sequence[Ward], repeats: int) -> Timing:
    from tallyroom.count.ballots import BallotStore, CandidateTable
    from tallyroom.count.rules.scottish_stv import count_scottish_stv

    tables = [CandidateTable(w.names) for w in wards]
    best_total = best_count = float("inf")
    winners: list[tuple[str, ...]] = []
    for _ in range(max(1, repeats)):
        total = count = 0.0
        winners = []
        for w, table in zip(wards, tables, strict=True):
            t0 = time.perf_counter()
            store = BallotStore.from_rows(w.ranks)
            t1 = time.perf_counter()
            result = count_scottish_stv(store, table, w.seats)
            t2 = time.perf_counter()
            total += t2 - t0
            count += t2 - t1
            winners.append(result.winners)
        best_total, best_count = min(best_total, total), min(best_count, count)
    return Timing(best_total, best_count, winners)


# -- pref_voting (worker process in the peer's interpreter) ----------------------------------
def time_pref_voting(
    wards: Sequence[Ward], plan: Sequence[tuple[int, int]] | None
) -> tuple[Timing | None, str]:
    import harness

    py = harness.peer_python("pref_voting")
    if py is None:
        return None, harness.peer_unavailable_reason("pref_voting")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "wards.npz"
        np.savez(data, *[w.ranks for w in wards])  # stored as arr_0, arr_1, ...
        meta = {
            "wards": [{"names": list(w.names), "seats": w.seats} for w in wards],
            "plan": [list(p) for p in plan] if plan is not None else None,
        }
        (Path(tmp) / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        out = Path(tmp) / "out.json"
        cmd = [str(py), str(Path(__file__).resolve()), "--worker", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return None, f"pref_voting worker failed: {harness.error_line(proc.stderr)}"
        result = json.loads(out.read_text(encoding="utf-8"))
    version = harness.peer_version("pref_voting")
    timing = Timing(result["total"], result["count"], [tuple(w) for w in result["winners"]])
    return timing, f"pref_voting {version} stv_scottish; one worker process ({py})"


def worker(folder: str) -> int:
    """Runs in pref_voting's interpreter: imports neither tallyroom nor the harness."""
    import peers

    for module in peers.PRELOAD["pref_voting"]:
        __import__(module)
    tmp = Path(folder)
    meta = json.loads((tmp / "meta.json").read_text(encoding="utf-8"))
    arrays = np.load(tmp / "wards.npz")
    base = [arrays[f"arr_{i}"] for i in range(len(meta["wards"]))]
    plan = meta["plan"] or [[i, 1] for i in range(len(base))]
    random.seed(0)  # stv_scottish draws lots from `random`
    total = count = 0.0
    winners = []
    for b, k in plan:
        ranks = np.tile(base[b], (k, 1)) if k > 1 else base[b]
        names, seats = meta["wards"][b]["names"], meta["wards"][b]["seats"]
        # the timed region of peers.py: rankings in memory -> profile -> count -> winners
        t0 = time.perf_counter()
        rows = ranks.tolist()
        won, _convert, counting = peers.run_pref_voting(rows, names, seats, "stv")
        total += time.perf_counter() - t0
        count += counting
        winners.append(won)
    out = {"total": total, "count": count, "winners": winners}
    (tmp / "out.json").write_text(json.dumps(out), encoding="utf-8")
    return 0


# -- report -----------------------------------------------------------------------------------
def compare(
    case: str, wards: Sequence[Ward], peer_wards: Sequence[Ward], plan: Any, repeats: int
) -> tuple[list[Any], Any]:
    import harness

    ballots = sum(w.ranks.shape[0] for w in wards)
    harness.log(f"{case}: tallyroom on {len(wards)} wards, {ballots:,} ballots ...")
    ours = time_tallyroom(wards, repeats)
    harness.log(f"  tallyroom {ours.total:.3f} s")
    harness.log(f"{case}: pref_voting ...")
    theirs, note = time_pref_voting(peer_wards, plan)
    rows = [
        harness.Row(
            case,
            "tallyroom",
            ours.total,
            repeats=repeats,
            note="BallotStore.from_rows + count_scottish_stv, per ward",
        ),
        harness.Row(
            case + " (count only)",
            "tallyroom",
            ours.count_only,
            repeats=repeats,
            note="count_scottish_stv on grouped ballots",
        ),
    ]
    if theirs is None:
        rows.append(harness.Row(case, "pref_voting", None, note=note))
    else:
        same = sum(set(a) == set(b) for a, b in zip(ours.winners, theirs.winners, strict=True))
        agree = same == len(wards)
        detail = f"{note}; same winners in {same}/{len(wards)} wards"
        rows.append(harness.Row(case, "pref_voting", theirs.total, agree=agree, note=detail))
        rows.append(
            harness.Row(
                case + " (count only)",
                "pref_voting",
                theirs.count_only,
                agree=agree,
                note="excluding the ProfileWithTies conversion; " + detail,
            )
        )
    harness.fill_ratios(rows)
    ratio = next((r.ratio for r in rows if r.tool == "pref_voting" and r.case == case), None)
    goal = harness.Goal(
        f"{case}: tallyroom vs pref_voting stv_scottish",
        f">= {GOAL_RATIO:g}x faster",
        f"{ratio:,.0f}x" if ratio else "not measured",
        None if ratio is None else ratio >= GOAL_RATIO,
    )
    return rows, goal


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="tallyroom: best of N runs")
    parser.add_argument("--skip-scale", action="store_true", help="only the 217 real wards")
    parser.add_argument("--save", action="store_true", help="write results/scottish_wards.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker)

    import harness

    if not CASES.is_dir():
        print(f"no Scottish conformance cases at {CASES}", file=sys.stderr)
        return 2
    wards = load_wards()
    total = sum(w.ranks.shape[0] for w in wards)
    rows, goal = compare(
        f"{len(wards)} wards ({total:,} ballots)", wards, wards, None, args.repeats
    )
    goals = [goal]
    if not args.skip_scale:
        plan = scaled_plan(wards)
        scaled = expand(wards, plan)
        big = sum(w.ranks.shape[0] for w in scaled)
        case = f"{len(scaled)} wards ({big:,} ballots; the 217 repeated, ballots copied x2-x3)"
        more, goal = compare(case, scaled, wards, plan, args.repeats)
        rows += more
        goals.append(goal)
    title = "Scottish STV on every conformance ward: tallyroom vs pref_voting"
    print(f"\n## {title}\n")
    print(harness.render_table(rows))
    print()
    print(harness.render_goals(goals))
    if args.save:
        path = harness.save_results("scottish_wards", rows, goals)
        print(f"\n(results written to {path})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
