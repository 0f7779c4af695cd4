"""A declared verifiable election's record, written for anyone to verify (issue 15, item 6).

:func:`write_election_record` gathers, from the store, everything the record holds
(verify/record_format.py ``RecordContents``; every file is described in
docs/election-record.md): the definition as stored, the trustees' ceremony and key drill
(services/ceremony.py), the ballot board with its links, the audit log, each group's mix
stages and the trustees' decryption shares as stored by the tally (services/tally.py), the
ballots they decrypt to, and the declaration as published; and writes it with the record's
own writer (verify/record_writer.py). ``tallyroom verify`` checks it with nothing else.

Only a declared election has a record: the verifier requires the log to end at the
declaration, with the board's final head among its ``board_head`` events.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tallyroom.crypto.ballot_encoding import decode_rows
from tallyroom.crypto.tally_encoding import shares_from_bytes, stage_from_bytes
from tallyroom.crypto.threshold import combine_many
from tallyroom.election.lifecycle import ElectionState
from tallyroom.errors import InputError, LifecycleError
from tallyroom.services import ceremony
from tallyroom.services.ballot_encryption import contest_shape
from tallyroom.services.elections import ballot_definition, get_election
from tallyroom.store import audit, board, declarations
from tallyroom.store import tally as stored_tally
from tallyroom.store.engine import Store
from tallyroom.store.tally import PartKind, TallyPart
from tallyroom.verify.record_files import Manifest
from tallyroom.verify.record_format import (
    CeremonyRecord,
    GroupKey,
    MixGroup,
    PostedBallot,
    RecordContents,
    TrusteeShares,
    contest_width,
    group_inputs,
)
from tallyroom.verify.record_writer import write_record

__all__ = ["record_contents", "write_election_record"]

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def record_contents(
    store: Store, slug: str, *, workers: int = 2, say: Say = _quiet
) -> RecordContents:
    """Everything the record of the declared verifiable election ``slug`` holds."""
    record = get_election(store, slug)
    if record.state is not ElectionState.DECLARED:
        raise LifecycleError(
            f"only a declared election has a record; {slug} is {record.state.words}",
            election=slug,
        )
    published = ceremony.published(store, slug)
    if published.election_key is None or published.key_drill is None:
        raise InputError(
            "this election has no finished key ceremony and drill: it is not verifiable",
            field="election",
            value=slug,
        )
    trustees = CeremonyRecord(
        ceremony=published.ceremony,
        communication_keys=published.communication_keys,
        commitments=published.commitments,
        complaints=published.complaints,
        revealed_shares=published.revealed_shares,
        confirmations=published.confirmations,
        election_key=published.election_key,
        key_drill=published.key_drill,
    )
    key = published.election_key
    with store.read() as conn:
        definition = ballot_definition(conn, record)
        posted = tuple(PostedBallot(*row) for row in board.entries(conn, record.id))
        events = tuple(audit.events(conn, record.id))
        document = declarations.get(conn, record.id)
        parts = list(stored_tally.parts(conn, record.id))
    if document is None:
        raise LifecycleError("the declaration is not stored", election=slug)
    contests = {c.name: c for c in definition.contests}
    widths = {name: contest_width(c) for name, c in contests.items()}
    by_group: dict[GroupKey, list[TallyPart]] = {}
    for p in parts:
        of = GroupKey(p.contest, p.section or None, p.weight or None, p.unit or None)
        by_group.setdefault(of, []).append(p)
    groups = []
    # the board read once above: its groups as the verifier cuts them (record_format.py)
    for g, rows in group_inputs((p.entry for p in posted), widths).items():
        mine = by_group.get(g, [])
        stages = tuple(stage_from_bytes(p.body) for p in mine if p.kind is PartKind.MIX)
        decryptions = tuple(
            TrusteeShares(*shares_from_bytes(p.body)) for p in mine if p.kind is PartKind.DECRYPTION
        )
        if not stages or len(decryptions) < key.threshold:
            raise LifecycleError(f"{g.name}: the tally is not complete", election=slug)
        say(f"decrypting {g.name} for the record: {len(rows):,} ballots")
        chosen = sorted(decryptions, key=lambda d: d.trustee)[: key.threshold]
        cts = [ct for row in stages[-1].outputs for ct in row]
        plaintexts = combine_many(key, cts, [d.shares for d in chosen], workers=workers)
        ballots = tuple(decode_rows(contest_shape(contests[g.contest]), plaintexts))
        groups.append(
            MixGroup(
                g.contest,
                g.section,
                widths[g.contest],
                stages,
                decryptions,
                ballots,
                g.weight,
                g.unit,
            )
        )
    return RecordContents(
        election=slug,
        definition=record.definition,
        ceremony=trustees,
        board=posted,
        audit_log=events,
        groups=tuple(groups),
        declaration=document.document.encode("utf-8"),
    )


def write_election_record(
    store: Store, slug: str, directory: Path, *, workers: int = 2, say: Say = _quiet
) -> Manifest:
    """Write the record of the declared verifiable election ``slug`` into ``directory``
    (new or empty); its manifest."""
    contents = record_contents(store, slug, workers=workers, say=say)
    say(f"writing the record to {directory}")
    return write_record(Path(directory), contents)
