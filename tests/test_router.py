"""The router: bands in order, stop with observers still running, crash isolation, own messages,
per-group order with groups running concurrently."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.app import start_runtime
from bot.clock import DrivenClock
from bot.context import Context
from bot.events import Event, Outcome, reply
from bot.feature import Band, Handler
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import BASIC_CONFIG, EventFactory, FakePlatform, feed


def recorder(name: str, band: Band, log: list[str], *, stop: bool = False, order: int = 0) -> Handler:
    async def handle(event: Event, ctx: Context) -> Outcome:
        log.append(name)
        return Outcome(actions=(reply(event, name, f"from {name}"),), stop=stop)

    return Handler(name, band, handle, order=order)


async def make(db_url: str, clock: DrivenClock, platform: FakePlatform, handlers: list[Handler]):
    return await start_runtime(ConfigHolder(Config.from_text(BASIC_CONFIG)), db_url, clock, platform, handlers)


async def test_bands_run_in_priority_order_whatever_the_registration_order(
        db_url: str, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    calls: list[str] = []
    handlers = [recorder("observe", Band.OBSERVE, calls), recorder("reply", Band.AUTO_REPLY, calls),
                recorder("guard", Band.GUARD, calls), recorder("cmd", Band.COMMAND, calls),
                recorder("mod", Band.MODERATION, calls)]
    rt = await make(db_url, clock, platform, handlers)
    await feed(rt, clock, make_event(text="hi"))
    await rt.close()
    assert calls == ["guard", "mod", "cmd", "reply", "observe"]
    assert [a.rule for a in platform.sent] == calls


async def test_stop_skips_later_bands_but_observers_still_run(
        db_url: str, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    calls: list[str] = []
    handlers = [recorder("mod", Band.MODERATION, calls, stop=True), recorder("reply", Band.AUTO_REPLY, calls),
                recorder("observe", Band.OBSERVE, calls)]
    rt = await make(db_url, clock, platform, handlers)
    await feed(rt, clock, make_event(text="hi"))
    await rt.close()
    assert calls == ["mod", "observe"]


async def test_a_crashing_handler_is_logged_with_the_event_and_the_others_run(
        db_url: str, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    async def boom(event: Event, ctx: Context) -> Outcome:
        raise RuntimeError("kaboom")

    handlers = [Handler("boom", Band.MODERATION, boom), recorder("reply", Band.AUTO_REPLY, calls),
                recorder("observe", Band.OBSERVE, calls)]
    rt = await make(db_url, clock, platform, handlers)
    event = make_event(text="hi")
    with caplog.at_level(logging.ERROR):
        await feed(rt, clock, event)
    audit = await rt.store.audit.audit_of_event(event.id)
    await rt.close()
    assert calls == ["reply", "observe"]
    assert f"handler boom failed on event {event.id}" in caplog.text
    assert any(r["rule"] == "boom" and "kaboom" in r["data"]["reason"] for r in audit)


async def test_the_bot_ignores_its_own_messages(
        db_url: str, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    calls: list[str] = []
    rt = await make(db_url, clock, platform, [recorder("reply", Band.AUTO_REPLY, calls)])
    await feed(rt, clock, make_event(text="群规", user="bot", user_name="小管家"))
    assert await rt.store.count("events") == 0
    await rt.close()
    assert calls == [] and platform.sent == []


async def test_events_of_one_group_in_order_and_groups_concurrently(
        db_url: str, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    order: list[str] = []
    slow_started = asyncio.Event()
    release_slow = asyncio.Event()

    async def handle(event: Event, ctx: Context) -> Outcome | None:
        if event.group == "slow" and event.text == "first":
            slow_started.set()
            await release_slow.wait()
        order.append(f"{event.group}:{event.text}")
        return None

    rt = await make(db_url, clock, platform, [Handler("h", Band.AUTO_REPLY, handle)])
    bot = rt.bot
    bot.dispatch(make_event(group="slow", text="first"))
    bot.dispatch(make_event(group="slow", text="second"))
    await slow_started.wait()
    bot.dispatch(make_event(group="fast", text="one"))
    bot.dispatch(make_event(group="fast", text="two"))
    for _ in range(50):  # the fast group is not held up by the slow one
        if order == ["fast:one", "fast:two"]:
            break
        await asyncio.sleep(0.01)
    assert order == ["fast:one", "fast:two"]
    release_slow.set()
    await bot.drain()
    await rt.close()
    assert order == ["fast:one", "fast:two", "slow:first", "slow:second"]
