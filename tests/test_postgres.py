"""The store and the bot on a real PostgreSQL server (tests/pg_harness.py), beside SQLite.

Each test gets a fresh empty database (`pg_url`), or runs once per backend (`any_db_url`). Without
PostgreSQL these tests skip locally and fail under CI=true (`make test` installs it as root).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.adapters.replay import replay
from bot.app import open_store, start_runtime
from bot.audit import action_rows, note_rows
from bot.clock import DrivenClock
from bot.events import Note, reply
from handlers import FEATURES
from handlers.ads.repository import AdsRepository
from handlers.welcome.repository import WelcomeRepository
from rules.config import Config
from rules.reload import ConfigHolder
from storage.migrate import MIGRATIONS
from storage.store import Store
from tests.conftest import BASIC_CONFIG, CST, ROOT, EventFactory, FakePlatform, feed
from tests.pg_harness import PgServer

T = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
TABLES = {"groups", "members", "events", "actions", "job_runs", "timers", "ad_offences", "ad_samples",
          "alembic_version"}


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """The `runtime` fixture of conftest on both backends in this module."""
    return any_db_url


@contextlib.asynccontextmanager
async def opened(url: str) -> AsyncIterator[Store]:
    """A store on `url` (migrated on open), closed at the end of the block (committing what is pending)."""
    store = open_store(url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


# -- the server and the schema ---------------------------------------------------------------------


def test_the_harness_gives_a_real_server_and_isolated_databases(pg_server: PgServer) -> None:
    assert int(pg_server.psql("show server_version_num")) >= 150000
    assert pg_server.psql("show fsync").strip() == "off"
    a, b = pg_server.create_database(), pg_server.create_database()
    assert a != b and a.startswith(f"postgresql+asyncpg://postgres@127.0.0.1:{pg_server.port}/")


async def test_migrations_create_the_tables_and_a_reopen_keeps_them(pg_url: str) -> None:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    for _ in range(2):  # the second open finds the schema at head and changes nothing
        async with opened(pg_url) as store, store.engine.connect() as conn:
            tables = set((await conn.execute(text(
                "select table_name from information_schema.tables where table_schema = 'public'"))).scalars())
            version = (await conn.execute(text("select version_num from alembic_version"))).scalar()
            kinds = dict((await conn.execute(text(
                "select column_name, data_type from information_schema.columns where table_name = 'events'"))).all())
        assert TABLES <= tables and version == head
        assert kinds["ts"] == "timestamp without time zone" and kinds["payload"] == "json"


# -- facts and questions, the same on both backends ------------------------------------------------


async def test_facts_and_questions_commit_and_survive_a_reopen(any_db_url: str) -> None:
    join, talk, leave = T, T + timedelta(minutes=1), T + timedelta(minutes=5)
    payload = {"text": "群规 ✓ 😀 \x00", "nested": {"list": [1, 2.5, None, True]}, "empty": ""}
    async with opened(any_db_url) as store:
        store.members.note_activity("g1", "测试群", "u1", "小明", join, message=False, joined=True)
        store.members.note_activity("g1", None, "u1", "小明-北京", talk.astimezone(CST), message=True)
        store.members.note_activity("g1", "测试群2", "u1", None, talk + timedelta(seconds=1, microseconds=7),
                                    message=True)
        store.events.record_event("e1", talk, "g1", "u1", "text", payload, talk + timedelta(milliseconds=3))
        assert await store.events.seen_events(["e1", "e2"]) == {"e1"}  # pending, not yet committed
        member = await store.members.member("g1", "u1")  # a question sees the writes of the open transaction
        assert member is not None and member.message_count == 2
        await store.commit()
        store.members.note_activity("g1", None, "u1", None, leave, message=False, left=True)
        store.audit.record_job_run("daily", T, T + timedelta(seconds=2), note="ok")

    async with opened(any_db_url) as store:  # close() committed the last writes
        assert await store.events.seen_events(["e1", "e2"]) == {"e1"}  # now from the database
        member = await store.members.member("g1", "u1")
        assert member is not None
        assert (member.display_name, member.message_count) == ("小明-北京", 2)
        assert member.first_seen_at == join and member.joined_at == join and member.left_at == leave
        assert member.last_active_at == talk + timedelta(seconds=1, microseconds=7)
        assert member.last_active_at.tzinfo is UTC
        assert await store.events.event_payload("e1") == payload
        assert await store.audit.job_ran("daily", T) and not await store.audit.job_ran("daily", T + timedelta(days=1))
        assert await store.count("groups") == 1 and await store.count("members") == 1
        store.members.note_activity("g1", None, "u1", "小明", leave + timedelta(hours=1), message=False, joined=True)
        member = await store.members.member("g1", "u1")
        assert member is not None and member.left_at is None and member.joined_at == leave + timedelta(hours=1)


async def test_actions_notes_deliveries_and_cooldowns(any_db_url: str) -> None:
    event = EventFactory()(text="群规")
    ids = [f"{event.id}#0", f"{event.id}#1"]
    actions = [reply(event, "keywords/群规", text).model_copy(update={"ts": event.ts + timedelta(seconds=n)})
               for n, text in enumerate(["不发广告", "第二条"])]
    async with opened(any_db_url) as store:
        store.events.record_event(event.id, event.ts, "g1", "u1", "text", event.model_dump(mode="json"), event.ts)
        store.audit.record_actions(action_rows(ids, actions, event.id))
        store.audit.record_actions(note_rows(event.id, [Note(rule="keywords/x", reason="cooldown", data={"n": 1})],
                                       event.ts, "g1"))
        assert await store.audit.last_rule_use("g1", "keywords/群规") == actions[-1].ts
        await store.commit()
        assert [r["id"] for r in await store.audit.undelivered_actions()] == ids
        store.audit.mark_delivered(ids[:1], "sent", T)
        audit = await store.audit.audit_of_event(event.id)
        assert [(r["id"], r["status"]) for r in audit] == [  # by time, then id
            (ids[0], "sent"), (f"{event.id}#note0", "note"), (ids[1], "pending")]
        assert audit[0]["sent_at"] == T and audit[1]["data"] == {"reason": "cooldown", "n": 1}
        assert audit[0]["body"]["text"] == "不发广告"

    async with opened(any_db_url) as store:  # a non-empty database: the cooldown question goes to SQL
        assert await store.audit.last_rule_use("g1", "keywords/群规") == actions[-1].ts
        assert await store.audit.last_rule_use("g1", "keywords/x") is None  # notes are not uses
        assert [r["id"] for r in await store.audit.undelivered_actions()] == ids[1:]


async def test_reminders_ad_offences_and_samples(any_db_url: str) -> None:
    async with opened(any_db_url) as store:
        store.members.note_activity("g1", "群", "u1", "小明", T, message=True)
        welcome = store.repository(WelcomeRepository)
        welcome.reminded("g1", "u1", "2026-03-02", None)
        first = await welcome.reminders("g1", "u1")
        welcome.reminded("g1", "u1", "2026-03-05", first)  # the follow-up
        welcome.reminded("g1", "u2", "2026-03-02", None)
        welcome.thanked("g1", "u2", await welcome.reminders("g1", "u2"))  # type: ignore[arg-type]
        ads = store.repository(AdsRepository)
        ads.record_ad_offence("a1", "g1", "u1", T, "text", "contact", "加V：abc" * 600)
        ads.record_ad_offence("a2", "g1", "u1", T + timedelta(minutes=1), "link", "link", "http://t.cn/x")
        store.repository(AdsRepository).excuse_ad_offence("a2", "rp1")
        store.repository(AdsRepository).record_ad_sample("a1", "兼职刷单", "ad", "g1", "admin1", T)
        ads.record_ad_sample("a1", "兼职刷单", "ham", "g1", "admin2", T + timedelta(minutes=2))
        assert await store.repository(AdsRepository).ad_warnings("g1", "u1", T) == 1
        offence = await store.repository(AdsRepository).open_ad_offence("g1", "u1", T)
        assert offence is not None and offence["event_id"] == "a1"

    async with opened(any_db_url) as store:
        welcome = store.repository(WelcomeRepository)
        assert tuple(await welcome.reminders("g1", "u1")) == (2, "2026-03-02", "2026-03-05", True)  # type: ignore[arg-type]
        assert tuple(await welcome.reminders("g1", "u2")) == (1, "2026-03-02", "2026-03-02", False)  # type: ignore[arg-type]
        assert await welcome.reminders("g1", "u9") is None
        member = await store.members.member("g1", "u1")
        assert member is not None and member.message_count == 1
        assert await store.repository(AdsRepository).ad_warnings("g1", "u1", T) == 1
        offence = await store.repository(AdsRepository).open_ad_offence("g1", "u1", T)
        assert offence is not None and len(offence["evidence"]) == 2000
        samples = await store.repository(AdsRepository).ad_samples()
        assert [(s["event_id"], s["label"], s["decided_by"]) for s in samples] == [
            ("a1", "ham", "admin2")]


async def test_three_thousand_events_in_one_commit(any_db_url: str) -> None:
    async with opened(any_db_url) as store:
        for n in range(3000):
            ts = T + timedelta(seconds=n)
            store.members.note_activity(f"g{n % 10}", f"群{n % 10}", f"u{n % 1000}", f"成员{n}", ts, message=True)
            store.events.record_event(f"e{n}", ts, f"g{n % 10}", f"u{n % 1000}", "text", {"text": str(n)}, ts)
        await store.commit()
        assert await store.count("members") == 1000 and await store.count("events") == 3000
        member = await store.members.member("g9", "u999")
        assert member is not None and member.message_count == 3 and member.display_name == "成员2999"
        assert len(await store.events.seen_events([f"e{n}" for n in range(0, 4000, 3)])) == 1000


# -- the bot: idempotency and restarts (conftest's `runtime` on both backends) -------------------------


async def test_the_same_event_twice_acts_once(runtime, clock: DrivenClock, platform: FakePlatform,
                                              make_event: EventFactory) -> None:
    event = make_event(text="群规")
    await feed(runtime, clock, event)
    await feed(runtime, clock, event)
    results = await asyncio.gather(runtime.bot.process(event), runtime.bot.process(event))
    await runtime.bot.commit()
    assert results == [False, False]
    assert await runtime.store.count("events") == 1
    member = await runtime.store.members.member("g1", "u1")
    assert member is not None and member.message_count == 1
    assert platform.texts() == ["@小明 不发广告"]


async def test_a_restart_on_the_same_database_rehandles_nothing(db_url: str, clock: DrivenClock,
                                                                 make_event: EventFactory) -> None:
    # the tick comes after the welcome's batch window: its timer fires before it
    events = [make_event(text="群规"), make_event("join", user="u9", user_name="新人"), make_event(text="hello"),
              make_event("tick", after=120)]
    first, second = FakePlatform(), FakePlatform()
    for platform in (first, second):
        rt = await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), db_url, clock, platform,
                                 FEATURES)
        await feed(rt, clock, *events)
        assert await rt.store.count("events") == 4
        await rt.close()
    assert len(first.sent) == 2 and second.sent == []


async def test_a_dropped_server_connection_is_reconnected_and_loses_nothing(pg_url: str, pg_server: PgServer,
                                                                           clock: DrivenClock,
                                                                           make_event: EventFactory,
                                                                           caplog: pytest.LogCaptureFixture
                                                                           ) -> None:
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), pg_url, clock, platform,
                             FEATURES)
    try:
        await feed(rt, clock, make_event(text="群规"))
        events = [make_event(text="群规", group=f"g{n}") for n in range(2, 5)]
        for event in events:
            clock.set(event.ts)
            await rt.bot.process(event)
        database = pg_url.rsplit("/", 1)[1]  # the server ends the writer's session (as a restart would)
        pg_server.psql(f"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{database}'")
        await rt.bot.commit()
        assert "database commit failed" in caplog.text
        assert await rt.store.count("events") == 4
        members = [await rt.store.members.member(f"g{n}", "u1") for n in range(2, 5)]
        assert [m.message_count if m else 0 for m in members] == [1, 1, 1]  # the batch ran again, once
        assert len(platform.sent) == 4
    finally:
        await rt.close()


# -- long and odd values: what SQLite stores, PostgreSQL must store too -----------------------------------

# PostgreSQL enforces VARCHAR(n) and refuses NUL characters in text; SQLite does neither. The store
# cuts names to their columns and drops NULs; events refuse ids longer than the id columns.
LONG_NAME = "很长的昵称" * 60  # 300 characters
VALUES = {  # case: (group id, group name, user name, labelled text)
    "user name over 256": ("g1", "群", LONG_NAME, "广告"),
    "group name over 256": ("g1", "运营群" * 100, "小明", "广告"),
    "NUL in a user name": ("g1", "群", "小\x00明", "广告"),
    "NUL in a group name": ("g1", "群\x00", "小明", "广告"),
    "NUL in a labelled message": ("g1", "群", "小明", "兼职\x00刷单"),  # /ad keeps the message's text
}


@pytest.mark.parametrize("case", list(VALUES))
async def test_names_and_texts_of_any_length_and_content_are_stored(case: str, any_db_url: str,
                                                                   request: pytest.FixtureRequest) -> None:
    group, group_name, user_name, sample = VALUES[case]
    async with opened(any_db_url) as store:
        store.members.note_activity(group, group_name, "u1", user_name, T, message=True)
        store.events.record_event("e1", T, group, "u1", "text", {"text": sample}, T)
        store.repository(AdsRepository).record_ad_sample("e1", sample, "ad", group, "admin1", T)
        await store.commit()
        member = await store.members.member(group, "u1")
        assert member is not None and member.message_count == 1 and member.display_name
        assert [s["label"] for s in await store.repository(AdsRepository).ad_samples()] == ["ad"]


async def test_a_group_id_longer_than_the_column_does_not_stop_a_replay(pg_url: str, tmp_path: Path) -> None:
    """The event contract bounds `id` (256, as the column) but not `group` / `user` (VARCHAR(128))."""
    base = {"ts": "2026-03-02T10:00:00+08:00", "type": "text", "text": "群规", "user": "u1", "user_name": "小明"}
    lines = [{**base, "id": "ok", "group": "g1", "group_name": "群"}, {**base, "id": "long", "group": "g" * 200}]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines))
    out, errors = io.StringIO(), io.StringIO()
    status = await replay(Config.from_text(BASIC_CONFIG), tmp_path / "t.jsonl", db_url=pg_url, until=None, out=out,
                          errors=errors)
    assert status == 0 and '"event":"ok"' in out.getvalue().replace(" ", "")  # the long id: a bad line, or stored


# -- the command line on PostgreSQL ----------------------------------------------------------------


def transcript_rows() -> list[dict]:
    """A small day in two groups: joins, keyword questions, a rename, ads, a red packet, chat, check-ins, the
    members' points questions, a leave."""
    t = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
    rows: list[dict] = []

    def add(kind: str, user: str, name: str, group: str = "g1", **kw: object) -> None:
        nonlocal t
        t += timedelta(seconds=37)
        rows.append({"id": f"r{len(rows)}", "ts": t.isoformat(), "type": kind, "group": group,
                     "group_name": f"运营群-{group}", "user": user, "user_name": name, **kw})

    for n in range(3):
        add("join", f"n{n}", f"新人{n}", group=f"g{n % 2 + 1}")
    add("text", "n0", "新人0", text="群规")
    add("rename", "n0", "新人0-公司-运营-北京")
    add("text", "n0", "新人0-公司-运营-北京", text="群 规！")
    add("text", "n1", "新人1", group="g2", text="资料在哪里")
    add("text", "s1", "推广-公司-运营-北京", text="兼职刷单日结，加V：abc12345")
    add("link", "s1", "推广-公司-运营-北京", url="http://t.cn/A6abcd", title="点击领红包")
    add("red_packet", "s1", "推广-公司-运营-北京")
    add("contact_card", "s2", "代理-公司-运营-上海", group="g2", card_name="代理小王")
    for n in range(20):
        add("text", f"m{n % 4}", f"成员{n % 4}-公司-运营-杭州", group=f"g{n % 2 + 1}", text=f"随便聊聊 {n}")
    for n in range(3):
        add("text", f"m{n * 2}", f"成员{n * 2}-公司-运营-杭州", text="签到")
    for words in ("我的积分", "积分榜", "本周积分榜", "我的等级"):  # the members' questions, with bound parameters
        add("text", "m0", "成员0-公司-运营-杭州", text=words)
    add("leave", "n2", "新人2")
    return rows


def qunbot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


async def test_replay_on_postgresql_matches_sqlite_and_a_second_replay_acts_on_nothing(pg_url: str,
                                                                                       tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in transcript_rows()),
                          encoding="utf-8")
    config = str(ROOT / "config.yaml")
    on_sqlite = io.StringIO()  # the reference, in this process
    assert await replay(Config.from_file(config), transcript, db_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
                        until=None, out=on_sqlite) == 0
    expected = on_sqlite.getvalue().splitlines()
    rules = {json.loads(line)["rule"] for line in expected}
    assert {"welcome", "welcome/rename-thanks", "keywords/群规", "keywords/资料", "ads/link", "ads/card"} <= rules
    answers = [a for a in map(json.loads, expected) if a["rule"].startswith(("points", "levels"))]
    assert len(answers) >= 4 and all(a.get("text") for a in answers), answers

    result = qunbot("replay", str(transcript), "--config", config, "--db", pg_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected
    again = qunbot("replay", str(transcript), "--config", config, "--db", pg_url, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == "", again.stderr
    first = next(a for a in map(json.loads, expected) if "event" in a["data"])  # the welcome is a timer's
    why = qunbot("why", first["data"]["event"], "--config", config, "--db", pg_url, cwd=tmp_path)
    assert why.returncode == 0 and first["rule"] in why.stdout, why.stdout + why.stderr
