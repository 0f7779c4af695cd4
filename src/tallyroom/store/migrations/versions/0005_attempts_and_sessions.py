"""Attempt budgets shared by every web worker, and console sessions kept on the server.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

* ``attempt_counts``: failed attempts (credentials in the booth, console sign-ins) per budget
  and key in fixed windows, incremented atomically by every worker process;
* ``console_sessions``: one row per signed-in console session (the SHA-256 of the random
  token the cookie carries), so that signing out, a password change or removing the user
  ends the session on the server and a copied cookie stops working.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "attempt_counts",
        sa.Column("budget", sa.String(32), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("budget", "key", "bucket"),
        sa.CheckConstraint("n >= 0", name="attempts_not_negative"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            ID,
            sa.ForeignKey("console_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("expires_at", sa.String(27), nullable=False),
    )
    op.create_index("console_sessions_user", "console_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index("console_sessions_user", table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("attempt_counts")
