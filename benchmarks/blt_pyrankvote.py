"""The baseline of the CLI benchmark: count a BLT file with pyrankvote's IRV, in plain Python.

What a script author would write without tallyroom: read the file line by line, turn each
ballot line into a pyrankvote ``Ballot`` (a line ``w c1 c2 ... 0`` counts as ``w`` ballots),
run ``instant_runoff_voting`` and print the winner. Run as its own process, so interpreter
start-up and imports are included, as they are for ``tallyroom count``.

    python benchmarks/blt_pyrankvote.py BALLOTS.blt
"""

from __future__ import annotations

import sys

import pyrankvote
from pyrankvote import Ballot, Candidate


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: blt_pyrankvote.py BALLOTS.blt", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as blt:
        n_cands = int(blt.readline().split()[0])
        codes: list[list[int]] = []
        weights: list[int] = []
        for line in blt:
            fields = line.split()
            if not fields:
                continue
            if fields[0] == "0":
                break
            if fields[0].startswith("-"):  # withdrawn candidates: none in the benchmark file
                continue
            weights.append(int(fields[0]))
            codes.append([int(f) - 1 for f in fields[1:-1]])
        names = [blt.readline().strip().strip('"') for _ in range(n_cands)]
    candidates = [Candidate(name) for name in names]
    ballots = [
        Ballot(ranked_candidates=[candidates[c] for c in ranking])
        for ranking, weight in zip(codes, weights, strict=True)
        for _ in range(weight)
    ]
    result = pyrankvote.instant_runoff_voting(candidates, ballots)
    for winner in result.get_winners():
        print(f"winner: {winner.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
