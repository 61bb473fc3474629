"""Ad policing: offences (warnings, excused by a red packet) and owners' labelled samples.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ad_offences",
        sa.Column("event_id", sa.String(256), nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("check", sa.String(64), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("excused_by", sa.String(256)),
        sa.PrimaryKeyConstraint("event_id", name="pk_ad_offences"),
    )
    op.create_index("ix_ad_offences_member_ts", "ad_offences", ["group_id", "user_id", "ts"])
    op.create_table(
        "ad_samples",
        sa.Column("event_id", sa.String(256), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.String(8), nullable=False),
        sa.Column("group_id", sa.String(128)),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_ad_samples"),
    )


def downgrade() -> None:
    op.drop_table("ad_samples")
    op.drop_table("ad_offences")
