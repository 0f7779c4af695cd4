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

**Mix groups.** The board's ballots of one contest and one voter section form a group (the
declaration reports by section, so sections are never mixed together); each is mixed on its
own, its input being its board entries in board order, each entry's ciphertexts one row.
Groups are listed sorted by contest, then section (:func:`mix_groups`).
The verifiable path refuses weighted elections and contests counted by unit, so no entry
carries a weight or a unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tallyroom.audit.board import BoardEntry
from tallyroom.audit.chain import ChainedEvent
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
    "MixGroup",
    "PostedBallot",
    "RecordContents",
    "TrusteeShares",
    "contest_shape",
    "contest_width",
    "group_inputs",
    "mix_context",
    "mix_groups",
]

#: The version of the record's format (the manifest's ``version``).
FORMAT_VERSION = 1

#: A decoded ballot: the selection (0-based candidates), or why the plaintext is none.
DecodedBallot = Selection | InvalidBallot


def mix_context(election: str, contest: str, section: str | None) -> str:
    """The context string a group's mixers prove their shuffles for (``mix`` and
    ``verify_mix``'s ``context``): ``tallyroom/v1/mix/ELECTION/CONTEST/SECTION``, the
    section empty for none (as services/tally.py has bound them since the tally was built).
    Names may hold ``/``, so two groups of one election could in principle share a context;
    a shuffle proof is bound to its input and output rows as well, so one group's proof
    still verifies for no other group."""
    return f"tallyroom/v1/mix/{election}/{contest}/{section or ''}"


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
    """One contest's ballots of one section: mixed, decrypted and decoded.

    ``ballots`` are the decoded ballots of the last stage's rows, in that order."""

    contest: str
    section: str | None
    width: int
    stages: tuple[MixStage, ...]
    decryptions: tuple[TrusteeShares, ...]
    ballots: tuple[DecodedBallot, ...]

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


def _group_key(entry: BoardEntry) -> tuple[str, str | None]:
    return entry.contest, entry.section or None


def _order(key: tuple[str, str | None]) -> tuple[str, str]:
    return key[0], key[1] or ""


def mix_groups(entries: Iterable[BoardEntry]) -> list[tuple[str, str | None]]:
    """The board's mix groups, (contest, section), sorted by contest then section (code
    point order; no section sorts as the empty name)."""
    return sorted({_group_key(entry) for entry in entries}, key=_order)


def group_inputs(
    entries: Iterable[BoardEntry], widths: Mapping[str, int]
) -> dict[tuple[str, str | None], tuple[Row, ...]]:
    """Each mix group's input rows, in the order of :func:`mix_groups`: its board entries in
    board order, each ballot's ciphertexts one row (``widths``: each contest's width).
    :class:`ProofRejected` (check ``encoding``) for a ballot that is not of its contest's
    width, :class:`KeyError` for a contest ``widths`` lacks."""
    rows: dict[tuple[str, str | None], list[Row]] = {}
    for entry in entries:
        ballot = EncryptedBallot.from_bytes(entry.ballot, widths[entry.contest])
        rows.setdefault(_group_key(entry), []).append(ballot.ciphertexts)
    return {key: tuple(rows[key]) for key in sorted(rows, key=_order)}
