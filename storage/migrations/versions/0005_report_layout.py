"""A layout for the reports on big groups:
- the events' (group, time) index also holds type and member, so the purge-list tiers, activity by
  hour, the day's numbers and the anomaly checks count events without reading the rows;
- on SQLite, members and points_balances are stored in key order (WITHOUT ROWID): a group's members
  are one contiguous range and their balances are read in the same order, instead of one lookup per
  member in each table (PostgreSQL is left as it is).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CLUSTERED = ("members", "points_balances")


# Each step may be run again: SQLite's driver commits DDL outside a data-changing statement at once,
# so a start killed midway leaves some steps done while the version still says 0004.


def upgrade() -> None:
    op.create_index("ix_events_group_ts_type_user", "events", ["group_id", "ts", "type", "user_id"],
                    if_not_exists=True)
    op.drop_index("ix_events_group_ts", table_name="events", if_exists=True)
    op.create_index("ix_checkins_group_ts_user", "checkins", ["group_id", "ts", "user_id"], if_not_exists=True)
    if op.get_bind().dialect.name == "sqlite":
        for table in CLUSTERED:
            if not _clustered(table):
                _rebuild(table, " WITHOUT ROWID")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in CLUSTERED:
            if _clustered(table):
                _rebuild(table, "")
    op.drop_index("ix_checkins_group_ts_user", table_name="checkins", if_exists=True)
    op.create_index("ix_events_group_ts", "events", ["group_id", "ts"], if_not_exists=True)
    op.drop_index("ix_events_group_ts_type_user", table_name="events", if_exists=True)


def _clustered(table: str) -> bool:
    ddl = op.get_bind().execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                                {"t": table}).scalar()
    return ddl.rstrip().rstrip(";").endswith("WITHOUT ROWID")


def _rebuild(table: str, suffix: str) -> None:
    """Recreate a SQLite table with the same columns, rows and indexes, its CREATE TABLE ending in
    `suffix` (no foreign key points at these tables)."""
    bind = op.get_bind()
    bind.execute(sa.text(f"DROP TABLE IF EXISTS {table}_new"))  # left by an interrupted run
    ddl = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}).scalar()
    indexes = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
                                   "AND sql IS NOT NULL"), {"t": table}).scalars().all()
    body = ddl.rstrip().rstrip(";").removesuffix(" WITHOUT ROWID")
    # after a rename SQLite keeps the name quoted: CREATE TABLE "members" (...)
    new = re.sub(rf'^CREATE TABLE "?{table}"?', f"CREATE TABLE {table}_new", body, count=1) + suffix
    bind.execute(sa.text(new))
    bind.execute(sa.text(f"INSERT INTO {table}_new SELECT * FROM {table}"))
    bind.execute(sa.text(f"DROP TABLE {table}"))
    bind.execute(sa.text(f"ALTER TABLE {table}_new RENAME TO {table}"))
    for index in indexes:
        bind.execute(sa.text(index))
