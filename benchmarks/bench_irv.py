"""Single-winner IRV on 1,000,000 synthetic ballots: tallyroom against pyrankvote, votekit and
pref_voting on the same ballots, in the same run.

* count only: tallyroom counts from a prebuilt ``BallotStore``. Goal: at most 20 ms.
* end to end: from the padded ``(n, 5)`` int32 rankings in memory to a complete result, the
  peers converting into their own ballot objects inside the timed region. Goal: tallyroom at
  least 50x faster than the fastest peer.

See ``comparison.py`` for how each side is timed, and ``synthetic.py`` for the ballots.

    .venv-bench/bin/python benchmarks/bench_irv.py [--ballots N] [--peers ...] [--peers-only]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import comparison
import harness
import synthetic
from harness import Goal

NAME = "irv"
COUNT_GOAL_SECONDS = 0.020
SPEEDUP_GOAL = 50.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    comparison.add_arguments(parser, ballots=1_000_000, count_repeats=30, e2e_repeats=7)
    args = parser.parse_args(argv)
    engine = comparison.engine_or_exit(args)

    contest = synthetic.irv_contest(args.ballots)
    rows, cases = comparison.compare(contest, "irv", "IRV", engine, args)

    tr_count = next((r for r in rows if r.case == cases.count_only and r.tool == "tallyroom"), None)
    seconds = tr_count.seconds if tr_count else None
    goals = [
        Goal(
            f"IRV: tallyroom count from a prebuilt BallotStore "
            f"({comparison.size_label(contest.ballots)} ballots)",
            f"<= {COUNT_GOAL_SECONDS * 1000:g} ms",
            harness.format_seconds(seconds),
            None if seconds is None else seconds <= COUNT_GOAL_SECONDS,
        ),
        comparison.speedup_goal(rows, cases, SPEEDUP_GOAL),
    ]
    title = f"IRV: {contest.ballots:,} ballots, {len(contest.names)} candidates, 5 ranks"
    harness.report(title, rows, goals, NAME)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
