"""扣1 (roll call): each roll call an admin opened in a group, and who answered it.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roll_calls",
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("opened_by", sa.String(128), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("text", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_roll_calls"),
        if_not_exists=True,
    )
    op.create_index("ix_roll_calls_group_opened", "roll_calls", ["group_id", "opened_at"], if_not_exists=True)
    op.create_table(
        "roll_call_answers",
        sa.Column("call_id", sa.String(256), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("event_id", sa.String(256)),
        sa.PrimaryKeyConstraint("call_id", "user_id", name="pk_roll_call_answers"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("roll_call_answers")
    op.drop_index("ix_roll_calls_group_opened", table_name="roll_calls")
    op.drop_table("roll_calls")
