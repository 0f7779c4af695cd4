"""A verifiable election's tally as the trustees published it: ``tally_parts``.

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-06

Each mixer's stage of each board group (one contest's ballots of one voter section) and each
decrypting trustee's shares of the last stage, as the bytes crypto/tally_encoding.py defines,
with their SHA-256 (also recorded in the audit log's ``tally_part`` events).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tally_parts",
        sa.Column("election_id", ID, nullable=False),
        sa.Column("contest", sa.Text(), nullable=False),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.CheckConstraint("kind IN ('mix', 'decryption')", name=op.f("ck_tally_parts_kind_known")),
        sa.CheckConstraint("number >= 1", name=op.f("ck_tally_parts_number_positive")),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_tally_parts_election_id_elections"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "election_id", "contest", "section", "kind", "number", name=op.f("pk_tally_parts")
        ),
    )


def downgrade() -> None:
    op.drop_table("tally_parts")
