"""Idempotency: an event id seen before is a no-op, in one run, across restarts, and when two
deliveries of one event arrive at once."""

from __future__ import annotations

import asyncio

from bot.app import start_runtime
from bot.clock import DrivenClock
from handlers import FEATURES
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import BASIC_CONFIG, EventFactory, FakePlatform, feed


async def test_the_same_event_twice_acts_once(runtime, clock: DrivenClock, platform: FakePlatform,
                                              make_event: EventFactory) -> None:
    event = make_event(text="群规")
    await feed(runtime, clock, event)
    await feed(runtime, clock, event)
    assert await runtime.store.count("events") == 1
    member = await runtime.store.members.member("g1", "u1")
    assert member is not None and member.message_count == 1
    assert len(platform.sent) == 1


async def test_concurrent_duplicate_deliveries_act_once(runtime, clock: DrivenClock, platform: FakePlatform,
                                                        make_event: EventFactory) -> None:
    event = make_event(text="群规")
    clock.set(event.ts)
    results = await asyncio.gather(runtime.bot.process(event), runtime.bot.process(event))
    await runtime.bot.commit()
    assert sorted(results) == [False, True] and len(platform.sent) == 1


async def test_a_restart_on_the_same_database_rehandles_nothing(db_url: str, clock: DrivenClock,
                                                                 make_event: EventFactory) -> None:
    # the tick comes after the welcome's batch window: its timer fires before it
    events = [make_event(text="群规"), make_event("join", user="u9", user_name="新人"), make_event(text="hello"),
              make_event("tick", after=120)]
    first = FakePlatform()
    rt = await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), db_url, clock, first,
                             FEATURES)
    await feed(rt, clock, *events)
    await rt.close()
    second = FakePlatform()
    rt = await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), db_url, clock, second,
                             FEATURES)
    await feed(rt, clock, *events)
    assert await rt.store.count("events") == 4
    await rt.close()
    assert len(first.sent) == 2 and second.sent == []
