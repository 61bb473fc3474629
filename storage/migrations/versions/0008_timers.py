"""Timers that handlers set (the shared `timers` table: pending until they fire, so a restart schedules
them again) and the welcome feature's queue of members to welcome or remind in its next message.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timers",
        sa.Column("feature", sa.String(64), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("feature", "key", name="pk_timers"),
        if_not_exists=True,
    )
    op.create_table(
        "welcome_queue",
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("user_name", sa.String(256)),
        sa.Column("welcome", sa.Integer(), nullable=False),
        sa.Column("remind", sa.Integer(), nullable=False),
        sa.Column("inviter", sa.String(128)),
        sa.Column("event_id", sa.String(256), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_welcome_queue"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("welcome_queue")
    op.drop_table("timers")
