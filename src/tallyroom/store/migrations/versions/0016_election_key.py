"""The verifiable path's election key: ``elections.election_key``.

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-06

A verifiable election's ballots are encrypted under the key its trustees' ceremony makes
(crypto/dkg.py): the public key and each trustee's verification key, stored here as the
ElectionKey's canonical JSON (crypto/ceremony_messages.py) once the ceremony is finished, and
its SHA-256 recorded in the audit log (``election_key``), so a key swapped in the database is
seen. No secret ever enters the database: each trustee's share stays in their own file.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("elections", sa.Column("election_key", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("elections", "election_key")
