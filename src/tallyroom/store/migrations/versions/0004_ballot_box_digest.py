"""The ballot box's digest, kept by every casting transaction (``ballot_box``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Sixteen rows per election (``shard`` 0-15) whose product is the MuHash3072 digest of the
box's ballots and of its casts, with their counts (see ``tallyroom.audit.box``). The upgrade
gives every existing election its rows, the box's digest computed from the ballots and casts
stored at that moment in shard 0 and the empty digest in the others; the function is spelt
out here, as it stood when this revision was written, so the revision keeps its meaning.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SHARDS = 16
P = 2**3072 - 1103717
SIZE = 384


def _h(fields: list[object]) -> int:
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    value = int.from_bytes(hashlib.shake_256(text.encode()).digest(SIZE), "little") % P
    return value or 1


def upgrade() -> None:
    op.create_table(
        "ballot_box",
        sa.Column("election_id", ID, nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("ballots_digest", sa.LargeBinary(SIZE), nullable=False),
        sa.Column("casts_digest", sa.LargeBinary(SIZE), nullable=False),
        sa.Column("ballot_count", sa.BigInteger(), nullable=False),
        sa.Column("cast_count", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            f"shard >= 0 AND shard < {SHARDS}", name=op.f("ck_ballot_box_shard_range")
        ),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_ballot_box_election_id_elections"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("election_id", "shard", name=op.f("pk_ballot_box")),
    )
    conn = op.get_bind()
    box = sa.table(
        "ballot_box",
        sa.column("election_id"),
        sa.column("shard"),
        sa.column("ballots_digest"),
        sa.column("casts_digest"),
        sa.column("ballot_count"),
        sa.column("cast_count"),
    )
    for (election_id,) in conn.execute(sa.text("SELECT id FROM elections")).all():
        ballots, casts, nb, nc = 1, 1, 0, 0
        for contest, section, receipt in conn.execute(
            sa.text("SELECT contest, section, receipt FROM ballots WHERE election_id = :e"),
            {"e": election_id},
        ):
            ballots = ballots * _h(["ballot", contest, section, bytes(receipt).hex()]) % P
            nb += 1
        for cid, entry, contest, channel, batch in conn.execute(
            sa.text(
                "SELECT c.credential_id, c.entry_id, c.contest, c.channel, c.postal_batch_id"
                " FROM ballot_casts c JOIN credentials r ON r.id = c.credential_id"
                " WHERE r.election_id = :e"
            ),
            {"e": election_id},
        ):
            fields = ["cast", int(cid), int(entry), contest, channel]
            casts = casts * _h([*fields, None if batch is None else int(batch)]) % P
            nc += 1
        rows = [
            {
                "election_id": election_id,
                "shard": shard,
                "ballots_digest": (ballots if shard == 0 else 1).to_bytes(SIZE, "little"),
                "casts_digest": (casts if shard == 0 else 1).to_bytes(SIZE, "little"),
                "ballot_count": nb if shard == 0 else 0,
                "cast_count": nc if shard == 0 else 0,
            }
            for shard in range(SHARDS)
        ]
        conn.execute(box.insert(), rows)


def downgrade() -> None:
    op.drop_table("ballot_box")
