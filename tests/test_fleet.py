"""Several accounts on one PostgreSQL (bot/fleet/): two bot runtimes in this process, each with its own
platform and clock, sharing one database — each group answered once, each scheduled instant and timer
run once, a silent account's groups taken over within the lease with nothing handled twice; and the
lease and claim SQL on both backends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.app import Runtime, open_store
from bot.clock import OffsetClock
from bot.events import Action, Event, parse_event
from bot.fleet import CURRENT_ACCOUNT, AlreadyRunning, join_fleet
from bot.fleet.accounts import Account
from bot.fleet.fleet import Fleet
from bot.runner import serve
from bot.web.operations import Operations
from rules.config import Config
from rules.reload import ConfigHolder
from storage import leases
from storage.dialect import make_engine
from storage.tables import JOB_RUNS
from tests.conftest import CST, FakePlatform

LEASE = 2.0
FLEET_CONFIG = f"""
bot: {{id: bot}}
outbox: {{min_interval_seconds: 0, per_group_per_minute: 1000, per_account_per_minute: 6000, burst: 1000}}
fleet: {{lease_seconds: {LEASE}}}
accounts:
  - {{id: a}}
  - {{id: b}}
defaults:
  operators: [op1]
  welcome: {{batch_seconds: 1}}
  keywords:
    - {{name: 报名, match: contains, patterns: [怎么报名], reply: "私聊群主报名", cooldown_seconds: 0}}
  announcements:
    - {{time: "09:00", texts: ["早上好"]}}
"""
GROUPS = ("g1@chatroom", "g2@chatroom", "g3@chatroom")


class FeedPlatform(FakePlatform):
    """A platform whose events the test puts in; it records what the bot sent."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()

    async def events(self) -> AsyncIterator[Event]:
        while (event := await self.queue.get()) is not None:
            yield event

    def stop(self) -> None:
        self.queue.put_nowait(None)


@dataclass
class Node:
    """One bot process: its account, platform, clock, runtime and the task serving it."""

    account: str
    platform: FeedPlatform
    clock: OffsetClock
    stop: asyncio.Event
    task: asyncio.Task[int]
    runtime: Runtime
    alive: bool = True

    @property
    def fleet(self) -> Fleet:
        return self.runtime.bot.fleet  # type: ignore[no-any-return]

    def sent(self, rule: str) -> list[Action]:
        return [a for a in self.platform.sent if a.rule == rule]


def offset_to(start: datetime) -> timedelta:
    """The clocks of both bots start at `start` (one offset from the wall clock for both)."""
    return start - datetime.now(UTC)


async def start_node(account: str, config: Config, db_url: str, offset: timedelta) -> Node:
    platform, stop, ready = FeedPlatform(), asyncio.Event(), asyncio.Event()
    clock = OffsetClock()
    clock.advance(offset)
    box: dict[str, Runtime] = {}

    def started(runtime: Runtime) -> None:
        box["runtime"] = runtime
        ready.set()

    async def run() -> int:
        CURRENT_ACCOUNT.set(account)  # what `qunbot run --account` sets, for this task only
        return await serve(platform, ConfigHolder(config), db_url, clock, stop, follow_clock=True, started=started)

    task = asyncio.create_task(run(), name=f"node-{account}")
    done, _ = await asyncio.wait({task, asyncio.ensure_future(ready.wait())}, timeout=30,
                                 return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what stopped it
    assert ready.is_set(), "the bot did not start"
    return Node(account, platform, clock, stop, task, box["runtime"])


async def stop_nodes(*nodes: Node) -> None:
    for node in nodes:
        node.stop.set()
    for node in nodes:
        await asyncio.wait_for(node.task, 30)


def event(node: Node, n: str, group: str, type_: str = "text", **kw: Any) -> Event:
    base: dict[str, Any] = {"id": n, "ts": node.clock.now().isoformat(), "type": type_, "group": group,
                            "group_name": f"群{group[:2]}", "user": "u1", "user_name": "小明"}
    base.update(kw)
    return parse_event(base)


def deliver(event: Event, *nodes: Node) -> None:
    """Both accounts sit in the group: each receives the message (with the same id)."""
    for node in nodes:
        if node.alive:
            node.platform.queue.put_nowait(event)


async def until(check: Any, seconds: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what or check}"
        await asyncio.sleep(0.05)


def holders(*nodes: Node) -> dict[str, str]:
    return {g: n.account for n in nodes for g in GROUPS if n.fleet.holds(g)}


async def test_each_group_answered_once_and_each_scheduled_instant_and_timer_run_once(pg_url: str) -> None:
    config = Config.from_text(FLEET_CONFIG)
    start = datetime(2026, 3, 2, 8, 59, 56, tzinfo=CST)
    a = await start_node("a", config, pg_url, offset_to(start))
    b = await start_node("b", config, pg_url, a.clock.offset)
    try:
        for i, group in enumerate(GROUPS):
            deliver(event(a, f"ask-{i}", group, text="请问怎么报名"), a, b)
        deliver(event(a, "join-1", GROUPS[0], type_="join", user="u9", user_name="新人"), a, b)
        await until(lambda: len([x for x in [*a.platform.sent, *b.platform.sent] if x.rule == "keywords/报名"]) == 3,
                    what="three answers")
        held = [{g for g in GROUPS if n.fleet.holds(g)} for n in (a, b)]
        assert not held[0] & held[1] and held[0] | held[1] == set(GROUPS)  # every group has exactly one holder
        for node, mine in zip((a, b), held, strict=True):  # /metrics says which account and what it holds
            samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(
                Operations.of(node.runtime, node.platform).exposition().decode()) for s in f.samples}
            assert [dict(k[1])["account"] for k in samples if k[0] == "qunbot_info"] == [node.account]
            assert samples[("qunbot_fleet_groups_held", (("account", node.account),))] == len(mine)
            assert samples.get(("qunbot_fleet_events_total", (("account", node.account), ("what", "acquired"))),
                               0) == len(mine)
        # past 09:00 on the bots' clocks, and past the welcome's batch window
        await until(lambda: len([x for x in [*a.platform.sent, *b.platform.sent] if x.rule == "announcements"]) >= 3,
                    what="the announcements")
        await until(lambda: any(x.rule == "welcome" for x in [*a.platform.sent, *b.platform.sent]), what="welcome")
        await asyncio.sleep(1.5)  # anything sent twice would have gone by now (both schedulers tick twice a second)
        both = [*a.platform.sent, *b.platform.sent]
        assert sorted(x.group or "" for x in both if x.rule == "keywords/报名") == sorted(GROUPS)
        assert sorted(x.group or "" for x in both if x.rule == "announcements") == sorted(GROUPS)
        assert [x.group for x in both if x.rule == "welcome"] == [GROUPS[0]]
        owner = holders(a, b)
        for node in (a, b):  # every message of a group went through the account holding it
            assert {x.group for x in node.platform.sent if x.group} <= {g for g, acc in owner.items()
                                                                      if acc == node.account}
        runs = await a.runtime.store.audit.job_ran("announce:09:00|*@a", start + timedelta(seconds=4))
        assert runs or await b.runtime.store.audit.job_ran("announce:09:00|*@b", start + timedelta(seconds=4))
    finally:
        await stop_nodes(a, b)
    engine = make_engine(pg_url)
    try:
        assert await leases.lease_holders(engine) == {}  # a clean stop gives the leases up
    finally:
        await engine.dispose()


async def test_a_silent_accounts_groups_are_taken_over_within_the_lease_and_nothing_is_handled_twice(
        pg_url: str) -> None:
    config = Config.from_text(FLEET_CONFIG.split("  announcements:")[0])
    start = datetime(2026, 3, 2, 10, 0, tzinfo=CST)
    a = await start_node("a", config, pg_url, offset_to(start))
    b = await start_node("b", config, pg_url, a.clock.offset)
    group = GROUPS[0]
    try:
        before = [event(a, f"old-{i}", group, text="怎么报名") for i in range(5)]
        for e in before:
            deliver(e, a, b)
        nodes = (a, b)
        await until(lambda: sum(len(n.sent("keywords/报名")) for n in nodes) == 5, what="five answers")
        dead, heir = (a, b) if a.fleet.holds(group) else (b, a)
        assert len(dead.sent("keywords/报名")) == 5 and heir.sent("keywords/报名") == []
        # the holder goes silent (as if killed): no more renewals, no more events
        assert dead.fleet._loop is not None
        dead.fleet._loop.cancel()
        dead.alive = False
        killed = time.monotonic()
        gap = 0
        while not heir.fleet.holds(group):  # messages meanwhile reach only the heir, which does not hold the group
            deliver(event(heir, f"gap-{gap}", group, text="怎么报名"), heir)
            gap += 1
            assert time.monotonic() - killed < LEASE * 4 / 3 + 2, "no takeover"
            await asyncio.sleep(0.1)
        takeover = time.monotonic() - killed
        print(f"takeover after {takeover:.2f}s (lease {LEASE}s)")
        assert LEASE / 2 <= takeover <= LEASE * 4 / 3 + 0.5
        assert heir.fleet.counts["held_elsewhere"] >= 1
        # the platform delivers the old messages again (a reconnect): handled before, so nothing happens
        for e in before:
            deliver(e, heir)
        deliver(event(heir, "new-1", group, text="怎么报名"), heir)
        await until(lambda: len(heir.sent("keywords/报名")) >= 1, what="the heir's answer")
        await asyncio.sleep(0.5)
        # new-1 answered; the old ones not again. A gap message queued just as the lease passed may be
        # answered too (the silent holder never handled it), but never one that was handled before.
        answered = [x.data.get("event") for x in heir.sent("keywords/报名")]
        assert "new-1" in answered and len(answered) == len(set(answered))
        assert all(str(e).startswith(("new-", "gap-")) for e in answered), answered
        assert len(dead.sent("keywords/报名")) == 5
        engine = make_engine(pg_url)
        try:
            assert (await leases.lease_holders(engine))[group][0] == heir.account
        finally:
            await engine.dispose()
    finally:
        await stop_nodes(a, b)


async def test_an_instant_the_silent_holder_missed_is_caught_up_by_the_heir_once(pg_url: str) -> None:
    config = Config.from_text(FLEET_CONFIG)
    start = datetime(2026, 3, 2, 8, 59, 56, tzinfo=CST)
    nine = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
    a = await start_node("a", config, pg_url, offset_to(start))
    b = await start_node("b", config, pg_url, a.clock.offset)
    group = GROUPS[0]
    try:
        deliver(event(a, "ask", group, text="怎么报名"), a, b)
        await until(lambda: holders(a, b).get(group) is not None, what="a holder")
        dead, heir = (a, b) if a.fleet.holds(group) else (b, a)
        await until(lambda: a.clock.now() >= nine - timedelta(seconds=0.6), what="08:59:59.4")
        assert dead.fleet._loop is not None
        dead.fleet._loop.cancel()  # killed just before 09:00: it renews nothing and acts for no group any more
        dead.fleet.held.clear()
        dead.alive = False
        await until(lambda: heir.fleet.holds(group), what="the takeover")
        assert heir.clock.now() > nine  # the lease outlived 09:00: the heir's own 09:00 run left the group out
        await until(lambda: heir.sent("announcements") != [], what="the announcement")
        await asyncio.sleep(1.0)
        assert [x.group for x in [*a.sent("announcements"), *b.sent("announcements")]] == [group]
        runs = {r[0] for r in await heir.runtime.store.read(select(JOB_RUNS.c.job_id).where(JOB_RUNS.c.due_at == nine))}
        assert f"announce:09:00|*@{heir.account}" in runs  # its own run at 09:00 (for no group)
        assert any(r.startswith(f"announce:09:00|*@{heir.account}+") for r in runs)  # the catch-up that sent it
    finally:
        await stop_nodes(a, b)


async def test_a_second_process_of_the_same_account_is_refused(pg_url: str) -> None:
    holder = ConfigHolder(Config.from_text(FLEET_CONFIG))
    first = await join_fleet(holder, pg_url, "a")
    try:
        with pytest.raises(AlreadyRunning, match="account 'a' already runs"):
            await join_fleet(holder, pg_url, "a")
        other = await join_fleet(holder, pg_url, "b")  # another account runs beside it
        await other.close()
    finally:
        await first.close()
    again = await join_fleet(holder, pg_url, "a")  # released with the first
    await again.close()


async def test_what_a_process_resends_at_start_and_which_console_actions_it_sends(pg_url: str) -> None:
    store = open_store(pg_url)
    await store.open()
    await store.close()
    holder = ConfigHolder(Config.from_text(FLEET_CONFIG))
    a, b = (Fleet(holder, pg_url, Account(name, several=True)) for name in ("a", "b"))
    try:
        a._before = {"g1@chatroom"}  # its leases when it started again
        assert a.resends({"id": "e1#0", "group_id": "g1@chatroom"})
        assert not a.resends({"id": "e2#0", "group_id": "g2@chatroom"})  # another account's group now
        assert a.resends({"id": "job:stats:22:00@a@2026-03-02T14:00:00+00:00#0", "group_id": None})
        assert not a.resends({"id": "job:stats:22:00@ab@2026-03-02T14:00:00+00:00#0", "group_id": None})
        assert not a.resends({"id": "e3#0", "group_id": None})
        a.held["g1@chatroom"] = time.monotonic() + 60
        t = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
        removal = {"id": "web:x#0", "group_id": "g1@chatroom", "ts": t}
        assert await a.owns_row(removal) and not await b.owns_row(removal)  # the group's holder sends it
        message = {"id": "web:y#0", "group_id": None, "ts": t}
        assert await b.owns_row(message) and not await a.owns_row(message)  # no group: the first to claim it
    finally:
        await a.close()
        await b.close()


async def test_leases_and_claims_in_sql(any_db_url: str) -> None:
    store = open_store(any_db_url)
    await store.open()
    await store.close()
    engine = make_engine(any_db_url)
    t0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    try:
        assert await leases.claim_leases(engine, ["g1", "g2"], "a", t0, 60) == {"g1", "g2"}
        assert await leases.claim_leases(engine, ["g1", "g2", "g3"], "b", t0 + timedelta(seconds=30), 60) == {"g3"}
        assert await leases.claim_leases(engine, ["g1"], "a", t0 + timedelta(seconds=40), 60) == {"g1"}  # renewed
        # g2 ran out at t0+60 (a stopped renewing it); g1 was renewed until t0+100
        assert await leases.claim_leases(engine, ["g1", "g2"], "b", t0 + timedelta(seconds=61), 60) == {"g2"}
        assert await leases.leases_of(engine, "a") == ["g1"]
        assert await leases.release_leases(engine, ["g1", "g2"], "a") == 1  # only its own
        assert set(await leases.lease_holders(engine)) == {"g2", "g3"}

        due = t0
        assert await leases.claim_job(engine, "purge:21:30", due, ["g1", "g2"], "a", t0) == {"g1", "g2"}
        assert await leases.claim_job(engine, "purge:21:30", due, ["g2", "g3"], "b", t0) == {"g3"}
        assert await leases.claim_job(engine, "purge:21:30", due, ["g1"], "a", t0) == set()  # at most once
        late = t0 + timedelta(minutes=5)
        assert await leases.claim_job(engine, "timer:w:k", due, [""], "a", t0, retry_before=t0) == {""}
        assert await leases.claim_job(engine, "timer:w:k", due, [""], "b", t0, retry_before=t0) == set()
        assert await leases.claim_job(engine, "timer:w:k", due, [""], "a", t0, retry_before=t0) == {""}  # a restart
        assert await leases.claim_job(engine, "timer:w:k", due, [""], "b", late, retry_before=late) == {""}
        assert await leases.prune_claims(engine, late) == 3
    finally:
        await engine.dispose()
