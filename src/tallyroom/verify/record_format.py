"""What an election record holds: frozen records of every published thing, and the names the
service and the verifier share (the mix groups, their context strings, each contest's shape).

An election record (docs/election-record.md) is a directory of files; this module says what
they mean, :mod:`.record_files` how each is encoded, :mod:`.record_writer` and
:mod:`.record_reader` write and read them. :class:`RecordContents` is everything at once:

* the election's slug and its definition (the TOML text exactly as stored);
* the trustees' key ceremony (:class:`CeremonyRecord`): the ceremony's parameters, each
  trustee's communication key and commitments, any complaints and revealed shares, each
  trustee's signed confirmation of the election key, the election key and the key drill
  (crypto/dkg.py, crypto/threshold.py);
* the ballot board (:class:`PostedBallot`: position, entry, receipt, link; audit/board.py)
  and the audit log's events with their chain hashes (audit/chain.py);
* per **mix group** (:class:`MixGroup`): the mixers' stages (crypto/mixnet.py), each
  decrypting trustee's shares of the last stage's rows (crypto/threshold.py), and the
  decoded ballots in that order (a selection, or an invalid plaintext with its reason);
* the declaration: the exact bytes of the stored results document.

**Mix groups.** The board's ballots are cut into groups by everything the count needs to
know of a ballot besides its content (:class:`GroupKey`): its contest, its voter's section
(the declaration reports by section, so sections are never mixed together), its weight (a
weighted election's ballots, the weight as the board gives it) and its unit (a contest counted
by unit). Each is public on the board already, so grouping by them reveals nothing the board
does not; and since a shuffle stays within its group, each decrypted ballot keeps its group's
section, weight and unit for the count. Each group is mixed on its own, its input being its
board entries in board order, each entry's ciphertexts one row. Groups are listed sorted by
contest, then section, then weight, then unit, each by code point order of its text, an
absent one sorting as the empty text (:func:`mix_groups`). A plain election's ballots have
no weight and no unit: its groups, their order and their context strings are as they were
before weights and units were grouped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from tallyroom.audit.board import BoardEntry
from tallyroom.audit.chain import ChainedEvent
from tallyroom.audit.record import group_name
from tallyroom.count.rules.registry import get_rule
from tallyroom.crypto.ballot_encoding import (
    BallotShape,
    InvalidBallot,
    Selection,
    shape_for,
    width,
)
from tallyroom.crypto.ceremony_messages import (
    Ceremony,
    Commitments,
    CommunicationKey,
    Complaint,
    ElectionKey,
    KeyConfirmation,
    RevealedShare,
)
from tallyroom.crypto.encrypted_ballot import EncryptedBallot
from tallyroom.crypto.mixnet import MixStage
from tallyroom.crypto.shuffle import Row
from tallyroom.crypto.threshold import DecryptionShare, KeyDrill
from tallyroom.election.definition import Contest

__all__ = [
    "FORMAT_VERSION",
    "CeremonyRecord",
    "DecodedBallot",
    "GroupKey",
    "MixGroup",
    "PostedBallot",
    "RecordContents",
    "TrusteeShares",
    "contest_shape",
    "contest_width",
    "group_inputs",
    "group_key",
    "mix_context",
    "mix_groups",
]

#: The version of the record's format (the manifest's ``version``).
FORMAT_VERSION = 1

#: A decoded ballot: the selection (0-based candidates), or why the plaintext is none.
DecodedBallot = Selection | InvalidBallot


class GroupKey(NamedTuple):
    """What names a mix group: a contest, a section (``None``: none), a weight (decimal text as
    on the board; ``None`` unweighted) and a unit (``None`` unless counted by unit)."""

    contest: str
    section: str | None
    weight: str | None = None
    unit: str | None = None

    @property
    def name(self) -> str:
        """``CONTEST/SECTION[/weight=W][/unit=U]`` (audit/record.py ``group_name``)."""
        return group_name(self.contest, self.section, self.weight, self.unit)

    @property
    def order(self) -> tuple[str, str, str, str]:
        """The key groups are sorted by (see the module doc)."""
        return self.contest, self.section or "", self.weight or "", self.unit or ""


def mix_context(
    election: str,
    contest: str,
    section: str | None,
    weight: str | None = None,
    unit: str | None = None,
) -> str:
    """The context string a group's mixers prove their shuffles for (``mix`` and
    ``verify_mix``'s ``context``), binding the whole group key.

    A group without weight and unit (every group of a plain election):
    ``tallyroom/v1/mix/ELECTION/CONTEST/SECTION``, the section empty for none (as
    services/tally.py has bound them since the tally was built). Names may hold ``/``, so two
    such groups could in principle share a context; a shuffle proof is bound to its input and
    output rows as well, so one group's proof still verifies for no other group.

    A group with a weight or a unit: ``tallyroom/v2/mix/`` followed by the JSON array
    ``[ELECTION, CONTEST, SECTION, WEIGHT, UNIT]`` (compact, UTF-8, each absent one ``null``):
    unambiguous whatever the names hold, so a stage of one group is proved for that group's
    key and no other's."""
    if weight is None and unit is None:
        return f"tallyroom/v1/mix/{election}/{contest}/{section or ''}"
    key = [election, contest, section or None, weight, unit]
    return "tallyroom/v2/mix/" + json.dumps(key, ensure_ascii=False, separators=(",", ":"))


def contest_shape(contest: Contest) -> BallotShape:
    """A contest's ballot shape (crypto/ballot_encoding.py ``shape_for``) from its rule's
    ballot kind, its candidates and seats: as casting encodes and the tally decodes."""
    kind = get_rule(contest.rule).ballot
    return shape_for(kind, candidates=len(contest.candidates), seats=contest.seats)


def contest_width(contest: Contest) -> int:
    """Elements (ciphertexts) per ballot of the contest: a row's width in its mix groups."""
    return width(contest_shape(contest))


@dataclass(frozen=True, slots=True)
class CeremonyRecord:
    """The trustees' key ceremony as published, and the key drill."""

    ceremony: Ceremony
    communication_keys: tuple[CommunicationKey, ...]
    commitments: tuple[Commitments, ...]
    complaints: tuple[Complaint, ...]
    revealed_shares: tuple[RevealedShare, ...]
    confirmations: tuple[KeyConfirmation, ...]
    election_key: ElectionKey
    key_drill: KeyDrill


@dataclass(frozen=True, slots=True)
class PostedBallot:
    """One board entry at ``position`` (from 1), its receipt (the SHA-256 of its ballot: the
    record does not store it) and its link as published."""

    position: int
    entry: BoardEntry
    receipt: bytes
    link: bytes


@dataclass(frozen=True, slots=True)
class TrusteeShares:
    """One trustee's decryption shares of a group's last rows: one per ciphertext, row by
    row, the ``width`` ciphertexts of a row in order."""

    trustee: int
    shares: tuple[DecryptionShare, ...]


@dataclass(frozen=True, slots=True)
class MixGroup:
    """One group's ballots (:class:`GroupKey`): mixed, decrypted and decoded.

    ``ballots`` are the decoded ballots of the last stage's rows, in that order."""

    contest: str
    section: str | None
    width: int
    stages: tuple[MixStage, ...]
    decryptions: tuple[TrusteeShares, ...]
    ballots: tuple[DecodedBallot, ...]
    weight: str | None = None
    unit: str | None = None

    @property
    def key(self) -> GroupKey:
        return GroupKey(self.contest, self.section, self.weight, self.unit)

    @property
    def rows(self) -> int:
        """Ballots in the group (rows of its last stage; 0 with no stage)."""
        return len(self.stages[-1].outputs) if self.stages else 0


@dataclass(frozen=True, slots=True)
class RecordContents:
    """Everything an election record holds (see the module docstring)."""

    election: str
    definition: str
    ceremony: CeremonyRecord
    board: tuple[PostedBallot, ...]
    audit_log: tuple[ChainedEvent, ...]
    groups: tuple[MixGroup, ...]
    declaration: bytes


def group_key(entry: BoardEntry) -> GroupKey:
    """The mix group of a board entry."""
    return GroupKey(entry.contest, entry.section or None, entry.weight, entry.unit)


def mix_groups(entries: Iterable[BoardEntry]) -> list[GroupKey]:
    """The board's mix groups, one per distinct :class:`GroupKey`, sorted by
    :attr:`GroupKey.order`."""
    return sorted({group_key(entry) for entry in entries}, key=lambda k: k.order)


def group_inputs(
    entries: Iterable[BoardEntry], widths: Mapping[str, int]
) -> dict[GroupKey, tuple[Row, ...]]:
    """Each mix group's input rows, in the order of :func:`mix_groups`: its board entries in
    board order, each ballot's ciphertexts one row (``widths``: each contest's width).
    :class:`ProofRejected` (check ``encoding``) for a ballot that is not of its contest's
    width, :class:`KeyError` for a contest ``widths`` lacks."""
    rows: dict[GroupKey, list[Row]] = {}
    for entry in entries:
        ballot = EncryptedBallot.from_bytes(entry.ballot, widths[entry.contest])
        rows.setdefault(group_key(entry), []).append(ballot.ciphertexts)
    return {key: tuple(rows[key]) for key in sorted(rows, key=lambda k: k.order)}
