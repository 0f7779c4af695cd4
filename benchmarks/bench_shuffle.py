"""The verifiable shuffle: shuffle, proof and verification of N ElGamal ciphertexts.

For each size (1,000 / 10,000 / 100,000 rows by default; ``--full`` adds the 2016 ballot's
506,438) a board of ristretto255 ElGamal ciphertexts is encrypted (not timed), then one mixer
is timed through :func:`tallyroom.crypto.shuffle.gen_shuffle` (re-encrypt and permute),
:func:`~tallyroom.crypto.shuffle.gen_shuffle_proof` and
:func:`~tallyroom.crypto.shuffle.check_shuffle_proof`, each spread over ``--workers``
processes (2: the reference machine's cores). It prints µs a row (wall clock), rows a
second, the proof's size, and the projection for the issue's goal: two mixers over 506,438
ballots, shuffle + proof (which leaves the rest of the 15 minutes for decryption) and
verification of both proofs, each against 15 minutes.

The peers measured in the same run, on one core, name the floor: a plain exponentiation
(``group.exp``, libsodium's ``crypto_scalarmult_ristretto255``), a fixed-base one
(``group.exp_base``), a group operation (``group.mul``) and a libsodium sealed box
(``crypto.sealing.seal_ballot``, the sealed path's one cryptographic step a ballot). The
"exp-equivalents" column is the row's cost on one core in plain exponentiations: what the
algorithm costs, independent of how busy the machine was.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_shuffle.py [--sizes 1000 10000 100000]
        [--full] [--width 1] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import TypeVar

import nacl.public

from tallyroom.crypto import elgamal, group, shuffle
from tallyroom.crypto.sealing import seal_ballot
from tallyroom.crypto.shuffle import Row
from tallyroom.crypto.shuffle_proof import encoded_length

FULL = 506_438
MIXERS = 2
GOAL_SECONDS = 15 * 60

_T = TypeVar("_T")


def per_second(fn: Callable[[int], object], count: int) -> float:
    """Calls a second of CPU time on one core (CPU time: other jobs on the machine slow the
    wall clock, not this)."""
    start = time.process_time()
    for i in range(count):
        fn(i)
    return count / (time.process_time() - start)


def cpu_seconds() -> float:
    """CPU seconds of this process and of its reaped children (the pools' workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], _T]) -> tuple[_T, float, float]:
    """``fn()``, its wall-clock seconds and its CPU seconds (all processes)."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    out = fn()
    return out, time.perf_counter() - wall, cpu_seconds() - cpu


def _encrypt_chunk(public_key: group.Element, lo: int, hi: int, width: int) -> list[Row]:
    return [
        tuple(
            elgamal.encrypt(public_key, group.exp_base(i % 1000 + k + 1), group.random_scalar())
            for k in range(width)
        )
        for i in range(lo, hi)
    ]


def make_board(public_key: group.Element, n: int, width: int, workers: int) -> list[Row]:
    step = max(1, n // (workers * 4) + 1)
    bounds = [(lo, min(n, lo + step)) for lo in range(0, n, step)]
    rows: list[Row] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(
            _encrypt_chunk,
            [public_key] * len(bounds),
            [b[0] for b in bounds],
            [b[1] for b in bounds],
            [width] * len(bounds),
        ):
            rows.extend(part)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--full", action="store_true", help=f"add {FULL:,} rows")
    parser.add_argument("--width", type=int, default=1, help="ciphertexts a row")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sizes = [*args.sizes, *([FULL] if args.full else [])]

    secret = group.random_scalar()
    pk = group.exp_base(secret)
    point = group.exp_base(12345)
    box_key = bytes(nacl.public.PrivateKey.generate().public_key)
    ballot = b"1,2,3,4,5,6,7,8,9,10,11,12,13"
    exp_rate = per_second(lambda i: group.exp(point, secret + i), 4000)
    exp_base_rate = per_second(lambda i: group.exp_base(secret + i), 4000)
    mul_rate = per_second(lambda i: group.mul(point, pk), 4000)
    seal_rate = per_second(lambda i: seal_ballot(box_key, ballot), 4000)
    print(f"cores: {os.cpu_count()}, workers: {args.workers}, width: {args.width}")
    print("floor on one core, same run:")
    print(f"  group.exp       {exp_rate:10,.0f}/s  ({1e6 / exp_rate:.1f} µs)")
    print(f"  group.exp_base  {exp_base_rate:10,.0f}/s  ({1e6 / exp_base_rate:.1f} µs)")
    print(f"  group.mul       {mul_rate:10,.0f}/s  ({1e6 / mul_rate:.1f} µs)")
    print(f"  sealed box      {seal_rate:10,.0f}/s  ({1e6 / seal_rate:.1f} µs)")
    print()
    print(
        "| rows | step | wall s | CPU s (all processes) | µs a row (wall) | rows/s (wall) | "
        "CPU µs a row | exp-equivalents a row | proof bytes |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    last: dict[str, tuple[float, float]] = {}
    for n in sizes:
        rows = make_board(pk, n, args.width, args.workers)
        shuffled, w_shuffle, c_shuffle = timed(
            partial(shuffle.gen_shuffle, rows, pk, workers=args.workers)
        )
        proof, w_proof, c_proof = timed(
            partial(
                shuffle.gen_shuffle_proof,
                rows,
                shuffled,
                pk,
                context="bench",
                position=1,
                workers=args.workers,
            )
        )
        _, w_verify, c_verify = timed(
            partial(
                shuffle.check_shuffle_proof,
                rows,
                shuffled.outputs,
                proof,
                pk,
                context="bench",
                position=1,
                workers=args.workers,
            )
        )
        size = encoded_length(n, proof.w)
        last = {}
        for step, wall, cpu in (
            ("shuffle", w_shuffle, c_shuffle),
            ("proof", w_proof, c_proof),
            ("verify", w_verify, c_verify),
        ):
            last[step] = (wall / n, cpu / n)
            shown = f"{size:,}" if step == "proof" else ""
            print(
                f"| {n:,} | {step} | {wall:.2f} | {cpu:.2f} | {1e6 * wall / n:.0f} | "
                f"{n / wall:,.0f} | {1e6 * cpu / n:.0f} | {cpu / n * exp_rate:.1f} | {shown} |"
            )
    if last:
        print()
        print(f"projection from the largest size, {MIXERS} mixers x {FULL:,} rows:")
        for label, index, divisor in (
            ("wall clock as measured (cores shared with other jobs)", 0, 1),
            (f"CPU time spread over {args.workers} cores of our own", 1, args.workers),
        ):
            mixing = MIXERS * FULL * (last["shuffle"][index] + last["proof"][index]) / divisor
            verifying = MIXERS * FULL * last["verify"][index] / divisor
            print(f"  {label}:")
            print(
                f"    shuffle + proof {mixing / 60:.1f} min of the 15-minute goal for shuffle "
                f"and decryption ({'met' if mixing < GOAL_SECONDS else 'missed'}; "
                f"{(GOAL_SECONDS - mixing) / 60:.1f} min left for decryption)"
            )
            print(
                f"    verifying both proofs {verifying / 60:.1f} min of the 15-minute goal for "
                f"the record ({'met' if verifying < GOAL_SECONDS else 'missed'})"
            )


if __name__ == "__main__":
    main()
