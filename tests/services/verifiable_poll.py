"""Test helpers for the verifiable path: an election key made in-process by the trustees'
ceremony (crypto/dkg.py: three trustees, threshold two), stored with
``store.elections.set_election_key``, and an open verifiable poll; ballots decrypted again by
two of the three trustees."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from test_voting import DEFINITION, Poll

from tallyroom.crypto import dkg, threshold
from tallyroom.crypto.ballot_encoding import Selection, decode, width
from tallyroom.crypto.ceremony_messages import ElectionKey
from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.crypto.credentials import new_credential, normalise_credential
from tallyroom.crypto.encrypted_ballot import EncryptedBallot
from tallyroom.election.definition import Contest
from tallyroom.services.ballot_encryption import contest_shape
from tallyroom.services.elections import definition_of, get_election
from tallyroom.store import ElectionState, Store, credentials, elections, register
from tallyroom.store.register import RegisterEntry

VERIFIABLE = (
    DEFINITION
    + """
[verifiable]
trustees = ["Ann Hale", "Ben Ode", "Cleo Marr"]
threshold = 2
"""
)

_slugs = itertools.count(1)


@dataclass(frozen=True)
class Trustees:
    """An election key from a whole ceremony, and two trustees' shares to decrypt with."""

    key: ElectionKey
    shares: dict[int, int]

    def decrypt(self, slug: str, contest: Contest, data: bytes) -> Selection:
        """The selection a stored ballot encrypts (two trustees' shares combined)."""
        shape = contest_shape(contest)
        ballot = EncryptedBallot.from_bytes(data, width(shape))
        plain = []
        for ct in ballot.ciphertexts:
            parts = [
                threshold.partial_decrypt(slug, t, s, self.key.verification_key(t), ct)
                for t, s in self.shares.items()
            ]
            plain.append(threshold.combine(self.key, ct, parts))
        decoded = decode(shape, plain)
        assert isinstance(decoded, tuple), decoded
        return decoded


def ceremony(election: str) -> Trustees:
    """The trustees' key ceremony run in memory (no files, no passphrases)."""
    plan = dkg.Ceremony(election, trustees=3, threshold=2)
    step1 = [dkg.make_communication_key(plan, i) for i in (1, 2, 3)]
    keys = [k for _, k in step1]
    dealt = [dkg.deal(plan, own, keys) for own, _ in step1]
    commitments = [c for _, c, _ in dealt]
    sealed = [s for _, _, shares in dealt for s in shares]
    shares: dict[int, int] = {}
    for own, _, _ in dealt:
        good, complaints = dkg.open_shares(plan, own, commitments, sealed)
        assert complaints == ()
        if own.trustee in (1, 3):
            shares[own.trustee] = dkg.finish(plan, own, good).share or 0
    return Trustees(dkg.election_key(plan, commitments), shares)


def store_key(store: Store, election_id: int, key: ElectionKey) -> None:
    """The ceremony's key stored as the trustees' ceremony will store it."""
    with store.begin() as conn:
        elections.set_election_key(
            conn, election_id, key.to_json(), public_key=bytes(key.public_key), actor="ceremony"
        )


def open_verifiable_poll(
    store: Store,
    *,
    members: int = 4,
    affiliated: int = 2,
    with_key: bool = True,
    definition: str = VERIFIABLE,
) -> tuple[Poll, Trustees]:
    """A verifiable election, its key stored (unless ``with_key`` is false), voters
    registered, credentials issued and the poll open."""
    slug = f"verifiable-{next(_slugs)}"
    trustees = ceremony(slug)
    key = CredentialKey.generate()
    people = [(f"M{i}", "members") for i in range(members)]
    people += [(f"A{i}", "affiliated") for i in range(affiliated)]
    with store.begin() as conn:
        election = elections.create_election(conn, slug, definition, actor="ro")
        register.import_entries(
            conn, election.id, (RegisterEntry(p, s, {}, True) for p, s in people), actor="ro"
        )
        for state in (ElectionState.REGISTER_FROZEN, ElectionState.NOMINATIONS_CLOSED):
            elections.advance(conn, election.id, state, actor="ro")
        by_id = {e.id: e.person_id for e in register.iter_entries(conn, election.id)}
        secret = {person: new_credential() for person, _ in people}
        credentials.issue_many(
            conn,
            election.id,
            key,
            ((i, normalise_credential(secret[p])) for i, p in by_id.items()),
            actor="ro",
        )
        ids = {
            p: credentials.authenticate(conn, election.id, key, normalise_credential(s)).id
            for p, s in secret.items()
        }
        elections.advance(conn, election.id, ElectionState.CREDENTIALS_ISSUED, actor="ro")
    if with_key:
        store_key(store, election.id, trustees.key)
    with store.begin() as conn:
        elections.advance(conn, election.id, ElectionState.OPEN, actor="ro")
    return Poll(store, election.id, key, Path("/nonexistent"), secret, ids, slug), trustees


def contest_of(store: Store, slug: str, name: str) -> Contest:
    """A contest of the stored definition."""
    return definition_of(get_election(store, slug)).contest(name)


def names(contest: Contest, selection: Sequence[int]) -> list[str]:
    """The candidates of a decrypted selection, best first."""
    return [contest.candidate_names[i] for i in selection]
