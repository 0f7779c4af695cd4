"""The bytes of each file of an election record (docs/election-record.md gives the layouts).

Small things are canonical JSON (crypto/canonical.py: one byte string per document); bulk
data is binary, fixed-size records behind an 8-byte magic, because a 2016-sized record holds
half a million ballots and hex or JSON would double its size:

* ``board/board.bin``: ``TRBOARD1``, then per position from 1: ``u32 n || encode(entry)``
  (n bytes; audit/board.py's entry encoding) ``|| link (32)``; the receipt is not stored,
  being the SHA-256 of the ballot (193 bytes a 2016 ballot: 97.7 MB for 506,438);
* ``mix/K/stage-J-rows.bin``: ``TRROWS01``, then the rows' ciphertexts, 64 bytes each;
* ``mix/K/stage-J-proof.bin``: the shuffle proof's own encoding (crypto/shuffle_proof.py);
* ``mix/K/shares-T.bin``: ``TRSHARE1``, then one 100-byte decryption share per ciphertext;
* ``mix/K/ballots.jsonl``: one canonical JSON object a line per decoded ballot;
* ``audit-log.jsonl``: the audit log exactly as ``tallyroom audit export`` writes it.

Every decoder refuses anything but the exact encoding (:class:`RecordUnreadable` naming the
file and where in it), so that each file has one byte string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tallyroom.audit.board import BoardEntry
from tallyroom.audit.chain import ChainedEvent
from tallyroom.audit.events import AuditEvent
from tallyroom.crypto import canonical
from tallyroom.crypto.ballot_encoding import InvalidBallot, InvalidReason
from tallyroom.crypto.ceremony_messages import Ceremony
from tallyroom.crypto.elgamal import CIPHERTEXT_BYTES, Ciphertext
from tallyroom.crypto.shuffle import Row
from tallyroom.crypto.threshold import SHARE_BYTES, DecryptionShare
from tallyroom.errors import InputError, ProofRejected, RecordUnreadable
from tallyroom.verify.record_format import FORMAT_VERSION, DecodedBallot, PostedBallot

__all__ = [
    "AUDIT_LOG",
    "BOARD",
    "BOARD_MAGIC",
    "DECLARATION",
    "DEFINITION",
    "MANIFEST",
    "MIX_INDEX",
    "ROWS_MAGIC",
    "SHARES_MAGIC",
    "GroupIndex",
    "Manifest",
    "ManifestFile",
    "ballots_bytes",
    "board_bytes",
    "ceremony_json",
    "group_file",
    "groups_json",
    "log_bytes",
    "read_ballots",
    "read_board",
    "read_ceremony",
    "read_groups",
    "read_log",
    "read_rows",
    "read_shares",
    "rows_bytes",
    "shares_bytes",
]

MANIFEST = "manifest.json"
DEFINITION = "definition.toml"
DECLARATION = "declaration.json"
AUDIT_LOG = "audit-log.jsonl"
BOARD = "board/board.bin"
MIX_INDEX = "mix/groups.json"

BOARD_MAGIC = b"TRBOARD1"
ROWS_MAGIC = b"TRROWS01"
SHARES_MAGIC = b"TRSHARE1"

# A file name of the record: lower-case words, digits, '-', '.', in at most two folders.
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*(/[a-z0-9][a-z0-9.-]*){0,2}\Z")


def _unreadable(path: str, problem: str, where: str | None = None) -> RecordUnreadable:
    return RecordUnreadable(problem, path=path, field=where)


def group_file(index: int, name: str) -> str:
    """The path of a mix group's file: ``mix/<index from 1>/<name>``."""
    return f"mix/{index}/{name}"


# --- manifest ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManifestFile:
    """One file of the record: its path (``/``-separated), SHA-256 (hex) and size."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """The record's table of contents: the format version, the election, every file."""

    election: str
    files: tuple[ManifestFile, ...]

    def to_json(self) -> bytes:
        return canonical.dumps(
            "election-record",
            {
                "election": self.election,
                "format": FORMAT_VERSION,
                "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in self.files],
            },
        )

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """The manifest ``data`` encodes; :class:`RecordUnreadable` unless canonical, of this
        format version, its files sorted by name, each named once and as the format names."""
        try:
            f = canonical.loads(data, "election-record")
            f.expect("election", "format", "files")
            election, version = f.text("election"), f.integer("format")
        except InputError as exc:
            raise _unreadable(MANIFEST, exc.problem, exc.field) from None
        if version != FORMAT_VERSION:
            raise _unreadable(MANIFEST, f"format {version}; this verifier reads {FORMAT_VERSION}")
        raw = json.loads(data)["files"]
        if not isinstance(raw, list):
            raise _unreadable(MANIFEST, "a list of files", "files")
        files = tuple(_manifest_file(k, item) for k, item in enumerate(raw))
        names = [m.name for m in files]
        if names != sorted(set(names)):
            raise _unreadable(MANIFEST, "files must be listed once each, sorted by name", "files")
        return cls(election, files)


def _manifest_file(k: int, item: Any) -> ManifestFile:
    where = f"files[{k}]"
    if not isinstance(item, dict) or sorted(item) != ["name", "sha256", "size"]:
        raise _unreadable(MANIFEST, "an object with name, sha256 and size", where)
    name, digest, size = item["name"], item["sha256"], item["size"]
    if not isinstance(name, str) or not _NAME.match(name) or name == MANIFEST or ".." in name:
        raise _unreadable(MANIFEST, f"not a file name of a record: {name!r}", where)
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise _unreadable(MANIFEST, "sha256 is 64 lower-case hex digits", where)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _unreadable(MANIFEST, "size is a non-negative integer", where)
    return ManifestFile(name, digest, size)


# --- ceremony parameters and the mix groups' index ----------------------------------------


def ceremony_json(ceremony: Ceremony) -> bytes:
    return canonical.dumps(
        "ceremony",
        {
            "election": ceremony.election,
            "trustees": ceremony.trustees,
            "threshold": ceremony.threshold,
        },
    )


def read_ceremony(data: bytes) -> Ceremony:
    f = canonical.loads(data, "ceremony")
    f.expect("election", "trustees", "threshold")
    return Ceremony(f.text("election"), f.integer("trustees"), f.integer("threshold"))


@dataclass(frozen=True, slots=True)
class GroupIndex:
    """A mix group's line in ``mix/groups.json``: what it is and how big its files are."""

    contest: str
    section: str | None
    width: int
    rows: int
    mixers: int
    trustees: tuple[int, ...]
    weight: str | None = None  # only a group of weighted ballots has the key
    unit: str | None = None  # only a group of a contest counted by unit has the key


def _group_json(g: GroupIndex) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "contest": g.contest,
        "section": g.section,
        "width": g.width,
        "rows": g.rows,
        "mixers": g.mixers,
        "trustees": list(g.trustees),
    }
    if g.weight is not None:
        doc["weight"] = g.weight
    if g.unit is not None:
        doc["unit"] = g.unit
    return doc


def groups_json(groups: Sequence[GroupIndex]) -> bytes:
    return canonical.dumps("mix-groups", {"groups": [_group_json(g) for g in groups]})


def _int(value: object, field: str, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise _unreadable(MIX_INDEX, f"an integer of at least {low}", field)
    return value


def read_groups(data: bytes) -> tuple[GroupIndex, ...]:
    try:
        f = canonical.loads(data, "mix-groups")
        f.expect("groups")
    except InputError as exc:
        raise _unreadable(MIX_INDEX, exc.problem, exc.field) from None
    raw = json.loads(data)["groups"]
    if not isinstance(raw, list):
        raise _unreadable(MIX_INDEX, "a list", "groups")
    out = []
    keys = {"contest", "mixers", "rows", "section", "trustees", "width"}
    for k, g in enumerate(raw):
        where = f"groups[{k}]"
        if not isinstance(g, dict) or not keys <= set(g) <= keys | {"weight", "unit"}:
            raise _unreadable(
                MIX_INDEX, f"an object with {', '.join(sorted(keys))} (and weight, unit)", where
            )
        contest, section, trustees = g["contest"], g["section"], g["trustees"]
        if not isinstance(contest, str) or not (section is None or isinstance(section, str)):
            raise _unreadable(MIX_INDEX, "contest is text, section text or null", where)
        weight, unit = g.get("weight"), g.get("unit")
        if not (weight is None or isinstance(weight, str)) or not (
            unit is None or isinstance(unit, str)
        ):
            raise _unreadable(MIX_INDEX, "weight and unit are text when given", where)
        if not isinstance(trustees, list):
            raise _unreadable(MIX_INDEX, "trustees is a list", f"{where}.trustees")
        out.append(
            GroupIndex(
                contest,
                section,
                _int(g["width"], f"{where}.width", 1),
                _int(g["rows"], f"{where}.rows"),
                _int(g["mixers"], f"{where}.mixers"),
                tuple(_int(t, f"{where}.trustees", 1) for t in trustees),
                weight,
                unit,
            )
        )
    return tuple(out)


# --- the board ----------------------------------------------------------------------------


def board_bytes(board: Sequence[PostedBallot]) -> Iterator[bytes]:
    """The board file in pieces (see the module docstring); positions other than 1, 2,
    3... are refused (:class:`InputError`)."""
    yield BOARD_MAGIC
    for k, posted in enumerate(board, start=1):
        entry = posted.entry
        if posted.position != k:
            raise InputError("board positions run 1, 2, 3...", field="board", value=posted.position)
        if posted.receipt != entry.receipt:
            raise InputError(
                "a receipt is the SHA-256 of its ballot", field="board", value=posted.position
            )
        encoded = entry.encode()
        yield len(encoded).to_bytes(4, "big") + encoded + posted.link


def read_board(data: bytes) -> tuple[PostedBallot, ...]:
    if data[: len(BOARD_MAGIC)] != BOARD_MAGIC:
        raise _unreadable(BOARD, f"does not start with {BOARD_MAGIC.decode()}", "byte 0")
    out: list[PostedBallot] = []
    at = len(BOARD_MAGIC)
    while at < len(data):
        position = len(out) + 1
        where = f"position {position} (byte {at})"
        if at + 4 > len(data):
            raise _unreadable(BOARD, "ends inside an entry's length", where)
        n = int.from_bytes(data[at : at + 4], "big")
        end = at + 4 + n + 32
        if end > len(data):
            raise _unreadable(BOARD, "ends inside an entry", where)
        entry = _board_entry(data[at + 4 : at + 4 + n], where)
        out.append(PostedBallot(position, entry, entry.receipt, data[end - 32 : end]))
        at = end
    return tuple(out)


def _board_entry(data: bytes, where: str) -> BoardEntry:
    at = 0

    def take(size_bytes: int) -> bytes:
        nonlocal at
        if at + size_bytes > len(data):
            raise _unreadable(BOARD, "an entry's fields overrun its length", where)
        n = int.from_bytes(data[at : at + size_bytes], "big")
        start = at + size_bytes
        if start + n > len(data):
            raise _unreadable(BOARD, "an entry's fields overrun its length", where)
        at = start + n
        return data[start:at]

    try:
        contest = take(4).decode("utf-8")
        section = take(4).decode("utf-8")
    except UnicodeDecodeError:
        raise _unreadable(BOARD, "a contest or section that is not UTF-8", where) from None
    ballot = take(8)
    weight = unit = None
    try:
        if data[at : at + 1] == b"w":
            at += 1
            weight = take(4).decode("ascii")
        if data[at : at + 1] == b"u":
            at += 1
            unit = take(4).decode("utf-8")
    except UnicodeDecodeError:
        raise _unreadable(BOARD, "a weight that is not ASCII or a unit not UTF-8", where) from None
    entry = BoardEntry(contest, section or None, ballot, weight, unit)
    if at != len(data) or entry.encode() != data:
        raise _unreadable(BOARD, "an entry with extra bytes, or not in its one encoding", where)
    return entry


# --- mix rows and decryption shares -------------------------------------------------------


def rows_bytes(rows: Sequence[Row]) -> Iterator[bytes]:
    yield ROWS_MAGIC
    for row in rows:
        yield b"".join(ct.to_bytes() for ct in row)


def read_rows(data: bytes, path: str, rows: int, width: int) -> tuple[Row, ...]:
    size = len(ROWS_MAGIC) + rows * width * CIPHERTEXT_BYTES
    if data[: len(ROWS_MAGIC)] != ROWS_MAGIC or len(data) != size:
        raise _unreadable(
            path, f"{ROWS_MAGIC.decode()} and {rows} rows of {width} ciphertexts ({size} bytes)"
        )
    out = []
    step = width * CIPHERTEXT_BYTES
    for r in range(rows):
        base = len(ROWS_MAGIC) + r * step
        try:
            out.append(
                tuple(
                    Ciphertext.from_bytes(data[at : at + CIPHERTEXT_BYTES])
                    for at in range(base, base + step, CIPHERTEXT_BYTES)
                )
            )
        except InputError as exc:
            raise _unreadable(path, exc.problem, f"row {r + 1}") from None
    return tuple(out)


def shares_bytes(shares: Sequence[DecryptionShare]) -> Iterator[bytes]:
    yield SHARES_MAGIC
    for share in shares:
        yield share.to_bytes()


def read_shares(data: bytes, path: str, count: int) -> tuple[DecryptionShare, ...]:
    size = len(SHARES_MAGIC) + count * SHARE_BYTES
    if data[: len(SHARES_MAGIC)] != SHARES_MAGIC or len(data) != size:
        raise _unreadable(path, f"{SHARES_MAGIC.decode()} and {count} shares ({size} bytes)")
    out = []
    for k in range(count):
        at = len(SHARES_MAGIC) + k * SHARE_BYTES
        try:
            out.append(DecryptionShare.from_bytes(data[at : at + SHARE_BYTES]))
        except ProofRejected as exc:
            raise _unreadable(path, exc.problem, f"share {k + 1}") from None
    return tuple(out)


# --- decoded ballots ----------------------------------------------------------------------


def _ballot_line(ballot: DecodedBallot) -> bytes:
    doc: dict[str, object]
    if isinstance(ballot, InvalidBallot):
        doc = {"invalid": ballot.reason.value, "detail": ballot.detail}
    else:
        doc = {"marks": list(ballot)}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def ballots_bytes(ballots: Sequence[DecodedBallot]) -> Iterator[bytes]:
    for ballot in ballots:
        yield _ballot_line(ballot) + b"\n"


def read_ballots(data: bytes, path: str) -> tuple[DecodedBallot, ...]:
    if data and not data.endswith(b"\n"):
        raise _unreadable(path, "the last line does not end with a newline")
    out: list[DecodedBallot] = []
    for number, line in enumerate(data.split(b"\n")[:-1] if data else [], start=1):
        where = f"line {number}"
        try:
            doc = json.loads(line)
        except ValueError:
            raise _unreadable(path, "not JSON", where) from None
        ballot: DecodedBallot
        if isinstance(doc, dict) and sorted(doc) == ["marks"] and isinstance(doc["marks"], list):
            marks = doc["marks"]
            if any(not isinstance(m, int) or isinstance(m, bool) or m < 0 for m in marks):
                raise _unreadable(path, "marks are candidate numbers from 0", where)
            ballot = tuple(marks)
        elif isinstance(doc, dict) and sorted(doc) == ["detail", "invalid"]:
            try:
                ballot = InvalidBallot(InvalidReason(doc["invalid"]), str(doc["detail"]))
            except ValueError:
                raise _unreadable(path, f"no such reason {doc['invalid']!r}", where) from None
        else:
            raise _unreadable(path, 'an object {"marks": [...]} or {"invalid", "detail"}', where)
        if _ballot_line(ballot) != line:
            raise _unreadable(path, "not in its canonical form", where)
        out.append(ballot)
    return tuple(out)


# --- the audit log ------------------------------------------------------------------------


def _event_line(chained: ChainedEvent) -> bytes:
    e = chained.event
    doc = {
        "sequence": e.sequence,
        "election": e.election,
        "action": e.action.value,
        "actor": e.actor,
        "reason": e.reason,
        "payload": e.payload,
        "recorded_at": e.recorded_at,
        "hash": chained.hash.hex(),
    }
    # exactly as services/audit_log.py export_log writes a line
    return (json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def log_bytes(events: Sequence[ChainedEvent]) -> Iterator[bytes]:
    for chained in events:
        yield _event_line(chained)


def read_log(data: bytes) -> tuple[ChainedEvent, ...]:
    if data and not data.endswith(b"\n"):
        raise _unreadable(AUDIT_LOG, "the last line does not end with a newline")
    out = []
    for number, line in enumerate(data.split(b"\n")[:-1] if data else [], start=1):
        where = f"line {number}"
        try:
            doc = json.loads(line.decode("utf-8"))
            chained = ChainedEvent(AuditEvent.from_fields(doc), bytes.fromhex(doc["hash"]))
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise _unreadable(AUDIT_LOG, f"not an exported audit event ({exc})", where) from None
        if _event_line(chained) != line + b"\n":
            raise _unreadable(AUDIT_LOG, "not in the export's exact form", where)
        out.append(chained)
    return tuple(out)
