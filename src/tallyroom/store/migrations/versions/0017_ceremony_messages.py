"""The trustees' key ceremony: ``ceremony_messages``.

Revision ID: 0017
Revises: 0019
Create Date: 2026-12-06

Every message a verifiable election's key ceremony and key drill publishes (communication
keys, commitments, sealed shares, complaints, revealed shares, the drill's challenge, its
decryption shares and transcript: crypto/ceremony_messages.py, crypto/drill_messages.py),
checked by services/ceremony.py before it is stored, as its canonical JSON bytes with their
SHA-256. One message per kind, trustee and recipient (0 where there is none). Each stored
message is logged, so ``audit verify`` (check ``ceremony``) sees one edited, deleted or added
in the database. No secret enters the table: shares travel sealed to their recipient.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ceremony_messages",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("election_id", ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("trustee", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "trustee >= 0 AND recipient >= 0",
            name=op.f("ck_ceremony_messages_numbers_not_negative"),
        ),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_ceremony_messages_sha256_hex")),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_ceremony_messages_election_id_elections"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ceremony_messages")),
        sa.UniqueConstraint(
            "election_id",
            "kind",
            "trustee",
            "recipient",
            name=op.f("uq_ceremony_messages_election_id_kind_trustee_recipient"),
        ),
    )


def downgrade() -> None:
    op.drop_table("ceremony_messages")
