"""The one migration chain: it builds exactly the tables the features define, and a database made by
the first version upgrades in place and keeps serving (its rows kept, its events still duplicates)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from bot.app import open_store
from bot.clock import DrivenClock
from bot.events import parse_event
from handlers import FEATURES
from handlers.points.repository import PointsRepository
from rules.config import Config
from storage.base import Base
from storage.migrate import _alembic_config
from tests.conftest import BASIC_CONFIG, T0, FakePlatform, feed


async def test_the_chain_builds_exactly_the_tables_the_features_define(any_db_url: str) -> None:
    store = open_store(any_db_url)
    await store.open()
    try:
        assert {t.name for f in FEATURES for t in f.tables} <= set(Base.metadata.tables)
        diffs = await store._conn.run_sync(  # type: ignore[union-attr]
            lambda conn: compare_metadata(MigrationContext.configure(conn), Base.metadata))
        assert diffs == []
    finally:
        await store.close()


async def test_a_database_of_the_first_version_upgrades_in_place_and_keeps_serving(tmp_path: Path) -> None:
    from bot.app import start_runtime
    from rules.reload import ConfigHolder

    path = tmp_path / "v1.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001")
    engine.dispose()
    con = sqlite3.connect(path)
    day = "2026-03-01 00:00:00.000000"
    con.execute("insert into groups values ('g1', '测试群', ?, ?)", (day, day))
    con.execute("insert into members (group_id, user_id, display_name, first_seen_at, message_count, reminded_on) "
                "values ('g1', 'u1', '小明', '2026-03-01 00:00:00.000000', 7, '2026-03-01')")
    con.execute("insert into events values ('old1', '2026-03-01 00:00:00.000000', 'g1', 'u1', 'text', "
                "'{\"text\": \"你好\"}', '2026-03-01 00:00:00.000000')")
    con.execute("insert into actions values ('old1#0', '2026-03-01 00:00:00.000000', 'old1', 'send', 'keywords/群规', "
                "'g1', null, '{}', '{}', 'sent', '2026-03-01 00:00:01.000000')")
    con.commit()
    con.close()

    platform = FakePlatform()
    clock = DrivenClock(T0)
    rt = await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), f"sqlite+aiosqlite:///{path}", clock,
                             platform, FEATURES)
    try:
        member = await rt.store.members.member("g1", "u1")
        assert member is not None and member.message_count == 7 and member.display_name == "小明"
        assert [r["rule"] for r in await rt.store.audit.audit_of_event("old1")] == ["keywords/群规"]
        old = parse_event({"id": "old1", "ts": T0.isoformat(), "type": "text", "group": "g1", "user": "u1",
                           "text": "群规"})
        checkin = parse_event({"id": "new1", "ts": T0.isoformat(), "type": "text", "group": "g1", "user": "u1",
                               "user_name": "小明", "text": "签到"})
        await feed(rt, clock, old, checkin)
        assert [a.rule for a in platform.sent] == ["checkin"]  # the old event is still a duplicate
        assert platform.sent[0].data["rank"] == 1
        assert await rt.store.repository(PointsRepository).balance("g1", "u1") == 5
    finally:
        await rt.close()
    con = sqlite3.connect(path)
    assert con.execute("select version_num from alembic_version").fetchone()[0] == "0014"
    row = con.execute("select message_count, reminded_on from members where user_id = 'u1'").fetchone()
    assert row == (8, "2026-03-01")
    # the reminder day of the first versions became the welcome feature's own record (migration 0007)
    reminders = con.execute("select group_id, user_id, first_on, count, open from rename_reminders").fetchall()
    assert reminders == [("g1", "u1", "2026-03-01", 1, 1)]
    con.close()


def test_a_new_or_current_database_opens_without_loading_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    from storage.migrate import chain_head, head_revision

    assert chain_head() == head_revision()  # the files read without Alembic name the same head
    script = (
        "import asyncio, sys\n"
        "from bot.app import open_store\n"
        "async def main(url):\n"
        "    store = open_store(url)\n"
        "    await store.open()\n"
        "    await store.close()\n"
        f"url = 'sqlite+aiosqlite:///{tmp_path / 'x.db'}'\n"
        "asyncio.run(main(url))\n"
        "first = 'alembic' in sys.modules\n"
        "asyncio.run(main(url))\n"
        "print(first, 'alembic' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]  # a new file is created from the tables; a current one read


async def test_a_new_sqlite_file_gets_the_very_schema_the_chain_builds(tmp_path: Path) -> None:
    import re

    from storage import dialect, migrate

    chained = dialect.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'chain.db'}")
    async with chained.begin() as conn:
        await conn.run_sync(migrate.upgrade_sync)  # Alembic's upgrade, revision by revision
    await chained.dispose()
    created = dialect.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    await migrate.upgrade(created)  # a file with no table: created from the declared tables and stamped
    await created.dispose()

    def schema(path: Path) -> dict[tuple[str, str], str]:
        con = sqlite3.connect(path)
        try:
            found = con.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
            version = con.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            con.close()
        flat = {(t, n): re.sub(r"\s*([(),])\s*", r"\1", " ".join((sql or "").replace('"', "").split()))
                for t, n, sql in found}
        return {**flat, ("version", ""): str(version)}

    assert schema(tmp_path / "new.db") == schema(tmp_path / "chain.db")
