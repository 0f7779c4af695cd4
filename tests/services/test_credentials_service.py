"""The credentials service on both backends: issue and export once, reissue, revoke."""

from __future__ import annotations

import csv
import os
from importlib.resources import files
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from tallyroom.errors import InputError, StoreError
from tallyroom.services import credentials as credential_service
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.store import (
    AlreadyCast,
    CredentialRejected,
    ElectionState,
    Store,
    ballots,
    credentials,
    elections,
)

DEFINITION = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
GOOD = (
    "person_id,section,membership_number,status,joined,registered\n"
    "P1,members,N1,active,2015-03-01,\n"
    "P2,members,N2,lapsed,2015-03-01,\n"
    "P4,registered,R4,active,,2016-07-19T12:00:00+01:00\n"
    "P1,affiliated,A1,active,2015-01-01,2016-08-01\n"
)


def make(store: Store, tmp_path: Path) -> str:
    election_service.create_election(
        store,
        DEFINITION,
        actor="ro",
        private_key_path=tmp_path / "leader.key",
        passphrase="correct horse",
        slug="leader",
    )
    return "leader"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "register.csv"
    path.write_text(text, encoding="utf-8")
    return path


def ready(store: Store, tmp_path: Path) -> int:
    slug = make(store, tmp_path)
    register_service.import_register(store, slug, write(tmp_path, GOOD), actor="ro")
    register_service.freeze_register(store, slug, actor="ro")
    with store.begin() as conn:
        record = elections.find_election(conn, slug)
        assert record is not None
        elections.advance(conn, record.id, ElectionState.NOMINATIONS_CLOSED, actor="ro")
        return record.id


def advance(store: Store, election_id: int, to: ElectionState) -> None:
    with store.begin() as conn:
        elections.advance(conn, election_id, to, actor="ro")


def test_issue_exports_once_and_keeps_only_hashes(store: Store, tmp_path: Path) -> None:
    election_id = ready(store, tmp_path)
    key_path, export = tmp_path / "cred.key", tmp_path / "out.csv"
    count = credential_service.issue_credentials(
        store, "leader", key_path=key_path, export_path=export, actor="ro"
    )
    assert count == 2
    assert os.stat(key_path).st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(export.open(encoding="utf-8")))
    assert sorted((r["person_id"], r["section"]) for r in rows) == [
        ("P1", "members"),
        ("P4", "registered"),
    ]
    key = credential_service.load_or_create_key(key_path, create=False)
    with store.read() as conn:
        assert elections.get_election(conn, election_id).state is ElectionState.CREDENTIALS_ISSUED
        for row in rows:
            credential = credential_service.canonical(row["credential"])
            credentials.authenticate(conn, election_id, key, credential)
    with pytest.raises(InputError, match="already exists"):
        credential_service.issue_credentials(
            store, "leader", key_path=key_path, export_path=export, actor="ro"
        )


def test_failed_issue_leaves_no_export(store: Store, tmp_path: Path) -> None:
    make(store, tmp_path)  # still a draft: issuing is refused
    export = tmp_path / "out.csv"
    with pytest.raises(Exception, match="issue credentials"):
        credential_service.issue_credentials(
            store, "leader", key_path=tmp_path / "k", export_path=export, actor="ro"
        )
    assert list(tmp_path.glob("out.csv*")) == []


def _cast(conn: Connection, election_id: int, credential_hash: bytes, sealed: bytes) -> None:
    """One ballot in "leader" through the one casting path; its refusal raised."""
    (outcome,) = ballots.cast_many(
        conn, election_id, [ballots.CastItem(credential_hash, {"leader": sealed})]
    )
    if isinstance(outcome, StoreError):
        raise outcome


def test_reissue_refuses_old_credential_and_second_vote(store: Store, tmp_path: Path) -> None:
    election_id = ready(store, tmp_path)
    key_path, export = tmp_path / "cred.key", tmp_path / "out.csv"
    credential_service.issue_credentials(
        store, "leader", key_path=key_path, export_path=export, actor="ro"
    )
    old = next(r for r in csv.DictReader(export.open()) if r["person_id"] == "P1")["credential"]
    key = credential_service.load_or_create_key(key_path, create=False)
    advance(store, election_id, ElectionState.OPEN)
    with store.begin() as conn:
        credentials.authenticate(conn, election_id, key, credential_service.canonical(old))
        _cast(conn, election_id, key.digest(credential_service.canonical(old)), b"sealed one")
    new = credential_service.reissue_credential(
        store, "leader", "P1", key_path=key_path, actor="ro", reason="lost"
    )
    assert (new.person_id, new.issue_number) == ("P1", 2)
    with pytest.raises(CredentialRejected), store.begin() as conn:
        credentials.authenticate(conn, election_id, key, credential_service.canonical(old))
    with pytest.raises(CredentialRejected), store.begin() as conn:
        _cast(conn, election_id, key.digest(credential_service.canonical(old)), b"sealed two")
    with pytest.raises(AlreadyCast), store.begin() as conn:
        fresh = credential_service.canonical(new.credential)
        credentials.authenticate(conn, election_id, key, fresh)
        _cast(conn, election_id, key.digest(fresh), b"sealed ballot three")


def test_revoke(store: Store, tmp_path: Path) -> None:
    election_id = ready(store, tmp_path)
    key_path, export = tmp_path / "cred.key", tmp_path / "out.csv"
    credential_service.issue_credentials(
        store, "leader", key_path=key_path, export_path=export, actor="ro"
    )
    credential = next(csv.DictReader(export.open()))["credential"]
    credential_service.revoke_credential(
        store, "leader", credential, key_path=key_path, actor="ro", reason="stolen"
    )
    key = credential_service.load_or_create_key(key_path, create=False)
    with pytest.raises(CredentialRejected), store.read() as conn:
        credentials.authenticate(conn, election_id, key, credential_service.canonical(credential))


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k"
    credential_service.load_or_create_key(path)
    path.chmod(0o644)
    with pytest.raises(InputError, match="readable by others"):
        credential_service.load_or_create_key(path)
