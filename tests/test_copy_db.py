"""`qunbot copy-db`: SQLite -> PostgreSQL -> SQLite gives the same bytes back, an interrupted copy goes on
where it stopped, a database that is not a copy is refused, and the counts are checked at the end."""

from __future__ import annotations

import asyncio
import io
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import handlers  # noqa: F401  (every feature's tables on Base.metadata)
from bot.adapters.replay import replay
from bot.app import start_runtime
from bot.clock import DrivenClock
from bot.events import parse_event
from handlers import FEATURES
from rules.config import Config
from rules.reload import ConfigHolder
from storage.base import Base
from storage.copy import CopyRefused, copy_database
from storage.dialect import make_engine
from tests.conftest import BASIC_CONFIG, ROOT, FakePlatform, feed

QUNBOT = [sys.executable, "-m", "bot.cli"]
SUMMARY = re.compile(r"^copy-db: (\d+) rows copied, (\d+) already in TO, (.+), schema \w+, [\d.]+ s$", re.M)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database with real data: two groups' four days replayed (chat, check-ins, points, ads, red
    packets, joins, the daily jobs), plus rows with odd values the bot may store: JSON null beside SQL
    NULL, microseconds, texts with quotes, emoji and line breaks, a timer's nested JSON."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from demo_world import build
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    db = tmp_path_factory.mktemp("world") / "world.db"
    asyncio.run(build(db, groups=2, days=4))
    con = sqlite3.connect(db)
    con.execute("insert into timers values ('poll', 'poll:g1', 'end', '2099-11-05 01:02:03.456789', "
                "'{\"group\":\"g1\",\"names\":[\"阿强\",\"🌸\"],\"n\":null,\"x\":1.5}', '2026-11-04 23:59:59.999999')")
    body = {"action": "send", "rule": "keywords/引号", "group": "g1", "text": '他说："好"\n第二行 😀', "data": {}}
    con.execute("insert into actions values ('odd#0', '2026-11-04 12:00:00.000001', null, 'send', 'keywords/引号', "
                "'g1', null, 'null', ?, 'sent', null)", (json.dumps(body, ensure_ascii=False),))
    con.execute("update groups set name = '带''引号''的群\n第二行' where rowid = (select min(rowid) from groups)")
    con.commit()
    con.close()
    return db


def rows_of(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows as stored (values with their SQLite types), in key order."""
    con = sqlite3.connect(db)
    try:
        out = {}
        for table in Base.metadata.sorted_tables:
            keys = ", ".join(c.name for c in table.primary_key.columns)
            out[table.name] = con.execute(f'select * from "{table.name}" order by {keys}').fetchall()
        return out
    finally:
        con.close()


def without_rowid(db: Path) -> set[str]:
    con = sqlite3.connect(db)
    try:
        return {n for n, sql in con.execute("select name, sql from sqlite_master where type = 'table'")
                if sql.rstrip().endswith("WITHOUT ROWID")}
    finally:
        con.close()


async def scalar(url: str, sql: str) -> Any:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    finally:
        await engine.dispose()


def qunbot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QUNBOT, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


async def test_sqlite_to_postgresql_and_back_gives_the_same_bytes_and_the_bot_serves_on_the_copy(
        world: Path, pg_url: str, tmp_path: Path) -> None:
    before = rows_of(world)
    assert len(before["events"]) > 300 and before["checkins"] and before["points_ledger"]
    assert len(before["job_runs"]) > 50 and len(before["members"]) > 50  # keys (text, time) and (text, text)

    there = qunbot("copy-db", str(world), pg_url, cwd=tmp_path)  # the command, as an operator runs it
    assert there.returncode == 0, there.stderr
    total = sum(len(rows) for rows in before.values())
    summary = SUMMARY.search(there.stderr)
    assert summary and summary.groups()[:3] == (str(total), "0", f"counts match in all {len(before)} tables")
    assert re.search(rf"^events\s+{len(before['events'])}\s+{len(before['events'])}$", there.stdout, re.M)
    assert "\r" not in there.stderr  # stderr is not a terminal: no progress bar

    # on PostgreSQL: times as naive UTC timestamps, JSON documents as the text SQLite held
    assert str(await scalar(pg_url, "select due_at from timers where key = 'poll:g1'")) == "2099-11-05 01:02:03.456789"
    assert await scalar(pg_url, "select data::text from timers where key = 'poll:g1'") == \
        '{"group":"g1","names":["阿强","🌸"],"n":null,"x":1.5}'
    assert await scalar(pg_url, "select data::text from actions where id = 'odd#0'") == "null"  # JSON null
    assert await scalar(pg_url, "select count(*) from actions where sent_at is null") > 0

    back = tmp_path / "back.db"
    report = await copy_database(pg_url, sqlite_url(back), batch=50)  # keysets over every kind of key, times too
    assert not report.mismatched and report.copied == total
    assert rows_of(back) == before  # every value, with its type, as it was
    assert without_rowid(back) == without_rowid(world) == {"members", "points_balances"}

    # the copy serves: a check-in appends to the points ledger (the serial id's sequence moved past the copy's)
    clock = DrivenClock()
    rt = await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), pg_url, clock, FakePlatform(), FEATURES)
    try:
        group, user = before["members"][0][:2]
        event = parse_event({"id": "after-copy", "ts": "2026-11-06T08:00:00+08:00", "type": "text", "group": group,
                             "user": user, "user_name": "复制后", "text": "签到"})
        await feed(rt, clock, event)
        assert await rt.store.count("points_ledger") == len(before["points_ledger"]) + 1
    finally:
        await rt.close()


class Interrupt(Exception):
    pass


class StopAfter:
    """Progress that interrupts the copy after `batches` batches were committed (as Ctrl-C or a kill would)."""

    def __init__(self, batches: int) -> None:
        self.left = batches
        self.total = 0
        self.tables: list[str] = []

    def begin(self, rows: int) -> None:
        self.total = rows

    def table(self, name: str) -> None:
        self.tables.append(name)

    def advance(self, rows: int) -> None:
        self.left -= 1
        if self.left == 0:
            raise Interrupt


async def test_an_interrupted_copy_goes_on_where_it_stopped(world: Path, any_db_url: str, tmp_path: Path) -> None:
    before = rows_of(world)
    order = [t.name for t in Base.metadata.sorted_tables]
    stop = sum(-(-len(before[name]) // 100) for name in order[:order.index("events")]) + 2  # in events' 2nd batch
    with pytest.raises(Interrupt):
        await copy_database(sqlite_url(world), any_db_url, batch=100, progress=StopAfter(stop))
    rerun = StopAfter(10**9)
    report = await copy_database(sqlite_url(world), any_db_url, batch=100, progress=rerun)
    # TO held whole batches: the tables before the one interrupted, and 2 batches of events
    tables = [(t.name, t.present, t.source) for t in report.tables]
    stopped = next(i for i, (_name, present, source) in enumerate(tables) if present < source)
    assert all(present == source for _n, present, source in tables[:stopped]), tables
    assert tables[stopped][1] % 100 == 0 and all(present == 0 for _n, present, _s in tables[stopped + 1:]), tables
    assert tables[stopped][:2] == ("events", 200) and sum(-(-present // 100) for _n, present, _s in tables) == stop
    assert rerun.tables[0] == tables[stopped][0]  # the rerun went on in the table it stopped in, after its rows
    assert report.copied == rerun.total == sum(len(rows) for rows in before.values()) - report.present
    assert not report.mismatched
    back = tmp_path / "back.db"  # what TO holds, as SQLite bytes
    if any_db_url.startswith("sqlite"):
        back = Path(any_db_url.removeprefix("sqlite+aiosqlite:///"))
    else:
        await copy_database(any_db_url, sqlite_url(back))
    assert rows_of(back) == before
    again = await copy_database(sqlite_url(world), any_db_url)  # a finished copy: nothing to do, counts agree
    assert again.copied == 0 and not again.mismatched


async def test_a_database_that_is_not_a_copy_of_from_is_refused(world: Path, any_db_url: str, tmp_path: Path) -> None:
    other = tmp_path / "other.db"  # a bot database of its own: a few events in another group
    transcript = tmp_path / "t.jsonl"
    transcript.write_text("".join(json.dumps({"id": f"o{n}", "ts": f"2026-03-02T10:0{n}:00+08:00", "type": "text",
                                              "group": "og", "group_name": "别的群", "user": "u", "user_name": "甲",
                                              "text": "群规"}, ensure_ascii=False) + "\n" for n in range(3)))
    assert await replay(Config.from_file(ROOT / "config.yaml"), transcript, db_url=sqlite_url(other), until=None,
                        out=io.StringIO()) == 0
    await copy_database(sqlite_url(other), any_db_url)
    refused = qunbot("copy-db", str(world), any_db_url, cwd=tmp_path)
    assert refused.returncode == 2
    line = refused.stderr.strip()
    assert "\n" not in line and line.startswith("qunbot copy-db: refused: TO is not empty and is not a partial copy "
                                                "of FROM") and "copy into an empty database" in line
    assert await scalar(any_db_url, "select count(*) from events") == 3  # TO untouched

    with pytest.raises(CopyRefused, match="same database"):
        await copy_database(sqlite_url(world), sqlite_url(world))

    # a partial copy whose FROM changed since: its first rows are no longer FROM's first rows
    partial = tmp_path / "partial.db"
    with pytest.raises(Interrupt):
        await copy_database(sqlite_url(world), sqlite_url(partial), batch=100, progress=StopAfter(2))
    changed = tmp_path / "changed.db"
    con = sqlite3.connect(changed)
    sqlite3.connect(world).backup(con)
    con.execute("update actions set rule = 'changed' where id = (select min(id) from actions)")
    con.commit()
    con.close()
    with pytest.raises(CopyRefused, match=r"not a partial copy of FROM \(table actions"):
        await copy_database(sqlite_url(changed), sqlite_url(partial))


def test_from_must_be_at_the_newest_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from bot.cli import main
    from storage.migrate import _alembic_config

    old = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{old}")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0004")
    engine.dispose()
    assert main(["copy-db", str(old), str(tmp_path / "to.db")]) == 2
    err = capsys.readouterr().err
    assert "FROM is at schema revision 0004" in err and "qunbot migrate --db FROM_URL" in err
    assert not (tmp_path / "to.db").exists()  # refused before TO was opened


def test_the_counts_are_checked_at_the_end(world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from bot import copy_db
    from bot.cli import main

    to = tmp_path / "to.db"
    real = copy_db._Bar.table

    def and_a_writer_on_to(self: Any, name: str) -> None:  # someone else writes into TO during the copy
        if name == "members":
            con = sqlite3.connect(to)
            con.execute("insert into groups values ('intruder', '外人', '2026-01-01 00:00:00.000000', "
                        "'2026-01-01 00:00:00.000000')")
            con.commit()
            con.close()
        real(self, name)

    monkeypatch.setattr(copy_db._Bar, "table", and_a_writer_on_to)
    assert main(["copy-db", str(world), str(to)]) == 1
    out, err = capsys.readouterr()
    groups = len(rows_of(world)["groups"])
    assert re.search(rf"^groups\s+{groups}\s+{groups + 1}  MISMATCH$", out, re.M)
    summary = SUMMARY.search(err)
    assert summary and summary.group(3) == f"COUNTS DIFFER in groups (FROM {groups}, TO {groups + 1})"
