"""Reading an election record back into :class:`RecordContents`.

:func:`read_record` reads the files the manifest lists, each in its exact format
(:mod:`.record_files`), and refuses with :class:`RecordUnreadable` naming the file and where
in it; a file the format does not name, or one the format needs that the manifest does not
list, is refused too. It checks no digest and no proof: that is the verifier's work
(:mod:`.checks`), which first compares the directory with the manifest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tallyroom.crypto.ceremony_messages import (
    Commitments,
    CommunicationKey,
    Complaint,
    ElectionKey,
    KeyConfirmation,
    RevealedShare,
)
from tallyroom.crypto.mixnet import MixStage
from tallyroom.crypto.shuffle import ShuffleProof
from tallyroom.crypto.threshold import KeyDrill
from tallyroom.errors import InputError, RecordUnreadable
from tallyroom.verify.record_files import (
    AUDIT_LOG,
    BOARD,
    DECLARATION,
    DEFINITION,
    MANIFEST,
    MIX_INDEX,
    GroupIndex,
    Manifest,
    group_file,
    read_ballots,
    read_board,
    read_ceremony,
    read_groups,
    read_log,
    read_rows,
    read_shares,
)
from tallyroom.verify.record_format import (
    CeremonyRecord,
    MixGroup,
    RecordContents,
    TrusteeShares,
)

__all__ = ["read_manifest", "read_record"]

T = TypeVar("T")

_CEREMONY_FILE = re.compile(
    r"ceremony/(communication-key|commitments|confirmation)-([1-9][0-9]*)\.json\Z"
    r"|ceremony/(complaint|revealed-share)-([1-9][0-9]*)-([1-9][0-9]*)\.json\Z"
)


def read_manifest(directory: Path) -> Manifest:
    path = Path(directory) / MANIFEST
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordUnreadable(f"cannot be read ({exc.strerror})", path=MANIFEST) from None
    return Manifest.from_json(data)


class _Reader:
    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.root = root
        self.listed = {f.name for f in manifest.files}
        self.used: set[str] = set()

    def raw(self, name: str) -> bytes:
        if name not in self.listed:
            raise RecordUnreadable(
                "the record needs this file; the manifest does not list it", path=name
            )
        self.used.add(name)
        try:
            return (self.root / name).read_bytes()
        except OSError as exc:
            raise RecordUnreadable(f"cannot be read ({exc.strerror})", path=name) from None

    def message(self, name: str, parse: Callable[[bytes], T]) -> T:
        try:
            return parse(self.raw(name))
        except RecordUnreadable:
            raise
        except InputError as exc:
            raise RecordUnreadable(exc.problem, path=name, field=exc.field) from None


def _ceremony(reader: _Reader, manifest: Manifest) -> CeremonyRecord:
    keys, commitments, complaints, revealed, confirmations = [], [], [], [], []
    for f in manifest.files:
        m = _CEREMONY_FILE.match(f.name)
        if m is None:
            continue
        if m.group(1) == "communication-key":
            key = reader.message(f.name, CommunicationKey.from_json)
            _named(f.name, key.trustee, int(m.group(2)))
            keys.append(key)
        elif m.group(1) == "commitments":
            made = reader.message(f.name, Commitments.from_json)
            _named(f.name, made.trustee, int(m.group(2)))
            commitments.append(made)
        elif m.group(1) == "confirmation":
            confirmation = reader.message(f.name, KeyConfirmation.from_json)
            _named(f.name, confirmation.trustee, int(m.group(2)))
            confirmations.append(confirmation)
        elif m.group(3) == "complaint":
            complaint = reader.message(f.name, Complaint.from_json)
            _named(f.name, (complaint.dealer, complaint.recipient), (int(m[4]), int(m[5])))
            complaints.append(complaint)
        else:
            answer = reader.message(f.name, RevealedShare.from_json)
            _named(f.name, (answer.dealer, answer.recipient), (int(m[4]), int(m[5])))
            revealed.append(answer)
    # the manifest lists files by name: trustee 10 comes before trustee 2
    keys.sort(key=lambda k: k.trustee)
    commitments.sort(key=lambda c: c.trustee)
    complaints.sort(key=lambda c: (c.dealer, c.recipient))
    revealed.sort(key=lambda r: (r.dealer, r.recipient))
    confirmations.sort(key=lambda c: c.trustee)
    return CeremonyRecord(
        reader.message("ceremony/ceremony.json", read_ceremony),
        tuple(keys),
        tuple(commitments),
        tuple(complaints),
        tuple(revealed),
        tuple(confirmations),
        reader.message("ceremony/election-key.json", ElectionKey.from_json),
        reader.message("ceremony/key-drill.json", KeyDrill.from_json),
    )


def _named(name: str, found: object, expected: object) -> None:
    if found != expected:
        raise RecordUnreadable(f"holds the message of {found}, not of {expected}", path=name)


def _group(reader: _Reader, k: int, index: GroupIndex) -> MixGroup:
    stages = []
    for position in range(1, index.mixers + 1):
        rows_name = group_file(k, f"stage-{position}-rows.bin")
        rows = read_rows(reader.raw(rows_name), rows_name, index.rows, index.width)
        proof_name = group_file(k, f"stage-{position}-proof.bin")
        data = reader.raw(proof_name)
        try:
            proof = ShuffleProof.from_bytes(data)
        except InputError as exc:
            raise RecordUnreadable(exc.problem, path=proof_name, field=exc.field) from None
        stages.append(MixStage(position, rows, proof))
    if len(set(index.trustees)) != len(index.trustees):
        raise RecordUnreadable("a trustee listed twice", path=MIX_INDEX, field=f"groups[{k - 1}]")
    decryptions = []
    for trustee in index.trustees:
        name = group_file(k, f"shares-{trustee}.bin")
        shares = read_shares(reader.raw(name), name, index.rows * index.width)
        decryptions.append(TrusteeShares(trustee, shares))
    ballots_name = group_file(k, "ballots.jsonl")
    ballots = read_ballots(reader.raw(ballots_name), ballots_name)
    if len(ballots) != index.rows:
        raise RecordUnreadable(f"{len(ballots)} ballots for {index.rows} rows", path=ballots_name)
    return MixGroup(
        index.contest,
        index.section,
        index.width,
        tuple(stages),
        tuple(decryptions),
        ballots,
        index.weight,
        index.unit,
    )


def read_record(directory: Path) -> RecordContents:
    """The record in ``directory`` (see the module docstring)."""
    root = Path(directory)
    manifest = read_manifest(root)
    reader = _Reader(root, manifest)
    try:
        definition = reader.raw(DEFINITION).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordUnreadable(f"not UTF-8 (byte {exc.start})", path=DEFINITION) from None
    declaration = reader.raw(DECLARATION)
    audit_log = read_log(reader.raw(AUDIT_LOG))
    board = read_board(reader.raw(BOARD))
    ceremony = _ceremony(reader, manifest)
    index = read_groups(reader.raw(MIX_INDEX))
    groups = tuple(_group(reader, k, g) for k, g in enumerate(index, start=1))
    unknown = sorted(reader.listed - reader.used)
    if unknown:
        raise RecordUnreadable("not a file of the record's format", path=unknown[0])
    return RecordContents(
        manifest.election, definition, ceremony, board, audit_log, groups, declaration
    )
