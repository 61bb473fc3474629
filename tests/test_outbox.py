"""The outbox: pacing on the clock, per-group and per-account caps, merging, retries, fallbacks (fairness
between groups, the queue cap and priorities: tests/test_fair_sending.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.app import open_store
from bot.clock import DrivenClock, SystemClock
from bot.events import Action
from bot.lanes import SWEEP_FIRST, Item, Lanes
from bot.outbox import Outbox
from bot.platform import Capabilities
from rules.schema import OutboxSettings
from tests.conftest import FakePlatform

T = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def send(group: str, text: str, ts: datetime = T) -> Action:
    return Action(action="send", rule="test", group=group, text=text, ts=ts)


def paced(lanes: Lanes, chat: str, n: int, at: datetime = T) -> list[datetime]:
    """Queue n actions to `chat` at `at` and take them one by one: the instants they go."""
    for i in range(n):
        lanes.add(Item(f"{chat}-{i}", send(chat, str(i), at), at))
    times = []
    while (nxt := lanes.next()) is not None:
        when, lane = nxt
        lanes.take(lane, when)
        times.append(when)
    return times


def test_a_chat_is_spaced_and_capped_a_minute() -> None:
    lanes = Lanes(OutboxSettings(min_interval_seconds=1, per_group_per_minute=20, per_account_per_minute=1000,
                                 queue_per_group=100))
    lanes.add(Item("other", send("g2", "other"), T))
    times = paced(lanes, "g1", 25)
    assert times[:4] == [T, T, T + timedelta(seconds=1), T + timedelta(seconds=2)]  # g2's went at T too
    assert times[20] == T + timedelta(seconds=19)
    assert times[21] == T + timedelta(minutes=1)  # the 21st to g1 waits for the minute window


def test_the_account_sends_at_its_pace_after_a_burst_and_caps_a_minute() -> None:
    lanes = Lanes(OutboxSettings(min_interval_seconds=0, per_group_per_minute=100, per_account_per_minute=3,
                                 burst=3))
    times = [paced(lanes, f"g{i}", 1)[0] for i in range(5)]
    assert times == [T, T, T, T + timedelta(minutes=1), T + timedelta(minutes=1)]  # 3 a minute
    lanes = Lanes(OutboxSettings(min_interval_seconds=0, per_group_per_minute=100, per_account_per_minute=30,
                                 burst=1))
    assert [paced(lanes, f"g{i}", 1)[0] for i in range(3)] == [T, T + timedelta(seconds=2), T + timedelta(seconds=4)]


async def test_driven_clock_sends_as_the_clock_passes_the_paced_instants(tmp_path) -> None:
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    await store.open()
    platform = FakePlatform()
    clock = DrivenClock(T)
    outbox = Outbox(platform, clock, OutboxSettings(), store)
    await outbox.submit([("a", send("g1", "one")), ("b", send("g1", "two")), ("c", send("g2", "three"))])
    assert [(a.text, a.ts) for a in platform.sent] == [("one", T), ("three", T)]  # "two" is due in a second
    clock.advance(timedelta(seconds=1))
    await outbox.submit([])
    assert [(a.text, a.ts) for a in platform.sent][-1] == ("two", T + timedelta(seconds=1))
    await outbox.submit([("d", send("g1", "four", T + timedelta(seconds=1)))])
    await outbox.drain()  # the outbox's clock runs on until the queues are empty
    assert [(a.text, a.ts) for a in platform.sent][-1] == ("four", T + timedelta(seconds=2))
    await store.close()


async def test_live_sends_never_block_and_consecutive_texts_merge(tmp_path) -> None:
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    await store.open()
    platform = FakePlatform(Capabilities(merge_texts=True))
    clock = SystemClock()
    outbox = Outbox(platform, clock, OutboxSettings(min_interval_seconds=0.2), store)
    now = clock.now()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await outbox.submit([(str(i), send("g1", f"m{i}", now)) for i in range(5)])
    assert loop.time() - started < 0.05  # submit returned without waiting for the pace
    await outbox.drain(5)
    assert "".join(platform.texts()).count("m") == 5
    assert [a.text for a in platform.sent] == ["m0\nm1\nm2\nm3\nm4"]  # the burst went out as one
    await store.close()


async def test_failed_sends_are_retried_then_marked(tmp_path) -> None:
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    await store.open()
    platform = FakePlatform()
    platform.fail_next = 2
    outbox = Outbox(platform, DrivenClock(T), OutboxSettings(max_attempts=5), store)
    await outbox.submit([("a", send("g1", "hello"))])
    assert platform.attempts == 3 and platform.texts() == ["hello"] and outbox.delivered == 1
    platform.fail_next = 10
    await outbox.submit([("b", send("g1", "lost"))])
    await outbox.drain()
    assert outbox.failed == 1 and platform.attempts == 8
    await store.close()


async def test_a_kick_the_platform_cannot_do_goes_to_the_operators(tmp_path) -> None:
    from bot.app import operator_fallback
    from rules.config import Config
    from rules.reload import ConfigHolder

    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    await store.open()
    platform = FakePlatform(Capabilities(kick=False))
    holder = ConfigHolder(Config.from_text("defaults: {operators: [op1, op2]}\n"))
    outbox = Outbox(platform, DrivenClock(T), OutboxSettings(), store, fallback=operator_fallback(holder))
    kick = Action(action="kick", rule="ads/link", group="g1", user="spammer", reason="广告 3 次", ts=T)
    await outbox.submit([("k", kick)])
    assert [(a.user, a.action) for a in platform.sent] == [("op1", "send"), ("op2", "send")]
    assert "spammer" in platform.sent[0].text and "广告 3 次" in platform.sent[0].text
    assert platform.sent[0].data["fallback_for"] == "kick"
    await store.close()


def test_idle_lanes_are_forgotten_a_minute_after_their_last_send_but_not_a_lane_that_dropped() -> None:
    """1,000 quiet groups do not each keep a lane (two queues, a minute of send times) forever."""
    settings = OutboxSettings(min_interval_seconds=0, per_account_per_minute=6000, burst=1, queue_per_group=1)
    lanes = Lanes(settings)
    t0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    for n in range(3 * SWEEP_FIRST):
        at = t0 + timedelta(seconds=n)
        lanes.add(Item(f"i{n}", Action(action="send", rule="keywords", group=f"g{n}", text="hi"), at))
        if n == 0:  # g0 fills its queue of one: the second action is dropped
            lanes.add(Item("extra", Action(action="send", rule="keywords", group="g0", text="again"), at))
        _at, lane = lanes.next()
        lanes.take(lane, at)
    kept = set(lanes._lanes)
    assert len(kept) < SWEEP_FIRST + 61, len(kept)  # those sent in the last minute, and the newest since the sweep
    assert "g0" in kept and "g1" not in kept
