"""The database schema, as SQLAlchemy Core tables (no ORM).

This module describes the schema the latest migration produces; the migrations in
:mod:`tallyroom.store.migrations` are what create it (a test checks the two agree on both
backends). Each constraint is there to make a rule of the election a guarantee of the
database, not a habit of the code; ``docs/architecture-store.md`` lists them.

Ballot secrecy shapes two tables. ``ballots`` holds no voter reference and no time, and its
primary key is random, so neither a column nor the key's order says who cast it or when.
``ballot_casts`` records that a credential was used for a contest, with nothing about the
ballot. On SQLite both are ``WITHOUT ROWID`` tables, so no hidden rowid keeps insertion order.

Enumerated columns are stored as their values in ``VARCHAR`` columns with a ``CHECK``
constraint (``native_enum=False``): the same on both backends, and no PostgreSQL ``TYPE`` to
drop and recreate in migrations.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa

from tallyroom.election.lifecycle import ElectionState
from tallyroom.election.roles import ConsoleRole

__all__ = [
    "BALLOT_ID_SIZE",
    "BOX_SHARDS",
    "CONTEST_MAX",
    "PERSON_ID_MAX",
    "BatchStatus",
    "CastChannel",
    "ChangeKind",
    "ConsoleRole",
    "ContactChannel",
    "CredentialStatus",
    "DeliveryState",
    "ElectionState",
    "NominationKind",
    "attempt_counts",
    "audit_events",
    "audit_heads",
    "ballot_box",
    "ballot_casts",
    "ballot_papers",
    "ballots",
    "board_links",
    "ceremony_messages",
    "console_sessions",
    "console_users",
    "credentials",
    "declaration_files",
    "declarations",
    "deliveries",
    "delivery_rounds",
    "elections",
    "metadata",
    "nomination_papers",
    "postal_batches",
    "register_changes",
    "register_contacts",
    "register_entries",
    "tally_parts",
]

PERSON_ID_MAX = 64
SECTION_MAX = 64
UNIT_MAX = 64
CONTEST_MAX = 64
WEIGHT_MAX = 32  # a weight as decimal text (at most 10**12, six places)
SLUG_MAX = 100
ACTOR_MAX = 200
LABEL_MAX = 100
NAME_MAX = 200
EMAIL_MAX = 254  # RFC 5321's path limit, less its angle brackets
BALLOT_ID_SIZE = 16
DIGEST_SIZE = 32
# A ballot box's digest (MuHash3072, tallyroom.audit.box) and how many rows keep it: each
# casting transaction updates one shard, so concurrent casts do not queue on one row lock.
BOX_DIGEST_SIZE = 384
BOX_SHARDS = 16

# Deterministic names: migrations (and SQLite's batch mode) must be able to name a constraint.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class CredentialStatus(enum.Enum):
    """A credential is live until revoked (reissuing revokes the old one).

    Whether it was used is per contest, and lives in ``ballot_casts``.
    """

    ISSUED = "issued"
    REVOKED = "revoked"


class CastChannel(enum.Enum):
    ONLINE = "online"
    POSTAL = "postal"


class BatchStatus(enum.Enum):
    OPEN = "open"
    SEALED = "sealed"


class ChangeKind(enum.Enum):
    """What a register change did. A removal is an eligibility change (entries are kept)."""

    ADD = "add"
    AMEND = "amend"
    ELIGIBILITY = "eligibility"


class ContactChannel(enum.Enum):
    """How a voter asked to be reached: an email, or a letter by post."""

    EMAIL = "email"
    POST = "post"


class DeliveryState(enum.Enum):
    """Where one voter's message stands in a delivery queue."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class NominationKind(enum.Enum):
    """A nomination paper names a candidate and its nominator; a withdrawal only a candidate."""

    NOMINATION = "nomination"
    WITHDRAWAL = "withdrawal"


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(str(m.value)) for m in cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


# SQLite only makes "INTEGER PRIMARY KEY" an alias of the rowid (and so autoincrementing).
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _election_fk() -> sa.Column[int]:
    return sa.Column(
        "election_id", Id, sa.ForeignKey("elections.id", ondelete="RESTRICT"), nullable=False
    )


def _entry_fk() -> sa.ForeignKeyConstraint:
    # One composite key instead of one to elections and one to register_entries: it also
    # says the row's election is its entry's, and PostgreSQL checks one foreign key per row
    # instead of two (per-row checks are most of the cost of a bulk load).
    return sa.ForeignKeyConstraint(
        ["election_id", "entry_id"],
        ["register_entries.election_id", "register_entries.id"],
        ondelete="RESTRICT",
    )


elections = sa.Table(
    "elections",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("slug", sa.String(SLUG_MAX), nullable=False, unique=True),
    sa.Column("definition", sa.Text(), nullable=False),
    sa.Column("definition_sha256", sa.String(64), nullable=False),
    sa.Column("state", _enum(ElectionState, "state"), nullable=False),
    # HMAC(key, CHECK_MESSAGE) of the election's credential key, so a wrong key is refused.
    sa.Column("credential_key_check", sa.LargeBinary(DIGEST_SIZE), nullable=True),
    # Where the credential key file was written at issue (absolute): never the key itself.
    sa.Column("credential_key_path", sa.Text(), nullable=True),
    # The public key ballots are sealed to (NaCl sealed boxes); set once, before the poll.
    sa.Column("ballot_public_key", sa.LargeBinary(32), nullable=True),
    # A verifiable election's key (the trustees' ceremony's ElectionKey as canonical JSON:
    # public keys only); set once, when the ceremony finishes, before the poll.
    sa.Column("election_key", sa.LargeBinary(), nullable=True),
    sa.CheckConstraint("length(definition_sha256) = 64", name="definition_sha256_hex"),
    sa.CheckConstraint("length(slug) > 0", name="slug_not_empty"),
)

register_entries = sa.Table(
    "register_entries",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    _election_fk(),
    sa.Column("person_id", sa.String(PERSON_ID_MAX), nullable=False),
    sa.Column("section", sa.String(SECTION_MAX), nullable=False),
    # Canonical JSON object of the register line's other fields (all text).
    sa.Column("fields", sa.Text(), nullable=False),
    # NULL until eligibility is decided.
    sa.Column("eligible", sa.Boolean(), nullable=True),
    sa.Column("eligibility_reason", sa.Text(), nullable=True),
    sa.UniqueConstraint("election_id", "person_id"),
    # Target of the composite foreign keys that pin a credential or a change to an entry
    # *of the same election*.
    sa.UniqueConstraint("election_id", "id"),
    sa.CheckConstraint("length(person_id) > 0", name="person_id_not_empty"),
)

register_changes = sa.Table(
    "register_changes",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("election_id", Id, nullable=False),
    sa.Column("entry_id", Id, nullable=False, index=True),
    sa.Column("kind", _enum(ChangeKind, "kind"), nullable=False),
    # Canonical JSON of the entry before and after (NULL before an addition).
    sa.Column("before", sa.Text(), nullable=True),
    sa.Column("after", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("actor", sa.String(ACTOR_MAX), nullable=False),
    sa.Column("audit_sequence", sa.Integer(), nullable=False),
    _entry_fk(),
    sa.CheckConstraint("length(reason) > 0", name="reason_given"),
    sa.CheckConstraint("length(actor) > 0", name="actor_given"),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("election_id", Id, nullable=False),
    sa.Column("entry_id", Id, nullable=False),
    sa.Column("issue_number", sa.Integer(), nullable=False),
    # HMAC-SHA256 of the credential under the election's key; the credential is never stored.
    sa.Column("credential_hash", sa.LargeBinary(DIGEST_SIZE), nullable=False, unique=True),
    sa.Column("status", _enum(CredentialStatus, "status"), nullable=False),
    _entry_fk(),
    sa.UniqueConstraint("entry_id", "issue_number"),
    # Target of ballot_casts' composite foreign key (a cast's entry is its credential's).
    sa.UniqueConstraint("id", "entry_id"),
    sa.CheckConstraint("issue_number >= 1", name="issue_number_positive"),
    # At most one live credential per register entry: a reissue must revoke the old one.
    sa.Index(
        "uq_credentials_entry_id_issued",
        "entry_id",
        unique=True,
        sqlite_where=sa.text("status = 'issued'"),
        postgresql_where=sa.text("status = 'issued'"),
    ),
)

postal_batches = sa.Table(
    "postal_batches",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    _election_fk(),
    sa.Column("label", sa.String(LABEL_MAX), nullable=False),
    # Envelopes counted by hand when the batch was opened; reconciled against its casts.
    sa.Column("declared_count", sa.Integer(), nullable=False),
    sa.Column("status", _enum(BatchStatus, "status"), nullable=False),
    sa.UniqueConstraint("election_id", "label"),
    sa.CheckConstraint("declared_count >= 0", name="declared_count_not_negative"),
)

ballot_casts = sa.Table(
    "ballot_casts",
    metadata,
    sa.Column("credential_id", Id, nullable=False),
    # The credential's register entry, copied here (and pinned to it by the composite
    # foreign key) so that the database can also refuse a second ballot from the same voter
    # through a reissued credential.
    sa.Column("entry_id", Id, nullable=False),
    sa.Column("contest", sa.String(CONTEST_MAX), nullable=False),
    sa.Column("channel", _enum(CastChannel, "channel"), nullable=False),
    sa.Column(
        "postal_batch_id",
        Id,
        sa.ForeignKey("postal_batches.id", ondelete="RESTRICT"),
        nullable=True,
        index=True,
    ),
    # One ballot per credential per contest, whatever the channel: the primary key is the
    # UNIQUE(credential_id, contest) that makes a second cast impossible...
    sa.PrimaryKeyConstraint("credential_id", "contest"),
    # ...and one per voter per contest, however many times the credential was reissued.
    sa.UniqueConstraint("entry_id", "contest"),
    sa.ForeignKeyConstraint(
        ["credential_id", "entry_id"],
        ["credentials.id", "credentials.entry_id"],
        ondelete="RESTRICT",
    ),
    sa.CheckConstraint(
        "(channel = 'postal') = (postal_batch_id IS NOT NULL)", name="postal_has_batch"
    ),
    sqlite_with_rowid=False,
)

ballots = sa.Table(
    "ballots",
    metadata,
    # Random, so the key's order is not the order of casting.
    sa.Column("id", sa.LargeBinary(BALLOT_ID_SIZE), primary_key=True),
    _election_fk(),
    sa.Column("contest", sa.String(CONTEST_MAX), nullable=False),
    sa.Column("sealed", sa.LargeBinary(), nullable=False),
    # SHA-256 of the sealed ballot: the voter's receipt (ballot tracker).
    sa.Column("receipt", sa.LargeBinary(DIGEST_SIZE), nullable=False, unique=True),
    # The voter's section, for results by section (published only above a minimum size).
    sa.Column("section", sa.String(SECTION_MAX), nullable=True),
    # The voter's weight in a weighted election (exact decimal text, as the register gives
    # it), like the section a property of the voter's delegation; NULL: one ballot, one vote.
    sa.Column("weight", sa.String(WEIGHT_MAX), nullable=True),
    # The voter's unit (a branch, an affiliate), only for a contest counted by unit.
    sa.Column("unit", sa.String(UNIT_MAX), nullable=True),
    sa.Index("ix_ballots_election_id_contest", "election_id", "contest"),
    # The public receipts a page at a time, in receipt order (keyset pagination).
    sa.Index("ix_ballots_election_id_receipt", "election_id", "receipt"),
    sa.CheckConstraint(f"length(id) = {BALLOT_ID_SIZE}", name="id_size"),
    sqlite_with_rowid=False,
)

ballot_box = sa.Table(
    "ballot_box",
    metadata,
    # The box's digest as the casting transactions kept it, in BOX_SHARDS rows whose product
    # is the whole box: the ballots' and the casts' multiset hashes and how many of each.
    # No order, no time, nothing that pairs a cast with a ballot (tallyroom.audit.box).
    _election_fk(),
    sa.Column("shard", sa.Integer(), nullable=False),
    sa.Column("ballots_digest", sa.LargeBinary(BOX_DIGEST_SIZE), nullable=False),
    sa.Column("casts_digest", sa.LargeBinary(BOX_DIGEST_SIZE), nullable=False),
    sa.Column("ballot_count", sa.BigInteger(), nullable=False),
    sa.Column("cast_count", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("election_id", "shard"),
    sa.CheckConstraint(f"shard >= 0 AND shard < {BOX_SHARDS}", name="shard_range"),
)

board_links = sa.Table(
    "board_links",
    metadata,
    # The public ballot board (tallyroom.audit.board): each ballot's position and the chain's
    # link there. Positions are given when the service extends the board, a batch at a time
    # in receipt order, so they say nothing about when a ballot was cast.
    _election_fk(),
    sa.Column("position", sa.BigInteger(), nullable=False),
    sa.Column(
        "receipt",
        sa.LargeBinary(DIGEST_SIZE),
        sa.ForeignKey("ballots.receipt", ondelete="RESTRICT"),
        nullable=False,
        unique=True,
    ),
    sa.Column("link", sa.LargeBinary(DIGEST_SIZE), nullable=False),
    sa.PrimaryKeyConstraint("election_id", "position"),
    sa.CheckConstraint("position >= 1", name="position_positive"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    _election_fk(),
    sa.Column("sequence", sa.Integer(), nullable=False),
    # An audit.events.Action value; not CHECK-constrained so that new actions need no
    # migration. The hash chain covers it, and a verifier refuses an unknown one.
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(ACTOR_MAX), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("recorded_at", sa.String(27), nullable=False),
    sa.Column("hash", sa.LargeBinary(DIGEST_SIZE), nullable=False),
    # One event per place in an election's chain: the chain cannot fork.
    sa.PrimaryKeyConstraint("election_id", "sequence"),
    sa.CheckConstraint("sequence >= 1", name="sequence_positive"),
)

audit_heads = sa.Table(
    "audit_heads",
    metadata,
    # The tip of each election's chain. Appending locks this row, so appends to one
    # election's log queue up instead of racing; it also shows events cut from the end.
    sa.Column(
        "election_id",
        Id,
        sa.ForeignKey("elections.id", ondelete="RESTRICT"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("hash", sa.LargeBinary(DIGEST_SIZE), nullable=False),
    sa.CheckConstraint("sequence >= 0", name="sequence_not_negative"),
)

nomination_papers = sa.Table(
    "nomination_papers",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    _election_fk(),
    sa.Column("contest", sa.String(CONTEST_MAX), nullable=False),
    sa.Column("kind", _enum(NominationKind, "kind"), nullable=False),
    sa.Column("candidate", sa.String(NAME_MAX), nullable=False),
    # The nominator's identifier (an MP's name, a branch's code); NULL on a withdrawal.
    sa.Column("nominator", sa.String(NAME_MAX), nullable=True),
    # When the paper was received (ISO 8601 with offset): papers are judged in this order.
    sa.Column("received_at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(ACTOR_MAX), nullable=False),
    sa.CheckConstraint(
        "(kind = 'nomination') = (nominator IS NOT NULL)", name="nominator_on_nominations"
    ),
    sa.Index("ix_nomination_papers_election_id_contest", "election_id", "contest"),
)

ballot_papers = sa.Table(
    "ballot_papers",
    metadata,
    # The candidates on a contest's ballot, fixed when nominations close (JSON list, ballot
    # order). Voting and counting use this list, not the definition's declared candidates.
    _election_fk(),
    sa.Column("contest", sa.String(CONTEST_MAX), nullable=False),
    sa.Column("candidates", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("election_id", "contest"),
)

declarations = sa.Table(
    "declarations",
    metadata,
    # The declared result (canonical JSON), public once declared; one per election.
    sa.Column(
        "election_id",
        Id,
        sa.ForeignKey("elections.id", ondelete="RESTRICT"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("document", sa.Text(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("declared_at", sa.String(27), nullable=False),
    sa.CheckConstraint("length(sha256) = 64", name="sha256_hex"),
)

declaration_files = sa.Table(
    "declaration_files",
    metadata,
    # Downloads published with the declaration: results CSV, RCTab-format reports, the
    # anonymised cast vote records in random order (BLT, CDF JSON).
    sa.Column(
        "election_id",
        Id,
        sa.ForeignKey("declarations.election_id", ondelete="RESTRICT"),
        nullable=False,
    ),
    sa.Column("name", sa.String(LABEL_MAX), nullable=False),
    sa.Column("media_type", sa.String(LABEL_MAX), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("election_id", "name"),
)

console_users = sa.Table(
    "console_users",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(NAME_MAX), nullable=False, unique=True),
    # argon2id hash in PHC string form; the password is never stored.
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("role", _enum(ConsoleRole, "role"), nullable=False),
    sa.Column("created_at", sa.String(27), nullable=False),
    sa.CheckConstraint("length(username) > 0", name="username_not_empty"),
)

# Failed attempts per budget and key in fixed windows (``bucket`` = seconds since the epoch
# divided by the window), shared by every worker; see tallyroom.services.attempts.
attempt_counts = sa.Table(
    "attempt_counts",
    metadata,
    sa.Column("budget", sa.String(32), nullable=False),
    sa.Column("key", sa.String(128), nullable=False),
    sa.Column("bucket", sa.BigInteger(), nullable=False),
    sa.Column("n", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("budget", "key", "bucket"),
    sa.CheckConstraint("n >= 0", name="attempts_not_negative"),
)

# A signed-in console session: the cookie carries a random token, the store its SHA-256.
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("user_id", Id, sa.ForeignKey("console_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.String(27), nullable=False),
    sa.Column("expires_at", sa.String(27), nullable=False),
    sa.Index("console_sessions_user", "user_id"),
)

# -- delivery (migration 0006) ----------------------------------------------------------------

register_contacts = sa.Table(
    "register_contacts",
    metadata,
    # A voter's contact details, kept beside the register entry and not in its fields: they
    # are not part of the register's fingerprint, and a new address is not a register change.
    sa.Column("election_id", Id, nullable=False),
    sa.Column("entry_id", Id, nullable=False),
    sa.Column("name", sa.String(NAME_MAX), nullable=True),
    sa.Column("email", sa.String(EMAIL_MAX), nullable=True),
    sa.Column("postal_address", sa.Text(), nullable=True),
    sa.Column("channel", _enum(ContactChannel, "channel"), nullable=True),
    sa.PrimaryKeyConstraint("entry_id"),
    _entry_fk(),
)

delivery_rounds = sa.Table(
    "delivery_rounds",
    metadata,
    # A delivery round: the time a delivery secret exists. Its check value (an HMAC of a fixed
    # message under the secret) refuses a different secret; ``ended_at`` is set when the
    # secret is destroyed.
    _election_fk(),
    sa.Column("round", sa.Integer(), nullable=False),
    sa.Column("secret_check", sa.LargeBinary(DIGEST_SIZE), nullable=False),
    sa.Column("opened_at", sa.String(27), nullable=False),
    sa.Column("ended_at", sa.String(27), nullable=True),
    sa.PrimaryKeyConstraint("election_id", "round"),
    sa.CheckConstraint("round >= 1", name="round_positive"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    # One voter's message in one campaign (credentials, a reminder, a notice): the queue a
    # sender resumes. ``round`` and ``issue_number`` say which credential the message carries.
    sa.Column("election_id", Id, nullable=False),
    sa.Column("campaign", sa.String(LABEL_MAX), nullable=False),
    sa.Column("entry_id", Id, nullable=False),
    sa.Column("channel", _enum(ContactChannel, "channel"), nullable=False),
    sa.Column("round", sa.Integer(), nullable=True),
    sa.Column("issue_number", sa.Integer(), nullable=True),
    sa.Column("state", _enum(DeliveryState, "state"), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("answer", sa.Text(), nullable=True),
    sa.Column("updated_at", sa.String(27), nullable=False),
    sa.PrimaryKeyConstraint("election_id", "campaign", "entry_id"),
    _entry_fk(),
)


tally_parts = sa.Table(
    "tally_parts",
    metadata,
    # A verifiable election's tally, as the trustees published it (services/tally.py): each
    # mixer's stage of a board group (one contest, section, weight and unit) and each
    # decrypting trustee's shares of the last stage's rows, as crypto/tally_encoding.py's
    # bytes, each checked before it is stored and its SHA-256 logged (``tally_part``), so an
    # edited part is seen. ``weight`` and ``unit`` are empty for a group without one
    # (migration 0021).
    _election_fk(),
    sa.Column("contest", sa.Text(), nullable=False),
    sa.Column("section", sa.String(SECTION_MAX), nullable=False),
    sa.Column("weight", sa.String(WEIGHT_MAX), nullable=False, server_default=""),
    sa.Column("unit", sa.String(UNIT_MAX), nullable=False, server_default=""),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("number", sa.Integer(), nullable=False),
    sa.Column("body", sa.LargeBinary(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint(
        "election_id", "contest", "section", "weight", "unit", "kind", "number"
    ),
    sa.CheckConstraint("kind IN ('mix', 'decryption')", name="kind_known"),
    sa.CheckConstraint("number >= 1", name="number_positive"),
)


# -- the trustees' key ceremony (migration 0017) ----------------------------------------------

ceremony_messages = sa.Table(
    "ceremony_messages",
    metadata,
    # One published message of a verifiable election's key ceremony or key drill
    # (services/ceremony.py): its kind, the trustee who sent it (0: the officer's drill
    # challenge and transcript), the trustee it is addressed to or about (0: none), its
    # canonical JSON bytes and their SHA-256. One message per kind, trustee and recipient;
    # each is logged (action ceremony_message or key_drill, check ``ceremony``).
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    _election_fk(),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("trustee", sa.Integer(), nullable=False),
    sa.Column("recipient", sa.Integer(), nullable=False),
    sa.Column("body", sa.LargeBinary(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.UniqueConstraint("election_id", "kind", "trustee", "recipient"),
    sa.CheckConstraint("trustee >= 0 AND recipient >= 0", name="numbers_not_negative"),
    sa.CheckConstraint("length(sha256) = 64", name="sha256_hex"),
)
