"""Levels: the highest level announced to a member (a level is announced once).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("points_balances") as batch:
        batch.add_column(sa.Column("top_level", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("points_balances") as batch:
        batch.drop_column("top_level")
