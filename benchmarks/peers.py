"""Run one peer library on one contest and report timings as JSON (a worker process).

The harness starts this script once per (peer, contest size) in the interpreter that has the
peer installed, so every peer is measured in a fresh process on exactly the same ballots:

    python benchmarks/peers.py --tool pyrankvote --rule irv --ballots RANKS.npy \
        --names NAMES.json --seats 1 --limit 100000

``RANKS.npy`` is the padded int32 rankings matrix (``-1`` after the last choice). The timed
region starts from those rankings already in memory as a numpy array and includes every
conversion into the peer's own ballot objects (``convert_seconds``), then the count itself
(``count_seconds``). Loading the file is not timed. This script imports neither tallyroom nor
any other benchmark module, so it runs in a venv that has only numpy and the peer.

Tools (``--tool``):
  pyrankvote       ``Ballot`` objects, ``instant_runoff_voting`` / ``single_transferable_vote``
  votekit          ``RankBallot`` objects in a ``RankProfile``, ``IRV`` / ``STV`` (reference)
  votekit-fast     the same profile, votekit's numpy ``FastIRV`` / ``FastSTV`` classes
  pref_voting      dict rankings in a ``ProfileWithTies`` (ballots are truncated, so not
                   ``Profile``), ``instant_runoff_for_truncated_linear_orders`` /
                   ``stv_scottish``
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

import numpy as np

Rows = list[list[int]]
# (rows, names, seats, rule) -> (winners, convert_seconds, count_seconds)
Runner = Callable[[Rows, Sequence[str], int, str], tuple[list[str], float, float]]

DISTRIBUTIONS = {
    "pyrankvote": "pyrankvote",
    "votekit": "votekit",
    "votekit-fast": "votekit",
    "pref_voting": "pref_voting",
}
# Imported before the clock starts, so import time is never counted.
PRELOAD = {
    "pyrankvote": ("pyrankvote",),
    "votekit": ("votekit", "votekit.pref_profile", "votekit.elections"),
    "votekit-fast": (
        "votekit",
        "votekit.pref_profile",
        "votekit.elections",
        "votekit.elections.election_types.ranking.stv.stv",
    ),
    "pref_voting": (
        "pref_voting.iterative_methods",
        "pref_voting.profiles_with_ties",
        "pref_voting.proportional_methods",
    ),
}


def run_pyrankvote(
    rows: Rows, names: Sequence[str], seats: int, rule: str
) -> tuple[list[str], float, float]:
    import pyrankvote
    from pyrankvote import Ballot, Candidate

    t0 = time.perf_counter()
    cands = [Candidate(n) for n in names]
    ballots = [Ballot(ranked_candidates=[cands[c] for c in row if c >= 0]) for row in rows]
    t1 = time.perf_counter()
    if rule == "irv":
        result = pyrankvote.instant_runoff_voting(cands, ballots)
    else:
        result = pyrankvote.single_transferable_vote(cands, ballots, number_of_seats=seats)
    winners = [c.name for c in result.get_winners()]
    t2 = time.perf_counter()
    return winners, t1 - t0, t2 - t1


def _votekit_profile(rows: Rows, names: Sequence[str]) -> Any:
    from votekit import RankBallot
    from votekit.pref_profile import RankProfile

    ballots = [RankBallot(ranking=tuple(names[c] for c in row if c >= 0)) for row in rows]
    width = max((sum(1 for c in row if c >= 0) for row in rows), default=1)
    return RankProfile(ballots=ballots, candidates=tuple(names), max_ranking_length=width)


def _votekit_winners(election: Any) -> list[str]:
    return [str(c) for group in election.get_elected() for c in sorted(group)]


def run_votekit(
    rows: Rows, names: Sequence[str], seats: int, rule: str
) -> tuple[list[str], float, float]:
    from votekit.elections import IRV, STV

    t0 = time.perf_counter()
    profile = _votekit_profile(rows, names)
    t1 = time.perf_counter()
    # The constructor runs the whole count; ties (none expected) go to the Borda tie-break.
    if rule == "irv":
        election = IRV(profile, tiebreak="borda")
    else:
        election = STV(profile, n_seats=seats, tiebreak="borda")
    winners = _votekit_winners(election)
    t2 = time.perf_counter()
    return winners, t1 - t0, t2 - t1


def run_votekit_fast(
    rows: Rows, names: Sequence[str], seats: int, rule: str
) -> tuple[list[str], float, float]:
    from votekit.elections import FastSTV
    from votekit.elections.election_types.ranking.stv.stv import FastIRV

    t0 = time.perf_counter()
    profile = _votekit_profile(rows, names)
    t1 = time.perf_counter()
    if rule == "irv":
        election = FastIRV(profile, tiebreak="borda")
    else:
        election = FastSTV(profile, n_seats=seats, tiebreak="borda")
    winners = _votekit_winners(election)
    t2 = time.perf_counter()
    return winners, t1 - t0, t2 - t1


def run_pref_voting(
    rows: Rows, names: Sequence[str], seats: int, rule: str
) -> tuple[list[str], float, float]:
    from pref_voting.iterative_methods import instant_runoff_for_truncated_linear_orders
    from pref_voting.profiles_with_ties import ProfileWithTies
    from pref_voting.proportional_methods import stv_scottish

    t0 = time.perf_counter()
    rankings = [{c: r + 1 for r, c in enumerate(row) if c >= 0} for row in rows]
    cmap = dict(enumerate(names))
    profile = ProfileWithTies(rankings, candidates=list(range(len(names))), cmap=cmap)
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if rule == "irv":
            codes = instant_runoff_for_truncated_linear_orders(profile)
        else:
            codes = stv_scottish(profile, num_seats=seats)
    winners = [names[c] for c in codes]
    t2 = time.perf_counter()
    return winners, t1 - t0, t2 - t1


RUNNERS: dict[str, Runner] = {
    "pyrankvote": run_pyrankvote,
    "votekit": run_votekit,
    "votekit-fast": run_votekit_fast,
    "pref_voting": run_pref_voting,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time one peer library on one contest.")
    parser.add_argument("--tool", choices=sorted(RUNNERS), required=True)
    parser.add_argument("--rule", choices=("irv", "stv"), required=True)
    parser.add_argument("--ballots", required=True, help="padded int32 rankings (.npy)")
    parser.add_argument("--names", required=True, help="JSON list of candidate names")
    parser.add_argument("--seats", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N ballots")
    args = parser.parse_args(argv)

    ranks = np.load(args.ballots)
    if args.limit:
        ranks = ranks[: args.limit]
    with open(args.names, encoding="utf-8") as fh:
        names: list[str] = json.load(fh)

    runner = RUNNERS[args.tool]
    for module in PRELOAD[args.tool]:
        importlib.import_module(module)
    # Timed region: the in-memory numpy rankings -> peer ballot objects -> count -> winners.
    t0 = time.perf_counter()
    rows: Rows = ranks.tolist()
    t1 = time.perf_counter()
    winners, convert, count = runner(rows, names, args.seats, args.rule)
    total = time.perf_counter() - t0
    report = {
        "tool": args.tool,
        "version": metadata.version(DISTRIBUTIONS[args.tool]),
        "rule": args.rule,
        "ballots": int(ranks.shape[0]),
        "total_seconds": total,
        "convert_seconds": convert + (t1 - t0),
        "count_seconds": count,
        "winners": winners,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
