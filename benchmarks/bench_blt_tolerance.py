"""What reading real BLT files leniently costs, against the plain path it must not slow.

Three files of the same 1,000,000 ballots (``bench_blt_parse.make_blt``: 13 candidates, 1-5
preferences, Plackett-Luce with Zipf strengths, seeded):

* ``plain``: well-formed lines (``1 3 1 2 0``), read with ``strict=True`` and with the default
  lenient reading (which must cost the same: nothing to mend);
* ``unclosed``: every closing 0 removed, as EVE Online's CSM ballots are published;
* ``padded``: every line padded with zeros to 6 slots, as Stack Exchange's downloads are.

Run: ``PYTHONPATH=src python benchmarks/bench_blt_tolerance.py [--lines N] [--repeat 3]``.
The plain figures can be compared with an older checkout by running only ``--plain-only``
against its sources (``parse_blt(data)`` exists in both).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_blt_parse import make_blt

from tallyroom.formats.blt import parse_blt


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plain-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plain.blt"
        make_blt(path, args.lines, seed=1)
        plain = path.read_bytes()
    head, _, rest = plain.partition(b"\n")
    ballots, _, names = rest.partition(b"\n0\n")
    print(f"plain, parse_blt(data): {best(lambda: parse_blt(plain), args.repeat):.3f} s")
    if args.plain_only:
        return
    strict = best(lambda: parse_blt(plain, strict=True), args.repeat)
    print(f"plain, strict=True: {strict:.3f} s")
    unclosed = head + b"\n" + re.sub(rb" 0(\r?)$", rb"\1", ballots, flags=re.M) + b"\n0\n" + names
    padded = head + b"\n" + re.sub(rb"$", b" 0 0", ballots, flags=re.M) + b"\n0\n" + names
    expected = parse_blt(plain).ballots.total
    for label, data in (("unclosed (EVE CSM)", unclosed), ("padded (Stack Exchange)", padded)):
        election = parse_blt(data)
        assert election.ballots.total == expected, label
        seconds = best(lambda data=data: parse_blt(data), args.repeat)
        print(f"{label}: {seconds:.3f} s; notes: {'; '.join(str(n) for n in election.notes)}")


if __name__ == "__main__":
    main()
