"""The lottery feature's tables: draws (pool, seed, winners) and the messages whose ids made each seed.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lottery_draws",
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("wanted", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("pool", sa.JSON(), nullable=False),
        sa.Column("pool_digest", sa.String(64), nullable=False),
        sa.Column("seed_messages", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("seed", sa.String(64)),
        sa.Column("winners", sa.JSON()),
        sa.Column("drawn_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_lottery_draws"),
        if_not_exists=True,
    )
    op.create_index("ix_lottery_draws_group_status", "lottery_draws", ["group_id", "status"], if_not_exists=True)
    op.create_table(
        "lottery_seed_events",
        sa.Column("draw_id", sa.String(256), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(256), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("draw_id", "seq", name="pk_lottery_seed_events"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("lottery_seed_events")
    op.drop_index("ix_lottery_draws_group_status", table_name="lottery_draws")
    op.drop_table("lottery_draws")
