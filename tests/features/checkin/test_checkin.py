"""checkin: trigger words after normalisation, rank of the local day, streaks, points, the rate,
the window, boards, duplicate deliveries and 100 members checking in at the same instant."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from bot.app import start_runtime
from bot.clock import DrivenClock
from bot.events import parse_event
from handlers import FEATURES
from handlers.checkin.repository import CheckinRepository
from handlers.points.repository import PointsRepository
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import BASIC_CONFIG, CST, FakePlatform, feed


def _checkins(platform: FakePlatform) -> list:
    return [a for a in platform.sent if a.rule == "checkin"]


def _at(day: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(2026, 3, day, hh, mm, ss, tzinfo=CST)


def _ev(n: str, when: datetime, user: str = "u1", name: str = "小明", text: str = "签到", group: str = "g1",
        **kw: object):
    return parse_event({"id": n, "ts": when.isoformat(), "type": "text", "group": group, "group_name": "测试群",
                        "user": user, "user_name": name, "text": text, **kw})


async def test_trigger_words_match_after_normalisation_only_as_the_whole_message(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock, _ev("a", _at(3, 8), "u1", text="签到！"), _ev("b", _at(3, 8, 1), "u2", text="签 到"),
               _ev("c", _at(3, 8, 2), "u3", text="簽到✅"), _ev("d", _at(3, 8, 3), "u4", text="昨天忘了签到"),
               _ev("e", _at(3, 8, 4), "u5", text="打卡"))
    got = [(a.data["event"], a.data["rank"]) for a in _checkins(platform)]
    assert got == [("a", 1), ("b", 2), ("c", 3), ("e", 4)]


async def test_reply_mentions_the_member_with_rank_streak_points_balance_and_rate(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock, _ev("j", _at(3, 7), "u2", "小红", text="大家早"), _ev("a", _at(3, 8)))
    [sent] = _checkins(platform)
    assert sent.mentions == ("u1",) and sent.reply_to == "a"
    assert sent.text == "@小明 签到成功✅ 今日第 1 名，连续 1 天，+5 分，共 5 分。今日签到率 50%"
    assert {k: sent.data[k] for k in ("rank", "streak", "points", "balance", "already")} == {
        "rank": 1, "streak": 1, "points": 5, "balance": 5, "already": False}


async def test_second_check_in_the_same_day_is_already_with_no_points(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock, _ev("a", _at(3, 8)), _ev("b", _at(3, 9)), _ev("c", _at(3, 23, 59, 59)))
    first, second = _checkins(platform)  # "already" is said once a day: the third is noted, not answered
    assert second.data["already"] is True and second.data["points"] == 0 and second.data["rank"] == 1
    assert second.data["balance"] == first.data["balance"] == 5
    assert "已经签过" in second.text
    [third] = [r for r in await runtime.store.audit.audit_of_event("c") if r["rule"] == "checkin"]
    assert third["action"] == "note" and third["data"]["already"] is True
    assert await runtime.store.repository(PointsRepository).balance("g1", "u1") == 5


async def test_streak_counts_consecutive_local_days_and_a_missed_day_resets_it(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    days = [(3, 8), (4, 23), (5, 0), (7, 9), (8, 6)]  # 23:59:59 / 00:00 are different local days
    events = [_ev(f"d{d}", _at(d, h, 59 if h == 23 else 0, 59 if h == 23 else 0)) for d, h in days]
    await feed(runtime, clock, *events)
    got = [(a.data["streak"], a.data["points"]) for a in _checkins(platform)]
    # base 5 + 1 per streak day after the first; the 6th was skipped
    assert got == [(1, 5), (2, 6), (3, 7), (1, 5), (2, 6)]
    assert _checkins(platform)[-1].data["balance"] == 29


async def test_a_late_check_in_continues_into_the_days_checked_in_after_it(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    # the 4th's check-in is delivered on the 6th, after those of the 5th and 6th; the 8th is apart
    await feed(runtime, clock, _ev("d3", _at(3, 8)), _ev("d5", _at(5, 8)), _ev("d6", _at(6, 8)),
               _ev("d4", _at(4, 8)), _ev("d4again", _at(4, 9)), _ev("d7", _at(7, 8)), _ev("d9", _at(9, 8)))
    got = {a.data["event"]: (a.data["streak"], a.data["points"], a.data["already"], a.data.get("late", False))
           for a in _checkins(platform)}
    assert got["d5"] == (1, 5, False, False) and got["d6"] == (2, 6, False, False)
    assert got["d4"] == (2, 6, False, True)  # continues the 3rd
    assert got["d4again"] == (2, 0, True, True)
    assert got["d7"] == (5, 9, False, False)  # 3rd to 7th: five days, the late one included
    assert got["d9"] == (1, 5, False, False)
    streaks = await runtime.store.repository(CheckinRepository).streak_board("g1", "2026-03-07", "2026-03-06", 10)
    assert [(r["user_id"], r["streak"]) for r in streaks] == [("u1", 5)]
    # the points paid on the 5th and 6th stay; the ledger still adds up to the balance
    assert await runtime.store.repository(PointsRepository).balance("g1", "u1") == 5 + 5 + 6 + 6 + 9 + 5
    # a member whose first check-in ever arrives late: the next day continues it
    await feed(runtime, clock, _ev("u2d8", _at(8, 8), "u2"), _ev("u2d9", _at(9, 9), "u2"))
    u2 = [(a.data["streak"], a.data.get("late", False)) for a in _checkins(platform) if a.data["event"] >= "u2"]
    assert u2 == [(1, True), (2, False)]


async def test_a_late_check_in_after_a_restart_reads_the_days_from_the_database(
        db_url: str, clock: DrivenClock) -> None:
    for events in ([_ev("d1", _at(1, 8)), _ev("d3", _at(3, 8)), _ev("d4", _at(4, 8))], [_ev("d2", _at(2, 8))],
                   [_ev("d5", _at(5, 8))]):
        platform = FakePlatform()
        rt = await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), db_url, clock, platform,
                                 FEATURES)
        await feed(rt, clock, *events)
        await rt.close()
    [last] = _checkins(platform)
    assert last.data["streak"] == 5


async def test_day_is_the_local_calendar_day_in_the_configured_zone(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    # 23:59:59 and 00:00:00 Shanghai time: two days, though both are 15:59/16:00 UTC of one UTC day
    await feed(runtime, clock, _ev("a", _at(3, 23, 59, 59)), _ev("b", _at(4, 0, 0, 0)))
    a, b = _checkins(platform)
    assert (a.data["day"], b.data["day"]) == ("2026-03-03", "2026-03-04")
    assert not b.data["already"] and b.data["streak"] == 2


async def test_streak_bonus_is_capped() -> None:
    from handlers.checkin.handler import points_for
    from handlers.checkin.settings import CheckinSettings

    s = CheckinSettings(base_points=5, streak_bonus=2, streak_bonus_cap=6)
    assert [points_for(s, k) for k in (1, 2, 3, 4, 5, 30)] == [5, 7, 9, 11, 11, 11]


async def test_duplicate_delivery_of_a_check_in_answers_once(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    event = _ev("a", _at(3, 8))
    await feed(runtime, clock, event, event)
    await asyncio.gather(runtime.bot.process(event), runtime.bot.process(event))
    await runtime.bot.commit()
    assert len(_checkins(platform)) == 1
    points = runtime.store.repository(PointsRepository)
    assert await runtime.store.count("checkins") == 1 and await points.balance("g1", "u1") == 5


WINDOW_CONFIG = BASIC_CONFIG + """
  checkin:
    window: {start: "05:00", end: "10:00", outside_reply: "@{user_name} 早起打卡时间是 {start}–{end}"}
"""


@pytest.mark.parametrize("config_text", [WINDOW_CONFIG])
async def test_check_in_window_answers_outside_it_without_points(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock, _ev("early", _at(3, 4, 59)), _ev("ok", _at(3, 5, 0)), _ev("late", _at(3, 10, 0)))
    assert [a.rule for a in platform.sent] == ["checkin/window", "checkin", "checkin/window"]
    assert platform.sent[0].text == "@小明 早起打卡时间是 05:00–10:00"
    assert await runtime.store.repository(PointsRepository).balance("g1", "u1") == 5


CAMPAIGN_CONFIG = BASIC_CONFIG + """
  checkin:
    reply: "@{user_name} 第 {rank} 名｜本群 {rate}（昨天 {yesterday_rate}）｜{campaign}"
groups:
  "训练营-*": {tags: [camp]}
"""


@pytest.mark.parametrize("config_text", [CAMPAIGN_CONFIG])
async def test_reply_compares_with_yesterday_and_the_other_groups_of_the_campaign(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    def ev(n: str, when: datetime, user: str, group: str, name: str, text: str = "签到"):
        return parse_event({"id": n, "ts": when.isoformat(), "type": "text", "group": group, "group_name": name,
                            "user": user, "user_name": user, "text": text})

    day1 = [ev(f"x{u}", _at(3, 8, u), f"u{u}", "ga", "训练营-一班", "你好") for u in range(4)]
    day1 += [ev(f"y{u}", _at(3, 8, u), f"v{u}", "gb", "训练营-二班", "你好") for u in range(2)]
    day1 += [ev("z", _at(3, 8, 30), "w", "gc", "别的群", "你好")]
    day1 += [ev("a1", _at(3, 9), "u0", "ga", "训练营-一班"), ev("a2", _at(3, 9, 1), "u1", "ga", "训练营-一班")]
    day2 = [ev("b1", _at(4, 9), "v0", "gb", "训练营-二班"), ev("b2", _at(4, 9, 1), "v1", "gb", "训练营-二班"),
            ev("c1", _at(4, 9, 2), "u0", "ga", "训练营-一班")]
    await feed(runtime, clock, *day1, *day2)
    texts = [a.text for a in platform.sent if a.rule == "checkin"]
    assert texts[1] == "@u1 第 2 名｜本群 50%（昨天 0%）｜训练营-二班 0%"
    assert texts[-1] == "@u0 第 1 名｜本群 25%（昨天 50%）｜训练营-二班 100%"


async def test_boards_list_todays_order_and_current_streaks(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock, _ev("a", _at(3, 8), "u1", "小明"), _ev("b", _at(4, 7), "u2", "小红"),
               _ev("c", _at(4, 8), "u1", "小明"), _ev("d", _at(4, 9), "u3", "小刚", text="签到榜"),
               _ev("e", _at(4, 9, 1), "u3", "小刚", text="连续签到榜"),
               _ev("f", _at(6, 9), "u3", "小刚", text="签到榜"),
               _ev("g", _at(6, 9, 1), "u3", "小刚", text="连续签到榜"))
    board, streaks, empty_board, empty_streaks = [a for a in platform.sent if a.rule.startswith("checkin/")]
    assert board.text.splitlines()[1:] == ["1. 小红 07:00", "2. 小明 08:00"]
    assert "2 人" in board.text.splitlines()[0]
    assert streaks.text.splitlines()[1:] == ["1. 小明 连续 2 天", "2. 小红 连续 1 天"]
    assert "还没有人签到" in empty_board.text and "还没有人连续签到" in empty_streaks.text


async def test_rate_command_reports_today_and_yesterday(runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock, _ev("a", _at(3, 8), "u1"), _ev("b", _at(3, 8, 1), "u2", text="早"),
               _ev("c", _at(4, 8), "u2"), _ev("d", _at(4, 8, 1), "u2", text="签到率"))
    [rate] = [a for a in platform.sent if a.rule == "checkin/rate"]
    assert rate.text == "今日签到 1/2 人，签到率 50%（昨天 50%）"


@pytest.fixture
def db_url(any_db_url: str) -> str:  # this module's runtime runs on SQLite and on PostgreSQL
    return any_db_url


# a hundred replies to one group at one instant: more than a group's send queue holds by default
@pytest.mark.parametrize("config_text", [BASIC_CONFIG.replace("per_group_per_minute: 20}",
                                                              "per_group_per_minute: 20, queue_per_group: 100}")])
async def test_hundred_members_checking_in_at_the_same_instant_get_ranks_1_to_100(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    when = _at(3, 8)
    clock.set(when)
    events = [_ev(f"c{n}", when, f"m{n:03d}", f"成员{n}") for n in range(100)]
    # concurrently: every event handled at once (interleaved at every await), and again via the
    # per-group workers with a duplicate delivery of each
    await asyncio.gather(*(runtime.bot.process(e) for e in events))
    for e in events:
        runtime.bot.dispatch(e)
    await runtime.bot.drain()
    await runtime.outbox.drain()  # a hundred replies to one group go a second apart
    replies = _checkins(platform)
    assert len(replies) == 100
    assert sorted(a.data["rank"] for a in replies) == list(range(1, 101))
    assert all(a.data["balance"] == 5 and not a.data["already"] for a in replies)
    board = await runtime.store.repository(CheckinRepository).checkin_board("g1", "2026-03-03", 200)
    assert [r["rank"] for r in board] == list(range(1, 101))
    checkins = runtime.store.repository(CheckinRepository)
    assert await checkins.checkin_counts(["g1"], "2026-03-03") == {"g1": 100}
    balances = await runtime.store.repository(PointsRepository).balances("g1")
    ledger = await runtime.store.repository(PointsRepository).ledger_sums("g1")
    assert balances == ledger == {f"m{n:03d}": 5 for n in range(100)}


async def test_check_ins_survive_a_restart_and_stay_once_a_day(db_url: str, clock: DrivenClock) -> None:
    for run, (event, already, balance) in enumerate(
            [(_ev("a", _at(3, 8)), False, 5), (_ev("b", _at(3, 9)), True, 5), (_ev("c", _at(4, 9)), False, 11)]):
        platform = FakePlatform()
        rt = await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), db_url, clock, platform,
                                 FEATURES)
        await feed(rt, clock, event)
        await rt.close()
        [sent] = _checkins(platform)
        assert (sent.data["already"], sent.data["balance"]) == (already, balance), run


async def test_a_failed_commit_replays_check_ins_with_the_same_ranks_and_points(
        runtime, clock: DrivenClock, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    store = runtime.store
    points = store.repository(PointsRepository)
    checkins = store.repository(CheckinRepository)
    events = [_ev(f"c{n}", _at(3, 8, n), f"m{n}", f"成员{n}") for n in range(5)]
    for e in events[:3]:
        clock.set(e.ts)
        await runtime.bot.process(e)
    real = store.finish_commit
    calls = {"n": 0}

    async def flaky(batch):  # the first commit fails after its writes ran: everything rolls back
        calls["n"] += 1
        if calls["n"] == 1:
            store._lock.release()
            await store._roll_back()
            store._journal = batch.journal + store._journal
            store._pending_event_ids |= batch.event_ids
            raise OperationalError("COMMIT", {}, Exception("database is locked"))
        return await real(batch)

    monkeypatch.setattr(store, "finish_commit", flaky)
    await runtime.bot.commit()
    for e in events[3:]:
        clock.set(e.ts)
        await runtime.bot.process(e)
    await runtime.bot.commit()
    assert sorted(a.data["rank"] for a in _checkins(platform)) == [1, 2, 3, 4, 5]
    assert [r["rank"] for r in await checkins.checkin_board("g1", "2026-03-03", 10)] == [1, 2, 3, 4, 5]
    assert await points.balances("g1") == await points.ledger_sums("g1") == {f"m{n}": 5 for n in range(5)}


async def test_a_check_in_that_fails_halfway_leaves_no_trace_and_ranks_stay_gapless(
        runtime, clock: DrivenClock, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.ext.asyncio import AsyncConnection

    store = runtime.store
    store.not_alone()  # several accounts on one database: check-ins are decided by SQL statements
    points = store.repository(PointsRepository)
    checkins = store.repository(CheckinRepository)
    real = AsyncConnection.execute
    fail = {"left": 1}

    async def execute(self, stmt, *args, **kwargs):  # the check-in row fails once, after the counter moved
        if stmt is checkins._checkin and fail["left"]:
            fail["left"] -= 1
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return await real(self, stmt, *args, **kwargs)

    monkeypatch.setattr(AsyncConnection, "execute", execute)
    await feed(runtime, clock, _ev("a", _at(3, 8), "u1"), _ev("b", _at(3, 8, 1), "u2"), _ev("c", _at(3, 8, 2), "u3"))
    assert [a.data["rank"] for a in _checkins(platform)] == [1, 2]  # "a" failed: noted, no reply, no rank taken
    assert await checkins.checkin_counts(["g1"], "2026-03-03") == {"g1": 2}
    assert await points.balances("g1") == await points.ledger_sums("g1") == {"u2": 5, "u3": 5}
    assert any("handler failed" in r["data"].get("reason", "") for r in await store.audit.audit_of_event("a"))


async def test_a_commit_applied_although_it_reported_failure_is_not_run_twice(
        runtime, clock: DrivenClock, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.ext.asyncio import AsyncConnection

    real = AsyncConnection.commit
    calls = {"n": 0}

    async def commit(self):  # committed on the server, then the connection drops before the answer
        calls["n"] += 1
        await real(self)
        if calls["n"] == 1:
            raise OperationalError("COMMIT", {}, ConnectionResetError("connection reset"))

    monkeypatch.setattr(AsyncConnection, "commit", commit)
    await feed(runtime, clock, _ev("a", _at(3, 8)))
    await feed(runtime, clock, _ev("b", _at(3, 9), "u2"))
    store = runtime.store
    points = store.repository(PointsRepository)
    checkins = store.repository(CheckinRepository)
    assert [a.data["rank"] for a in _checkins(platform)] == [1, 2]
    assert await points.balances("g1") == await points.ledger_sums("g1") == {"u1": 5, "u2": 5}
    assert await checkins.checkin_counts(["g1"], "2026-03-03") == {"g1": 2} and await store.count("events") == 2
