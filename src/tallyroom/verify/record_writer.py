"""Writing an election record: every file of :class:`RecordContents`, then the manifest.

The directory must be new or empty. Files are written in full before the manifest, which
lists each with its SHA-256 and size; a record without a manifest is unfinished. Bulk files
are streamed in pieces, so writing never holds a second copy of the board in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from tallyroom.crypto.ballot_encoding import InvalidBallot
from tallyroom.errors import InputError
from tallyroom.verify.record_files import (
    AUDIT_LOG,
    BOARD,
    DECLARATION,
    DEFINITION,
    MANIFEST,
    MIX_INDEX,
    GroupIndex,
    Manifest,
    ManifestFile,
    ballots_bytes,
    board_bytes,
    ceremony_json,
    group_file,
    groups_json,
    log_bytes,
    rows_bytes,
    shares_bytes,
)
from tallyroom.verify.record_format import MixGroup, RecordContents

__all__ = ["write_record"]


class _Files:
    """The files written so far, with their digests and sizes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: list[ManifestFile] = []

    def write(self, name: str, pieces: Iterable[bytes]) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with path.open("wb") as out:
            for piece in pieces:
                out.write(piece)
                digest.update(piece)
                size += len(piece)
        self.written.append(ManifestFile(name, digest.hexdigest(), size))


def _check_group(record: RecordContents, group: MixGroup) -> None:
    rows = group.rows
    where = f"mix group {group.key.name}"
    if len(group.ballots) != rows:
        raise InputError(f"{where}: one decoded ballot per row", value=len(group.ballots))
    for per in group.decryptions:
        if len(per.shares) != rows * group.width:
            raise InputError(
                f"{where}: trustee {per.trustee} has one share per ciphertext",
                value=len(per.shares),
            )
    if any(isinstance(b, InvalidBallot) and "\n" in b.detail for b in group.ballots):
        raise InputError(f"{where}: an invalid ballot's detail is one line")
    if not record.election:
        raise InputError("the record names its election", field="election")


def write_record(directory: Path, record: RecordContents) -> Manifest:
    """Write ``record`` into ``directory`` (created if missing; it must be empty) and return
    its manifest, as written to ``manifest.json``. :class:`InputError` for a record the
    format cannot hold (a weighted or by-unit board entry, counts that disagree)."""
    root = Path(directory)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InputError("the record's directory must be new or empty", path=str(root))
    for group in record.groups:
        _check_group(record, group)
    root.mkdir(parents=True, exist_ok=True)
    files = _Files(root)
    files.write(DEFINITION, [record.definition.encode("utf-8")])
    files.write(DECLARATION, [record.declaration])
    files.write(AUDIT_LOG, log_bytes(record.audit_log))
    files.write(BOARD, board_bytes(record.board))
    c = record.ceremony
    files.write("ceremony/ceremony.json", [ceremony_json(c.ceremony)])
    for key in c.communication_keys:
        files.write(f"ceremony/communication-key-{key.trustee}.json", [key.to_json()])
    for commitments in c.commitments:
        files.write(f"ceremony/commitments-{commitments.trustee}.json", [commitments.to_json()])
    for complaint in c.complaints:
        name = f"ceremony/complaint-{complaint.dealer}-{complaint.recipient}.json"
        files.write(name, [complaint.to_json()])
    for revealed in c.revealed_shares:
        name = f"ceremony/revealed-share-{revealed.dealer}-{revealed.recipient}.json"
        files.write(name, [revealed.to_json()])
    for confirmation in c.confirmations:
        name = f"ceremony/confirmation-{confirmation.trustee}.json"
        files.write(name, [confirmation.to_json()])
    files.write("ceremony/election-key.json", [c.election_key.to_json()])
    files.write("ceremony/key-drill.json", [c.key_drill.to_json()])
    index = []
    for k, group in enumerate(record.groups, start=1):
        for stage in group.stages:
            files.write(
                group_file(k, f"stage-{stage.position}-rows.bin"), rows_bytes(stage.outputs)
            )
            files.write(
                group_file(k, f"stage-{stage.position}-proof.bin"), [stage.proof.to_bytes()]
            )
        for per in group.decryptions:
            files.write(group_file(k, f"shares-{per.trustee}.bin"), shares_bytes(per.shares))
        files.write(group_file(k, "ballots.jsonl"), ballots_bytes(group.ballots))
        index.append(
            GroupIndex(
                group.contest,
                group.section or None,
                group.width,
                group.rows,
                len(group.stages),
                tuple(per.trustee for per in group.decryptions),
                group.weight,
                group.unit,
            )
        )
    files.write(MIX_INDEX, [groups_json(index)])
    names = [f.name for f in files.written]
    if len(set(names)) != len(names):
        raise InputError("two files of the record share a name (a trustee or stage twice)")
    manifest = Manifest(record.election, tuple(sorted(files.written, key=lambda f: f.name)))
    (root / MANIFEST).write_bytes(manifest.to_json())
    return manifest
