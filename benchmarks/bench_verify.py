"""The election record: writing it and verifying it, for N ballots of one contest.

A verifiable election of one contest of width 1 (two candidates, alternative vote, one
section: the 2016 ballot's shape) is built (not timed as part of the record): a ceremony of
three trustees (threshold two) and its key drill, N ballots encrypted and proved, the board
chained and its heads logged, two mixers, trustees 1 and 3 decrypting, the ballots decoded
and declared by the count's own declaration builder. Then the record is written
(:func:`tallyroom.verify.record_writer.write_record`, timed) and verified
(:func:`tallyroom.verify.checks.verify_record`, timed check by check), and its size printed
file by file kind.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_verify.py [--ballots 100000]
        [--workers 2] [--dir DIR]

``--ballots 506438`` is the 2016 ballot's size. The machine may be shared: the figures are
wall-clock seconds, and CPU seconds of this process and its workers are printed too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tallyroom.audit.board import BoardEntry, chain_board
from tallyroom.audit.chain import chain
from tallyroom.audit.events import Action, AuditEvent, JsonValue
from tallyroom.crypto import dkg, parallel, threshold
from tallyroom.crypto.ballot_encoding import InvalidBallot, decode_rows
from tallyroom.crypto.encrypted_ballot import EncryptedBallot, encrypt_ballot
from tallyroom.crypto.group import Element
from tallyroom.crypto.mixnet import mix
from tallyroom.crypto.proofs import BallotContext
from tallyroom.election.reader import parse_definition
from tallyroom.report.declaration import Declaration, declaration_document
from tallyroom.services.counting import _contest
from tallyroom.verify.checks import verify_record
from tallyroom.verify.record_format import (
    CeremonyRecord,
    MixGroup,
    PostedBallot,
    RecordContents,
    TrusteeShares,
    contest_shape,
    mix_context,
)
from tallyroom.verify.record_writer import write_record

ELECTION = "bench-2016"
CONTEST = "leader"
SECTION = "members"

DEFINITION = """[election]
name = "Benchmark: the 2016 ballot's shape"
organisation = "Benchmark"
timezone = "Europe/London"

[timetable]
nominations_open = 2016-07-11T00:00:00+01:00
nominations_close = 2016-07-20T17:00:00+01:00
ballot_open = 2016-08-22T00:00:00+01:00
ballot_close = 2016-09-21T12:00:00+01:00
declaration = 2016-09-24

[[sections]]
name = "members"
label = "Members"
min_published_size = 10

[[contests]]
name = "leader"
title = "Leader"
rule = "irv"
seats = 1

[[contests.candidates]]
name = "Jeremy Corbyn"

[[contests.candidates]]
name = "Owen Smith"

[eligibility]
statuses = ["active"]

[eligibility.sections.members]
joined_on_or_before = 2016-01-12
"""


def _encrypt_chunk(chunk: Sequence[tuple[Element, tuple[int, ...]]]) -> list[bytes]:
    shape = contest_shape(parse_definition(DEFINITION).contest(CONTEST))
    context = BallotContext(ELECTION, CONTEST)
    return [encrypt_ballot(pk, context, shape, sel).to_bytes() for pk, sel in chunk]


def build(ballots: int, workers: int) -> RecordContents:
    definition = parse_definition(DEFINITION)
    c = dkg.Ceremony(ELECTION, trustees=3, threshold=2)
    step1 = [dkg.make_communication_key(c, i) for i in (1, 2, 3)]
    keys = tuple(k for _, k in step1)
    dealt = [dkg.deal(c, own, keys) for own, _ in step1]
    commitments = tuple(m for _, m, _ in dealt)
    sealed = [s for _, _, shares in dealt for s in shares]
    secrets = {}
    for own, _, _ in dealt:
        good, _complaints = dkg.open_shares(c, own, commitments, sealed)
        secrets[own.trustee] = dkg.finish(c, own, good).share or 0
    key = dkg.election_key(c, commitments)
    confirmations = tuple(dkg.confirm_key(c, own, commitments) for own, _, _ in dealt)
    challenge = threshold.start_key_drill(key)
    drill = threshold.finish_key_drill(
        key,
        challenge,
        [
            threshold.partial_decrypt(
                ELECTION, t, secrets[t], key.verification_key(t), challenge.ciphertext
            )
            for t in (1, 2)
        ],
    )
    rng = random.Random(2016)
    selections = [(0,) if rng.random() < 0.62 else (1,) for _ in range(ballots)]
    began = time.perf_counter()
    data = parallel.map_chunks(
        _encrypt_chunk, [(key.public_key, s) for s in selections], workers=workers
    )
    print(f"  set-up: {ballots:,} ballots encrypted in {time.perf_counter() - began:.1f} s")
    entries = [
        BoardEntry(CONTEST, SECTION, d)
        for d in sorted(data, key=lambda b: hashlib.sha256(b).digest())
    ]
    links = list(chain_board(entries))
    board = tuple(
        PostedBallot(k, e, e.receipt, link)
        for k, (e, link) in enumerate(zip(entries, links, strict=True), start=1)
    )
    began = time.perf_counter()
    rows = [EncryptedBallot.from_bytes(e.ballot, 1).ciphertexts for e in entries]
    stages = mix(
        rows, key.public_key, 2, context=mix_context(ELECTION, CONTEST, SECTION), workers=workers
    )
    print(f"  set-up: 2 mixers in {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    flat = [ct for row in stages[-1].outputs for ct in row]
    decryptions = tuple(
        TrusteeShares(
            t,
            tuple(threshold.partial_decrypt_many(ELECTION, t, secrets[t], flat, workers=workers)),
        )
        for t in (1, 3)
    )
    plain = threshold.combine_many(key, flat, [d.shares for d in decryptions], workers=workers)
    decoded = tuple(decode_rows(contest_shape(definition.contest(CONTEST)), plain))
    print(f"  set-up: 2 trustees decrypted in {time.perf_counter() - began:.1f} s")
    groups = (MixGroup(CONTEST, SECTION, 1, stages, decryptions, decoded),)
    opened = [(b, SECTION) for b in decoded if not isinstance(b, InvalidBallot) and b]
    electorate = Counter({SECTION: ballots * 13 // 10})
    declared = _contest(definition, definition.contest(CONTEST), opened, electorate, 0)
    decl = Declaration(1, ELECTION, definition.name, (declared,))
    document = json.dumps(declaration_document(decl), sort_keys=True, separators=(",", ":"))
    at = datetime(2016, 8, 22, tzinfo=UTC)
    steps: list[tuple[Action, dict[str, JsonValue]]] = [
        (Action.DEFINITION, {"definition_sha256": hashlib.sha256(DEFINITION.encode()).hexdigest()}),
        (Action.BOARD_HEAD, {"position": len(board), "head": links[-1].hex()}),
        (Action.POLL_CLOSE, {"to": "closed"}),
        (
            Action.DECLARATION,
            {"to": "declared", "document_sha256": hashlib.sha256(document.encode()).hexdigest()},
        ),
    ]
    events = [
        AuditEvent.create(
            sequence=k, election=1, action=a, actor="bench", payload=p, at=at + timedelta(hours=k)
        )
        for k, (a, p) in enumerate(steps, start=1)
    ]
    ceremony = CeremonyRecord(c, keys, commitments, (), (), confirmations, key, drill)
    return RecordContents(
        ELECTION, DEFINITION, ceremony, board, tuple(chain(events)), groups, document.encode()
    )


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", type=Path, help="where to write the record (default: temp)")
    args = parser.parse_args(argv)
    print(f"election record of {args.ballots:,} ballots, {args.workers} workers")
    record = build(args.ballots, args.workers)
    base = args.dir or Path(tempfile.mkdtemp(prefix="bench-verify-"))
    target = base / "record"
    shutil.rmtree(target, ignore_errors=True)
    began, cpu = time.perf_counter(), _cpu()
    manifest = write_record(target, record)
    print(f"write: {time.perf_counter() - began:8.1f} s  (CPU {_cpu() - cpu:.1f} s)")
    sizes: Counter[str] = Counter()
    for f in manifest.files:
        sizes[f.name.rsplit("/", 1)[-1].split("-")[0].split(".")[0]] += f.size
    total = sum(f.size for f in manifest.files)
    for kind, size in sizes.most_common():
        print(f"  {kind:12} {size:>14,} bytes")
    print(f"  {'total':12} {total:>14,} bytes ({total / args.ballots:.0f} a ballot)")
    del record
    began, cpu = time.perf_counter(), _cpu()
    report = verify_record(target, workers=args.workers)
    seconds = time.perf_counter() - began
    for check in report.checks:
        print(f"  {check.name:22} {check.seconds:8.1f} s  {check.status.value}")
    print(f"verify: {seconds:7.1f} s  (CPU {_cpu() - cpu:.1f} s)  ok={report.ok}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process (set-up included): {peak:.0f} MiB")
    if args.dir is None:
        shutil.rmtree(base)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
