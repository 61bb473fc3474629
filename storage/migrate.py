"""Bring a database to the newest schema with Alembic (run at start-up, and by `qunbot migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def _alembic_config(connection: Connection) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade_sync(connection: Connection) -> None:
    """Upgrade to head on an open connection."""
    command.upgrade(_alembic_config(connection), "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Upgrade the database behind `engine` to the newest revision."""
    async with engine.begin() as conn:
        await conn.run_sync(upgrade_sync)
