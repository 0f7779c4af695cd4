"""Casting on the verifiable path: each contest's ballot encrypted under the election key.

An election whose definition has ``[verifiable]`` casts encrypted ballots instead of sealed
ones (issue 15, item 2; docs/verifiable.md). For each contest, the selection that the sealed
path would seal, after the same checks (:func:`tallyroom.services.voting.validate_ranking`),
is

1. encoded with the contest's shape (:func:`contest_shape`: the shape of the contest's
   rule's :class:`~tallyroom.count.rules.registry.BallotKind`,
   :func:`~tallyroom.crypto.ballot_encoding.shape_for`),
2. encrypted under the election key with a proof bound to the election's slug and the
   contest's name (:func:`~tallyroom.crypto.encrypted_ballot.encrypt_ballot`,
   :class:`~tallyroom.crypto.proofs.BallotContext`),
3. checked (:func:`accept_ballot`: the proof verified as a verifier will, before the ballot
   is accepted), and
4. stored as its bytes (``EncryptedBallot.to_bytes()``) where a sealed ballot's bytes go
   (``ballots.sealed``): the receipt, the box digest and the board are those of these bytes,
   so the voter's receipt is the board's.

A verifiable election without a stored key refuses to cast
(:class:`~tallyroom.errors.ElectionKeyMissing`): it never falls back to sealing.

The key is parsed once per holder: :class:`CastingKey` keeps the stored JSON beside the parsed
public key, and the web's poll cache (``web/poll_cache.py``) holds one per election; casting
uses a held key only when its JSON is the election's stored key, byte for byte.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from tallyroom.count.rules.registry import get_rule
from tallyroom.crypto.ballot_encoding import BallotShape, shape_for
from tallyroom.crypto.ceremony_messages import ElectionKey
from tallyroom.crypto.encrypted_ballot import check_ballot, encrypt_ballot
from tallyroom.crypto.group import Element
from tallyroom.crypto.proofs import BallotContext
from tallyroom.election.definition import Contest, ElectionDefinition
from tallyroom.errors import ElectionKeyMissing, InputError
from tallyroom.store.elections import ElectionRecord

__all__ = [
    "CastingKey",
    "accept_ballot",
    "casting_key",
    "contest_shape",
    "encrypt_contest",
]


@dataclass(frozen=True, slots=True)
class CastingKey:
    """A verifiable election's key as casting uses it: the stored JSON and its public key."""

    key_json: bytes
    public_key: Element

    @classmethod
    def parse(cls, key_json: bytes, *, election: str) -> CastingKey:
        """The stored ``ElectionKey`` JSON parsed (:class:`InputError` naming the election
        if it is not one)."""
        try:
            key = ElectionKey.from_json(key_json)
        except InputError as exc:
            raise InputError(
                f"election {election}: the stored election key cannot be read ({exc.problem})",
                field="election_key",
            ) from None
        return cls(key_json, key.public_key)


def casting_key(
    record: ElectionRecord, definition: ElectionDefinition, held: CastingKey | None = None
) -> CastingKey | None:
    """The key ``record``'s ballots are encrypted under: ``None`` on the sealed path; ``held``
    if it is the stored key; else the stored key parsed. :class:`ElectionKeyMissing` for a
    verifiable election whose key is not stored yet."""
    if definition.verifiable is None:
        return None
    if record.election_key is None:
        raise ElectionKeyMissing(
            "this verifiable election has no election key yet: it cannot take ballots",
            election=record.slug,
        )
    if held is not None and held.key_json == record.election_key:
        return held
    return CastingKey.parse(record.election_key, election=record.slug)


@functools.lru_cache(maxsize=1024)
def _shape(rule: str, candidates: int, seats: int) -> BallotShape:
    return shape_for(get_rule(rule).ballot, candidates=candidates, seats=seats)


def contest_shape(contest: Contest) -> BallotShape:
    """The shape of ``contest``'s ballots (its rule's ballot kind; its candidates, or a
    motion's answers, in ballot-paper order)."""
    return _shape(contest.rule, len(contest.candidate_names), contest.seats)


def accept_ballot(key: CastingKey, election: str, contest: Contest, data: bytes) -> None:
    """The ballot ``data`` checked for this election and contest as a verifier checks it:
    :class:`~tallyroom.errors.ProofRejected` naming the check if its encoding or proof fails
    (a ballot made for another contest or election, or edited, fails the proof)."""
    check_ballot(
        key.public_key, BallotContext(election, contest.name), contest_shape(contest), data
    )


def encrypt_contest(
    key: CastingKey, election: str, contest: Contest, selection: Sequence[int]
) -> bytes:
    """``selection`` (candidate indexes in ballot order, best first; empty: blank) encrypted
    under ``key`` with its proof, checked (:func:`accept_ballot`): the bytes to store."""
    shape = contest_shape(contest)
    ballot = encrypt_ballot(key.public_key, BallotContext(election, contest.name), shape, selection)
    data = ballot.to_bytes()
    accept_ballot(key, election, contest, data)
    return data
