"""The audit log: event records, the hash chain over them, and its verification.

Pure: no database, no I/O. The store appends events inside the caller's transaction
(:mod:`tallyroom.store.audit`); anyone can verify an exported log with :func:`verify_chain`.
"""

from tallyroom.audit.chain import EMPTY_HEAD, GENESIS, ChainedEvent, Head, chain, link
from tallyroom.audit.events import Action, AuditEvent, JsonValue, canonical_json, timestamp
from tallyroom.audit.verify import (
    ChainFailure,
    Check,
    Unreadable,
    VerificationResult,
    verify_chain,
)

__all__ = [
    "EMPTY_HEAD",
    "GENESIS",
    "Action",
    "AuditEvent",
    "ChainFailure",
    "ChainedEvent",
    "Check",
    "Head",
    "JsonValue",
    "Unreadable",
    "VerificationResult",
    "canonical_json",
    "chain",
    "link",
    "timestamp",
    "verify_chain",
]
