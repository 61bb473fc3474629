"""The shop handler alone: the catalogue, a redemption taking points and stock together, what is
refused (too few points, sold out, over the limit, no such item), the admins' decisions, and the last
units redeemed by fifty members at once on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import DrivenClock
from handlers import shop
from handlers.points.repository import PointsRepository
from handlers.shop.repository import ShopRepository
from tests.conftest import BASIC_CONFIG, T0, EventFactory
from tests.features.conftest import OpenHarness
from tests.features.harness import FeatureHarness, texts

CONFIG = BASIC_CONFIG + """  shop:
    items:
      - {name: 电影票, cost: 300, stock: 2, per_member_limit: 1}
      - {name: 帆布袋, cost: 100}
"""


async def give(h: FeatureHarness, user: str, points: int) -> None:
    await h.store.repository(PointsRepository).award_points("g1", user, points, "grant", T0)


async def test_the_catalogue_shows_what_is_left(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(shop.FEATURE, CONFIG)
    outcome = await h.call(make_event(text="积分商城"))
    assert outcome is not None and outcome.actions[0].data["items"] == [["电影票", 300, 2], ["帆布袋", 100, None]]
    assert "1. 电影票 300 分（剩 2）" in texts(outcome)[0] and "帆布袋 100 分（剩 不限）" in texts(outcome)[0]


async def test_a_redemption_takes_the_points_and_a_unit_together(harness: OpenHarness,
                                                                 make_event: EventFactory) -> None:
    h = await harness(shop.FEATURE, CONFIG)
    await give(h, "u1", 350)
    outcome = await h.call(make_event(text="兑换 电影票"))
    assert outcome is not None and outcome.stop
    facts = outcome.actions[0].data
    assert {k: facts[k] for k in ("item", "cost", "balance", "stock", "status")} == {
        "item": "电影票", "cost": 300, "balance": 50, "stock": 1, "status": "pending"}
    listed = await h.call(make_event(text="积分商城"))
    assert listed is not None and listed.actions[0].data["items"][0] == ["电影票", 300, 1]
    again = await h.call(make_event(text="兑换电影票"))  # the limit is one per member
    assert again is not None and again.actions[0].data["error"] == "limit" and "每人限兑 1 次" in texts(again)[0]
    points = h.store.repository(PointsRepository)
    assert await points.balance("g1", "u1") == 50 and await points.ledger_sums("g1") == {"u1": 50}
    mine = await h.call(make_event(text="我的兑换"))
    assert mine is not None and "电影票 300 分 待发放" in texts(mine)[0]


async def test_too_few_points_sold_out_and_unknown_items_take_nothing(harness: OpenHarness,
                                                                      make_event: EventFactory) -> None:
    h = await harness(shop.FEATURE, CONFIG)
    await give(h, "u1", 120)
    poor = await h.call(make_event(text="兑换 电影票"))
    assert poor is not None and poor.actions[0].data["error"] == "poor" and poor.actions[0].data["balance"] == 120
    assert await h.store.repository(ShopRepository).sold("g1") == {"电影票": 0}  # the unit went back
    for user in ("u2", "u3"):
        await give(h, user, 300)
        done = await h.call(make_event(text="兑换 电影票", user=user))
        assert done is not None and done.actions[0].data["status"] == "pending"
    await give(h, "u4", 300)
    gone = await h.call(make_event(text="兑换 电影票", user="u4"))
    assert gone is not None and gone.actions[0].data["error"] == "sold_out" and gone.actions[0].data["balance"] == 300
    unknown = await h.call(make_event(text="兑换 演唱会门票"))
    assert unknown is not None and unknown.actions[0].data["error"] == "unknown item"
    assert await h.call(make_event(text="兑换规则是什么")) is None  # conversation, not a command


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_an_admin_confirms_or_refuses_and_a_refusal_refunds(harness: OpenHarness,
                                                                  make_event: EventFactory) -> None:
    h = await harness(shop.FEATURE, CONFIG)
    h.seen(make_event(text="你好", user="u2", user_name="小红"))
    await give(h, "u2", 700)
    await h.call(make_event(text="兑换 电影票", user="u2", user_name="小红"))
    await h.call(make_event(text="兑换 帆布袋", user="u2", user_name="小红"))
    member = await h.call(make_event(text="确认兑换 @小红", mentions=["u2"]))
    assert member is not None and not member.actions  # only admins decide
    confirmed = await h.call(make_event(text="确认兑换 @小红", user="admin1", mentions=["u2"]))
    assert confirmed is not None and confirmed.actions[0].data["status"] == "confirmed"
    assert confirmed.actions[0].data["item"] == "电影票" and confirmed.actions[0].data["balance"] == 300
    refused = await h.call(make_event(text="拒绝兑换 @小红", user="admin1", mentions=["u2"]))
    assert refused is not None and refused.actions[0].data["status"] == "refused"
    assert refused.actions[0].data["item"] == "帆布袋" and refused.actions[0].data["balance"] == 400
    nothing = await h.call(make_event(text="拒绝兑换 @小红", user="admin1", mentions=["u2"]))
    assert nothing is not None and nothing.actions[0].data["error"] == "nothing pending"
    points = h.store.repository(PointsRepository)
    assert await points.ledger_sums("g1") == await points.balances("g1") == {"u2": 400}
    mine = await h.call(make_event(text="我的兑换", user="u2", user_name="小红"))
    assert mine is not None and "已发放" in texts(mine)[0] and "已拒绝" in texts(mine)[0]


async def test_fifty_members_redeeming_the_last_units_at_once_get_one_each_until_gone(
        any_db_url: str, clock: DrivenClock) -> None:
    config = BASIC_CONFIG + "  shop:\n    items:\n      - {name: 电影票, cost: 300, stock: 10}\n"
    h = await FeatureHarness.open(shop.FEATURE, any_db_url, clock, config)
    try:
        events = EventFactory()
        for n in range(50):
            await give(h, f"m{n}", 300 + n)
        asks = [events(text="兑换 电影票", user=f"m{n}", after=0) for n in range(50)]
        outcomes = await asyncio.gather(*(h.call(e) for e in asks))
        facts = [o.actions[0].data for o in outcomes if o is not None]
        assert sum(f.get("status") == "pending" for f in facts) == 10
        assert sum(f.get("error") == "sold_out" for f in facts) == 40
        assert sorted(f["stock"] for f in facts if f.get("status") == "pending") == list(range(10))
        await h.store.commit()
        points = h.store.repository(PointsRepository)
        balances = await points.balances("g1")
        assert await points.ledger_sums("g1") == balances
        assert sum(1 for n in range(50) if balances[f"m{n}"] == n) == 10  # exactly ten paid 300
        assert await h.store.repository(ShopRepository).sold("g1") == {"电影票": 10}
        assert await h.store.count("shop_redemptions") == 10
    finally:
        await h.close()


async def test_commands_in_traditional_characters_or_after_an_emoji_work_and_chat_is_turned_away_cheaply(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(shop.FEATURE, CONFIG)
    await give(h, "u1", 500)
    listed = await h.call(make_event(text="🎁 積分商城"))
    assert listed is not None and listed.actions[0].data["items"][0] == ["电影票", 300, 2]
    redeemed = await h.call(make_event(text="兌換 電影票"))
    assert redeemed is not None and redeemed.actions[0].data["status"] == "pending"
    assert await h.call(make_event(text="今天的积分商城活动真不错，大家都兑换了吗")) is None
    assert await h.call(make_event(text="大家好")) is None


async def test_a_decision_replayed_after_a_failed_commit_meets_the_same_redemption(any_db_url: str) -> None:
    """The batch runs again after a failed commit; on PostgreSQL the re-inserted redemption gets a new id,
    so the decision must find "the member's oldest pending one" in SQL, not an id read before."""
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError

    from bot.app import open_store
    from handlers.shop.tables import REDEMPTIONS, SHOP_SOLD

    store = open_store(any_db_url, [shop.FEATURE])
    await store.open()
    try:
        points, repo = store.repository(PointsRepository), store.repository(ShopRepository)
        await points.award_points("g1", "u1", 100, "grant", T0)
        await store.commit()
        assert (await repo.redeem("g1", "u1", "电影票", 30, 5, T0, "e1")).balance == 70
        refused = await repo.decide("g1", "u1", "refused", "admin1", T0, "e2")
        assert refused is not None and refused.balance == 100
        real, calls = store._execute, {"n": 0}

        async def fails_once(entries):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 1:
                raise OperationalError("INSERT", {}, Exception("database is locked"))
            return await real(entries)

        store._execute = fails_once  # type: ignore[method-assign]
        with pytest.raises(OperationalError):
            await store.commit()
        store._execute = real  # type: ignore[method-assign]
        await store.recover()
        await store.commit()
        assert [s for (s,) in (await store.read(select(REDEMPTIONS.c.status))).all()] == ["refused"]
        assert (await store.read(select(SHOP_SOLD.c.sold))).all() == [(0,)]
        assert await points.balance("g1", "u1") == 100 and await points.ledger_sums("g1") == {"u1": 100}
        assert await repo.decide("g1", "u1", "refused", "admin1", T0, "e3") is None  # nothing left to refund
    finally:
        await store.close()


async def test_without_a_catalogue_there_is_no_shop(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(shop.FEATURE)
    assert await h.call(make_event(text="积分商城")) is None
    assert await h.call(make_event(text="兑换 积分有什么用啊")) is None
