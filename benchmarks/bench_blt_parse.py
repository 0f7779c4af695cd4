"""How fast a million-line BLT file becomes a BallotStore.

The file: 13 candidates, one ballot a line (weight 1), 1 to 5 preferences drawn from a
Plackett-Luce model whose candidate strengths fall off like a Zipf law (``1 / k**1.1``), with
a seeded numpy generator, so every run measures the same bytes.

Compared (best of ``--repeat`` runs each, in this process, file already in the page cache):

* ``tallyroom read_blt``: the reader as shipped (numpy tokeniser, packed keys, bincount);
* ``Counter over lines``: ``Counter(bytes.split(b"\\n"))`` then a Python parse of each
  distinct line, the usual "group first" shortcut;
* ``line by line``: a plain Python loop parsing every line (what most BLT readers do).

Run: ``python benchmarks/bench_blt_parse.py [--lines 1000000] [--repeat 3] [--keep FILE]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tallyroom.formats.blt import read_blt

CANDIDATES = 13
SEATS = 3
TARGET_SECONDS = 0.15


def make_blt(path: Path, lines: int, seed: int) -> int:
    """Write the benchmark file; returns the number of distinct rankings in it."""
    rng = np.random.default_rng(seed)
    strength = 1.0 / np.arange(1, CANDIDATES + 1) ** 1.1
    strength = strength[rng.permutation(CANDIDATES)]
    # Plackett-Luce by the Gumbel trick: sort log-strength plus Gumbel noise.
    keys = np.log(strength)[None, :] + rng.gumbel(size=(lines, CANDIDATES))
    order = np.argsort(-keys, axis=1)[:, :5] + 1
    lengths = rng.choice(5, size=lines, p=[0.30, 0.25, 0.20, 0.15, 0.10]) + 1
    order[np.arange(5)[None, :] >= lengths[:, None]] = 0
    distinct, inverse = np.unique(order, axis=0, return_inverse=True)
    text = ["1 " + " ".join(str(c) for c in row if c) + " 0" for row in distinct.tolist()]
    body = "\n".join(text[i] for i in inverse.ravel().tolist())
    names = "".join(f'"Candidate {chr(65 + k)}"\n' for k in range(CANDIDATES))
    path.write_text(f'{CANDIDATES} {SEATS}\n{body}\n0\n{names}"Benchmark"\n')
    return len(distinct)


def counter_parse(path: Path) -> int:
    """Group identical lines with Counter, then parse each distinct line in Python."""
    data = path.read_bytes()
    _, _, rest = data.partition(b"\n")
    ballots, _, _ = rest.partition(b"\n0\n")
    groups: Counter[tuple[int, ...]] = Counter()
    for line, times in Counter(ballots.split(b"\n")).items():
        tokens = [int(t) for t in line.split()]
        groups[tuple(tokens[1:-1])] += tokens[0] * times
    return len(groups)


def line_by_line(path: Path) -> int:
    """Parse every line in Python, as most BLT readers do."""
    groups: Counter[tuple[int, ...]] = Counter()
    with path.open("rb") as stream:
        next(stream)
        for line in stream:
            tokens = [int(t) for t in line.split()]
            if tokens == [0]:
                break
            groups[tuple(tokens[1:-1])] += tokens[0]
    return len(groups)


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20100925)
    parser.add_argument("--keep", type=Path, help="write the BLT file here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.blt"
        distinct = make_blt(path, args.lines, args.seed)
        election = read_blt(path)
        assert election.ballots.total == args.lines
        assert len(election.ballots) == distinct == counter_parse(path)
        ours = best_of(args.repeat, lambda: read_blt(path))
        grouped = best_of(args.repeat, lambda: counter_parse(path))
        naive = best_of(args.repeat, lambda: line_by_line(path))
        size = path.stat().st_size
    print(
        f"BLT parse: {args.lines:,} lines, {CANDIDATES} candidates, {size / 1e6:.1f} MB,"
        f" {distinct:,} distinct rankings (best of {args.repeat})"
    )
    print()
    print(f"| {'reader':<35} | {'seconds':>8} | {'lines/s':>12} | {'vs tallyroom':>12} |")
    print(f"|{'-' * 37}|{'-' * 10}|{'-' * 14}|{'-' * 14}|")
    for label, seconds in (
        ("tallyroom read_blt", ours),
        ("Counter over lines + parse distinct", grouped),
        ("line by line (plain Python)", naive),
    ):
        print(
            f"| {label:<35} | {seconds:>8.3f} | {args.lines / seconds:>12,.0f} |"
            f" {seconds / ours:>11.1f}x |"
        )
    print()
    verdict = "met" if ours < TARGET_SECONDS else "NOT met"
    print(f"target: under {TARGET_SECONDS} s for 1,000,000 lines: {verdict} ({ours:.3f} s)")


if __name__ == "__main__":
    main()
