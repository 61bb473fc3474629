"""The red_packet feature's queue: red packets waiting for the group's merged thank-you (one row per
red packet, deleted when the thanks is made). The 红包榜 counts come from the shared events table.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "red_packet_queue",
        sa.Column("event_id", sa.String(256), nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("user_name", sa.String(256)),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_red_packet_queue"),
    )
    op.create_index("ix_red_packet_queue_group_queued", "red_packet_queue", ["group_id", "queued_at"])


def downgrade() -> None:
    op.drop_index("ix_red_packet_queue_group_queued", table_name="red_packet_queue")
    op.drop_table("red_packet_queue")
