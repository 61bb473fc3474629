"""Timers that handlers set: kept with the event's writes (a pending key keeps its timer), fired once at
their due instant with the clock there, in time order with the cron jobs in replay, scheduled again
after a restart (overdue ones at start), followed by the bot's clock in the console."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Runtime, start_runtime
from bot.clock import DrivenClock, OffsetClock, SystemClock
from bot.context import Context
from bot.events import Action, Event, Outcome, Timer, parse_event
from bot.feature import Band, Feature, Handler, JobContext
from bot.timers import timer_job
from rules.config import Config
from rules.reload import ConfigHolder
from scheduler.driven import DueJobs
from scheduler.live import ClockScheduler, LiveScheduler
from storage.tables import JOB_RUNS
from tests.conftest import BASIC_CONFIG, EventFactory, FakePlatform, feed, fire_timers
from tests.test_scheduler import announcer

CST = timezone(timedelta(hours=8))


async def start(event: Event, ctx: Context) -> Outcome | None:
    """"开始 X" opens a one-minute round in the group ("开始 X/5": five seconds); a second one meanwhile
    joins the first."""
    if event.type != "text" or not event.text.startswith("开始"):
        return None
    assert event.group is not None
    what, _, seconds = event.text[2:].strip().partition("/")
    due = ctx.now + timedelta(seconds=int(seconds or 60))
    return Outcome(timers=(Timer(name="end", key=f"round:{event.group}", due=due,
                                 data={"group": event.group, "what": what}),))


async def end(ctx: JobContext, timer: Timer) -> list[Action]:
    ctx.note(f"round {timer.data['what']} ended")
    if timer.data["what"] == "连环":  # a timer may set the next one (the same key is free again)
        ctx.timers.append(timer.model_copy(update={"due": ctx.due + timedelta(minutes=1),
                                                   "data": {**timer.data, "what": "第二轮"}, "feature": ""}))
    return [Action(action="send", rule="rounds", group=timer.data["group"],
                   text=f"结束：{timer.data['what']} @ {ctx.clock.now().astimezone(CST):%H:%M:%S}")]


ROUNDS = Feature("rounds", handlers=(Handler("rounds", Band.COMMAND, start),), timers={"end": end})


def said(text: str, at: datetime, n: str, group: str = "g1") -> Event:
    return parse_event({"id": n, "ts": at.isoformat(), "type": "text", "group": group, "group_name": "群",
                        "user": "u1", "user_name": "小明", "text": text})


async def job_note(rt: Runtime, job_id: str) -> str:
    return (await rt.store.read(select(JOB_RUNS.c.note).where(JOB_RUNS.c.job_id == job_id))).scalar()


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=CST)


async def open_bot(db: str, clock: object, platform: FakePlatform, config: str = BASIC_CONFIG) -> Runtime:
    return await start_runtime(ConfigHolder(Config.from_text(config)), db, clock, platform, [ROUNDS])  # type: ignore[arg-type]


async def test_a_timer_fires_once_at_its_instant_and_a_pending_key_keeps_the_first(
        any_db_url: str, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    rt = await open_bot(any_db_url, clock, platform)
    try:
        first, second = make_event(text="开始 甲"), make_event(text="开始 乙", after=20)
        await feed(rt, clock, first, second)
        [pending] = rt.store.timers.pending()
        assert (pending.feature, pending.key, pending.due, pending.data["what"]) == (
            "rounds", "round:g1", first.ts + timedelta(minutes=1), "甲")
        assert platform.sent == []
        await feed(rt, clock, make_event("tick", after=300))
        [sent] = platform.sent
        assert sent.text == "结束：甲 @ 10:01:01" and sent.ts == pending.due
        assert await rt.store.audit.job_ran("timer:rounds:round:g1", pending.due)
        assert rt.store.timers.pending() == [] and await rt.store.count("timers") == 0
        assert await fire_timers(rt, clock, clock.now() + timedelta(days=1)) == 0  # nothing runs twice
        await feed(rt, clock, make_event(text="开始 丙"))  # the key is free again: a new round
        assert [t.data["what"] for t in rt.store.timers.pending()] == ["丙"]
    finally:
        await rt.close()


async def test_a_timer_may_set_the_next_and_an_unknown_timer_is_dropped(
        db_url: str, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    rt = await open_bot(db_url, clock, platform)
    try:
        await feed(rt, clock, make_event(text="开始 连环"))
        await fire_timers(rt, clock, clock.now() + timedelta(minutes=5))
        assert [a.text for a in platform.sent] == ["结束：连环 @ 10:01:01", "结束：第二轮 @ 10:02:01"]
        stray = Timer(name="nope", key="x", due=clock.now(), feature="rounds")
        assert await rt.bot.run_timer(stray) and len(platform.sent) == 2
        note = await job_note(rt, "timer:rounds:x")
        assert note == "no timer 'nope' in feature 'rounds': dropped"
    finally:
        await rt.close()


async def test_actions_of_a_timer_in_an_observe_group_are_notes(db_url: str, clock: DrivenClock,
                                                                platform: FakePlatform,
                                                                make_event: EventFactory) -> None:
    config = BASIC_CONFIG.replace("defaults:\n", "defaults:\n  mode: observe\n")
    rt = await open_bot(db_url, clock, platform, config)
    try:
        await feed(rt, clock, make_event(text="开始 甲"), make_event("tick", after=120))
        assert platform.sent == [] and rt.store.timers.pending() == []
        note = await job_note(rt, "timer:rounds:round:g1")
        assert note.startswith("round 甲 ended; observe mode: would send g1 结束：甲")
    finally:
        await rt.close()


def test_due_jobs_take_timers_added_on_the_way_in_time_order_with_the_cron_jobs() -> None:
    due = DueJobs([announcer("morning", "早上好", 9)], at(8, 0))

    def add(key: str, when: datetime) -> None:
        due.add(timer_job([ROUNDS], Timer(name="end", key=key, due=when, feature="rounds")), when)

    add("b", at(9, 0))
    add("a", at(8, 59))
    fired = []
    for when, job in due.due_until(at(9, 0)):
        fired.append((when.astimezone(CST).strftime("%H:%M"), job.id))
        if job.id == "timer:rounds:a":  # a timer added while the jobs run (a handler or a timer set it)
            add("c", at(8, 30))  # already past: fires next
    assert fired == [("08:59", "timer:rounds:a"), ("08:30", "timer:rounds:c"), ("09:00", "morning"),
                     ("09:00", "timer:rounds:b")]
    assert [j.id for _, j in due.due_until(datetime(2026, 3, 3, 9, 0, tzinfo=CST))] == ["morning"]  # once each


async def test_after_a_restart_overdue_timers_run_at_start_once_and_later_ones_are_scheduled(
        tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    clock = SystemClock()
    earlier = OffsetClock()
    earlier.advance(timedelta(minutes=-3))  # the bot that set the first round ran three minutes ago
    rt = await open_bot(db, earlier, FakePlatform())
    await rt.bot.process(said("开始 早", earlier.now(), "a"))  # due two minutes ago
    await rt.bot.process(said("开始 晚/600", earlier.now(), "b", group="g2"))  # due in seven minutes
    await rt.bot.commit()
    await rt.close()
    for run in range(2):
        platform = FakePlatform()
        rt = await open_bot(db, clock, platform)
        scheduler = LiveScheduler(rt.bot)
        scheduler.start()
        try:
            ran = await scheduler._catch_up
            jobs = [j.id for j in scheduler.scheduler.get_jobs()]
            scheduler.rebuild(rt.bot.config)  # a config reload leaves the timers alone
            assert [j.id for j in scheduler.scheduler.get_jobs()] == jobs
        finally:
            scheduler.shutdown()
        await rt.outbox.drain(seconds=2)
        await rt.close()
        texts = [a.text.split(" @")[0] for a in platform.sent]
        if run == 0:
            assert (ran, texts) == (["timer:rounds:round:g1"], ["结束：早"])
        else:
            assert (ran, texts) == ([], [])
        assert "timer:rounds:round:g2" in jobs  # the one still to come is an APScheduler date job


async def test_the_live_scheduler_fires_a_new_timer_at_its_instant(tmp_path: Path) -> None:
    clock = SystemClock()
    platform = FakePlatform()
    rt = await open_bot(f"sqlite+aiosqlite:///{tmp_path / 't.db'}", clock, platform)
    scheduler = LiveScheduler(rt.bot)
    scheduler.start()
    try:
        await rt.bot.process(said("开始 快/1", clock.now(), "a"))  # a round of one second
        await rt.bot.commit()
        for _ in range(100):
            await asyncio.sleep(0.05)
            if platform.sent:
                break
        assert [a.text.split(" @")[0] for a in platform.sent] == ["结束：快"]
    finally:
        scheduler.shutdown()
        await rt.close()


async def test_the_clock_scheduler_fires_timers_as_the_bots_clock_passes_them(tmp_path: Path) -> None:
    clock = OffsetClock()
    clock.advance(datetime(2026, 4, 7, 10, 0, tzinfo=CST) - clock.now())
    platform = FakePlatform()
    rt = await open_bot(f"sqlite+aiosqlite:///{tmp_path / 't.db'}", clock, platform)
    scheduler = ClockScheduler(rt.bot)
    scheduler.TICK_SECONDS = 0.05
    scheduler.start()
    try:
        await rt.bot.process(said("开始 甲", clock.now(), "a"))
        await rt.bot.commit()
        clock.advance(timedelta(minutes=2))  # the console's ":tick 2"
        for _ in range(100):
            await asyncio.sleep(0.05)
            if platform.sent:
                break
        else:
            pytest.fail("the timer did not fire after the clock passed it")
        assert platform.sent[0].text.startswith("结束：甲") and scheduler.timers == {}
    finally:
        await scheduler.stop()
        await rt.close()


def test_timer_keys_and_ids_fit_the_columns() -> None:
    timer = Timer(name="end", key="k" * 128, due=datetime(2026, 1, 1, tzinfo=UTC), feature="f" * 64)
    assert len(timer.job_id) <= 200  # job_runs.job_id
    with pytest.raises(ValueError):
        Timer(name="end", key="k" * 129, due=datetime(2026, 1, 1, tzinfo=UTC))
