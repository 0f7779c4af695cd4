"""Casting on the verifiable path (issue 15, item 2) on SQLite and PostgreSQL: each contest's
ballot encrypted under the election key with its proof, checked, stored where the sealed
bytes go; the same guarantees as the sealed path (once per contest, nothing half cast), no
fallback to sealing without a key, a ballot made for another contest or election refused by
the proof check, and a ballot edited in the database seen by ``audit verify``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_voting import Poll
from verifiable_poll import Trustees, ceremony, contest_of, names, open_verifiable_poll

from tallyroom.audit.record import RecordCheck
from tallyroom.crypto.encrypted_ballot import encrypt_ballot
from tallyroom.crypto.proofs import BallotContext
from tallyroom.errors import ElectionKeyMissing, ProofRejected
from tallyroom.services import audit_log
from tallyroom.services.ballot_encryption import (
    CastingKey,
    accept_ballot,
    contest_shape,
    encrypt_contest,
)
from tallyroom.services.board import check_board, extend_board
from tallyroom.services.voting import CastRequest, cast_ballot, cast_ballots, import_postal_batch
from tallyroom.store import AlreadyCast, LifecycleError, Store
from tallyroom.store.schema import ballot_casts, ballots

CHOICES = {"leader": ["Bob", "Ann"], "nec": ["Gus", "Eve"]}


@pytest.fixture
def verifiable(store: Store) -> tuple[Poll, Trustees]:
    return open_verifiable_poll(store)


def _stored(store: Store, election_id: int) -> dict[bytes, tuple[str, bytes]]:
    with store.read() as conn:
        rows = conn.execute(
            sa.select(ballots.c.receipt, ballots.c.contest, ballots.c.sealed).where(
                ballots.c.election_id == election_id
            )
        ).all()
    return {bytes(r): (str(c), bytes(s)) for r, c, s in rows}


def test_each_contest_is_encrypted_proved_and_stored_with_its_receipt(
    verifiable: tuple[Poll, Trustees],
) -> None:
    poll, trustees = verifiable
    receipts = cast_ballot(
        poll.store, poll.id, poll.credential["M0"], CHOICES, credential_key=poll.key
    )
    stored = _stored(poll.store, poll.id)
    assert sorted(r.contest for r in receipts) == ["leader", "nec"]
    for receipt in receipts:
        contest_name, data = stored[receipt.digest]
        assert contest_name == receipt.contest
        assert hashlib.sha256(data).digest() == receipt.digest  # the board's receipt
        assert len(data) == 128  # one ciphertext and its proof (width 1): never a sealed box
        contest = contest_of(poll.store, poll.slug, contest_name)
        key = CastingKey(trustees.key.to_json(), trustees.key.public_key)
        accept_ballot(key, poll.slug, contest, data)  # the proof holds for this contest
        # two of the three trustees decrypt it back to the voter's choice
        chosen = names(contest, trustees.decrypt(poll.slug, contest, data))
        if contest_name == "leader":
            assert chosen == ["Bob", "Ann"]
        else:
            assert sorted(chosen) == ["Eve", "Gus"]
    assert audit_log.verify_record(poll.store, poll.slug).ok


def test_a_voter_casting_twice_still_casts_once_per_contest(
    verifiable: tuple[Poll, Trustees],
) -> None:
    poll, _ = verifiable
    cast_ballot(
        poll.store, poll.id, poll.credential["M1"], {"leader": ["Ann"]}, credential_key=poll.key
    )
    before = _stored(poll.store, poll.id)
    with pytest.raises(AlreadyCast):
        cast_ballot(poll.store, poll.id, poll.credential["M1"], CHOICES, credential_key=poll.key)
    # the same voter twice in one batch: the second is refused
    outcomes = cast_ballots(
        poll.store,
        poll.id,
        [CastRequest(poll.credential["M2"], CHOICES), CastRequest(poll.credential["M2"], CHOICES)],
        credential_key=poll.key,
    )
    assert isinstance(outcomes[0], list) and isinstance(outcomes[1], AlreadyCast)
    after = _stored(poll.store, poll.id)
    assert set(before) < set(after) and len(after) == len(before) + 2


def test_an_invalid_ballot_is_refused_before_anything_is_encrypted_or_stored(
    verifiable: tuple[Poll, Trustees],
) -> None:
    poll, _ = verifiable
    for bad in ({"leader": ["Ann", "Ann"]}, {"nec": ["Eve", "Fay", "Gus"]}, {"leader": []}):
        with pytest.raises(Exception, match="choices"):
            cast_ballot(poll.store, poll.id, poll.credential["M3"], bad, credential_key=poll.key)
    assert _stored(poll.store, poll.id) == {}


def test_a_verifiable_election_without_a_key_refuses_and_never_seals(store: Store) -> None:
    poll, _ = open_verifiable_poll(store, with_key=False)
    with pytest.raises(ElectionKeyMissing, match="no election key") as caught:
        cast_ballot(poll.store, poll.id, poll.credential["M0"], CHOICES, credential_key=poll.key)
    assert isinstance(caught.value, LifecycleError)
    assert _stored(store, poll.id) == {}
    with store.read() as conn:  # no cast recorded either: the credential is still good
        assert conn.execute(sa.select(sa.func.count()).select_from(ballot_casts)).scalar() == 0


def test_a_held_key_is_used_only_if_it_is_the_stored_one(
    verifiable: tuple[Poll, Trustees],
) -> None:
    """A poll cache holding a wrong key (another ceremony's) cannot make the server encrypt
    under it: the stored key is used, and the ballot's proof holds under it."""
    poll, trustees = verifiable
    other = ceremony(poll.slug).key
    wrong = CastingKey(other.to_json(), other.public_key)
    (receipt,) = cast_ballots(
        poll.store,
        poll.id,
        [CastRequest(poll.credential["A0"], {"leader": ["Cat"]})],
        credential_key=poll.key,
        election_key=wrong,
    )[0]  # type: ignore[misc]
    _, data = _stored(poll.store, poll.id)[receipt.digest]
    contest = contest_of(poll.store, poll.slug, "leader")
    accept_ballot(
        CastingKey(trustees.key.to_json(), trustees.key.public_key), poll.slug, contest, data
    )
    with pytest.raises(ProofRejected):
        accept_ballot(wrong, poll.slug, contest, data)


def test_a_ballot_made_for_another_contest_or_election_fails_the_proof_check(
    verifiable: tuple[Poll, Trustees],
) -> None:
    """The seam every cast goes through (:func:`accept_ballot`, called on each ballot before
    it is stored) refuses a ciphertext replayed from another context: the proof binds the
    election's slug and the contest's name."""
    poll, trustees = verifiable
    key = CastingKey(trustees.key.to_json(), trustees.key.public_key)
    leader = contest_of(poll.store, poll.slug, "leader")
    nec = contest_of(poll.store, poll.slug, "nec")
    own = encrypt_contest(key, poll.slug, leader, (1, 0))
    accept_ballot(key, poll.slug, leader, own)
    # the same shape under another contest's name: same width, the proof does not hold
    moved = encrypt_ballot(
        key.public_key, BallotContext(poll.slug, "leader"), contest_shape(nec), (0,)
    ).to_bytes()
    with pytest.raises(ProofRejected) as to_nec:
        accept_ballot(key, poll.slug, nec, moved)
    assert to_nec.value.check == "challenge"
    with pytest.raises(ProofRejected) as other_election:
        accept_ballot(key, "another-election", leader, own)
    assert other_election.value.check == "challenge"
    edited = bytearray(own)
    edited[40] ^= 1
    with pytest.raises(ProofRejected):
        accept_ballot(key, poll.slug, leader, bytes(edited))


def test_postal_papers_are_encrypted_and_spoilt_ones_counted_as_on_the_sealed_path(
    verifiable: tuple[Poll, Trustees], tmp_path: Path
) -> None:
    poll, trustees = verifiable
    papers = tmp_path / "postal.csv"
    papers.write_text(
        "credential,leader,nec\n"
        f"{poll.credential['M0']},Cat>Ann,Fay\n"
        f"{poll.credential['M1']},,Eve>Gus\n"
        f"{poll.credential['M2']},Ann>Ann,Eve\n"
        "not-a-credential,Ann,Eve\n",
        encoding="utf-8",
    )
    done = import_postal_batch(
        poll.store, poll.id, papers, label="post 1", credential_key=poll.key, actor="ro"
    )
    assert done.cast == 3
    assert done.spoilt["leader"] == {"blank": 1, "invalid_marks": 1, "unreadable_credential": 1}
    stored = _stored(poll.store, poll.id)
    assert len(stored) == 6 and all(len(data) == 128 for _, data in stored.values())
    leader = contest_of(poll.store, poll.slug, "leader")
    decrypted = sorted(
        names(leader, trustees.decrypt(poll.slug, leader, data))
        for contest, data in stored.values()
        if contest == "leader"
    )
    assert decrypted == [[], [], ["Cat", "Ann"]]  # a spoilt paper is encrypted blank
    assert audit_log.verify_record(poll.store, poll.slug).ok


def _forge(poll: Poll, trustees: Trustees) -> tuple[bytes, bytes]:
    """A writer with the database re-encrypts one ballot to another choice (with a valid
    proof: the key is public); the ballot's id and the forged bytes."""
    key = CastingKey(trustees.key.to_json(), trustees.key.public_key)
    forged = encrypt_contest(key, poll.slug, contest_of(poll.store, poll.slug, "leader"), (1,))
    with poll.store.begin() as conn:
        victim = conn.execute(
            sa.select(ballots.c.id).where(ballots.c.election_id == poll.id).limit(1)
        ).scalar_one()
        conn.execute(ballots.update().where(ballots.c.id == victim).values(sealed=forged))
    return bytes(victim), forged


def test_a_ballot_on_the_board_edited_in_the_database_is_seen_by_audit_verify(
    verifiable: tuple[Poll, Trustees],
) -> None:
    poll, trustees = verifiable
    for person in ("M0", "M1", "A0"):
        cast_ballot(
            poll.store,
            poll.id,
            poll.credential[person],
            {"leader": ["Ann"]},
            credential_key=poll.key,
        )
    extend_board(poll.store, poll.slug, actor="board")
    assert audit_log.verify_record(poll.store, poll.slug).ok
    _forge(poll, trustees)
    result = audit_log.verify_record(poll.store, poll.slug)
    assert RecordCheck.BOARD in {f.check for f in result.failures}
    assert not check_board(poll.store, poll.slug).ok


def test_a_ballot_edited_with_its_receipt_before_the_board_is_seen_by_the_box(
    verifiable: tuple[Poll, Trustees],
) -> None:
    poll, trustees = verifiable
    cast_ballot(
        poll.store, poll.id, poll.credential["M0"], {"leader": ["Ann"]}, credential_key=poll.key
    )
    victim, forged = _forge(poll, trustees)
    with poll.store.begin() as conn:  # the receipt rewritten to match: the box still differs
        conn.execute(
            ballots.update()
            .where(ballots.c.id == victim)
            .values(receipt=hashlib.sha256(forged).digest())
        )
    result = audit_log.verify_record(poll.store, poll.slug)
    assert not result.ok
    assert RecordCheck.BOX_BALLOTS in {f.check for f in result.failures}
