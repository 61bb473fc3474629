"""Bring a database to the newest schema with Alembic (run at start-up, and by `qunbot migrate`).

Alembic is imported only when a database is behind: at start-up the database's revision is read with
one query and compared with the head of the chain read from the migration files (11 MB of a running
bot's memory stay free when there is nothing to migrate)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:"([^"]*)"|None)', re.M)


@lru_cache(maxsize=1)
def chain_head() -> str:
    """The newest revision, read from the migration files (the one no other revision comes before)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {key: value for key, value in _REVISION.findall(path.read_text(encoding="utf-8"))}
        if found.get("revision"):
            revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migration chain has {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def current_sync(connection: Connection) -> str | None:
    """The database's revision (None: not migrated yet), without Alembic."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _alembic_config(connection: Connection) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade_sync(connection: Connection, on_revision: Callable[[str], None] | None = None) -> None:
    """Upgrade to head on an open connection; `on_revision(id)` after each revision applied."""
    if current_sync(connection) == chain_head():
        return
    from alembic import command

    cfg = _alembic_config(connection)
    if on_revision is not None:  # storage/migrations/env.py hands it to Alembic
        cfg.attributes["on_version_apply"] = lambda *, step, **_: on_revision(step.up_revision_id)
    command.upgrade(cfg, "head")


async def upgrade(engine: AsyncEngine, on_revision: Callable[[str], None] | None = None) -> None:
    """Upgrade the database behind `engine` to the newest revision (a new SQLite file: see `create_new`)."""
    async with engine.begin() as conn:
        if on_revision is None and engine.dialect.name == "sqlite" and await conn.run_sync(create_new):
            return
        await conn.run_sync(upgrade_sync, on_revision)


def create_new(connection: Connection) -> bool:
    """An SQLite database with no table yet gets the tables of every feature as they are declared, and
    the head revision, without Alembic (tests/test_migrations.py checks that this builds the very schema
    the chain builds). False when the database has tables: the chain upgrades it."""
    if inspect(connection).get_table_names():
        return False
    import handlers  # noqa: F401 - every feature's tables, whatever this process serves
    from storage.base import Base

    Base.metadata.create_all(connection)
    connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
    connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": chain_head()})
    return True


def head_revision() -> str:
    """The newest revision of the chain."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def pending_sync(connection: Connection) -> tuple[str | None, list[str]]:
    """The database's revision (None: none yet) and the revisions an upgrade would apply, oldest first."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    current = MigrationContext.configure(connection).get_current_revision()
    script = ScriptDirectory.from_config(_alembic_config(connection))
    return current, [s.revision for s in reversed(list(script.iterate_revisions("heads", current or "base")))]
