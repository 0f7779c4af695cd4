"""The verifiable ballot's cryptography: per-operation costs and throughput on every core.

Measured, in one run, on a contest shaped like the 2016 leadership ballot (two candidates,
ranked: one element per ballot), with a 3-trustee, threshold-2 election key made by the real
ceremony (crypto/dkg.py):

* per operation, one process: the group's ``exp`` and ``exp_base``; encoding a ballot;
  encrypting it with its proof; checking it; a trustee's decryption share with its proof;
  checking a share; combining two shares; decoding; and, as the named peer, the sealing floor
  of today's sealed path (``crypto.sealing.seal_ballot``: a libsodium sealed box, and
  ``BallotOpener.open``);
* for ``--ballots`` ballots (default 100,000), on ``--workers`` processes (default: every
  core): ballot proofs checked (``check_ballots``; goal >= 2,000/s), decryption shares with
  proofs made by each of the two decrypting trustees (``partial_decrypt_many``), every share
  checked (``verify_shares_many``), and the shares combined (``combine_many``); then the same
  figures projected linearly to the 2016 ballot's 506,438 ballots.

Other processes on the machine take cores from these figures: the load average at the start
and at the end is printed with them.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_verifiable_core.py [--ballots 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from tallyroom.crypto import dkg, group, parallel, sealing, threshold
from tallyroom.crypto.ballot_encoding import Ranking, decode, encode
from tallyroom.crypto.elgamal import Ciphertext
from tallyroom.crypto.encrypted_ballot import (
    BallotCheck,
    EncryptedBallot,
    check_ballot,
    check_ballots,
    encrypt_ballot,
)
from tallyroom.crypto.group import Element
from tallyroom.crypto.proofs import BallotContext

ELECTION = "labour-leader-2016"
CONTEXT = BallotContext(ELECTION, "leader")
SHAPE = Ranking(2, 2)
TARGET = 506_438


def per_second(func: Callable[[], object], seconds: float = 1.0) -> tuple[float, float]:
    """Calls of ``func`` a second of wall-clock time, and of this process's CPU time (which
    other processes on the machine do not take), over at least ``seconds``."""
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        for _ in range(50):
            func()
        n += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed, n / max(time.process_time() - cpu, 1e-9)


def ceremony() -> tuple[dkg.ElectionKey, dict[int, int]]:
    c = dkg.Ceremony(ELECTION, 3, 2)
    step1 = [dkg.make_communication_key(c, i) for i in (1, 2, 3)]
    keys = [k for _, k in step1]
    dealt = [dkg.deal(c, own, keys) for own, _ in step1]
    commitments = [cm for _, cm, _ in dealt]
    sealed = [s for _, _, shares in dealt for s in shares]
    shares = {}
    for own, _, _ in dealt:
        good, complaints = dkg.open_shares(c, own, commitments, sealed)
        assert not complaints
        share = dkg.finish(c, own, good).share
        assert share is not None
        shares[own.trustee] = share
    return dkg.election_key(c, commitments), shares


def _make_chunk(chunk: list[tuple[Element, int]]) -> list[bytes]:
    selections = [(), (0,), (1,), (0, 1), (1, 0)]
    return [encrypt_ballot(key, CONTEXT, SHAPE, selections[i % 5]).to_bytes() for key, i in chunk]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=1.0, help="per single-operation figure")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    workers = parallel.worker_count(args.workers)
    load_start = os.getloadavg()
    key, secrets = ceremony()
    h = key.public_key
    sample = encrypt_ballot(h, CONTEXT, SHAPE, (1, 0))
    data = sample.to_bytes()
    ct = sample.ciphertexts[0]
    share1 = threshold.partial_decrypt(ELECTION, 1, secrets[1], key.verification_key(1), ct)
    share3 = threshold.partial_decrypt(ELECTION, 3, secrets[3], key.verification_key(3), ct)
    (m,) = encode(SHAPE, (1, 0))
    officer = sealing.ElectionKeys.generate()
    sealed = sealing.seal_ballot(officer.public, b"\x01" * 16)
    opener = sealing.BallotOpener(officer)
    x = group.random_scalar()
    ops: dict[str, tuple[float, float]] = {
        "exp (scalar multiplication)": per_second(lambda: group.exp(h, x), args.seconds),
        "exp_base": per_second(lambda: group.exp_base(x), args.seconds),
        "encode a ballot (try-and-increment)": per_second(
            lambda: encode(SHAPE, (0, 1)), args.seconds
        ),
        "encrypt a ballot with its proof": per_second(
            lambda: encrypt_ballot(h, CONTEXT, SHAPE, (1, 0)), args.seconds
        ),
        "check a ballot's proof (from bytes)": per_second(
            lambda: check_ballot(h, CONTEXT, SHAPE, data), args.seconds
        ),
        "decryption share with its proof": per_second(
            lambda: threshold.partial_decrypt(ELECTION, 1, secrets[1], key.verification_key(1), ct),
            args.seconds,
        ),
        "check a decryption share": per_second(
            lambda: threshold.verify_share(key, ct, share1), args.seconds
        ),
        "combine two shares": per_second(
            lambda: threshold.combine(key, ct, [share1, share3]), args.seconds
        ),
        "decode a plaintext": per_second(lambda: decode(SHAPE, (m,)), args.seconds),
        "peer: seal a ballot (sealing.seal_ballot)": per_second(
            lambda: sealing.seal_ballot(officer.public, b"\x01" * 16), args.seconds
        ),
        "peer: open a sealed ballot (BallotOpener.open)": per_second(
            lambda: opener.open(sealed), args.seconds
        ),
    }
    n = args.ballots
    throughput: dict[str, float] = {}
    with parallel.make_pool(workers) as pool:
        start = time.perf_counter()
        ballots = parallel.map_chunks(_make_chunk, [(h, i) for i in range(n)], pool=pool)
        throughput["ballots encrypted with proofs"] = n / (time.perf_counter() - start)

        start = time.perf_counter()
        rejected = check_ballots(h, [BallotCheck(CONTEXT, 1, b) for b in ballots], pool=pool)
        throughput["ballot proofs checked"] = n / (time.perf_counter() - start)
        assert rejected == []

        cts: list[Ciphertext] = [EncryptedBallot.from_bytes(b, 1).ciphertexts[0] for b in ballots]
        shares = {}
        start = time.perf_counter()
        for t in (1, 3):
            shares[t] = threshold.partial_decrypt_many(ELECTION, t, secrets[t], cts, pool=pool)
        throughput["decryption shares with proofs (2 trustees)"] = (
            2 * n / (time.perf_counter() - start)
        )

        start = time.perf_counter()
        for t in (1, 3):
            assert threshold.verify_shares_many(key, cts, shares[t], pool=pool) == []
        throughput["decryption shares checked"] = 2 * n / (time.perf_counter() - start)

        start = time.perf_counter()
        plain = threshold.combine_many(key, cts, [shares[1], shares[3]], pool=pool)
        throughput["ciphertexts combined"] = n / (time.perf_counter() - start)
    start = time.perf_counter()
    decoded = [decode(SHAPE, (p,)) for p in plain]
    throughput["plaintexts decoded (one process)"] = n / (time.perf_counter() - start)
    expected = [[(), (0,), (1,), (0, 1), (1, 0)][i % 5] for i in range(n)]
    assert decoded == expected, "the decrypted ballots are not the ballots cast"
    load_end = os.getloadavg()

    print(f"## The verifiable ballot's cryptography ({n:,} ballots, {workers} workers)\n")
    print(f"load average at start {load_start[0]:.2f}, at end {load_end[0]:.2f}\n")
    print("| operation (one process) | per second (wall) | µs each (wall) | µs each (CPU) |")
    print("|---|---:|---:|---:|")
    for name, (rate, cpu_rate) in ops.items():
        print(f"| {name} | {rate:,.0f} | {1e6 / rate:,.0f} | {1e6 / cpu_rate:,.0f} |")
    print(f"\n| on {workers} processes | per second | {n:,} ballots | {TARGET:,} ballots |")
    print("|---|---:|---:|---:|")
    per_ballot = {
        "decryption shares with proofs (2 trustees)": 2,
        "decryption shares checked": 2,
    }
    for name, rate in throughput.items():
        items = per_ballot.get(name, 1)
        print(
            f"| {name} | {rate:,.0f} | {items * n / rate:,.1f} s | {items * TARGET / rate:,.1f} s |"
        )
    total = sum(
        per_ballot.get(k, 1) * TARGET / throughput[k]
        for k in (
            "decryption shares with proofs (2 trustees)",
            "ciphertexts combined",
            "plaintexts decoded (one process)",
        )
    )
    verify = sum(
        per_ballot.get(k, 1) * TARGET / throughput[k]
        for k in ("ballot proofs checked", "decryption shares checked")
    )
    print(f"\nprojected for {TARGET:,}: decryption with proofs, combination and decoding "
          f"{total / 60:.1f} min; checking every ballot proof and share {verify / 60:.1f} min "
          f"(the shuffle's proofs not included)")  # fmt: skip
    cpu = {name: 1 / cpu_rate for name, (_, cpu_rate) in ops.items()}
    check_s = cpu["check a ballot's proof (from bytes)"]
    decrypt_s = 2 * cpu["decryption share with its proof"] + cpu["combine two shares"]
    decrypt_s += cpu["decode a plaintext"]
    verify_s = check_s + 2 * cpu["check a decryption share"]
    print(
        f"from the CPU costs, {workers} cores to themselves: ballot proofs checked "
        f"{workers / check_s:,.0f}/s; for {TARGET:,}: decryption (2 trustees' shares with "
        f"proofs, combination, decoding) {TARGET * decrypt_s / workers / 60:.1f} min, checking "
        f"every ballot proof and share {TARGET * verify_s / workers / 60:.1f} min"
    )
    print(f"goal: ballot proofs checked >= 2,000/s: {throughput['ballot proofs checked']:,.0f}/s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "ballots": n,
                    "workers": workers,
                    "load": [load_start[0], load_end[0]],
                    "per_operation": {k: {"wall": w, "cpu": c} for k, (w, c) in ops.items()},
                    "throughput": throughput,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
