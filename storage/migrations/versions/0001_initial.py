"""The first tables: groups, members, events, actions (audit log and outbox), job_runs.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256)),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_active_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
    )
    op.create_table(
        "members",
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("display_name", sa.String(256)),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("joined_at", UTCDateTime()),
        sa.Column("left_at", UTCDateTime()),
        sa.Column("last_active_at", UTCDateTime()),
        sa.Column("message_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reminded_on", sa.String(10)),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_members"),
    )
    op.create_index("ix_members_group_last_active", "members", ["group_id", "last_active_at"])
    op.create_table(
        "events",
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("group_id", sa.String(128)),
        sa.Column("user_id", sa.String(128)),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_group_ts", "events", ["group_id", "ts"])
    op.create_table(
        "actions",
        sa.Column("id", sa.String(300), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("event_id", sa.String(256)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("group_id", sa.String(128)),
        sa.Column("user_id", sa.String(128)),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_actions"),
    )
    op.create_index("ix_actions_event_id", "actions", ["event_id"])
    op.create_index("ix_actions_status", "actions", ["status"])
    op.create_index("ix_actions_group_rule_ts", "actions", ["group_id", "rule", "ts"])
    op.create_table(
        "job_runs",
        sa.Column("job_id", sa.String(200), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("ran_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("job_id", "due_at", name="pk_job_runs"),
    )


def downgrade() -> None:
    for table in ("job_runs", "actions", "events", "members", "groups"):
        op.drop_table(table)
