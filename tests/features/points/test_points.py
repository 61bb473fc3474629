"""points: the ledger behind every award, message points (cooldown, minimum length, daily cap),
red packets, members' commands and owners' grants (admins only, refused once, audited)."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.clock import DrivenClock
from bot.events import parse_event
from handlers.points.repository import PointsRepository
from tests.conftest import BASIC_CONFIG, CST, FakePlatform, feed

POINTS_CONFIG = BASIC_CONFIG + """
  points: {message_points: 2, message_cooldown_seconds: 60, message_min_length: 5, message_daily_cap: 6,
           red_packet_points: 10}
"""


def _at(day: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(2026, 3, day, hh, mm, ss, tzinfo=CST)


def _ev(n: str, when: datetime, text: str | None = "今天学到了很多", user: str = "u1", name: str = "小明",
        type_: str = "text", **kw: object):
    body: dict[str, object] = {"id": n, "ts": when.isoformat(), "type": type_, "group": "g1",
                               "group_name": "测试群", "user": user, "user_name": name, **kw}
    if type_ == "text":
        body["text"] = text
    return parse_event(body)



@pytest.fixture
def config_text() -> str:
    return POINTS_CONFIG


async def test_message_points_respect_cooldown_minimum_length_and_daily_cap(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    events = [
        _ev("m1", _at(3, 9)),                       # +2
        _ev("m2", _at(3, 9, 0, 30)),                # cooldown
        _ev("m3", _at(3, 9, 1)),                    # +2 (60 s later)
        _ev("m4", _at(3, 9, 3), text="1"),          # too short
        _ev("m5", _at(3, 9, 4), text="👍👍👍👍👍👍"),  # emoji earn nothing
        _ev("m6", _at(3, 9, 5), text="好的 好的!"),  # 4 meaningful characters
        _ev("m7", _at(3, 9, 6)),                    # +2 -> 6, the cap
        _ev("m8", _at(3, 9, 8)),                    # capped for the day
        _ev("m9", _at(4, 0, 0, 1)),                 # a new local day: +2
    ]
    await feed(runtime, clock, *events)
    ledger = await runtime.store.repository(PointsRepository).ledger_of("g1", "u1", 50)
    assert sorted(r["event_id"] for r in ledger) == ["m1", "m3", "m7", "m9"]
    assert all(r["reason"] == "message" and r["delta"] == 2 for r in ledger)
    assert await runtime.store.repository(PointsRepository).balance("g1", "u1") == 8


async def test_message_award_is_decided_by_the_database_after_a_restart(
        db_url: str, clock: DrivenClock) -> None:
    from bot.app import start_runtime
    from handlers import FEATURES
    from rules.config import Config
    from rules.reload import ConfigHolder

    for event in (_ev("a", _at(3, 9)), _ev("b", _at(3, 9, 0, 30)), _ev("c", _at(3, 9, 1))):
        rt = await start_runtime(ConfigHolder(Config.from_text(POINTS_CONFIG)), db_url, clock, FakePlatform(),
                                 FEATURES)
        await feed(rt, clock, event)
        await rt.close()
    rt = await start_runtime(ConfigHolder(Config.from_text(POINTS_CONFIG)), db_url, clock, FakePlatform(),
                             FEATURES)
    assert [r["event_id"] for r in await rt.store.repository(PointsRepository).ledger_of("g1", "u1", 10)] == ["c", "a"]
    await rt.close()


async def test_commands_and_checkins_and_ads_earn_no_message_points(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock, _ev("k", _at(3, 9), text="群规"), _ev("c", _at(3, 9, 2), text="签到"),
               _ev("p", _at(3, 9, 4), text="我的积分"),
               _ev("ad", _at(3, 9, 6), text="兼职刷单日结，加V: abc12345 详聊"))
    ledger = await runtime.store.repository(PointsRepository).ledger_of("g1", "u1", 10)
    assert [r["reason"] for r in ledger] == ["checkin"]


async def test_red_packet_awards_points_and_a_level_up_is_announced(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock, *[_ev(f"r{n}", _at(3, 9, n), type_="red_packet") for n in range(10)])
    assert await runtime.store.repository(PointsRepository).balance("g1", "u1") == 100
    [up] = [a for a in platform.sent if a.rule == "levels"]
    assert up.data["level"] == "活跃" and up.data["event"] == "r9" and up.mentions == ("u1",)
    assert up.text == "恭喜 @小明 升级为「活跃」🎉"


async def test_my_points_and_boards_for_today_week_and_all_time(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    # Monday 2 March .. : u2 earns 30 last week (Sunday 1 March), u1 earns 12 today
    await feed(runtime, clock,
               _ev("old", _at(1, 9), user="u2", name="小红", type_="red_packet"),
               _ev("old2", _at(1, 9, 1), user="u2", name="小红", type_="red_packet"),
               _ev("old3", _at(1, 9, 2), user="u2", name="小红", type_="red_packet"),
               _ev("w1", _at(2, 9), type_="red_packet"),
               _ev("t1", _at(3, 9), text="签到"), _ev("t2", _at(3, 9, 2)),
               _ev("q1", _at(3, 10), text="我的积分"), _ev("q2", _at(3, 10, 1), text="积分榜"),
               _ev("q3", _at(3, 10, 2), text="本周积分榜"), _ev("q4", _at(3, 10, 3), text="今日积分榜"),
               _ev("q5", _at(3, 10, 4), user="u3", name="小刚", text="今日积分榜"))
    mine, board_all, board_week, board_today, board_other = [a for a in platform.sent
                                                            if a.rule.startswith("points/")]
    assert mine.text == "@小明 你有 17 分（今日 +7，本周 +17），群内第 2 名，等级「新手」"
    assert board_all.text.splitlines() == ["🏆 总积分榜", "1. 小红 30 分", "2. 小明 17 分",
                                           "@小明 你排第 2 名（17 分）"]
    assert board_week.text.splitlines()[1:] == ["1. 小明 17 分", "@小明 你排第 1 名（17 分）"]
    assert board_today.text.splitlines()[1:] == ["1. 小明 7 分", "@小明 你排第 1 名（7 分）"]
    assert board_other.text.splitlines()[-1] == "@小刚 你还没有得分，发「签到」试试～"
    assert board_other.mentions == ("u3",)


async def test_only_admins_grant_and_deduct_others_are_refused_once_then_ignored(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock,
               _ev("hi", _at(3, 8), user="u2", name="小红", text="大家好呀我是小红"),
               _ev("x1", _at(3, 9), text="加分 @小红 50 帮忙"),
               _ev("x2", _at(3, 9, 1), text="加分 @小红 50 帮忙"),
               _ev("g1", _at(3, 9, 2), user="admin1", name="群主", text="加分 @小红 120 分享了干货", mentions=["u2"]),
               _ev("g2", _at(3, 9, 3), user="admin1", name="群主", text="扣分 @小红 20 刷屏"),
               _ev("g3", _at(3, 9, 4), user="admin1", name="群主", text="加分 @不存在 5"),
               _ev("g4", _at(3, 9, 5), user="admin1", name="群主", text="加分 @小红 很多"),
               _ev("g5", _at(3, 9, 6), user="admin1", name="群主", text="积分明细 @小红"))
    sent = [(a.rule, a.text) for a in platform.sent]
    assert sent[0] == ("points/refused", "@小明 抱歉，只有群主和管理员可以加减积分哦")
    assert sent[1] == ("points/grant", "已给 小红 加 120 分（分享了干货），现有 122 分")
    assert sent[2] == ("levels", "恭喜 @小红 升级为「活跃」🎉")
    assert sent[3] == ("points/deduct", "已给 小红 扣 20 分（刷屏），现有 102 分")
    assert sent[4] == ("points/grant", "群里没找到 不存在，请 @ 对方再试")
    assert sent[5][0] == "points/grant" and sent[5][1].startswith("用法")
    assert sent[6][1].splitlines() == ["小红 的积分明细（共 102 分）：", "03-03 09:03 -20 扣分（刷屏）",
                                       "03-03 09:02 +120 加分（分享了干货）", "03-03 08:00 +2 发言"]
    assert len(sent) == 7  # x2: silence
    audit = await runtime.store.audit.audit_of_event("g2")
    [row] = [r for r in audit if r["action"] == "send"]
    assert row["rule"] == "points/deduct"
    assert {k: row["data"][k] for k in ("actor", "target", "delta", "reason")} == {
        "actor": "admin1", "target": "u2", "delta": -20, "reason": "刷屏"}
    ledger = await runtime.store.repository(PointsRepository).ledger_of("g1", "u2", 10)
    assert [(r["actor"], r["delta"], r["note"]) for r in ledger[:2]] == [("admin1", -20, "刷屏"),
                                                                         ("admin1", 120, "分享了干货")]
    points = runtime.store.repository(PointsRepository)
    assert await points.ledger_sums("g1") == await points.balances("g1")


async def test_a_member_sees_their_own_ledger_but_not_others(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock, _ev("c", _at(3, 9), text="签到"), _ev("l", _at(3, 9, 1), text="积分明细"),
               _ev("o", _at(3, 9, 2), text="积分明细 @小红"))
    own, refused = [a for a in platform.sent if a.rule != "checkin"]
    assert own.text.splitlines() == ["小明 的积分明细（共 5 分）：", "03-03 09:00 +5 签到"]
    assert refused.rule == "points/refused"


async def test_command_words_must_stand_alone_and_mentions_may_hold_spaces(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock,
               _ev("n0", _at(3, 8), user="u7", name="Tom Li", text="大家好我是新来的"),
               _ev("q1", _at(3, 9), text="加分规则是什么呀"),
               _ev("q2", _at(3, 9, 1), text="积分明细怎么看"),
               _ev("g1", _at(3, 9, 2), user="admin1", name="群主", text="加分 @Tom Li\u2005 10 帮忙答疑",
                   mentions=["u7"]))
    sent = [(a.rule, a.text) for a in platform.sent]
    assert sent == [("points/grant", "已给 Tom Li 加 10 分（帮忙答疑），现有 12 分")]


async def test_a_level_is_announced_once_even_when_the_balance_dips_and_climbs_again(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    steps = ["加分 @小红 100 a", "扣分 @小红 1 b", "加分 @小红 1 c", "扣分 @小红 200 d"]
    await feed(runtime, clock, _ev("hi", _at(3, 8), user="u2", name="小红", text="大家好呀我是小红"),
               *[_ev(f"s{n}", _at(3, 9, n), user="admin1", name="群主", text=t) for n, t in enumerate(steps)],
               _ev("lv", _at(3, 10), user="u2", name="小红", text="我的等级"))
    assert [a.data["level"] for a in platform.sent if a.rule == "levels"] == ["活跃"]
    [mine] = [a for a in platform.sent if a.rule == "levels/mine"]
    assert mine.data["level"] == "新手" and "（-98 分），再得 198 分升为「活跃」" in mine.text


async def test_a_typed_name_goes_to_the_one_present_member_of_that_name_never_to_a_namesake(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    await feed(runtime, clock,
               _ev("a1", _at(3, 8), user="zs_old", name="张三", text="我是老张三，明天退群了"),
               _ev("a2", _at(3, 8, 1), user="zs_old", name="张三", type_="leave", text=None),
               _ev("a3", _at(3, 8, 2), user="zs", name="张三", text="大家好我是张三"),
               _ev("g1", _at(3, 9), user="admin1", name="群主", text="加分 @张三 10 帮忙"))
    grant = [a for a in platform.sent if a.rule == "points/grant"]
    assert len(grant) == 1 and grant[0].data["target"] == "zs"  # not the one who left
    # an impostor takes the same name: a typed name is no longer one person's
    await feed(runtime, clock,
               _ev("b1", _at(3, 10), user="fake", name="张三", text="我也叫张三哈哈哈哈"),
               _ev("g2", _at(3, 10, 1), user="admin1", name="群主", text="加分 @张三 10 帮忙"))
    last = platform.sent[-1]
    assert last.rule == "points/grant" and last.data.get("error") == "unknown member"
    assert "2 位以上叫「张三」" in (last.text or "") and "请直接 @ 对方" in (last.text or "")
    repo = runtime.bot.store.repository(PointsRepository)
    assert await repo.balance("g1", "fake") < 10 <= await repo.balance("g1", "zs")


async def test_awards_judged_from_memory_match_the_database_with_checkins_and_red_packets_between(
        any_db_url: str, clock: DrivenClock) -> None:
    from bot.app import start_runtime
    from handlers import FEATURES
    from rules.config import Config
    from rules.reload import ConfigHolder
    from storage.journal import Journal

    runtime = await start_runtime(ConfigHolder(Config.from_text(POINTS_CONFIG)), any_db_url, clock, FakePlatform(),
                                  FEATURES)

    trips = 0
    real = Journal.write_steps

    async def counted(self, steps):  # type: ignore[no-untyped-def]
        nonlocal trips
        trips += 1
        return await real(self, steps)

    Journal.write_steps = counted  # type: ignore[method-assign]
    try:
        await feed(runtime, clock, _ev("m1", _at(3, 9)), _ev("m2", _at(3, 9, 1)), _ev("c", _at(3, 9, 2), text="签到"),
                   _ev("m3", _at(3, 9, 3)), _ev("r", _at(3, 9, 4), type_="red_packet"), _ev("m4", _at(3, 9, 5)),
                   _ev("m5", _at(3, 9, 6)), _ev("m6", _at(4, 9)))
    finally:
        Journal.write_steps = real  # type: ignore[method-assign]
    repo = runtime.store.repository(PointsRepository)
    ledger = await repo.ledger_of("g1", "u1", 50)
    assert sorted(r["event_id"] for r in ledger if r["reason"] == "message") == ["m1", "m2", "m3", "m6"]  # cap 6
    balance = await repo.balance("g1", "u1")
    assert balance == sum(r["delta"] for r in ledger) and (await repo.ledger_sums("g1"))["u1"] == balance
    notes = [n for n in await runtime.store.audit.search(group="g1", rule="points/award", limit=50)]
    assert max(n["data"]["balance"] for n in notes) == balance  # what each award said is what was stored
    # the first message award asks the database; the others, the check-in and the red packet are decided
    # in memory (the database's one writer) and written with the next commit
    assert trips == 1
    await runtime.close()


async def test_a_balance_a_statement_returns_is_not_kept_when_memory_moved_it_meanwhile(any_db_url: str) -> None:
    import asyncio
    from datetime import UTC, datetime

    from sqlalchemy import select

    from bot.app import open_store
    from handlers.checkin.repository import CheckinRepository
    from handlers.points.tables import BALANCES
    from handlers.shop.repository import ShopRepository

    t0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    store = open_store(any_db_url)
    await store.open()
    checkin, shop = store.repository(CheckinRepository), store.repository(ShopRepository)
    try:
        await checkin.points.award_points("g", "u1", 100, "red_packet", t0)
        await store.commit()
        # a redemption (the console, the shop) is written while the member's check-in is decided in memory
        redeem = asyncio.create_task(shop.redeem("g", "u1", "cup", 50, None, t0, "e-shop"))
        await asyncio.sleep(0)
        await checkin.check_in("g", "u1", "2026-03-02", "2026-03-01", t0, "e-ci", lambda _streak: 5)
        await redeem
        await store.commit()
        stored = (await store.read(select(BALANCES.c.balance))).scalar()
        assert stored == 55 and await checkin.points.balance("g", "u1") == stored
    finally:
        await store.close()
