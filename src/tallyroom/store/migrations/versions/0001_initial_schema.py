"""Initial schema: elections, register, credentials, postal batches, casts, ballots, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Ids are BIGINT on PostgreSQL; on SQLite only "INTEGER PRIMARY KEY" autoincrements.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


STATES = (
    "draft",
    "register_frozen",
    "nominations_closed",
    "credentials_issued",
    "open",
    "closed",
    "counted",
    "declared",
)


def _election_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["election_id"],
        ["elections.id"],
        name=op.f(f"fk_{table}_election_id_elections"),
        ondelete="RESTRICT",
    )


def _entry_fk(table: str) -> sa.ForeignKeyConstraint:
    # The row's election is its register entry's (one composite key, checked once per row).
    return sa.ForeignKeyConstraint(
        ["election_id", "entry_id"],
        ["register_entries.election_id", "register_entries.id"],
        name=op.f(f"fk_{table}_election_id_register_entries"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    op.create_table(
        "elections",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("definition_sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(18), nullable=False),
        sa.Column("credential_key_check", sa.LargeBinary(32), nullable=True),
        sa.Column("ballot_public_key", sa.LargeBinary(32), nullable=True),
        sa.CheckConstraint(_one_of("state", STATES), name=op.f("ck_elections_state")),
        sa.CheckConstraint(
            "length(definition_sha256) = 64", name=op.f("ck_elections_definition_sha256_hex")
        ),
        sa.CheckConstraint("length(slug) > 0", name=op.f("ck_elections_slug_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_elections")),
        sa.UniqueConstraint("slug", name=op.f("uq_elections_slug")),
    )
    op.create_table(
        "register_entries",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("election_id", ID, nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=True),
        sa.Column("eligibility_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "length(person_id) > 0", name=op.f("ck_register_entries_person_id_not_empty")
        ),
        _election_fk("register_entries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_entries")),
        sa.UniqueConstraint(
            "election_id", "person_id", name=op.f("uq_register_entries_election_id_person_id")
        ),
        sa.UniqueConstraint("election_id", "id", name=op.f("uq_register_entries_election_id_id")),
    )
    op.create_table(
        "register_changes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("election_id", ID, nullable=False),
        sa.Column("entry_id", ID, nullable=False),
        sa.Column("kind", sa.String(11), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("audit_sequence", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            _one_of("kind", ("add", "amend", "eligibility")),
            name=op.f("ck_register_changes_kind"),
        ),
        sa.CheckConstraint("length(actor) > 0", name=op.f("ck_register_changes_actor_given")),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_register_changes_reason_given")),
        _entry_fk("register_changes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_changes")),
    )
    op.create_index(op.f("ix_register_changes_entry_id"), "register_changes", ["entry_id"])
    op.create_table(
        "credentials",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("election_id", ID, nullable=False),
        sa.Column("entry_id", ID, nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("credential_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("status", sa.String(7), nullable=False),
        sa.CheckConstraint(
            _one_of("status", ("issued", "revoked")), name=op.f("ck_credentials_status")
        ),
        sa.CheckConstraint("issue_number >= 1", name=op.f("ck_credentials_issue_number_positive")),
        _entry_fk("credentials"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("credential_hash", name=op.f("uq_credentials_credential_hash")),
        sa.UniqueConstraint(
            "entry_id", "issue_number", name=op.f("uq_credentials_entry_id_issue_number")
        ),
        sa.UniqueConstraint("id", "entry_id", name=op.f("uq_credentials_id_entry_id")),
    )
    op.create_index(
        "uq_credentials_entry_id_issued",
        "credentials",
        ["entry_id"],
        unique=True,
        sqlite_where=sa.text("status = 'issued'"),
        postgresql_where=sa.text("status = 'issued'"),
    )
    op.create_table(
        "postal_batches",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("election_id", ID, nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("declared_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(6), nullable=False),
        sa.CheckConstraint(
            _one_of("status", ("open", "sealed")), name=op.f("ck_postal_batches_status")
        ),
        sa.CheckConstraint(
            "declared_count >= 0", name=op.f("ck_postal_batches_declared_count_not_negative")
        ),
        _election_fk("postal_batches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postal_batches")),
        sa.UniqueConstraint(
            "election_id", "label", name=op.f("uq_postal_batches_election_id_label")
        ),
    )
    op.create_table(
        "ballot_casts",
        sa.Column("credential_id", ID, nullable=False),
        sa.Column("entry_id", ID, nullable=False),
        sa.Column("contest", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(6), nullable=False),
        sa.Column("postal_batch_id", ID, nullable=True),
        sa.CheckConstraint(
            _one_of("channel", ("online", "postal")), name=op.f("ck_ballot_casts_channel")
        ),
        sa.CheckConstraint(
            "(channel = 'postal') = (postal_batch_id IS NOT NULL)",
            name=op.f("ck_ballot_casts_postal_has_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["credential_id", "entry_id"],
            ["credentials.id", "credentials.entry_id"],
            name=op.f("fk_ballot_casts_credential_id_credentials"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["postal_batch_id"],
            ["postal_batches.id"],
            name=op.f("fk_ballot_casts_postal_batch_id_postal_batches"),
            ondelete="RESTRICT",
        ),
        # The UNIQUE(credential_id, contest) behind "one ballot per credential per contest",
        # and "one per voter per contest" across reissued credentials.
        sa.PrimaryKeyConstraint("credential_id", "contest", name=op.f("pk_ballot_casts")),
        sa.UniqueConstraint("entry_id", "contest", name=op.f("uq_ballot_casts_entry_id_contest")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_ballot_casts_postal_batch_id"), "ballot_casts", ["postal_batch_id"])
    op.create_table(
        "ballots",
        sa.Column("id", sa.LargeBinary(16), nullable=False),
        sa.Column("election_id", ID, nullable=False),
        sa.Column("contest", sa.String(64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("receipt", sa.LargeBinary(32), nullable=False),
        sa.CheckConstraint("length(id) = 16", name=op.f("ck_ballots_id_size")),
        _election_fk("ballots"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballots")),
        sa.UniqueConstraint("receipt", name=op.f("uq_ballots_receipt")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_ballots_election_id_contest", "ballots", ["election_id", "contest"])
    op.create_table(
        "audit_events",
        sa.Column("election_id", ID, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.String(27), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.CheckConstraint("sequence >= 1", name=op.f("ck_audit_events_sequence_positive")),
        _election_fk("audit_events"),
        sa.PrimaryKeyConstraint("election_id", "sequence", name=op.f("pk_audit_events")),
    )
    op.create_table(
        "audit_heads",
        sa.Column("election_id", ID, autoincrement=False, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.CheckConstraint("sequence >= 0", name=op.f("ck_audit_heads_sequence_not_negative")),
        _election_fk("audit_heads"),
        sa.PrimaryKeyConstraint("election_id", name=op.f("pk_audit_heads")),
    )


def downgrade() -> None:
    for table in (
        "audit_heads",
        "audit_events",
        "ballots",
        "ballot_casts",
        "postal_batches",
        "credentials",
        "register_changes",
        "register_entries",
        "elections",
    ):
        op.drop_table(table)
