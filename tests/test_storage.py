"""Storage: migrations, member stats, group commit, and no loss when a commit fails."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import open_store
from bot.clock import DrivenClock
from storage.events import EventLog
from tests.conftest import EventFactory, FakePlatform, feed, until


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """The `runtime` fixture of conftest on SQLite and on PostgreSQL in this module (the tests of SQLite's
    own layout and driver open their files themselves)."""
    return any_db_url


async def test_migrations_create_the_tables_with_wal(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store = open_store(f"sqlite+aiosqlite:///{path}")
    await store.open()
    await store.close()
    con = sqlite3.connect(path)
    tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    assert {"groups", "members", "events", "actions", "job_runs", "timers", "ad_offences", "ad_samples",
            "welcome_queue", "alembic_version"} <= tables
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert con.execute("select version_num from alembic_version").fetchone()[0] == "0014"


def test_the_report_layout_migration_keeps_every_row_survives_an_interrupted_run_and_goes_back(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from storage.migrate import _alembic_config

    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0004")
    con = sqlite3.connect(path)
    con.executemany("insert into members (group_id, user_id, display_name, first_seen_at, message_count) "
                    "values (?, ?, ?, '2026-03-01 00:00:00.000000', ?)",
                    [("g", f"u{n}", f"名字{n}", n) for n in range(50)])
    con.executemany("insert into points_balances (group_id, user_id, balance, message_points, updated_at) "
                    "values ('g', ?, ?, 0, '2026-03-01 00:00:00.000000')", [(f"u{n}", n * 2) for n in range(50)])
    con.commit()
    before = [con.execute(f"select * from {t} order by user_id").fetchall() for t in ("members", "points_balances")]
    con.close()

    def layout() -> tuple[list, list, set[str]]:
        con = sqlite3.connect(path)
        try:
            tables = [con.execute(f"select * from {t} order by user_id").fetchall()
                      for t in ("members", "points_balances")]
            ddl = {r[0]: r[1] for r in con.execute("select name, sql from sqlite_master where sql is not null")}
            return tables, [n for n in ddl if n.startswith("ix_")], {n for n, d in ddl.items()
                                                                      if d.endswith("WITHOUT ROWID")}
        finally:
            con.close()

    # what a start killed midway leaves: the indexes built, a half-made copy, the version still 0004
    con = sqlite3.connect(path)
    con.execute("CREATE INDEX ix_events_group_ts_type_user ON events (group_id, ts, type, user_id)")
    con.execute("DROP INDEX ix_events_group_ts")
    con.execute("CREATE TABLE members_new (group_id TEXT, user_id TEXT)")
    con.execute("INSERT INTO members_new VALUES ('g', 'half')")
    con.commit()
    con.close()
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    tables, indexes, clustered = layout()
    assert tables == before and clustered == {"members", "points_balances"}
    assert {"ix_events_group_ts_type_user", "ix_checkins_group_ts_user", "ix_members_group_last_active",
            "ix_points_balances_group_balance"} <= set(indexes) and "ix_events_group_ts" not in indexes
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0004")
    tables, indexes, clustered = layout()
    assert tables == before and not clustered and "ix_events_group_ts" in indexes
    assert "ix_checkins_group_ts_user" not in indexes
    engine.dispose()


async def test_member_stats_follow_joins_messages_and_leaves(runtime, clock: DrivenClock,
                                                            make_event: EventFactory) -> None:
    join = make_event("join", user="u5", user_name="新人")
    talk = [make_event(text="你好", user="u5", user_name="新人-北京") for _ in range(3)]
    leave = make_event("leave", user="u5", user_name="新人-北京")
    await feed(runtime, clock, join, *talk)
    member = await runtime.store.members.member("g1", "u5")
    assert member.message_count == 3 and member.display_name == "新人-北京"
    assert member.joined_at == join.ts and member.left_at is None
    assert member.first_seen_at == join.ts and member.last_active_at == talk[-1].ts
    await feed(runtime, clock, leave)
    member = await runtime.store.members.member("g1", "u5")
    assert member.left_at == leave.ts and member.message_count == 3
    rejoin = make_event("join", user="u5", user_name="新人-北京")
    await feed(runtime, clock, rejoin)
    member = await runtime.store.members.member("g1", "u5")
    assert member.left_at is None and member.joined_at == rejoin.ts


async def test_many_events_share_one_commit_and_act_only_after_it(runtime, clock: DrivenClock,
                                                                 platform: FakePlatform,
                                                                 make_event: EventFactory) -> None:
    for n in range(5):
        event = make_event(text="群规", group=f"g{n}")
        clock.set(event.ts)
        await runtime.bot.process(event)
    assert platform.sent == []  # nothing leaves before the commit that makes it durable
    await runtime.bot.commit()
    assert len(platform.sent) == 5


async def test_a_failed_commit_is_retried_and_loses_nothing(runtime, clock: DrivenClock, platform: FakePlatform,
                                                           make_event: EventFactory,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy.ext.asyncio import AsyncConnection

    store = runtime.store
    real_commit = AsyncConnection.commit
    failures = {"left": 2}

    async def flaky_commit(self: AsyncConnection) -> None:
        if failures["left"] > 0:  # the writes reached the transaction, then the commit fails
            failures["left"] -= 1
            raise sqlite3.OperationalError("database is locked")
        await real_commit(self)

    monkeypatch.setattr(AsyncConnection, "commit", flaky_commit)
    events = [make_event(text="群规", group=f"g{n}") for n in range(3)]
    await feed(runtime, clock, *events)
    assert "database commit failed" in caplog.text
    assert await store.count("events") == 3
    member = await store.members.member("g0", "u1")
    assert member.message_count == 1  # the journal ran again after the rollback, once
    assert len(platform.sent) == 3


async def test_a_database_gone_while_checking_an_event_is_waited_out(runtime, clock: DrivenClock,
                                                                    platform: FakePlatform,
                                                                    make_event: EventFactory,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    real = EventLog.seen_events
    failures = {"left": 2}

    async def flaky(self: EventLog, ids):  # type: ignore[no-untyped-def]
        if failures["left"] > 0:
            failures["left"] -= 1
            raise sqlite3.OperationalError("unable to open database file")
        return await real(self, ids)

    monkeypatch.setattr(EventLog, "seen_events", flaky)
    event = make_event(text="群规")
    await feed(runtime, clock, event)
    assert "database unavailable while checking event" in caplog.text
    assert await runtime.store.count("events") == 1 and len(platform.sent) == 1


async def test_after_a_failed_commit_reads_and_the_retry_count_each_write_once(any_db_url: str) -> None:
    from datetime import UTC, datetime

    store = open_store(any_db_url)
    await store.open()
    ts = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    store.members.note_activity("g1", "群", "u1", "小明", ts, message=True)
    dialect = store.engine.sync_engine.dialect
    real = dialect.do_commit

    def fail_once(connection):  # type: ignore[no-untyped-def]
        dialect.do_commit = real
        raise sqlite3.OperationalError("database is locked")

    dialect.do_commit = fail_once
    with pytest.raises(Exception, match="database is locked"):
        await store.commit()
    member = await store.members.member("g1", "u1")  # before any recover(): no broken transaction, no double write
    assert member is not None and member.message_count == 1
    assert await store.events.seen_events(["nope"]) == set()
    await store.commit()
    await store.close()
    store = open_store(any_db_url)  # what was committed, read back by a new process
    await store.open()
    try:
        member = await store.members.member("g1", "u1")
        assert member is not None and member.message_count == 1 and await store.count("members") == 1
    finally:
        await store.close()


async def table_then_count_trips(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Table t with two rows; from then on the trips to aiosqlite's thread are counted (the list's item)."""
    import aiosqlite
    from sqlalchemy import text

    async with engine.begin() as conn:
        await conn.execute(text("create table t (k integer primary key, v text)"))
        await conn.execute(text("insert into t values (:k, :v)"), [{"k": 1, "v": "一"}, {"k": 2, "v": "二"}])
    trips = [0]
    real = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        trips[0] += 1
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return trips


async def test_a_sqlite_statement_is_one_trip_to_the_driver_thread_and_errors_stay_sqlalchemy_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from storage import dialect, sqlite_onehop

    assert sqlite_onehop.dbapi() is not None, "the pinned SQLAlchemy/aiosqlite should take the one-trip cursor"
    engine = dialect.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    try:
        trips = await table_then_count_trips(engine, monkeypatch)
        async with engine.connect() as conn:
            trips[0] = 0
            rows = (await conn.execute(text("select k, v from t order by k"))).all()
            assert rows == [(1, "一"), (2, "二")] and trips == [1]
            trips[0] = 0
            back = (await conn.execute(text("update t set v = v || '!' where k = 2 returning v"))).all()
            assert back == [("二!",)] and trips == [1]
            many = await conn.execute(text("update t set v = :v where k = :k"),
                                      [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}])
            assert many.rowcount == 2
            with pytest.raises(IntegrityError):
                await conn.execute(text("insert into t values (1, 'dup')"))
    finally:
        await engine.dispose()


async def test_an_inline_sqlite_engine_runs_statements_on_the_calling_thread_with_no_trip(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from storage import dialect, sqlite_onehop

    assert sqlite_onehop.dbapi(inline=True) is not None
    engine = dialect.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}", inline=True)
    threads: list[int] = []
    try:
        trips = await table_then_count_trips(engine, monkeypatch)
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            raw.driver_connection._conn.create_function("here", 0, lambda: threads.append(threading.get_ident()) or 1)
            trips[0] = 0
            rows = (await conn.execute(text("select k, v, here() from t order by k"))).all()
            assert rows == [(1, "一", 1), (2, "二", 1)] and trips == [0]
            assert set(threads) == {threading.get_ident()}  # SQLite ran on this thread
            back = (await conn.execute(text("update t set v = v || '!' where k = 2 returning v"))).all()
            assert back == [("二!",)] and trips == [0]
            with pytest.raises(IntegrityError):
                await conn.execute(text("insert into t values (1, 'dup')"))
            await conn.commit()  # commits still go through aiosqlite's thread
        async with engine.connect() as conn:
            assert (await conn.execute(text("select v from t where k = 2"))).scalar() == "二!"
    finally:
        await engine.dispose()


@pytest.mark.parametrize("inline", [False, True])
async def test_a_group_of_journal_writes_is_one_trip_to_the_driver_and_a_failure_in_it_undoes_it_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inline: bool) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from storage import dialect

    engine = dialect.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}", inline=inline)
    try:
        trips = await table_then_count_trips(engine, monkeypatch)
        insert, update = "insert into t (k, v) values (?, ?)", "update t set v = ? where k = ?"
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
            trips[0] = 0
            await dialect.execute_driver(conn, [(insert, [(3, "三"), (4, "四")]), (update, [("一!", 1)])])
            assert trips == [0 if inline else 1]
            await conn.commit()
            with pytest.raises(IntegrityError):  # the second statement fails: a SQLAlchemy error, as for one statement
                await dialect.execute_driver(conn, [(update, [("x", 2)]), (insert, [(5, "五"), (1, "dup")])])
            await conn.rollback()
        async with engine.connect() as conn:
            rows = (await conn.execute(text("select k, v from t order by k"))).all()
        assert rows == [(1, "一!"), (2, "二"), (3, "三"), (4, "四")]  # nothing of the failed group stayed
    finally:
        await engine.dispose()


async def test_writes_sealed_while_a_flush_is_under_way_are_written_too(tmp_path: Path) -> None:
    """A repository seals its rows without the journal's lock (a roster does), so a flush in progress may
    find more entries when its statements come back: it writes them too (one roster's members were lost)."""
    from datetime import UTC, datetime

    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'seal.db'}")
    await store.open()
    ts = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    try:
        real, calls = store._execute, {"n": 0}

        async def roster_meanwhile(entries):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 1:  # another group's roster arrives while the first flush is on its way
                await store.members.sync_roster("g2", "二群", [("u3", "丙")], ts, complete=False)
            await real(entries)

        store._execute = roster_meanwhile  # type: ignore[method-assign]
        await store.members.sync_roster("g1", "一群", [("u1", "甲"), ("u2", "乙")], ts, complete=True)
        store._execute = real  # type: ignore[method-assign]
        await store.commit()
        assert [u for u, _name in await store.members.roster("g2")] == ["u3"]
        assert sorted(u for u, _name in await store.members.roster("g1")) == ["u1", "u2"]
    finally:
        await store.close()


async def test_job_runs_are_known_without_a_query_after_the_mark_and_by_a_new_process(any_db_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from storage import audit

    t0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    store = open_store(any_db_url)
    await store.open()
    try:
        assert not await store.audit.job_ran("purge:21:30", t0)
        store.audit.record_job_run("purge:21:30", t0, t0)
        assert await store.audit.job_ran("purge:21:30", t0)  # this process ran it: no query needed
        assert not await store.audit.job_ran("purge:21:30", t0 + timedelta(days=1))
        await store.commit()
    finally:
        await store.close()
    store = open_store(any_db_url)  # a new process: runs up to the stored mark are asked of the database
    await store.open()
    try:
        assert await store.audit.job_ran("purge:21:30", t0)
        assert not await store.audit.job_ran("stats:22:00", t0)
        assert not await store.audit.job_ran("purge:21:30", t0 + timedelta(days=1))
        # past the cap of remembered runs the mark moves on and older runs are read back from the database
        for n in range(audit.MAX_RUNS_KEPT + 1):
            store.audit.record_job_run("timer:x", t0 + timedelta(days=2, seconds=n), t0)
        assert await store.audit.job_ran("timer:x", t0 + timedelta(days=2, seconds=5))
        assert len(store.audit._ran) == 1
    finally:
        await store.close()


async def test_group_names_come_from_memory_and_the_database_for_the_rest(any_db_url: str) -> None:
    from datetime import UTC, datetime

    ts = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    store = open_store(any_db_url)
    await store.open()
    try:
        store.members.note_activity("g1", "老名字", "u1", "小明", ts, message=True)
        store.members.note_activity("g1", "新名字", "u1", "小明", ts, message=True)
        store.members.note_activity("g2", None, "u2", "小红", ts, message=True)
        await store.commit()
        assert await store.members.group_names(["g1", "g2", "gx"]) == {"g1": "新名字", "g2": None, "gx": None}
    finally:
        await store.close()
    store = open_store(any_db_url)
    await store.open()
    try:
        assert await store.members.group_names(["g1"]) == {"g1": "新名字"}
        store.members.note_activity("g1", None, "u1", "小明", ts, message=True)  # no name: the known one stays
        assert await store.members.group_names(["g1"]) == {"g1": "新名字"}
    finally:
        await store.close()


async def test_on_a_new_database_seen_ids_are_answered_by_a_filter_and_only_its_hits_are_asked(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from storage.events import IdFilter

    ids = IdFilter()
    for n in range(20_000):
        ids.add(f"e{n}")
    assert all(f"e{n}" in ids for n in range(20_000))
    assert sum(f"x{n}" in ids for n in range(20_000)) < 20  # false positives: well under 0.1% here
    assert len(ids._bits) == 2 * 1024 * 1024  # the same 2 MB for a million ids

    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")
    await store.open()
    try:
        ts = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
        for n in range(3):
            store.events.record_event(f"e{n}", ts, "g1", "u1", "text", {"text": "x"}, ts)
        assert await store.events.seen_events(["e0", "e9"]) == {"e0"}  # pending
        await store.commit()
        assert await store.events.seen_events(["e1", "e2", "e7", "e8"]) == {"e1", "e2"}  # committed
    finally:
        await store.close()


async def test_presence_from_memory_follows_joins_leaves_messages_and_the_roster_as_the_table_does(
        any_db_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from storage.presence import Presence

    t0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    people = [("g1", f"u{n}") for n in range(6)] + [("g2", "u0")]

    async def stored(store, group: str, user: str) -> Presence | None:  # type: ignore[no-untyped-def]
        member = await store.members.member(group, user)
        return Presence.of(member)

    async def same(store) -> None:  # type: ignore[no-untyped-def]
        for group, user in people:
            assert await store.members.presence(group, user) == await stored(store, group, user), (group, user)

    store = open_store(any_db_url)
    await store.open()
    try:
        m = store.members
        m.note_activity("g1", "群", "u0", "a", t0, message=False, joined=True)
        m.note_activity("g1", "群", "u1", "b", t0, message=True)
        m.note_activity("g1", "群", "u2", "c", t0, message=False, left=True)
        m.note_activity("g1", "群", "u0", "a", t0 + timedelta(minutes=1), message=False, left=True)
        m.note_activity("g1", "群", "u0", "a2", t0 + timedelta(minutes=2), message=True)  # left: stays left
        m.note_activity("g2", "群2", "u0", "a", t0, message=False, joined=True)
        await m.sync_roster("g1", "群", [("u3", "d"), ("u1", "b")], t0 + timedelta(minutes=3), complete=True)
        await same(store)
        store.events.record_event("e1", t0, "g1", "u1", "text", {"text": "在吗"}, t0)  # the members came with events
        await store.commit()
        await same(store)
    finally:
        await store.close()
    store = open_store(any_db_url)  # a database with rows: misses are read, then followed
    await store.open()
    try:
        m = store.members
        m.note_activity("g1", "群", "u4", "e", t0 + timedelta(hours=1), message=True)
        m.note_activity("g1", "群", "u3", "d", t0 + timedelta(hours=1), message=False, joined=True)
        await same(store)
        m.note_activity("g1", "群", "u1", "b", t0 + timedelta(hours=2), message=False, left=True)
        m.note_activity("g1", "群", "u5", "f", t0 + timedelta(hours=2), message=False, joined=True)
        await m.sync_roster("g1", "群", [("u2", "c2")], t0 + timedelta(hours=3), complete=False)
        await same(store)
        await store.commit()
        await same(store)
        # a leave handled while a question about the member is on its way: the answer is old, not kept
        m.note_activity("g1", "群", "u6", "g", t0 + timedelta(hours=4), message=True)
        people.append(("g1", "u6"))
        await store.commit()
        asking = asyncio.create_task(m.presence("g1", "u6"))
        await until(store._lock.locked)
        m.note_activity("g1", "群", "u6", "g", t0 + timedelta(hours=4, minutes=1), message=False, left=True)
        await asking
        await same(store)
    finally:
        await store.close()
