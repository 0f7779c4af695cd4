"""Delivering credentials: voters' contact details, delivery rounds and the delivery queue.

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-05

* ``register_contacts``: a register entry's name, email, postal address and preferred
  channel (``email`` or ``post``), read at import from the columns the officer maps;
* ``delivery_rounds``: each time a delivery secret exists (its check value, when it was
  made and when it was destroyed);
* ``deliveries``: one voter's message in one campaign (credentials, reminders, notices)
  with its state (``pending``, ``sent``, ``failed``) and the server's answer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _entry_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["election_id", "entry_id"],
        ["register_entries.election_id", "register_entries.id"],
        name=op.f(f"fk_{table}_election_id_register_entries"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    op.create_table(
        "register_contacts",
        sa.Column("election_id", ID, nullable=False),
        sa.Column("entry_id", ID, autoincrement=False, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("postal_address", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(5), nullable=True),
        sa.CheckConstraint(
            _one_of("channel", ("email", "post")), name=op.f("ck_register_contacts_channel")
        ),
        _entry_fk("register_contacts"),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_register_contacts")),
    )
    op.create_table(
        "delivery_rounds",
        sa.Column("election_id", ID, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("secret_check", sa.LargeBinary(32), nullable=False),
        sa.Column("opened_at", sa.String(27), nullable=False),
        sa.Column("ended_at", sa.String(27), nullable=True),
        sa.CheckConstraint("round >= 1", name=op.f("ck_delivery_rounds_round_positive")),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_delivery_rounds_election_id_elections"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("election_id", "round", name=op.f("pk_delivery_rounds")),
    )
    op.create_table(
        "deliveries",
        sa.Column("election_id", ID, nullable=False),
        sa.Column("campaign", sa.String(100), nullable=False),
        sa.Column("entry_id", ID, nullable=False),
        sa.Column("channel", sa.String(5), nullable=False),
        sa.Column("round", sa.Integer(), nullable=True),
        sa.Column("issue_number", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(7), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.String(27), nullable=False),
        sa.CheckConstraint(
            _one_of("channel", ("email", "post")), name=op.f("ck_deliveries_channel")
        ),
        sa.CheckConstraint(
            _one_of("state", ("pending", "sent", "failed")), name=op.f("ck_deliveries_state")
        ),
        _entry_fk("deliveries"),
        sa.PrimaryKeyConstraint("election_id", "campaign", "entry_id", name=op.f("pk_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("delivery_rounds")
    op.drop_table("register_contacts")
