"""Fixtures shared by the test suite: real SQLite and real PostgreSQL stores, no mocks.

* ``sqlite_store``: a migrated SQLite database in the test's ``tmp_path``.
* ``pg_store``: a migrated PostgreSQL database of its own, cloned from a template database
  in a throwaway cluster that lives for the whole session (initdb in a temporary folder,
  unix socket only, stopped and removed at the end). When PostgreSQL's server is not
  installed the tests that need it FAIL, saying what to install: they never skip.
* ``store``: parametrised over both, so a test that takes it runs on SQLite AND PostgreSQL.
* ``empty_url``: an empty database on each backend, for migration tests.
* ``make_election``: builds an election up to a lifecycle state, with voters and credentials.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.errors import PostgresMissing
from tallyroom.store import ElectionState, Store, credentials, elections, open_store, register
from tallyroom.store.pgcluster import ThrowawayCluster
from tallyroom.store.register import RegisterEntry

BACKENDS = ("sqlite", "postgresql")
_TEMPLATE = "tallyroom_template"
_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[ThrowawayCluster]:
    try:
        cluster = ThrowawayCluster().start()
    except PostgresMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        template_url = cluster.create_database(_TEMPLATE)
        open_store(template_url, upgrade=True).close()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_store(pg_cluster: ThrowawayCluster) -> Iterator[Store]:
    name = f"test_{next(_names)}"
    store = open_store(pg_cluster.create_database(name, template=_TEMPLATE))
    try:
        yield store
    finally:
        store.close()
        pg_cluster.drop_database(name)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "tallyroom.db", upgrade=True)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Store:
    fixture = {"sqlite": "sqlite_store", "postgresql": "pg_store"}[request.param]
    result: Store = request.getfixturevalue(fixture)
    return result


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    cluster: ThrowawayCluster = request.getfixturevalue("pg_cluster")
    name = f"empty_{next(_names)}"
    yield cluster.create_database(name)
    cluster.drop_database(name)


@dataclass(frozen=True)
class Election:
    """An election built by ``make_election``: ids, the key, and each voter's credential."""

    store: Store
    id: int
    key: CredentialKey
    entry_ids: tuple[int, ...]
    credential_ids: tuple[int, ...]
    secrets: tuple[str, ...]


MakeElection = Callable[..., Election]


def _advance_to(store: Store, election_id: int, target: ElectionState) -> None:
    with store.begin() as conn:
        state = elections.get_election(conn, election_id).state
        while state is not target:
            following = state.next
            assert following is not None
            elections.advance(conn, election_id, following, actor="returning officer")
            state = following


@pytest.fixture
def make_election(store: Store) -> MakeElection:
    """``make_election(voters=3, state=OPEN, slug=...)`` on the test's ``store``."""

    def make(
        voters: int = 3, state: ElectionState = ElectionState.OPEN, slug: str | None = None
    ) -> Election:
        slug = slug or f"election-{next(_names)}"
        key = CredentialKey.generate()
        with store.begin() as conn:
            election = elections.create_election(
                conn, slug, 'title = "Leader"\n', actor="returning officer"
            )
            if voters == 0:
                return Election(store, election.id, key, (), (), ())
            register.import_entries(
                conn,
                election.id,
                (
                    RegisterEntry(f"P{i:06d}", "member", {"name": f"Voter {i}"}, True)
                    for i in range(voters)
                ),
                actor="returning officer",
            )
        issued = ElectionState.CREDENTIALS_ISSUED
        order = list(ElectionState)
        entry_ids: tuple[int, ...] = ()
        credential_ids: tuple[int, ...] = ()
        secrets: tuple[str, ...] = ()
        if order.index(state) >= order.index(issued):
            _advance_to(store, election.id, ElectionState.NOMINATIONS_CLOSED)
            with store.begin() as conn:
                entry_ids = tuple(register.entry_ids(conn, election.id))
                secrets = tuple(f"{slug}-secret-{i}" for i in entry_ids)
                credentials.issue_many(
                    conn, election.id, key, zip(entry_ids, secrets, strict=True), actor="ro"
                )
                credential_ids = tuple(
                    credentials.authenticate(conn, election.id, key, s).id for s in secrets
                )
        _advance_to(store, election.id, state)
        return Election(store, election.id, key, entry_ids, credential_ids, secrets)

    return make
