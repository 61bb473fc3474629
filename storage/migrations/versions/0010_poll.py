"""The poll feature's tables: polls (options, deadline, result) and every vote (replaced ones kept).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("title", sa.String(128), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("deadline_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("closed_by", sa.String(128)),
        sa.Column("counts", sa.JSON()),
        sa.Column("winner", sa.String(128)),
        sa.PrimaryKeyConstraint("id", name="pk_polls"),
        if_not_exists=True,
    )
    op.create_index("ix_polls_group_status", "polls", ["group_id", "status"], if_not_exists=True)
    op.create_table(
        "poll_votes",
        sa.Column("event_id", sa.String(256), nullable=False),
        sa.Column("poll_id", sa.String(256), nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=False),
        sa.Column("option", sa.String(128), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("replaced_by", sa.String(256)),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_poll_votes"),
        if_not_exists=True,
    )
    op.create_index("ix_poll_votes_poll_user", "poll_votes", ["poll_id", "user_id"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_poll_votes_poll_user", table_name="poll_votes")
    op.drop_table("poll_votes")
    op.drop_index("ix_polls_group_status", table_name="polls")
    op.drop_table("polls")
