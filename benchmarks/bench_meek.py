"""Meek STV on 50,000 synthetic ballots, 10 seats, 25 candidates: tallyroom against the one
installed peer that implements Meek, pref_voting's ``stv_meek`` (pyrankvote has no Meek rule;
votekit 3.5.0 has none either).

    .venv/bin/python benchmarks/bench_meek.py [--ballots N] [--seats S] [--repeats R]
        [--peer-budget SECONDS] [--no-peer] [--exact]

Ballots are drawn once from a seeded mixture of Plackett-Luce models (Gumbel-max trick: each
bloc's log-weights plus Gumbel noise, sorted), truncated to random lengths; floats are used to
*generate* ballots only, never in a count. tallyroom counts them by Meek's method as Droop.py
does (9-place fixed point, omega 10**-6; ``--exact`` adds exact rationals with 6-place keep
factors) and is timed in this process, best of ``--repeats``: *count* from a prebuilt
``BallotStore``, *end to end* from the rankings matrix (grouping included).

The peer runs in a fresh worker process in whichever venv has it (``.venv-bench``, else
``.venv-bench-peers``), on the same rankings saved as ``.npy``; its time covers building its
``ProfileWithTies`` and the count. pref_voting's Meek uses floats with its own tolerance
(1e-10), so the winners are compared as sets, and its arithmetic is not Droop's. If a peer run
would exceed ``--peer-budget`` seconds it is measured on a prefix of the ballots instead, and
the table says so.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SEED = 20_231_007
REPO = Path(__file__).resolve().parents[1]
NAMES = tuple(f"Candidate {chr(65 + i)}" for i in range(25))
# Bloc support weights over the 25 candidates: four parties of five or six, plus independents.
BLOCS = (
    (
        8,
        6,
        5,
        4,
        3,
        1,
        1,
        1,
        0.5,
        0.5,
        0.5,
        0.5,
        0.3,
        0.3,
        0.3,
        0.3,
        0.3,
        0.2,
        0.2,
        0.2,
        1,
        1,
        1,
        1,
        1,
    ),
    (0.5, 0.5, 1, 1, 1, 7, 6, 5, 4, 2, 1, 1, 0.5, 0.5, 0.3, 0.3, 0.3, 0.2, 0.2, 0.2, 1, 1, 1, 1, 1),
    (0.3, 0.3, 0.3, 0.3, 0.3, 1, 1, 1, 0.5, 0.5, 6, 6, 5, 3, 2, 1, 1, 0.5, 0.5, 0.5, 1, 1, 1, 1, 1),
    (0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 1, 1, 1, 1, 1, 5, 5, 4, 4, 3, 1, 1, 1, 1, 1),
    (1,) * 25,
)
SHARES = (0.3, 0.25, 0.2, 0.15, 0.1)
LENGTHS = np.arange(1, 26)
LENGTH_P = np.where(LENGTHS <= 3, 3.0, np.where(LENGTHS <= 10, 1.5, 0.4))


def contest(ballots: int, seed: int = SEED) -> npt.NDArray[np.int32]:
    """Rankings, one row per ballot, padded with -1."""
    rng = np.random.default_rng(seed)
    bloc = rng.choice(len(BLOCS), size=ballots, p=SHARES)
    logw = np.log(np.asarray(BLOCS, dtype=np.float64))[bloc]
    order = np.argsort(-(logw + rng.gumbel(size=logw.shape)), axis=1).astype(np.int32)
    length = rng.choice(LENGTHS, size=ballots, p=LENGTH_P / LENGTH_P.sum())
    order[np.arange(25)[None, :] >= length[:, None]] = -1
    return order


def best_of(repeats: int, fn: Any) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run_tallyroom(
    ranks: npt.NDArray[np.int32], seats: int, repeats: int, exact: bool
) -> list[dict[str, Any]]:
    from tallyroom.count.ballots import BallotStore, CandidateTable
    from tallyroom.count.rules.meek import Arithmetic, MeekOptions, MeekRecord, run_meek

    table = CandidateTable(NAMES)
    modes = [("fixed, 9 places", MeekOptions())]
    if exact:
        modes.append(
            ("exact, keep factors 6 places", MeekOptions(arithmetic=Arithmetic.RATIONAL, places=6))
        )
    rows = []
    for label, opts in modes:
        store = BallotStore.from_rows(ranks)

        def count_only(store: BallotStore = store, opts: MeekOptions = opts) -> MeekRecord:
            return run_meek(store, table, seats, opts)

        def end_to_end(opts: MeekOptions = opts) -> MeekRecord:
            return run_meek(BallotStore.from_rows(ranks), table, seats, opts)

        count_s, record = best_of(repeats, count_only)
        e2e_s, _ = best_of(repeats, end_to_end)
        iterations = sum(1 for s in record.stages if s.action.value == "iterate")
        rows.append(
            {
                "tool": f"tallyroom ({label})",
                "count_s": count_s,
                "total_s": e2e_s,
                "winners": sorted(NAMES[c] for c in record.winners),
                "note": f"{len(store):,} distinct rankings; {iterations} rounds; best of {repeats}",
            }
        )
    return rows


# -- the peer, in its own process -------------------------------------------------------------
def peer_python() -> Path | None:
    for venv in (".venv-bench", ".venv-bench-peers"):
        py = REPO / venv / "bin" / "python"
        if (
            py.exists()
            and subprocess.run(
                [str(py), "-c", "from pref_voting.proportional_methods import stv_meek"],
                capture_output=True,
            ).returncode
            == 0
        ):
            return py
    return None


def worker(path: str, seats: int, limit: int) -> None:
    """Runs inside the peer's venv: only numpy and pref_voting are imported."""
    import warnings

    from pref_voting.profiles_with_ties import ProfileWithTies  # type: ignore[import-not-found]
    from pref_voting.proportional_methods import stv_meek  # type: ignore[import-not-found]

    ranks = np.load(path)[: limit or None]
    t0 = time.perf_counter()
    rankings = [{int(c): r + 1 for r, c in enumerate(row) if c >= 0} for row in ranks]
    profile = ProfileWithTies(rankings, candidates=list(range(len(NAMES))))
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        elected = stv_meek(profile, num_seats=seats)
    t2 = time.perf_counter()
    print(
        json.dumps(
            {"winners": [NAMES[c] for c in elected], "convert_s": t1 - t0, "count_s": t2 - t1}
        )
    )


def run_peer(ranks: npt.NDArray[np.int32], seats: int, budget: float) -> dict[str, Any]:
    """Time the peer: a pilot on 1,000 ballots, then the most ballots its pace fits in budget."""
    tool = "pref_voting stv_meek"
    py = peer_python()
    if py is None:
        return {"tool": tool, "note": "not installed in .venv-bench or .venv-bench-peers"}
    version = subprocess.run(
        [str(py), "-c", "import importlib.metadata as m; print(m.version('pref_voting'))"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    tool = f"pref_voting {version} stv_meek"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ranks.npy")
        np.save(path, ranks)

        def once(limit: int) -> dict[str, Any]:
            cmd = [str(py), __file__, "--worker", path, "--seats", str(seats)]
            done = subprocess.run(
                [*cmd, "--limit", str(limit)], capture_output=True, text=True, check=True
            )
            result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
            return result

        pilot_n = min(1000, len(ranks))
        pilot = once(pilot_n)
        pace = (pilot["convert_s"] + pilot["count_s"]) / pilot_n
        limit = len(ranks)
        if pace * limit > budget:
            limit = max(pilot_n, int(budget / pace * 0.8) // 1000 * 1000)
        result = pilot if limit == pilot_n else once(limit)
    note = "float arithmetic, tol 1e-10"
    if limit < len(ranks):
        estimate = (result["convert_s"] + result["count_s"]) * len(ranks) / limit
        note += (
            f"; measured on the first {limit:,} ballots (all {len(ranks):,} would take about "
            f"{estimate:,.0f} s at that pace, over the {budget:.0f} s budget)"
        )
    return {
        "tool": tool,
        "count_s": result["count_s"],
        "total_s": result["convert_s"] + result["count_s"],
        "winners": sorted(result["winners"]),
        "limit": limit,
        "note": note,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=50_000)
    parser.add_argument("--seats", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-budget", type=float, default=600.0)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--exact", action="store_true", help="also time exact rational arithmetic")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.seats, args.limit)
        return 0

    ranks = contest(args.ballots)
    size = f"{args.ballots:,} ballots, {len(NAMES)} candidates, {args.seats} seats"
    print(f"Meek STV: {size} (seed {SEED})")
    rows = run_tallyroom(ranks, args.seats, args.repeats, args.exact)
    reference = rows[0]
    for row in rows[1:]:
        row["agrees"] = row["winners"] == reference["winners"]
    if not args.no_peer:
        peer = run_peer(ranks, args.seats, args.peer_budget)
        if peer.get("limit", args.ballots) < args.ballots and "winners" in peer:
            # winners are only comparable on the same ballots: count the prefix too
            from tallyroom.count.ballots import BallotStore, CandidateTable
            from tallyroom.count.rules.meek import run_meek

            part = ranks[: peer["limit"]]
            table = CandidateTable(NAMES)
            secs, prefix = best_of(
                args.repeats, lambda: run_meek(BallotStore.from_rows(part), table, args.seats)
            )
            peer["agrees"] = peer["winners"] == sorted(NAMES[c] for c in prefix.winners)
            peer["note"] += f"; tallyroom on the same {peer['limit']:,}: {secs:.3f} s end to end"
            peer["ratio_s"] = secs
        elif "winners" in peer:
            peer["agrees"] = peer["winners"] == reference["winners"]
        rows.append(peer)
    print()
    print("| tool | count s | end to end s | ratio (end to end) | same winners | notes |")
    print("|---|---:|---:|---:|---|---|")
    for row in rows:
        total = row.get("total_s")
        base = row.get("ratio_s", reference["total_s"])
        ratio = f"{total / base:,.1f}x" if total is not None else "-"
        same = row.get("agrees", True if row is reference else None)
        agrees = "-" if same is None else ("yes" if same else "no")
        count = f"{row['count_s']:.3f}" if "count_s" in row else "-"
        e2e = f"{total:.3f}" if total is not None else "-"
        print(f"| {row['tool']} | {count} | {e2e} | {ratio} | {agrees} | {row.get('note', '')} |")
    print()
    print("winners (tallyroom):", ", ".join(reference["winners"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
