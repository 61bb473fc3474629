"""red_packet: red packets within the window get one merged thank-you; a red packet that settled an ad
is thanked by the ads feature only; thanks can be turned off, and the shipped config.yaml does (a good
member does not answer every red packet) while the ads feature still thanks the one that settles an ad;
红包榜 / 红包周榜 count the events table with the asker's own place; and through the whole bot a red packet
still earns its points."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import start_runtime
from bot.clock import DrivenClock
from bot.events import Event, Outcome, Timer
from handlers import FEATURES, red_packet
from handlers.ads.repository import AdsRepository
from handlers.points.repository import PointsRepository
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import BASIC_CONFIG, ROOT, T0, EventFactory, FakePlatform, feed, fire_timers
from tests.features.conftest import OpenHarness
from tests.features.harness import FeatureHarness, texts

PITCH = "兼职刷单，日结300，加V：abc12345"


def timer_of(outcome: Outcome | None) -> Timer:
    assert outcome is not None and not outcome.actions, outcome
    [timer] = outcome.timers
    return timer


async def call_all(h: FeatureHarness, *events: Event, handler: str | None = None) -> list[Outcome | None]:
    """Each event through the handler, recorded as the core would (event log, roster, audit)."""
    outcomes = []
    for event in events:
        outcome = await h.call(event, handler)
        h.settle(event, outcome)
        outcomes.append(outcome)
    return outcomes


# -- thanks ---------------------------------------------------------------------------------------------

async def test_several_red_packets_in_the_window_get_one_thanks(harness: OpenHarness,
                                                                make_event: EventFactory) -> None:
    h = await harness(red_packet.FEATURE)
    packets = [make_event("red_packet", user="u1", user_name="小明", after=5),
               make_event("red_packet", user="u2", user_name="阿珍", after=10),
               make_event("red_packet", user="u1", user_name="小明", after=10)]  # a second one from 小明
    outcomes = await call_all(h, *packets, handler="red_packet")
    timers = [timer_of(o) for o in outcomes]
    # each red packet asks for the group's timer; the core keeps the first: due a minute after it
    assert {t.key for t in timers} == {"thanks:g1"} and timers[0].due == packets[0].ts + timedelta(seconds=60)
    assert "排队" in outcomes[0].notes[0].reason  # type: ignore[union-attr]

    actions, _, _ = await h.fire(timers[0])
    [sent] = actions
    assert sent.rule == "red_packet" and sent.group == "g1" and sent.mentions == ("u1", "u2")
    assert sent.text == "谢谢 @小明 @阿珍 的红包🧧"
    assert sent.data == {"members": ["u1", "u2"], "events": [p.id for p in packets], "more": 0}
    # the queue was taken: the next window, with nothing queued, says nothing
    assert (await h.fire(timers[0].model_copy(update={"due": timers[0].due + timedelta(minutes=5)})))[0] == []


async def test_a_pending_thanks_survives_reopening_the_store(any_db_url: str, clock: DrivenClock,
                                                             make_event: EventFactory) -> None:
    db = any_db_url  # SQLite and PostgreSQL
    h = await FeatureHarness.open(red_packet.FEATURE, db, clock, BASIC_CONFIG)
    outcomes = await call_all(h, make_event("red_packet", user="u1"), make_event("red_packet", user="u2"),
                              handler="red_packet")
    await h.close()  # commits; the first store's memory is gone
    again = await FeatureHarness.open(red_packet.FEATURE, db, clock, BASIC_CONFIG)
    try:
        actions, _, _ = await again.fire(timer_of(outcomes[0]))
        assert [a.mentions for a in actions] == [("u1", "u2")]
    finally:
        await again.close()


async def test_a_crowd_of_senders_is_capped_at_twenty_mentions(harness: OpenHarness,
                                                               make_event: EventFactory) -> None:
    config = BASIC_CONFIG + "  red_packet: {thanks: '谢谢 @{user_name} 的 {packets} 个红包'}\n"
    h = await harness(red_packet.FEATURE, config)
    packets = [make_event("red_packet", user=f"m{i}", user_name=f"成员{i}", after=1) for i in range(23)]
    outcomes = await call_all(h, *packets, handler="red_packet")
    [sent], _, _ = await h.fire(timer_of(outcomes[0]))
    assert len(sent.mentions) == 20 and sent.data["more"] == 3 and len(sent.data["members"]) == 23
    assert sent.text is not None and sent.text.endswith("@成员19 等 3 人 的 23 个红包")


async def test_a_red_packet_that_excused_an_ad_is_not_thanked_twice(any_db_url: str, clock: DrivenClock,
                                                                    make_event: EventFactory) -> None:
    h = await FeatureHarness.open(red_packet.FEATURE, any_db_url, clock)  # SQLite and PostgreSQL
    try:
        await excused_and_not(h, make_event)
    finally:
        await h.close()


async def excused_and_not(h: FeatureHarness, make_event: EventFactory) -> None:
    ad = make_event(text=PITCH, user="u9", user_name="阿飞")
    ads = h.store.repository(AdsRepository)
    ads.record_ad_offence(ad.id, "g1", "u9", ad.ts, "text", "contact", PITCH)
    packet = make_event("red_packet", user="u9", user_name="阿飞", after=30)
    ads.excuse_ad_offence(ad.id, packet.id)  # what the ads handler did earlier in the chain
    outcome = await h.call(packet, "red_packet")
    assert outcome is not None and not outcome.actions and not outcome.timers
    assert outcome.notes[0].data == {"excused": "ads/contact"} and "不再重复感谢" in outcome.notes[0].reason
    # a second red packet from the same member settles nothing: that one is a gift, thanked as usual
    again = await h.call(make_event("red_packet", user="u9", user_name="阿飞", after=30), "red_packet")
    assert timer_of(again).key == "thanks:g1"


async def test_thanks_off_by_an_empty_text_or_enabled_false(harness: OpenHarness, make_event: EventFactory) -> None:
    quiet = await harness(red_packet.FEATURE, BASIC_CONFIG + "  red_packet: {thanks: ''}\n")
    outcome = await quiet.call(make_event("red_packet"), "red_packet")
    assert outcome is not None and not outcome.actions and not outcome.timers and "已关闭" in outcome.notes[0].reason
    assert texts(await quiet.call(make_event(text="红包榜"), "red_packet-boards"))  # the boards still answer

    off = await harness(red_packet.FEATURE, BASIC_CONFIG + "  red_packet: {enabled: false}\n")
    assert await off.call(make_event("red_packet"), "red_packet") is None
    assert await off.call(make_event(text="红包榜"), "red_packet-boards") is None  # ordinary chat then


async def test_thanks_turned_off_before_the_window_closes_drops_the_queue(harness: OpenHarness,
                                                                          make_event: EventFactory) -> None:
    h = await harness(red_packet.FEATURE)
    [outcome] = await call_all(h, make_event("red_packet"), handler="red_packet")
    h.config = Config.from_text(BASIC_CONFIG + "  red_packet: {thanks: ''}\n")  # a reload meanwhile
    actions, notes, _ = await h.fire(timer_of(outcome))
    assert actions == [] and "不再感谢" in notes[0]


async def test_a_window_of_zero_thanks_each_red_packet_at_once(harness: OpenHarness,
                                                               make_event: EventFactory) -> None:
    h = await harness(red_packet.FEATURE, BASIC_CONFIG + "  red_packet: {thanks_window_seconds: 0}\n")
    packet = make_event("red_packet")
    outcome = await h.call(packet, "red_packet")
    assert outcome is not None and not outcome.timers
    [sent] = outcome.actions
    assert sent.text == "谢谢 @小明 的红包🧧" and sent.mentions == ("u1",) and sent.reply_to == packet.id
    assert sent.data["members"] == ["u1"] and sent.data["events"] == [packet.id]


# -- boards ---------------------------------------------------------------------------------------------

BOARD_CONFIG = BASIC_CONFIG + "  red_packet: {board_size: 2}\n"


def seed_red_packets(h: FeatureHarness) -> None:
    """Today (Monday 2026-03-02): 小明 3, 阿珍 1, 阿强 2; Saturday: 阿珍 5; eight days ago: 老王 9."""
    days = {0: [("u1", "小明")] * 3 + [("u2", "阿珍")] + [("u3", "阿强")] * 2, -2: [("u2", "阿珍")] * 5,
            -8: [("u4", "老王")] * 9}
    for back, senders in days.items():
        factory = EventFactory(T0.replace(hour=8) + timedelta(days=back))
        h.seen(*(factory("red_packet", user=u, user_name=n, after=60, id=f"rp{back}-{i}")
                 for i, (u, n) in enumerate(senders)))
    h.seen(make_text("你好", "u5", "小李"))


def make_text(text: str, user: str, name: str) -> Event:
    return EventFactory(T0.replace(hour=9))(text=text, user=user, user_name=name, id=f"t-{user}-{text}")


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_todays_board_counts_red_packets_and_gives_the_askers_own_place(harness: OpenHarness) -> None:
    h = await harness(red_packet.FEATURE, BOARD_CONFIG)
    seed_red_packets(h)
    outcome = await h.call(make_text("红包榜", "u2", "阿珍"), "red_packet-boards")
    assert outcome is not None and outcome.stop
    [answer] = outcome.actions
    assert answer.rule == "red_packet/board-today" and answer.mentions == ("u2",)
    assert answer.data["rows"] == [{"user": "u1", "count": 3, "place": 1}, {"user": "u3", "count": 2, "place": 2}]
    assert answer.data["place"] == 3 and answer.data["count"] == 1  # outside the top two, still told
    assert answer.text == "🧧 今日红包榜\n1. 小明 3 个\n2. 阿强 2 个\n@阿珍 你排第 3 名（1 个）"
    none = await h.call(make_text("红包榜", "u5", "小李"), "red_packet-boards")
    assert none is not None and none.actions[0].data["place"] == 0 and "你今日还没有发红包" in texts(none)[0]


async def test_the_week_board_is_the_last_seven_local_days(any_db_url: str, clock: DrivenClock) -> None:
    h = await FeatureHarness.open(red_packet.FEATURE, any_db_url, clock, BOARD_CONFIG)  # SQLite and PostgreSQL
    try:
        seed_red_packets(h)
        outcome = await h.call(make_text("紅包週榜", "u1", "小明"), "red_packet-boards")  # traditional characters
    finally:
        await h.close()
    assert outcome is not None
    [answer] = outcome.actions
    assert answer.rule == "red_packet/board-week" and answer.data["period"] == "week"
    # Saturday's red packets count (an ISO week would have started this morning); eight days ago does not
    assert answer.data["rows"] == [{"user": "u2", "count": 6, "place": 1}, {"user": "u1", "count": 3, "place": 2}]
    assert answer.data["since"] == "2026-02-24T00:00:00+08:00"
    assert texts(outcome)[0].startswith("🧧 近 7 天红包榜\n1. 阿珍 6 个")


async def test_a_board_repeated_within_the_cooldown_is_answered_once(harness: OpenHarness) -> None:
    h = await harness(red_packet.FEATURE, BOARD_CONFIG)
    seed_red_packets(h)
    first = await h.call(make_text("🧧红包榜！", "u1", "小明"), "red_packet-boards")  # after an emoji
    assert first is not None and first.actions
    again = await h.call(make_text("红包榜", "u1", "小明"), "red_packet-boards")
    assert again is not None and again.stop and not again.actions and "重复的命令" in again.notes[0].reason
    other = await h.call(make_text("红包榜", "u2", "阿珍"), "red_packet-boards")
    assert other is not None and other.actions  # another member is answered
    assert await h.call(make_text("红包榜是什么意思呀", "u3", "阿强"), "red_packet-boards") is None


async def test_an_empty_board_says_so(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(red_packet.FEATURE)
    outcome = await h.call(make_event(text="红包榜"), "red_packet-boards")
    assert outcome is not None and outcome.actions[0].data["rows"] == [] and "还没有人发红包" in texts(outcome)[0]


# -- through the whole bot ------------------------------------------------------------------------------

@pytest.fixture
def config_text() -> str:
    return BASIC_CONFIG + "  points: {red_packet_points: 10}\n"


async def test_through_the_bot_thanks_merge_ads_thank_alone_and_points_stay(
        runtime, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    events = [
        make_event(text=PITCH, user="u9", user_name="阿飞"),                     # an ad: prompted
        make_event("red_packet", user="u9", user_name="阿飞", after=30),         # settles it: ads thanks
        make_event("red_packet", user="u1", user_name="小明", after=5),          # opens the thanks window
        make_event("red_packet", user="u2", user_name="阿珍", after=20),
        make_event(text="红包榜", user="u2", user_name="阿珍", after=60),         # after the window closed
    ]
    await feed(runtime, clock, *events)
    await fire_timers(runtime, clock, events[-1].ts + timedelta(minutes=5))
    await runtime.bot.commit()
    await runtime.outbox.drain()
    rules = [a.rule for a in platform.sent]
    assert rules[0].startswith("ads/") and rules[1].startswith("ads/") and platform.sent[1].data["excused"] is True
    thanks = [a for a in platform.sent if a.rule == "red_packet"]
    assert len(thanks) == 1 and thanks[0].mentions == ("u1", "u2")  # 阿飞 was thanked by ads only
    assert thanks[0].data["events"] == [events[2].id, events[3].id]
    board = next(a for a in platform.sent if a.rule == "red_packet/board-today")
    assert board.data["rows"][0] == {"user": "u1", "count": 1, "place": 1} and len(board.data["rows"]) == 3
    # the points rule is the points feature's, unchanged: every red packet earns red_packet_points
    points = runtime.store.repository(PointsRepository)
    assert [await points.balance("g1", u) for u in ("u9", "u1", "u2")] == [10, 10, 10]
    assert {r["reason"] for r in await points.ledger_of("g1", "u1", 10)} == {"red_packet"}


async def test_the_shipped_config_thanks_no_red_packet_but_ads_still_thank_the_one_that_settles_an_ad(
        db_url: str, clock: DrivenClock, make_event: EventFactory) -> None:
    shipped = Config.from_file(ROOT / "config.yaml")
    assert shipped.group("g1", "测试群").settings.red_packet.thanks == ""
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(shipped), db_url, clock, platform, FEATURES)
    gift = make_event("red_packet", user="u1", user_name="小明-网易-市场-广州", after=5)
    events = [make_event(text=PITCH, user="u9", user_name="阿飞-公司-运营-北京"),         # an ad: prompted
              make_event("red_packet", user="u9", user_name="阿飞-公司-运营-北京", after=30),  # settles it
              gift, make_event("tick", after=600)]
    try:
        await feed(rt, clock, *events)
        await fire_timers(rt, clock, events[-1].ts + timedelta(minutes=5))
        await rt.bot.commit()
        await rt.outbox.drain()
        audit = await rt.store.audit.audit_of_event(gift.id)
    finally:
        await rt.close()
    prompt, thanks = platform.sent  # nothing else: the gift is not thanked
    assert prompt.rule.startswith("ads/") and thanks.rule == prompt.rule and thanks.data["excused"] is True
    assert thanks.text == "谢谢 @阿飞-公司-运营-北京 的红包🧧 这次的广告就算啦～" and thanks.mentions == ("u9",)
    assert any("红包感谢已关闭" in r["data"].get("reason", "") for r in audit)
