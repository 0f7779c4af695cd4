"""Credentials: stored only as keyed hashes, one live per voter, bound to the election's key."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from conftest import MakeElection
from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.errors import InputError
from tallyroom.store import (
    CredentialKeyMismatch,
    CredentialRejected,
    CredentialStatus,
    ElectionState,
    LifecycleError,
    Store,
    credentials,
)
from tallyroom.store.schema import credentials as credentials_table


def test_only_the_keyed_hash_is_stored(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=3)
    with store.read() as conn:
        stored = conn.execute(sa.select(credentials_table.c.credential_hash)).scalars().all()
    assert len(stored) == 3
    for secret, digest in zip(election.secrets, sorted(stored, key=bytes), strict=False):
        assert secret.encode() not in bytes(digest)
    assert {bytes(d) for d in stored} == {election.key.digest(s) for s in election.secrets}


def test_another_key_is_refused(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=1)
    with pytest.raises(CredentialKeyMismatch), store.begin() as conn:
        credentials.reissue(
            conn, election.id, CredentialKey.generate(), election.entry_ids[0], "x",
            actor="helpdesk", reason="lost",
        )  # fmt: skip
    with pytest.raises(InputError, match="at least 32 bytes"):
        CredentialKey(b"short")
    assert "secret" in repr(election.key) and election.key.secret.hex() not in repr(election.key)


def test_one_live_credential_per_voter_is_a_database_constraint(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=1)
    with pytest.raises(sa.exc.IntegrityError), store.begin() as conn:
        conn.execute(
            credentials_table.insert().values(
                election_id=election.id,
                entry_id=election.entry_ids[0],
                issue_number=2,
                credential_hash=b"\x01" * 32,
                status=CredentialStatus.ISSUED,
            )
        )
    with pytest.raises(InputError, match="could not be issued"), store.begin() as conn:
        credentials.issue_many(
            conn, election.id, election.key, [(election.entry_ids[0], "again")], actor="ro"
        )


def test_reissue_revokes_and_numbers(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=1)
    with store.begin() as conn:
        second = credentials.reissue(
            conn, election.id, election.key, election.entry_ids[0], "second",
            actor="helpdesk", reason="lost",
        )  # fmt: skip
        third = credentials.reissue(
            conn, election.id, election.key, election.entry_ids[0], "third",
            actor="helpdesk", reason="lost again",
        )  # fmt: skip
    assert (second.issue_number, third.issue_number) == (2, 3)
    with store.read() as conn:
        statuses = conn.execute(
            sa.select(credentials_table.c.issue_number, credentials_table.c.status).order_by(
                credentials_table.c.issue_number
            )
        ).all()
        assert [s.value for _, s in statuses] == ["revoked", "revoked", "issued"]
        assert credentials.authenticate(conn, election.id, election.key, "third") == third
        for stale in (election.secrets[0], "second", "never issued"):
            with pytest.raises(CredentialRejected, match="not recognised"):
                credentials.authenticate(conn, election.id, election.key, stale)


def test_no_credentials_after_the_close(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=1, state=ElectionState.CLOSED)
    with pytest.raises(LifecycleError, match="closed"), store.begin() as conn:
        credentials.reissue(
            conn, election.id, election.key, election.entry_ids[0], "late",
            actor="helpdesk", reason="too late",
        )  # fmt: skip
