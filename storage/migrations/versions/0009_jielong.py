"""接龙: each group's chains (by title) and their lines.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jielong_chains",
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("title_key", sa.String(64), nullable=False),
        sa.Column("example", sa.String(500)),
        sa.Column("started_by", sa.String(128), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("closed_by", sa.String(128)),
        sa.PrimaryKeyConstraint("id", name="pk_jielong_chains"),
        if_not_exists=True,
    )
    op.create_index("ix_jielong_chains_group_title", "jielong_chains", ["group_id", "title_key"], if_not_exists=True)
    op.create_table(
        "jielong_entries",
        sa.Column("chain_id", sa.String(256), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("pos", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("user_name", sa.String(256)),
        sa.Column("content", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("event_id", sa.String(256)),
        sa.PrimaryKeyConstraint("chain_id", "seq", name="pk_jielong_entries"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("jielong_entries")
    op.drop_index("ix_jielong_chains_group_title", table_name="jielong_chains")
    op.drop_table("jielong_chains")
