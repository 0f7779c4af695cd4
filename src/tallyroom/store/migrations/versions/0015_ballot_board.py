"""The public ballot board: each ballot's position and the chain's link there.

Revision ID: 0015
Revises: 0006
Create Date: 2026-12-05

``board_links`` gives a ballot (by its receipt) a position on the election's board and the
hash chain's link at that position (tallyroom.audit.board). Rows are added when the service
extends the board; nothing is filled in for ballots already cast: a board starts when it is
first extended.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "board_links",
        sa.Column("election_id", ID, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("receipt", sa.LargeBinary(32), nullable=False),
        sa.Column("link", sa.LargeBinary(32), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_board_links_position_positive")),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_board_links_election_id_elections"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["receipt"],
            ["ballots.receipt"],
            name=op.f("fk_board_links_receipt_ballots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("election_id", "position", name=op.f("pk_board_links")),
        sa.UniqueConstraint("receipt", name=op.f("uq_board_links_receipt")),
    )


def downgrade() -> None:
    op.drop_table("board_links")
