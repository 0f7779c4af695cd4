"""An index on ``ballots (election_id, receipt)``: the public receipts a page at a time.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-05

The public list of receipts is read a page at a time in receipt order (keyset pagination:
``WHERE election_id = ? AND receipt > ? ORDER BY receipt LIMIT n``). Without this index the
database took the election's ballots through ``ix_ballots_election_id_contest`` and sorted
all of them for every page (1.9 s a page at 500,000 ballots on SQLite); with it, a page is
one range scan. A look-up of one receipt already had the unique index on ``receipt``.
"""

from __future__ import annotations

from alembic import op

revision: str = "0008"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_ballots_election_id_receipt"), "ballots", ["election_id", "receipt"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ballots_election_id_receipt"), table_name="ballots")
