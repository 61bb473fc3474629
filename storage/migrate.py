"""Bring a database to the newest schema with Alembic (run at start-up, and by `qunbot migrate`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def _alembic_config(connection: Connection) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade_sync(connection: Connection, on_revision: Callable[[str], None] | None = None) -> None:
    """Upgrade to head on an open connection; `on_revision(id)` after each revision applied."""
    cfg = _alembic_config(connection)
    if on_revision is not None:  # storage/migrations/env.py hands it to Alembic
        cfg.attributes["on_version_apply"] = lambda *, step, **_: on_revision(step.up_revision_id)
    command.upgrade(cfg, "head")


async def upgrade(engine: AsyncEngine, on_revision: Callable[[str], None] | None = None) -> None:
    """Upgrade the database behind `engine` to the newest revision."""
    async with engine.begin() as conn:
        await conn.run_sync(upgrade_sync, on_revision)


def head_revision() -> str:
    """The newest revision of the chain."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def pending_sync(connection: Connection) -> tuple[str | None, list[str]]:
    """The database's revision (None: none yet) and the revisions an upgrade would apply, oldest first."""
    current = MigrationContext.configure(connection).get_current_revision()
    script = ScriptDirectory.from_config(_alembic_config(connection))
    return current, [s.revision for s in reversed(list(script.iterate_revisions("heads", current or "base")))]
