"""A poll through the whole bot (every feature, the real router, timers fired as replay fires them), on
SQLite and PostgreSQL: the poll, one merged confirmation for the votes of a minute, a changed vote, and
the result at the deadline the admin gave, counted from the stored votes; and a poll that outlives a
restart of the bot."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import Runtime, start_runtime
from bot.clock import DrivenClock
from handlers import FEATURES
from handlers.poll.tables import VOTES
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import BASIC_CONFIG, CST, EventFactory, FakePlatform, feed, fire_timers


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


async def test_a_poll_from_its_start_to_its_deadline(runtime: Runtime, clock: DrivenClock, platform: FakePlatform,
                                                     make_event: EventFactory) -> None:
    start = make_event(text="🗳️投票 班长竞选 张三 李四 截止10:30", user="admin1", user_name="班主任")
    votes = [make_event(text=t, user=u, user_name=n, after=5) for u, n, t in (
        ("u1", "小明", "投 张三"), ("u2", "小红", "投2"), ("u3", "阿强", "投李四"), ("u1", "小明", "投 李四"))]
    later = make_event(text="今天作业是什么", user="u4", user_name="阿珍", after=600)
    await feed(runtime, clock, start, *votes, later)
    await fire_timers(runtime, clock, datetime(2026, 3, 2, 10, 30, tzinfo=CST))
    await runtime.bot.commit()
    await runtime.outbox.drain()
    sent = [a for a in platform.sent if a.rule.startswith("poll")]
    assert [a.rule for a in sent] == ["poll/started", "poll/confirm", "poll"]
    started, confirmed, result = sent
    assert started.reply_to == start.id and "03-02 10:30 截止" in (started.text or "")
    assert confirmed.mentions == ("u1", "u2", "u3") and "event" not in confirmed.data
    assert confirmed.ts == votes[0].ts + timedelta(seconds=60)  # the window the first vote opened
    assert result.data["counts"] == {"张三": 0, "李四": 3} and result.data["winner"] == "李四"
    assert result.data["voters"] == 3 and result.ts == datetime(2026, 3, 2, 10, 30, tzinfo=CST)
    rows = (await runtime.store.read(select(VOTES.c.user_id, VOTES.c.option, VOTES.c.replaced_by)
                                     .order_by(VOTES.c.ts))).all()
    assert [(u, o, r) for u, o, r in rows] == [("u1", "张三", votes[3].id), ("u2", "李四", None),
                                               ("u3", "李四", None), ("u1", "李四", None)]


async def test_an_open_poll_its_votes_and_its_deadline_survive_a_restart(
        db_url: str, clock: DrivenClock, make_event: EventFactory) -> None:
    platform = FakePlatform()
    holder = ConfigHolder(Config.from_text(BASIC_CONFIG + "  poll: {confirm_seconds: 0}\n"))
    rt = await start_runtime(holder, db_url, clock, platform, FEATURES)
    try:
        await feed(rt, clock, make_event(text="投票 聚餐 火锅 烧烤", user="admin1"),
                   make_event(text="投1", user="u1"), make_event(text="投2", user="u2"))
    finally:
        await rt.close()
    rt = await start_runtime(holder, db_url, clock, platform, FEATURES)  # the same database, a new process
    try:
        await feed(rt, clock, make_event(text="投 火锅", user="u2"), make_event(text="投1", user="u3"))
        await fire_timers(rt, clock, make_event.t + timedelta(days=1))
        await rt.bot.commit()
        await rt.outbox.drain()
    finally:
        await rt.close()
    [result] = [a for a in platform.sent if a.rule == "poll"]
    assert result.data["counts"] == {"火锅": 3, "烧烤": 0} and result.data["voters"] == 3
    assert [a.data["replaced"] for a in platform.sent if a.rule == "poll/confirm"] == [None, None, "烧烤", None]
