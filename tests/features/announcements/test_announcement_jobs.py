"""The announcement jobs alone: a fixed-time post in every group that holds the entry, none in a
group silent for days, and the peak hour chosen from the group's own activity."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from handlers import announcements
from tests.conftest import BASIC_CONFIG, CST, EventFactory
from tests.features.conftest import OpenHarness

CONFIG = BASIC_CONFIG + """  announcements:
    - {time: "09:00", texts: ["早安 {group_name}"]}
    - {time: peak, texts: ["高峰时段到了"], peak_min_messages: 5}
"""
DUE = datetime(2026, 3, 3, 9, 0, tzinfo=CST)


async def test_a_fixed_time_entry_posts_in_active_groups_and_skips_silent_ones(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(announcements.FEATURE, CONFIG)
    h.seen(make_event(text="昨天的消息"), make_event(text="很久以前", group="g2", group_name="老群", after=0))
    h.seen(EventFactory(DUE - timedelta(days=10))(text="十天前", group="g3", group_name="沉寂群"))
    actions, notes = await h.run_job("announce:09:00|*", DUE)
    assert [(a.group, a.text, a.rule) for a in actions] == [("g1", "早安 测试群", "announcements"),
                                                          ("g2", "早安 老群", "announcements")]
    assert any("g3" in n and "silent" in n for n in notes)


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_the_peak_entry_posts_at_the_busiest_hour_of_the_last_days(harness: OpenHarness) -> None:
    h = await harness(announcements.FEATURE, CONFIG)
    events = EventFactory(datetime(2026, 3, 2, 20, 10, tzinfo=CST))
    h.seen(*(events(text=f"晚上聊天{n}", after=30) for n in range(8)))
    h.seen(EventFactory(datetime(2026, 3, 2, 9, 5, tzinfo=CST))(text="早上一条"))
    quiet, _ = await h.run_job("announce:peak", datetime(2026, 3, 3, 9, 0, tzinfo=CST))
    assert quiet == []
    posted, notes = await h.run_job("announce:peak", datetime(2026, 3, 3, 20, 0, tzinfo=CST))
    assert [(a.rule, a.data["peak_hour"]) for a in posted] == [("announcements/peak", 20)]
    assert any("peak announcement at 20:00" in n for n in notes)
