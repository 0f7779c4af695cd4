"""Where each election's credential key file was written: ``elections.credential_key_path``.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-05

The key itself never enters the database; its absolute path does, at ``credentials issue``
(CLI or console), so that ``serve`` finds the key whatever data folder it was started with
and whichever ``--key-file`` the officer gave (``services/key_files.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("elections", sa.Column("credential_key_path", sa.Text(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later, PostgreSQL): no table rebuild,
    # which the foreign keys pointing at elections would refuse
    op.drop_column("elections", "credential_key_path")
