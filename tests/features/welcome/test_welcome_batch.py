"""Batched welcomes and rename reminders: the first join in a group opens the newcomers' window
(`welcome.batch_seconds`, 60 by default), the first reminder of a member already in the group the
reminders' window (`rename_batch_minutes`, 30); everyone queued until one of them fires is answered in
one message that mentions each of them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import start_runtime
from bot.clock import DrivenClock
from bot.events import Event, Outcome, Timer
from handlers import FEATURES, welcome
from handlers.welcome.repository import WelcomeRepository
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import T0, EventFactory, FakePlatform, feed
from tests.features.conftest import OpenHarness
from tests.features.harness import FeatureHarness

BATCHED = """
bot: {name: 小管家, id: bot}
defaults:
  rules: 不发广告
  welcome:
    text: "欢迎 @{user_name} 加入{group_name}！{rules}"
    name_format: {example: 名字-城市, pattern: '[^-]+-[^-]+'}
    rename_reminder: "@{user_name} 请改成「{name_format}」"
"""


def timer_of(outcome: Outcome | None) -> Timer:
    assert outcome is not None and not outcome.actions, outcome
    [timer] = outcome.timers
    return timer


async def call_all(h: FeatureHarness, *events: Event) -> list[Outcome | None]:
    """Each event through the handler, recorded as the core would (so the roster knows its member)."""
    outcomes = []
    for event in events:
        outcome = await h.call(event)
        h.settle(event, outcome)
        outcomes.append(outcome)
    return outcomes


async def test_three_joins_within_the_window_get_one_welcome_that_mentions_each(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, BATCHED)
    joins = [make_event("join", user=f"n{i}", user_name=f"新人{i}-北京", after=10) for i in range(3)]
    outcomes = await call_all(h, *joins)
    timers = [timer_of(o) for o in outcomes]
    # every join asks for the group's timer; the core keeps the first (same key), due a minute after it
    assert {t.key for t in timers} == {"batch:g1"} and timers[0].due == joins[0].ts + timedelta(seconds=60)
    assert "queued" in outcomes[0].notes[0].reason  # type: ignore[union-attr]

    actions, _, _ = await h.fire(timers[0])
    [sent] = actions
    assert sent.rule == "welcome" and sent.group == "g1" and sent.mentions == ("n0", "n1", "n2")
    assert sent.text == "欢迎 @新人0-北京 @新人1-北京 @新人2-北京 加入测试群！不发广告"
    assert sent.data["members"] == ["n0", "n1", "n2"] and sent.data["rename_asked"] is False
    assert sent.data["events"] == [j.id for j in joins] and "event" not in sent.data
    # the queue was taken: firing again (a second window with nobody in it) says nothing
    assert (await h.fire(timers[0].model_copy(update={"due": timers[0].due + timedelta(minutes=5)})))[0] == []


async def test_welcomes_and_due_reminders_fold_into_one_message(harness: OpenHarness,
                                                                make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, BATCHED)
    outcomes = await call_all(
        h,
        make_event("join", user="n1", user_name="阿强"),                 # does not fit: welcomed and asked
        make_event("join", user="n2", user_name="阿珍-上海"),            # fits: welcomed
        make_event(text="大家好", user="m1", user_name="老王", after=5),  # first message, name off: asked
        make_event(text="在吗", user="m1", user_name="老王", after=5))    # still one reminder
    actions, _, _ = await h.fire(timer_of(outcomes[0]))
    [sent] = actions
    assert sent.rule == "welcome" and sent.mentions == ("n1", "n2", "m1")
    assert sent.text == "欢迎 @阿强 @阿珍-上海 加入测试群！不发广告\n@阿强 @老王 请改成「名字-城市」"
    assert sent.data["asked"] == ["n1", "m1"] and sent.data["reminder"] == {"n1": 1, "m1": 1}
    repo = h.store.repository(WelcomeRepository)
    assert (await repo.reminders("g1", "n1")).count == 1 and await repo.reminders("g1", "n2") is None  # type: ignore[union-attr]


async def test_first_reminders_within_half_an_hour_go_out_as_one_reminder_with_several_mentions(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, BATCHED)
    messages = [make_event(text="早", user=f"m{i}", user_name=f"成员{i}", after=600) for i in range(3)]
    outcomes = await call_all(h, *messages)  # 10 and 20 minutes apart: a one-minute window merges nothing
    timers = [timer_of(o) for o in outcomes]
    assert {t.key for t in timers} == {"remind:g1"} and timers[0].due == messages[0].ts + timedelta(minutes=30)
    assert "within 1800s" in outcomes[0].notes[0].reason  # type: ignore[union-attr]
    actions, _, _ = await h.fire(timers[0])
    [sent] = actions
    assert sent.rule == "welcome/rename-reminder" and sent.mentions == ("m0", "m1", "m2")
    assert sent.text == "@成员0 @成员1 @成员2 请改成「名字-城市」"
    assert sent.data["reminder"] == {"m0": 1, "m1": 1, "m2": 1}
    assert sent.data["events"] == [m.id for m in messages]
    # a message after the window opens the next one: answered with nobody else, 30 minutes on
    late = make_event(text="早", user="m3", user_name="成员3", after=1200)
    [window] = [timer_of(o) for o in await call_all(h, late)]
    assert window.due == late.ts + timedelta(minutes=30)
    [alone], _, _ = await h.fire(window)
    assert alone.mentions == ("m3",)


async def test_a_reminder_waiting_in_its_window_goes_out_with_a_newcomers_welcome(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, BATCHED)
    message, join = await call_all(h, make_event(text="早", user="m1", user_name="老王"),
                                   make_event("join", user="n1", user_name="阿珍-上海", after=300))
    reminders_window, newcomers_window = timer_of(message), timer_of(join)
    assert (reminders_window.key, newcomers_window.key) == ("remind:g1", "batch:g1")
    [sent], _, _ = await h.fire(newcomers_window)  # due first: it takes the whole queue
    assert sent.rule == "welcome" and sent.mentions == ("n1", "m1") and sent.data["asked"] == ["m1"]
    assert sent.text == "欢迎 @阿珍-上海 加入测试群！不发广告\n@老王 请改成「名字-城市」"
    assert (await h.fire(reminders_window))[0] == []  # nothing left for the reminders' window


async def test_a_reminder_window_of_zero_reminds_at_once_and_newcomers_keep_their_minute(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, BATCHED + "    rename_batch_minutes: 0\n")
    first = make_event(text="早", user="m1", user_name="老王")
    join = make_event("join", user="n1", user_name="阿珍", after=5)
    message, joined = await call_all(h, first, join)
    assert message is not None and [a.rule for a in message.actions] == ["welcome/rename-reminder"]
    newcomers_window = timer_of(joined)
    assert newcomers_window.key == "batch:g1" and newcomers_window.due == join.ts + timedelta(seconds=60)


async def test_a_member_who_leaves_or_renames_to_a_fitting_name_before_the_timer_is_left_out(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, BATCHED)
    outcomes = await call_all(
        h,
        make_event("join", user="n1", user_name="阿强"),
        make_event("join", user="n2", user_name="阿珍"),
        make_event("join", user="n3", user_name="小李"),
        make_event("leave", user="n2", user_name="阿珍", after=10),
        make_event("rename", user="n3", user_name="小李-广州", after=10))
    actions, notes, _ = await h.fire(timer_of(outcomes[0]))
    [sent] = actions
    assert sent.mentions == ("n1", "n3") and sent.data["asked"] == ["n1"]
    assert sent.text == "欢迎 @阿强 @小李-广州 加入测试群！不发广告\n@阿强 请改成「名字-城市」"
    assert any("n2 left" in n for n in notes) and any("n3 now has a fitting name" in n for n in notes)
    assert await h.store.repository(WelcomeRepository).reminders("g1", "n3") is None  # never counted


async def test_a_raid_is_capped_at_twenty_mentions_and_the_rest_are_counted(harness: OpenHarness,
                                                                           make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, BATCHED)
    outcomes = await call_all(h, *[make_event("join", user=f"r{i}", user_name=f"号{i}", after=0.05)
                                   for i in range(1000)])
    actions, notes, _ = await h.fire(timer_of(outcomes[0]))
    [sent] = actions
    assert len(sent.mentions) == 20 and sent.mentions[0] == "r0" and sent.data["more"] == 980
    assert "@号19 等 980 位新朋友 加入测试群" in sent.text
    assert sent.text.count("@") == 40  # 20 welcomed, the same 20 asked to rename
    repo = h.store.repository(WelcomeRepository)
    assert (await repo.reminders("g1", "r19")).count == 1 and await repo.reminders("g1", "r20") is None  # type: ignore[union-attr]
    assert any("980 reminder(s) past the mention cap" in n for n in notes)


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_once_by_the_batch_and_once_more_by_the_daily_follow_up(harness: OpenHarness,
                                                                      make_event: EventFactory) -> None:
    h = await harness(welcome.FEATURE, BATCHED)
    [joined] = await call_all(h, make_event("join", user_name="阿强"))
    assert [a.rule for a in (await h.fire(timer_of(joined)))[0]] == ["welcome"]
    [third_day] = await call_all(h, make_event(text="早", user_name="阿强", after=3 * 86_400))
    assert third_day is not None and not third_day.timers and "daily reminder" in third_day.notes[0].reason
    followups, _ = await h.run_job("rename-followup:20:00", T0.replace(hour=20) + timedelta(days=3))
    assert [(a.rule, a.data["reminder"]) for a in followups] == [("welcome/rename-reminder", {"u1": 2})]
    [later] = await call_all(h, make_event(text="早", user_name="阿强", after=10 * 86_400))
    assert later is not None and not later.timers and "no more reminders" in later.notes[0].reason


async def test_a_pending_batch_survives_reopening_the_store(tmp_path: Path, clock: DrivenClock,
                                                           make_event: EventFactory) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    h = await FeatureHarness.open(welcome.FEATURE, db, clock, BATCHED)
    outcomes = await call_all(h, make_event("join", user="n1", user_name="阿强"),
                              make_event("join", user="n2", user_name="阿珍-上海"))
    await h.close()  # commits; the memory of the first store is gone
    again = await FeatureHarness.open(welcome.FEATURE, db, clock, BATCHED)
    try:
        actions, _, _ = await again.fire(timer_of(outcomes[0]))
        assert [a.mentions for a in actions] == [("n1", "n2")]
    finally:
        await again.close()


async def test_through_the_bot_a_restart_fires_the_pending_batch_once(any_db_url: str, clock: DrivenClock,
                                                                     make_event: EventFactory) -> None:
    db = any_db_url  # SQLite and PostgreSQL
    config = ConfigHolder(Config.from_text(BATCHED))
    joins = [make_event("join", user=f"n{i}", user_name=f"新人{i}", after=15) for i in range(3)]
    first = FakePlatform()
    rt = await start_runtime(config, db, clock, first, FEATURES)
    await feed(rt, clock, *joins)
    [pending] = rt.store.timers.pending()
    assert (pending.key, pending.due) == ("batch:g1", joins[0].ts + timedelta(seconds=60))
    await rt.close()
    assert first.sent == []  # the window had not closed when the bot stopped

    second = FakePlatform()
    rt = await start_runtime(config, db, clock, second, FEATURES)
    try:
        [reloaded] = rt.store.timers.pending()
        assert reloaded == pending
        await feed(rt, clock, *joins, make_event("tick", after=120))  # the joins again: duplicates
        assert [(a.rule, a.mentions) for a in second.sent] == [("welcome", ("n0", "n1", "n2"))]
        assert second.sent[0].ts == pending.due and rt.store.timers.pending() == []
        assert await rt.store.count("welcome_queue") == 0 and await rt.store.count("timers") == 0
    finally:
        await rt.close()


async def test_the_queue_is_taken_from_memory_as_the_table_holds_it(any_db_url: str) -> None:
    from sqlalchemy import select

    from bot.app import open_store
    from handlers.welcome.tables import WELCOME_QUEUE as Q

    store = open_store(any_db_url)
    await store.open()
    try:
        repo = store.repository(WelcomeRepository)
        s = timedelta(seconds=1)
        repo.queue("g1", "u2", "阿珍", welcome=False, remind=True, inviter=None, event_id="e1", at=T0)
        repo.queue("g1", "u1", "阿强", welcome=True, remind=False, inviter="老王", event_id="e2", at=T0 + s)
        # queued again: the flags add up, the name is the latest, the inviter and the time the first
        repo.queue("g1", "u1", "阿强-上海", welcome=False, remind=True, inviter="小李", event_id="e3", at=T0 + 2 * s)
        repo.queue("g2", "u3", None, welcome=True, remind=False, inviter=None, event_id="e4", at=T0)
        table = [tuple(r) for r in await store.read(
            select(Q.c.user_id, Q.c.user_name, Q.c.welcome, Q.c.remind, Q.c.inviter, Q.c.event_id)
            .where(Q.c.group_id == "g1").order_by(Q.c.queued_at, Q.c.user_id))]
        asked = []
        real = store.read

        async def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            asked.append(args[0])
            return await real(*args, **kwargs)

        store.read = counted  # type: ignore[method-assign]
        taken = await repo.take("g1")
        assert asked == []  # the database's one writer knows its queue
        assert [(q.user, q.user_name, int(q.welcome), int(q.remind), q.inviter, q.event_id) for q in taken] == table
        assert table == [("u2", "阿珍", 0, 1, None, "e1"), ("u1", "阿强-上海", 1, 1, "老王", "e2")]
        assert await repo.take("g1") == []
    finally:
        await store.close()


async def test_a_member_queued_while_the_queue_is_read_is_welcomed_even_if_memory_is_dropped_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import func, select

    import handlers.welcome.repository as welcome_repository
    from handlers.welcome.tables import WELCOME_QUEUE
    from tests.conftest import HeldQuery, reopened

    store = await reopened(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")  # the group's queue is read once
    repo = store.repository(WelcomeRepository)
    try:
        held = HeldQuery(store, "SELECT welcome_queue.user_id")
        repo.queue("g", "m1", "Ann", welcome=True, remind=False, inviter=None, event_id="j1", at=T0)
        take = asyncio.create_task(repo.take("g"))  # the window closed: the job reads the queue
        await held.held[0].wait()
        repo.queue("g", "m2", "Bob", welcome=True, remind=False, inviter=None, event_id="j2",
                   at=T0 + timedelta(seconds=1))  # another join meanwhile
        monkeypatch.setattr(welcome_repository, "MAX_CACHED", -1)  # a full map elsewhere drops every cache
        repo.reminded("h", "x", "2026-03-02", None)
        monkeypatch.setattr(welcome_repository, "MAX_CACHED", 500_000)
        held.release()
        assert [q.user for q in await take] == ["m1"]
        await store.commit()
        assert [q.user for q in await repo.take("g")] == ["m2"]  # its own window
        await store.commit()
        assert (await store.read(select(func.count()).select_from(WELCOME_QUEUE))).scalar() == 0
    finally:
        await store.close()
