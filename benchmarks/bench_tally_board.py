"""How long ``tallyroom tally status`` and ``tallyroom tally export`` take on a closed
verifiable board of tens of thousands of ballots in several groups (services/tally.py,
services/tally_files.py): each reads and decodes the board; export used to read it once
per group and twice more.

    PYTHONPATH=src python benchmarks/bench_tally_board.py [BALLOTS] [SECTIONS]

A SQLite store in a temporary folder: one IRV contest of three candidates, ``SECTIONS``
sections (one board group each), the ballots encrypted under a ceremony's key, inserted in
the box directly (casting is not what is measured), chained onto the board, the election
closed. Prints the seconds of the best of three runs of each.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tallyroom.count.rules.registry import BallotKind
from tallyroom.crypto import dkg
from tallyroom.crypto.ballot_encoding import shape_for
from tallyroom.crypto.encrypted_ballot import encrypt_ballot
from tallyroom.crypto.proofs import BallotContext
from tallyroom.services import board, tally, tally_files
from tallyroom.store import ElectionState, elections, open_store
from tallyroom.store.schema import ballots

SLUG = "bench-tally"


def _definition(sections: int) -> str:
    names = [f"s{k}" for k in range(sections)]
    parts = [
        '[election]\nname = "Bench"\n',
        "[timetable]\nnominations_open = 2026-09-01T09:00:00+01:00\n"
        "nominations_close = 2026-09-10T17:00:00+01:00\n"
        "ballot_open = 2026-09-20T09:00:00+01:00\nballot_close = 2026-10-07T17:00:00+01:00\n",
        *(f'[[sections]]\nname = "{n}"\n' for n in names),
        '[[contests]]\nname = "leader"\nrule = "irv"\n'
        'candidates = [{ name = "A" }, { name = "B" }, { name = "C" }]\n',
        '[verifiable]\ntrustees = ["T1", "T2", "T3"]\nthreshold = 2\n',
    ]
    return "\n".join(parts)


def _key() -> dkg.ElectionKey:
    plan = dkg.Ceremony(SLUG, trustees=3, threshold=2)
    step1 = [dkg.make_communication_key(plan, i) for i in (1, 2, 3)]
    keys = [k for _, k in step1]
    dealt = [dkg.deal(plan, own, keys) for own, _ in step1]
    return dkg.election_key(plan, [c for _, c, _ in dealt])


def _best(what: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        began = time.perf_counter()
        what()
        times.append(time.perf_counter() - began)
    return min(times)


def main(count: int, sections: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db", upgrade=True)
        key = _key()
        with store.begin() as conn:
            record = elections.create_election(conn, SLUG, _definition(sections), actor="ro")
            for state in (
                ElectionState.REGISTER_FROZEN,
                ElectionState.NOMINATIONS_CLOSED,
                ElectionState.CREDENTIALS_ISSUED,
            ):
                elections.advance(conn, record.id, state, actor="ro")
            elections.set_election_key(
                conn, record.id, key.to_json(), public_key=bytes(key.public_key), actor="ro"
            )
            elections.advance(conn, record.id, ElectionState.OPEN, actor="ro")
        shape = shape_for(BallotKind.RANKED, candidates=3, seats=1)
        context = BallotContext(SLUG, "leader")
        began = time.perf_counter()
        rows = []
        for k in range(count):
            data = encrypt_ballot(key.public_key, context, shape, (k % 3, (k + 1) % 3)).to_bytes()
            rows.append(
                {
                    "id": secrets.token_bytes(16),
                    "election_id": record.id,
                    "contest": "leader",
                    "sealed": data,
                    "receipt": hashlib.sha256(data).digest(),
                    "section": f"s{k % sections}",
                }
            )
        with store.begin() as conn:
            conn.execute(ballots.insert(), rows)
        board.extend_board(store, SLUG, actor="ro")
        with store.begin() as conn:
            elections.advance(conn, record.id, ElectionState.CLOSED, actor="ro")
        print(
            f"set-up: {count:,} ballots in {sections} groups, {time.perf_counter() - began:.1f} s"
        )
        status = _best(lambda: tally.tally_status(store, SLUG))
        print(f"tally status: {status:.2f} s")
        export = _best(lambda: tally_files.export_inputs(store, SLUG, Path(tmp) / "inputs"))
        print(f"tally export: {export:.2f} s")
        store.close()


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 30_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 8,
    )
