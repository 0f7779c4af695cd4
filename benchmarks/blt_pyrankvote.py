"""The baseline of the CLI benchmark: count a BLT file with pyrankvote's IRV, in plain Python.

What a script author who knows the trick would write without tallyroom: read the ballot lines,
group identical lines first (``collections.Counter``), parse each distinct line once into a
pyrankvote ``Ballot``, repeat that one object ``weight x count`` times (pyrankvote has no
weights), run ``instant_runoff_voting`` and print the winner. Run as its own process, so
interpreter start-up and imports are included, as they are for ``tallyroom count``.

    python benchmarks/blt_pyrankvote.py BALLOTS.blt
"""

from __future__ import annotations

import sys
from collections import Counter

import pyrankvote
from pyrankvote import Ballot, Candidate


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: blt_pyrankvote.py BALLOTS.blt", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as blt:
        n_cands = int(blt.readline().split()[0])
        lines: Counter[str] = Counter()
        for line in blt:
            if line.startswith("0"):
                break
            lines[line] += 1
        names = [blt.readline().strip().strip('"') for _ in range(n_cands)]
    candidates = [Candidate(name) for name in names]
    ballots: list[Ballot] = []
    for line, times in lines.items():
        fields = line.split()
        if not fields or fields[0].startswith("-"):  # withdrawn: none in the benchmark file
            continue
        ballot = Ballot(ranked_candidates=[candidates[int(f) - 1] for f in fields[1:-1]])
        ballots.extend([ballot] * (int(fields[0]) * times))
    result = pyrankvote.instant_runoff_voting(candidates, ballots)
    for winner in result.get_winners():
        print(f"winner: {winner.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
