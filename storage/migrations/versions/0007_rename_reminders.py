"""Rename reminders in a table of the welcome feature's own (count and days), filled from the members'
reminder days so far (each counts as one reminder still open). members.reminded_on is no longer written.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rename_reminders",
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("first_on", sa.String(10), nullable=False),
        sa.Column("last_on", sa.String(10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_rename_reminders"),
        if_not_exists=True,
    )
    op.execute("INSERT INTO rename_reminders (group_id, user_id, first_on, last_on, count, open) "
               "SELECT group_id, user_id, reminded_on, reminded_on, 1, 1 FROM members "
               "WHERE reminded_on IS NOT NULL AND reminded_on != '' "
               "AND NOT EXISTS (SELECT 1 FROM rename_reminders r WHERE r.group_id = members.group_id "
               "AND r.user_id = members.user_id)")


def downgrade() -> None:
    op.drop_table("rename_reminders")
