"""The points shop: units sold per group and item, and the members' redemptions.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shop_sold",
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "item", name="pk_shop_sold"),
        if_not_exists=True,
    )
    op.create_table(
        "shop_redemptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("took_unit", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(256)),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("decided_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_shop_redemptions"),
        if_not_exists=True,
    )
    op.create_index("ix_shop_redemptions_member_ts", "shop_redemptions", ["group_id", "user_id", "ts"],
                    if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_shop_redemptions_member_ts", table_name="shop_redemptions")
    op.drop_table("shop_redemptions")
    op.drop_table("shop_sold")
