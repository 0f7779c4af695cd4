"""Nomination papers, fixed ballot papers, stored declarations and downloads, console users.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

* ``nomination_papers``: every nomination and withdrawal as received (the nomination book
  is rebuilt from them in order, so an invalid paper is kept, never dropped);
* ``ballot_papers``: the candidates each contest's ballot carries once nominations close;
* ``declarations`` and ``declaration_files``: the declared result and its public downloads
  (results CSV, RCTab reports, the anonymised cast vote records), served after declaration;
* ``console_users``: the web console's accounts (argon2id hashes) and their roles.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _election_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["election_id"],
        ["elections.id"],
        name=op.f(f"fk_{table}_election_id_elections"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    op.create_table(
        "nomination_papers",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("election_id", ID, nullable=False),
        sa.Column("contest", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("candidate", sa.String(200), nullable=False),
        sa.Column("nominator", sa.String(200), nullable=True),
        sa.Column("received_at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.CheckConstraint(
            _one_of("kind", ("nomination", "withdrawal")), name=op.f("ck_nomination_papers_kind")
        ),
        sa.CheckConstraint(
            "(kind = 'nomination') = (nominator IS NOT NULL)",
            name=op.f("ck_nomination_papers_nominator_on_nominations"),
        ),
        _election_fk("nomination_papers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nomination_papers")),
    )
    op.create_index(
        "ix_nomination_papers_election_id_contest",
        "nomination_papers",
        ["election_id", "contest"],
    )
    op.create_table(
        "ballot_papers",
        sa.Column("election_id", ID, nullable=False),
        sa.Column("contest", sa.String(64), nullable=False),
        sa.Column("candidates", sa.Text(), nullable=False),
        _election_fk("ballot_papers"),
        sa.PrimaryKeyConstraint("election_id", "contest", name=op.f("pk_ballot_papers")),
    )
    op.create_table(
        "declarations",
        sa.Column("election_id", ID, autoincrement=False, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("declared_at", sa.String(27), nullable=False),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_declarations_sha256_hex")),
        _election_fk("declarations"),
        sa.PrimaryKeyConstraint("election_id", name=op.f("pk_declarations")),
    )
    op.create_table(
        "declaration_files",
        sa.Column("election_id", ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["declarations.election_id"],
            name=op.f("fk_declaration_files_election_id_declarations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("election_id", "name", name=op.f("pk_declaration_files")),
    )
    op.create_table(
        "console_users",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(17), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.CheckConstraint(
            _one_of("role", ("returning_officer", "scrutineer", "observer")),
            name=op.f("ck_console_users_role"),
        ),
        sa.CheckConstraint(
            "length(username) > 0", name=op.f("ck_console_users_username_not_empty")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_users")),
        sa.UniqueConstraint("username", name=op.f("uq_console_users_username")),
    )


def downgrade() -> None:
    op.drop_table("console_users")
    op.drop_table("declaration_files")
    op.drop_table("declarations")
    op.drop_table("ballot_papers")
    op.drop_index("ix_nomination_papers_election_id_contest", table_name="nomination_papers")
    op.drop_table("nomination_papers")
