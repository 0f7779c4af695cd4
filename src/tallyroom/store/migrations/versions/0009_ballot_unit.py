"""Ballots of a contest counted by unit carry their voter's unit (nullable).

Revision ID: 0009
Revises: 0010
Create Date: 2026-12-05

A trigger ballot is decided per unit of the register (a branch, an affiliate) and then
across units (``[contests.units]``), so each of its ballots is stored with its voter's unit,
as every ballot is with its voter's section: the unit is coarse, published only for units at
least as large as their section's ``min_published_size``, and nothing links the voter and the
ballot. Ballots of other contests keep ``unit`` NULL. See ``docs/threat-model.md``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("ballots") as batch:
        batch.add_column(sa.Column("unit", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ballots") as batch:
        batch.drop_column("unit")
