"""The only package that talks to the database (SQLAlchemy Core, Alembic migrations).

Open a store, then run each use case in one transaction and pass its connection to the
repository functions, one module per concept::

    store = open_store("election.db", upgrade=True)     # or postgresql://...
    with store.begin() as conn:
        election = elections.create_election(conn, "leader-2016", toml_text, actor="ro")
        register.import_entries(conn, election.id, entries, actor="ro", source="members.csv")

* :mod:`~tallyroom.store.engine` - :func:`open_store`, :class:`Store` (transactions)
* :mod:`~tallyroom.store.schema` - the tables and the enums stored in them
* :mod:`~tallyroom.store.migrations` - ``upgrade(engine)``, ``downgrade(engine, rev)``
* :mod:`~tallyroom.store.elections` - definition and lifecycle
* :mod:`~tallyroom.store.register` - bulk import, eligibility, recorded changes
* :mod:`~tallyroom.store.credentials` - keyed credential hashes, issue, reissue, revoke
* :mod:`~tallyroom.store.nominations` - nomination papers and the fixed ballot papers
* :mod:`~tallyroom.store.postal` - postal batches
* :mod:`~tallyroom.store.ballots` - casting, receipts, ballots for the count
* :mod:`~tallyroom.store.declarations` - the declared result and its downloads
* :mod:`~tallyroom.store.audit` - the audit chain, appended in the caller's transaction
* :mod:`~tallyroom.errors` - what the store refuses, and why
* :mod:`~tallyroom.store.pgcluster` - a throwaway PostgreSQL cluster for tests and benchmarks
"""

from tallyroom.errors import (
    AlreadyCast,
    CredentialKeyMismatch,
    CredentialRejected,
    LifecycleError,
    NotFound,
    StoreError,
)
from tallyroom.store import (
    audit,
    ballots,
    credentials,
    declarations,
    elections,
    nominations,
    postal,
    register,
)
from tallyroom.store.engine import Backend, Store, open_store
from tallyroom.store.schema import (
    BatchStatus,
    CastChannel,
    ChangeKind,
    CredentialStatus,
    ElectionState,
)

__all__ = [
    "AlreadyCast",
    "Backend",
    "BatchStatus",
    "CastChannel",
    "ChangeKind",
    "CredentialKeyMismatch",
    "CredentialRejected",
    "CredentialStatus",
    "ElectionState",
    "LifecycleError",
    "NotFound",
    "Store",
    "StoreError",
    "audit",
    "ballots",
    "credentials",
    "declarations",
    "elections",
    "nominations",
    "open_store",
    "postal",
    "register",
]
