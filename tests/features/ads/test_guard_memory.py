"""What the ads guards keep per member stays small: the flood counts hold the last minute of messages
only, and what no window reaches any more is dropped every few minutes, not at 20,000 keys."""

from __future__ import annotations

from handlers import ads
from tests.conftest import BASIC_CONFIG, EventFactory
from tests.features.conftest import OpenHarness

FLOOD_AT_5 = BASIC_CONFIG + "\n".join(["", "  ads:", "    flood_messages_per_minute: 5", ""])


async def test_the_flood_count_keeps_the_last_minute_only(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(ads.FEATURE, FLOOD_AT_5)
    for i in range(5):
        await h.call(make_event(text=f"第{i}条", after=20))  # 20 s apart: at most 4 within a minute
    assert len(h.memory["rate"][("g1", "u1")]) == 4
    outcomes = [await h.call(make_event(text=f"快{i}", after=1)) for i in range(6)]
    warned = [n for n, o in enumerate(outcomes) if o is not None and o.actions]
    assert warned == [2]  # the 3rd quick one is the 6th within a minute: the 2 oldest slow ones are past it
    assert outcomes[2].actions[0].rule == "ads/flood" and outcomes[2].actions[0].data["count"] == 6


async def test_members_who_went_quiet_are_dropped_within_minutes(harness: OpenHarness,
                                                                make_event: EventFactory) -> None:
    h = await harness(ads.FEATURE, FLOOD_AT_5)
    for i in range(300):
        await h.call(make_event(text="大家好", group=f"g{i % 7}", user=f"u{i}", after=0.1))
    assert len(h.memory["rate"]) == 300
    await h.call(make_event(text="有人吗", user="late", after=180))
    assert list(h.memory["rate"]) == [("g1", "late")]


async def test_cross_posts_are_kept_while_the_widest_window_reaches_them(harness: OpenHarness,
                                                                        make_event: EventFactory) -> None:
    wide = FLOOD_AT_5 + "groups:\n  慢群:\n    ads: {cross_group_minutes: 30}\n"
    h = await harness(ads.FEATURE, wide)
    text = "明天上午九点到十二点小区停水，大家提前接好水"
    await h.call(make_event(text=text, group="g1", user="u9"))
    await h.call(make_event(text="另一段足够长的文字，用来触发清理", group="g2", user="u8", after=15 * 60))
    posts = h.memory["cross_posts"]
    assert [sorted(groups) for groups in posts.values()] == [["g1"], ["g2"]]  # 15 minutes: inside 慢群's 30
    await h.call(make_event(text="第三段足够长的文字，再来一次清理", group="g2", user="u8", after=16 * 60))
    assert [sorted(groups) for groups in posts.values()] == [["g2"], ["g2"]]  # 31 minutes: no window reaches it
