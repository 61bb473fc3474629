"""Check-in, points ledger and balances.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("local_date", sa.String(10), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("event_id", sa.String(256)),
        sa.PrimaryKeyConstraint("group_id", "user_id", "local_date", name="pk_checkins"),
        sa.UniqueConstraint("group_id", "local_date", "rank", name="uq_checkins_group_day_rank"),
    )
    op.create_table(
        "checkin_days",
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("local_date", sa.String(10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "local_date", name="pk_checkin_days"),
    )
    op.create_table(
        "points_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("event_id", sa.String(256)),
        sa.Column("actor", sa.String(128)),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_points_ledger"),
    )
    op.create_index("ix_points_ledger_member_ts", "points_ledger", ["group_id", "user_id", "ts"])
    op.create_index("ix_points_ledger_group_ts", "points_ledger", ["group_id", "ts"])
    op.create_table(
        "points_balances",
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("message_day", sa.String(10)),
        sa.Column("message_points", sa.Integer(), nullable=False),
        sa.Column("last_message_award_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_points_balances"),
    )
    op.create_index("ix_points_balances_group_balance", "points_balances", ["group_id", "balance"])


def downgrade() -> None:
    op.drop_table("points_balances")
    op.drop_table("points_ledger")
    op.drop_table("checkin_days")
    op.drop_table("checkins")
