"""Ballots carry their voter's weight (nullable), for weighted votes.

Revision ID: 0010
Revises: 0015
Create Date: 2026-12-05

In an election whose definition declares ``[weights]``, each register entry's ``weight``
field (exact decimal text, kept with the entry's other fields) is stored with the voter's
sealed ballot as the section is: the count weighs each ballot by it, and the ballot box's
digest covers it (``tallyroom.audit.box``). ``NULL`` in an unweighted election. See
``docs/threat-model.md`` for what the column reveals.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("ballots") as batch:
        batch.add_column(sa.Column("weight", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ballots") as batch:
        batch.drop_column("weight")
