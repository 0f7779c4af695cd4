"""A tally part's board group is keyed by weight and unit too: ``tally_parts.weight, unit``.

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-06

A verifiable election's board is cut into groups of one contest, section, weight and unit
(services/tally.py), so that a weighted election and a contest counted by unit can take the
verifiable path: each decrypted ballot keeps its group's weight and unit. Both columns are
empty for a group without one (every group stored before this revision), and both join the
primary key, so two groups of one contest and section each have their own stages and shares.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None

_OLD = ["election_id", "contest", "section", "kind", "number"]
_NEW = ["election_id", "contest", "section", "weight", "unit", "kind", "number"]


def upgrade() -> None:
    with op.batch_alter_table("tally_parts") as batch:
        batch.add_column(sa.Column("weight", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("unit", sa.String(64), nullable=False, server_default=""))
        batch.drop_constraint("pk_tally_parts", type_="primary")
        batch.create_primary_key("pk_tally_parts", _NEW)


def downgrade() -> None:
    with op.batch_alter_table("tally_parts") as batch:
        batch.drop_constraint("pk_tally_parts", type_="primary")
        batch.drop_column("unit")
        batch.drop_column("weight")
        batch.create_primary_key("pk_tally_parts", _OLD)
