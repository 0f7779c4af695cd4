"""3-seat STV on 50,000 synthetic ballots: tallyroom against pyrankvote
(``single_transferable_vote``), votekit (``STV`` and ``FastSTV``) and pref_voting
(``stv_scottish``) on the same ballots, in the same run.

The rules differ in detail (quota rounding, surplus transfer method, decimal places), so the
figures compare tools doing the same job, not identical arithmetic; the winners column says
whether they nonetheless elect the same three. tallyroom runs RCTab's multi-winner mode
(several winners per round allowed, fractional surplus transfer, 4 decimal places).

    .venv-bench/bin/python benchmarks/bench_stv.py [--ballots N] [--peers ...] [--peers-only]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import comparison
import harness
import synthetic

NAME = "stv"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    comparison.add_arguments(parser, ballots=50_000, count_repeats=20, e2e_repeats=7)
    args = parser.parse_args(argv)
    engine = comparison.engine_or_exit(args)

    contest = synthetic.stv_contest(args.ballots)
    rows, cases = comparison.compare(contest, "stv", "STV 3 seats", engine, args)
    # No STV target is set; the speed-up is reported for information.
    goals = [comparison.speedup_goal(rows, cases, None)]
    title = f"STV: {contest.ballots:,} ballots, {len(contest.names)} candidates, 3 seats"
    harness.report(title, rows, goals, NAME)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
