"""Fair, bounded sending (issue 13): one member's flood never stalls the bot's answers elsewhere.

One test per finding of the issue, written before the fix: a flood of 签到 got a reply each; the
"already" reply had no cooldown; the flood warning stopped the chain once; another group's answers a
minute later went out hours late, because every action reserved an account-wide send slot when it
was queued (and merged texts never gave theirs back). And the limits the fix adds: member commands
repeated within a minute are answered once; a group's queue is capped, low-priority answers dropped
first (counted in the audit, shown by `why`), warnings, kicks and operator reports never. The
handler-level findings (the "already" reply, repeated member commands) are in
tests/features/test_member_cooldowns.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import open_store, start_runtime
from bot.clock import DrivenClock
from bot.events import Action, parse_event
from bot.explain import explain
from bot.outbox import Outbox
from bot.platform import Capabilities
from handlers import FEATURES
from rules.config import Config
from rules.reload import ConfigHolder
from rules.schema import OutboxSettings
from tests.conftest import CST, EventFactory, FakePlatform

T = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
START = datetime(2026, 3, 2, 9, 0, tzinfo=CST)

FLOOD_CONFIG = """
bot: {name: 小管家, id: bot}
defaults:
  rules: 不发广告
  operators: [op1]
  welcome: {enabled: false}
  ads: {flood_messages_per_minute: 15}
  keywords:
    - {name: 群规, match: exact, patterns: [群规], reply: "{rules}", mention: true, cooldown_seconds: 60}
    - {name: 报名, match: exact, patterns: [报名], reply: "私聊群主报名", cooldown_seconds: 0}
"""


def text(id_: str, ts: datetime, group: str, user: str, body: str):
    return parse_event({"id": id_, "ts": ts.isoformat(), "type": "text", "group": group,
                        "group_name": f"群{group}", "user": user, "user_name": f"成员{user}", "text": body})


async def flood_then_others(db_url: str, flood: int, others: int = 3):
    """`flood` 签到 from one member of g0 within a minute, then, a minute later, 签到 and 群规 in `others`
    other groups; events handled as replay does (the clock at each event), then the outbox drained."""
    clock = DrivenClock(START.astimezone(UTC))
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(Config.from_text(FLOOD_CONFIG)), db_url, clock, platform, FEATURES)
    events = [text(f"f{i}", START + timedelta(seconds=60 * i / flood), "g0", "flooder", "签到") for i in range(flood)]
    later = START + timedelta(minutes=2)
    for g in range(1, others + 1):
        events.append(text(f"c{g}", later + timedelta(seconds=g), f"g{g}", f"m{g}", "签到"))
        events.append(text(f"r{g}", later + timedelta(seconds=g, milliseconds=500), f"g{g}", f"m{g}", "群规"))
    for event in events:
        clock.set(event.ts)
        await rt.bot.process(event)
    await rt.bot.commit()
    await rt.outbox.drain()
    return rt, {e.id: e for e in events}, platform


# -- the findings -----------------------------------------------------------------------------------------


async def test_a_flood_of_check_ins_gets_one_check_in_one_already_and_one_warning(db_url: str) -> None:
    rt, _events, platform = await flood_then_others(db_url, 2000, others=0)
    in_group = [(a.rule, a.data.get("already")) for a in platform.sent if a.group == "g0"]
    assert in_group == [("checkin", False), ("checkin", True), ("ads/flood", None)]
    assert [(a.rule, a.user) for a in platform.sent if a.group is None] == [("ads/flood", "op1")]
    member = await rt.store.members.member("g0", "flooder")
    assert member is not None and member.message_count == 2000  # activity is still recorded
    await rt.close()


async def test_other_groups_are_answered_within_seconds_a_minute_after_a_flood(db_url: str) -> None:
    rt, events, platform = await flood_then_others(db_url, 2000, others=3)
    answers = [a for a in platform.sent if a.group not in (None, "g0")]
    assert sorted(a.rule for a in answers) == ["checkin"] * 3 + ["keywords/群规"] * 3
    settings = rt.holder.current.model.outbox
    pace = 60 / settings.per_account_per_minute
    for a in answers:  # a busy group never delays another group's answer by more than pace x active groups
        delay = (a.ts - events[a.data["event"]].ts).total_seconds()
        assert delay <= pace * 4 + settings.min_interval_seconds, (a.rule, a.group, delay)
    await rt.close()


async def test_a_flooder_gets_one_warning_and_then_silence_from_every_handler(db_url: str) -> None:
    clock = DrivenClock(START.astimezone(UTC))
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(Config.from_text(FLOOD_CONFIG)), db_url, clock, platform, FEATURES)
    make = EventFactory(START)
    # 报名 has no cooldown: today every message gets an answer; 40 a minute for five minutes
    flood = [make(text="报名", after=1.5) for _ in range(200)]
    calm = make(text="报名", after=600)  # ten quiet minutes later: an ordinary member again
    for event in [*flood, calm]:
        clock.set(event.ts)
        await rt.bot.process(event)
    await rt.bot.commit()
    await rt.outbox.drain()
    in_group = [a for a in platform.sent if a.group == "g1"]
    answered = [a.data["event"] for a in in_group if a.rule == "keywords/报名"]
    assert answered == [e.id for e in flood[:15]] + [calm.id]
    assert [a.data["event"] for a in in_group if a.rule == "ads/flood"] == [flood[15].id]
    why = await explain(rt.store.events, rt.store.audit, flood[100].id)
    assert "ads/flood" in why and "刷屏" in why
    member = await rt.store.members.member("g1", "u1")
    assert member is not None and member.message_count == 201
    await rt.close()


def send(group: str | None, body: str, ts: datetime = T, rule: str = "keywords/群规", **kw) -> Action:
    return Action(action="send", rule=rule, group=group, text=body, ts=ts, **kw)


async def outbox_on(tmp_path, settings: OutboxSettings, platform: FakePlatform | None = None,
                    clock: DrivenClock | None = None):
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    await store.open()
    platform = platform or FakePlatform()
    return Outbox(platform, clock or DrivenClock(T), settings, store), platform, store


async def test_slots_are_taken_when_sent_so_a_backlog_never_delays_another_group(tmp_path) -> None:
    settings = OutboxSettings()
    clock = DrivenClock(T)
    outbox, platform, store = await outbox_on(tmp_path, settings, clock=clock)
    await outbox.submit([(f"a{i}", send("g1", f"a{i}", rule="ads/flood")) for i in range(1000)])
    later = T + timedelta(minutes=1)
    clock.set(later)
    await outbox.submit([("b", send("g2", "群规", later)), ("c", send("g3", "签到", later, rule="checkin"))])
    await outbox.drain()
    pace = 60 / settings.per_account_per_minute
    for a in platform.sent:
        if a.group != "g1":
            assert (a.ts - later).total_seconds() <= pace * 3, (a.group, a.ts)
    await store.close()


async def test_merged_texts_take_one_slot(tmp_path) -> None:
    settings = OutboxSettings(min_interval_seconds=0, per_account_per_minute=2)
    outbox, platform, store = await outbox_on(tmp_path, settings, FakePlatform(Capabilities(merge_texts=True)))
    await outbox.submit([*[(f"a{i}", send("g1", f"a{i}")) for i in range(10)], ("b", send("g2", "b"))])
    await outbox.drain()
    assert [(a.group, a.ts) for a in platform.sent] == [("g1", T), ("g2", T)]
    assert platform.sent[0].text == "\n".join(f"a{i}" for i in range(10))
    await store.close()


async def test_groups_take_turns_for_the_accounts_slots(tmp_path) -> None:
    settings = OutboxSettings()
    clock = DrivenClock(T)
    outbox, platform, store = await outbox_on(tmp_path, settings, clock=clock)
    # warnings are never dropped: five groups with a backlog of 100 each
    busy = [(f"g{g}-{i}", send(f"g{g}", f"{g}-{i}", rule="ads/flood")) for i in range(100) for g in range(5)]
    await outbox.submit(busy)
    pace = 60 / settings.per_account_per_minute
    for minute in range(1, 6):  # the account is saturated: a newcomer gets one of the next few slots
        at = T + timedelta(minutes=minute, seconds=17)
        clock.set(at)
        await outbox.submit([(f"n{minute}", send(f"new{minute}", "群规", at))])
    await outbox.drain()
    newcomers = {a.group: a.ts for a in platform.sent if a.group.startswith("new")}
    for minute in range(1, 6):
        at = T + timedelta(minutes=minute, seconds=17)
        assert (newcomers[f"new{minute}"] - at).total_seconds() <= pace * 6 + 1, minute
    await store.close()


async def test_a_full_queue_drops_the_oldest_low_priority_answers_never_warnings_kicks_or_reports(tmp_path) -> None:
    settings = OutboxSettings(queue_per_group=3)
    outbox, platform, store = await outbox_on(tmp_path, settings)
    board = [(f"e{i}#0", send("g1", f"榜{i}", rule="checkin/board", data={"event": f"e{i}"})) for i in range(4)]
    warn = ("w#0", send("g1", "请不要刷屏", rule="ads/flood", data={"event": "w"}))
    kick = ("k#0", Action(action="kick", rule="ads/link", group="g1", user="spam", reason="广告", ts=T))
    reports = [(f"r#{i}", send(None, f"报告{i}", rule="ads/flood", user="op1")) for i in range(5)]
    answer = ("q#0", send("g1", "群规是…", data={"event": "q"}))
    items = [*board[:2], warn, kick, *board[2:], answer, *reports]
    from bot.audit import action_rows
    for i, a in items:
        store.audit.record_actions(action_rows([i], [a], a.data.get("event")))
    await store.commit()
    await outbox.submit(items)
    await outbox.drain()
    await store.commit()
    sent = [(a.rule, a.text or a.action) for a in platform.sent if a.group == "g1"]
    assert ("ads/flood", "请不要刷屏") in sent and ("ads/link", "kick") in sent
    assert all(t != "榜0" and t != "榜1" for _r, t in sent)  # the oldest board answers went first
    assert len([a for a in platform.sent if a.user == "op1" and a.group is None]) == 5  # reports: never dropped
    assert outbox.dropped >= 2
    rows = {r["id"]: r for e in ("e0", "e1") for r in await store.audit.audit_of_event(e)}
    assert rows["e0#0"]["status"] == "dropped"
    assert any(r["rule"] == "outbox/dropped" and r["action"] == "note" for r in rows.values())
    await store.close()


async def test_why_names_a_dropped_answer(db_url: str) -> None:
    config = FLOOD_CONFIG.replace("bot: {name: 小管家, id: bot}",
                                  "bot: {name: 小管家, id: bot}\noutbox: {queue_per_group: 2}")
    clock = DrivenClock(START.astimezone(UTC))
    platform = FakePlatform()
    rt = await start_runtime(ConfigHolder(Config.from_text(config)), db_url, clock, platform, FEATURES)
    make = EventFactory(START)
    asks = [make(text="签到榜", user=f"m{i}", user_name=f"成员{i}", after=0.1) for i in range(6)]
    for event in asks:
        clock.set(event.ts)
        await rt.bot.process(event)
    await rt.bot.commit()
    await rt.outbox.drain()
    await rt.bot.commit()
    why = await explain(rt.store.events, rt.store.audit, asks[1].id)  # queued behind the first, then dropped
    assert "outbox/dropped" in why and "丢弃" in why
    await rt.close()


async def test_live_a_backlog_in_one_group_does_not_hold_up_another(tmp_path) -> None:
    from bot.clock import SystemClock

    clock = SystemClock()
    settings = OutboxSettings(min_interval_seconds=0.1, per_account_per_minute=6000, burst=1)
    outbox, platform, store = await outbox_on(tmp_path, settings, clock=clock)  # type: ignore[arg-type]
    now = clock.now()
    await outbox.submit([(f"a{i}", send("g1", f"a{i}", now, rule="ads/flood")) for i in range(10)])
    await outbox.submit([("b", send("g2", "b", clock.now()))])
    await outbox.drain(5)
    order = [a.text for a in platform.sent]
    assert len(order) == 11 and order.index("b") <= 2, order  # not behind g1's second of ten
    await outbox.close()
    await store.close()


async def test_live_group_workers_end_with_their_queue_and_start_again(db_url: str) -> None:
    """A group's worker lives while it has events waiting: 1,000 quiet groups hold no task or queue."""
    clock = DrivenClock(START.astimezone(UTC))
    rt = await start_runtime(ConfigHolder(Config.from_text(FLOOD_CONFIG)), db_url, clock, FakePlatform(), FEATURES)
    bot = rt.bot
    for round_ in range(2):
        for g in range(3):
            for i in range(4):
                bot.dispatch(text(f"e{round_}{g}{i}", START + timedelta(seconds=i), f"g{g}", f"m{i}", f"聊天 {i}"))
        assert len(bot._workers) == 3 and len(bot._queues) == 3
        await bot.drain()
        assert bot._workers == {} and bot._queues == {}, "idle groups still hold a worker or a queue"
    handled = await rt.store.events.seen_events([f"e{r}{g}{i}" for r in range(2) for g in range(3) for i in range(4)])
    assert len(handled) == 24
    await rt.close()
