"""Several accounts on one database (bot/fleet/): `group_leases` (which account serves a group, until
when) and `job_claims` (a scheduled job's instant claimed before it runs, per group or as a whole).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_leases",
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("renewed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", name="pk_group_leases"),
    )
    op.create_table(
        "job_claims",
        sa.Column("job_id", sa.String(200), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "due_at", "scope", name="pk_job_claims"),
    )
    op.create_index("ix_job_claims_claimed_at", "job_claims", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_job_claims_claimed_at", table_name="job_claims")
    op.drop_table("job_claims")
    op.drop_table("group_leases")
