"""topic_hours: inside the hours and days an off-topic word gets a light reminder, at most once an hour per
group; outside them, from admins and operators, or within the cooldown only a note; words match in
traditional and full-width forms; a 10,000-character message is cheap; and through the whole bot an ad
is an ad, not an off-topic message."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta

import pytest

from bot.clock import DrivenClock
from bot.events import Event, Outcome
from handlers import topic_hours
from rules.config import Config
from rules.loader import ConfigError
from tests.conftest import BASIC_CONFIG, CST, EventFactory, FakePlatform, feed
from tests.features.conftest import OpenHarness
from tests.features.harness import FeatureHarness, texts

CONFIG = BASIC_CONFIG + """  topic_hours:
    enabled: true
    days: [1, 2, 3, 4, 5]
    from: "10:00"
    to: "18:00"
    words: [约饭, 约球, 八卦, KTV]
"""
MONDAY = datetime(2026, 3, 2, 10, 30, tzinfo=CST)


IDS = itertools.count(1)


def at(when: datetime, text: str, *, user: str = "u1", group: str = "g1") -> Event:
    """A text message at `when` (a test's times only move forward: the clock never goes back)."""
    return EventFactory(when)(text=text, user=user, group=group, after=0, id=f"th{next(IDS)}")


async def say(h: FeatureHarness, event: Event) -> Outcome | None:
    outcome = await h.call(event)
    h.settle(event, outcome)  # the audit log remembers the reminder (the cooldown reads it)
    return outcome


def reminded(outcome: Outcome | None) -> bool:
    return outcome is not None and any(a.rule == "topic_hours" for a in outcome.actions)


async def test_an_off_topic_word_inside_the_hours_gets_a_light_reminder(harness: OpenHarness) -> None:
    h = await harness(topic_hours.FEATURE, CONFIG)
    outcome = await say(h, at(MONDAY, "今晚谁约饭呀"))
    assert outcome is not None and not outcome.stop
    [action] = outcome.actions
    assert action.rule == "topic_hours" and action.mentions == ()  # light: no @ by default
    assert action.data["word"] == "约饭" and action.data["period"] == {"days": [1, 2, 3, 4, 5], "from": "10:00",
                                                                     "to": "18:00"}
    assert texts(outcome) == ["小提醒：10:00–18:00 群里先聊正事，「约饭」之类的话题可以私聊或下班后再约哦～"]
    assert await h.call(at(MONDAY, "这个需求今天能上线吗")) is None  # on topic: nothing, not even a note


async def test_outside_the_hours_or_the_days_only_a_note(harness: OpenHarness) -> None:
    h = await harness(topic_hours.FEATURE, CONFIG)
    # Monday 18:00 (the end is not inside), Monday 23:00, Tuesday 09:59, Saturday 10:30 (the clock never goes back)
    for when in (MONDAY.replace(hour=18, minute=0), MONDAY.replace(hour=23), MONDAY.replace(hour=9, minute=59)
                 + timedelta(days=1), MONDAY + timedelta(days=5)):
        outcome = await say(h, at(when, "周末约球吗"))
        assert outcome is not None and not outcome.actions and "不在话题时段内" in outcome.notes[0].reason
    assert reminded(await say(h, at(MONDAY + timedelta(days=7), "周末约球吗")))  # the next Monday


async def test_a_period_past_midnight_and_a_list_of_periods(harness: OpenHarness) -> None:
    h = await harness(topic_hours.FEATURE, BASIC_CONFIG + """  topic_hours:
    enabled: true
    cooldown_minutes: 0
    periods: [{days: [5], from: "22:00", to: "02:00"}, {days: [1], from: "09:00", to: "12:00"}]
""")
    friday = MONDAY + timedelta(days=4)
    assert not reminded(await say(h, at(MONDAY.replace(hour=13), "八卦一下")))  # days/from/to replaced
    assert not reminded(await say(h, at(friday.replace(hour=1), "八卦一下")))  # Friday 01:00: Thursday's night
    assert reminded(await say(h, at(friday.replace(hour=23), "八卦一下")))
    assert reminded(await say(h, at(friday.replace(hour=1) + timedelta(days=1), "八卦一下")))  # Saturday 01:00
    assert not reminded(await say(h, at(friday.replace(hour=23) + timedelta(days=1), "八卦一下")))  # Saturday 23:00
    assert reminded(await say(h, at(MONDAY.replace(hour=9) + timedelta(days=7), "八卦一下")))


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_at_most_once_an_hour_per_group(harness: OpenHarness) -> None:
    h = await harness(topic_hours.FEATURE, CONFIG)
    assert reminded(await say(h, at(MONDAY, "约饭约饭")))
    later = await say(h, at(MONDAY + timedelta(minutes=59), "八卦来了", user="u2"))
    assert later is not None and not later.actions and "已经提醒过" in later.notes[0].reason
    assert datetime.fromisoformat(later.notes[0].data["reminded"]) == MONDAY
    assert reminded(await say(h, at(MONDAY + timedelta(minutes=10), "约饭", group="g2")))  # another group
    assert reminded(await say(h, at(MONDAY + timedelta(minutes=60), "八卦来了", user="u2")))


async def test_admins_and_operators_are_exempt(harness: OpenHarness) -> None:
    h = await harness(topic_hours.FEATURE, CONFIG)
    for user in ("admin1", "op1"):
        outcome = await say(h, at(MONDAY, "今晚约饭", user=user))
        assert outcome is not None and not outcome.actions and "管理员" in outcome.notes[0].reason
    assert reminded(await say(h, at(MONDAY, "今晚约饭")))  # and they used up no cooldown


@pytest.mark.parametrize("text", ["今晚約飯嗎", "週末約球？", "聊聊八　卦！", "去ＫＴＶ吗", "约，饭", "🍜约饭"])
async def test_traditional_and_full_width_variants_match(harness: OpenHarness, text: str) -> None:
    h = await harness(topic_hours.FEATURE, CONFIG)
    assert reminded(await say(h, at(MONDAY, text)))


async def test_a_ten_thousand_character_message_is_read_only_at_its_start(harness: OpenHarness) -> None:
    h = await harness(topic_hours.FEATURE, CONFIG)
    started = time.perf_counter()
    assert await say(h, at(MONDAY, "字" * 9_990 + "约饭")) is None  # past max_chars (500): not read
    assert reminded(await say(h, at(MONDAY, "约饭" + "字" * 10_000)))
    assert time.perf_counter() - started < 1.0


async def test_off_by_default_and_bad_periods_are_config_errors(harness: OpenHarness) -> None:
    h = await harness(topic_hours.FEATURE)
    assert await h.call(at(MONDAY, "约饭")) is None
    for bad in ('{enabled: true, from: "10:00", to: "10:00"}', "{enabled: true, days: [0, 8]}",
                '{enabled: true, to: "25:00"}', "{enabled: true, reminder: '{who}'}"):
        with pytest.raises(ConfigError):
            Config.from_text(BASIC_CONFIG + f"  topic_hours: {bad}\n")


# -- through the whole bot ------------------------------------------------------------------------------

@pytest.fixture
def config_text() -> str:
    return CONFIG


async def test_through_the_bot_one_reminder_an_hour_and_an_ad_is_an_ad(
        runtime, clock: DrivenClock, platform: FakePlatform) -> None:
    factory = EventFactory(MONDAY)
    events = [factory(text="中午约饭的举手", user="u1"),
              factory(text="约球约球", user="u2", after=60),                       # within the hour: a note
              factory(text="兼职刷单约饭，日结300，加V：abc12345", user="u3", after=60),  # an ad, not off-topic
              factory(text="八卦时间到", user="u2", after=3600)]                  # an hour later: reminded
    await feed(runtime, clock, *events)
    rules = [(a.rule, a.data.get("event")) for a in platform.sent]
    assert [r for r in rules if r[0] == "topic_hours"] == [("topic_hours", events[0].id), ("topic_hours", events[3].id)]
    assert next(rule for rule, event in rules if event == events[2].id).startswith("ads/")
    why = await runtime.store.audit.audit_of_event(events[1].id)
    assert any(r["rule"] == "topic_hours" and r["status"] == "note" for r in why)
