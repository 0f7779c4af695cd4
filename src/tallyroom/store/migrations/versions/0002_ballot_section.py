"""Ballots carry their voter's section (nullable), for the declaration's breakdown by section.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

The section is the coarse part of the electorate the voter belongs to (members, affiliated
supporters...). Results by section are published only for sections at least as large as
their ``min_published_size``; see ``docs/threat-model.md`` for what the column reveals.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("ballots") as batch:
        batch.add_column(sa.Column("section", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ballots") as batch:
        batch.drop_column("section")
