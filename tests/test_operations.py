"""/metrics and /healthz (bot/web/operations.py): the counters after real events through a runtime, parsed
with prometheus_client's own parser; health turning 503 when the platform drops or the store closes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

import bot.web.operations as operations
from bot.app import Runtime
from bot.clock import DrivenClock
from bot.events import Action
from bot.feature import JobContext, JobSpec
from bot.platform import Capabilities
from bot.web.operations import Operations, add_routes
from tests.conftest import EventFactory, FakePlatform, feed

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    assert key in samples, f"{name}{labels} not in /metrics: {sorted(k for k, _ in samples if k.startswith(name))}"
    return samples[key]


@pytest.fixture
async def client(runtime: Runtime, platform: FakePlatform) -> AsyncIterator[TestClient]:
    """/healthz and /metrics of the runtime, open (as on the metrics port bound to this machine)."""
    app = web.Application()
    add_routes(app, Operations.of(runtime, platform), None)
    async with TestClient(TestServer(app)) as http:
        yield http


async def scrape(http: TestClient) -> Samples:
    response = await http.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return parse(await response.text())


def audit_counts(db_url: str) -> dict[tuple[str, str], int]:
    con = sqlite3.connect(db_url.removeprefix("sqlite+aiosqlite:///"))
    try:
        rows = con.execute("select action, status, count(*) from actions where action != 'note' group by 1, 2")
        return {(a, s): n for a, s, n in rows}
    finally:
        con.close()


async def test_metrics_count_events_handlers_commits_sends_and_jobs(
        runtime: Runtime, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory, db_url: str,
        client: TestClient) -> None:
    platform.fail_next = 1  # the first send fails once and is tried again
    join = make_event("join", user="u3", user_name="小刚")
    # the last one 3 minutes on: the welcome's batch timer fires before it
    texts = [make_event(text="大家好"), make_event(text="群规"),
             make_event(text="怎么报名呀", user="u2", user_name="小红"), make_event(text="好的", after=180)]
    await feed(runtime, clock, join, *texts)
    assert not await runtime.bot.process(texts[0])  # delivered again: a no-op, not counted again

    async def fine(_ctx: JobContext) -> list[Action]:
        return []

    async def broken(_ctx: JobContext) -> list[Action]:
        raise RuntimeError("bug")

    await runtime.bot.run_job(JobSpec("demo:fine", None, fine, feature="demo"), clock.now())
    await runtime.bot.run_job(JobSpec("demo:broken", None, broken, feature="demo"), clock.now())
    await runtime.bot.run_job(JobSpec("demo:fine", None, fine, feature="demo"), clock.now())  # ran already: skipped

    m = await scrape(client)
    assert value(m, "qunbot_events_handled_total", type="text") == 4
    assert value(m, "qunbot_events_handled_total", type="join") == 1
    assert value(m, "qunbot_event_handling_seconds_count") == 5
    # activity (OBSERVE) sees every event; keywords answered 群规 and 怎么报名
    assert value(m, "qunbot_handler_seconds_count", handler="activity") == 5
    assert value(m, "qunbot_handler_seconds_count", handler="keywords") >= 2
    assert value(m, "qunbot_handler_seconds_bucket", handler="activity", le="+Inf") == 5
    assert value(m, "qunbot_handler_seconds_sum", handler="activity") > 0
    assert value(m, "qunbot_committed_events_total") == 5
    assert value(m, "qunbot_commit_seconds_count") >= 1
    assert value(m, "qunbot_commit_seconds_sum") > 0
    assert value(m, "qunbot_commit_failures_total") == 0
    assert value(m, "qunbot_job_runs_total", feature="welcome", result="ok") == 1
    assert value(m, "qunbot_job_runs_total", feature="demo", result="ok") == 1
    assert value(m, "qunbot_job_runs_total", feature="demo", result="failed") == 1
    # every action the audit log says was sent, counted once, with its wait from ready to sent
    audit = audit_counts(db_url)
    assert audit[("send", "sent")] >= 3  # 群规, 报名, the welcome
    assert value(m, "qunbot_actions_total", kind="send", status="sent") == audit[("send", "sent")]
    assert value(m, "qunbot_outbox_wait_seconds_count") == audit[("send", "sent")]
    assert value(m, "qunbot_send_retries_total", kind="send") == 1
    assert value(m, "qunbot_outbox_queued") == 0
    assert value(m, "qunbot_pending_events") == 0
    assert value(m, "qunbot_platform_connected") == 1
    info = [dict(labels) for name, labels in m if name == "qunbot_info"]
    assert len(info) == 1 and info[0]["platform"] == "FakePlatform" and info[0]["version"]
    assert info[0]["account"] == "" and "qunbot_fleet_groups_held" not in {k[0] for k in m}  # one account
    assert ("process_resident_memory_bytes", frozenset()) in m  # the library's process collector
    assert "qunbot_platform_reconnects_total" not in {k[0] for k in m}  # a platform that does not count sessions


async def test_dropped_and_unsupported_actions_are_counted_by_kind(
        runtime: Runtime, clock: DrivenClock, platform: FakePlatform, client: TestClient) -> None:
    platform.capabilities = Capabilities(kick=False)
    queue = runtime.holder.current.model.outbox.queue_per_group
    burst = [(f"t{n}", Action(action="send", rule="test", group="g1", text=f"第 {n} 条", ts=clock.now()))
             for n in range(queue + 5)]
    await runtime.outbox.submit(burst)
    await runtime.outbox.submit([("k1", Action(action="kick", rule="test", group="g1", user="u9", ts=clock.now()))])
    await runtime.outbox.drain()
    m = await scrape(client)
    assert value(m, "qunbot_actions_total", kind="send", status="dropped") == 5
    assert value(m, "qunbot_actions_total", kind="kick", status="unsupported") == 1
    # the 20 kept texts (merged into fewer messages) and the operator told of the kick instead
    assert value(m, "qunbot_actions_total", kind="send", status="sent") == queue + 1
    assert value(m, "qunbot_outbox_wait_seconds_count") == queue + 1
    assert value(m, "qunbot_outbox_wait_seconds_sum") > 0  # paced: the later texts waited for their slot


async def test_each_operations_has_its_own_registry(runtime: Runtime, platform: FakePlatform) -> None:
    first, second = Operations.of(runtime, platform), Operations.of(runtime, platform)
    assert first.registry is not second.registry
    assert b"qunbot_events_handled" in first.exposition() and b"qunbot_events_handled" in second.exposition()


async def health(http: TestClient) -> tuple[int, dict]:
    response = await http.get("/healthz")
    assert response.content_type == "application/json"
    return response.status, json.loads(await response.text())


async def test_healthz_is_200_then_503_when_the_platform_disconnects_or_the_store_closes(
        runtime: Runtime, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory,
        client: TestClient) -> None:
    status, body = await health(client)
    assert status == 200
    assert body == {"status": "ok", "db_ok": True, "platform_connected": True, "last_event_age_seconds": None,
                    "commit_lag_seconds": 0.0, "pending_events": 0, "queued_actions": 0, "problems": []}
    await feed(runtime, clock, make_event(text="你好"))
    status, body = await health(client)
    assert status == 200 and 0 <= body["last_event_age_seconds"] < 5

    platform.connected = False  # type: ignore[attr-defined]  # what the Wechaty adapter says between sessions
    status, body = await health(client)
    assert status == 503
    assert body["status"] == "unhealthy" and body["platform_connected"] is False and body["db_ok"] is True
    assert body["problems"] == ["platform: disconnected"]
    assert value(await scrape(client), "qunbot_platform_connected") == 0

    platform.connected = True  # type: ignore[attr-defined]
    assert (await health(client))[0] == 200
    await runtime.store.close()
    status, body = await health(client)
    assert status == 503 and body["db_ok"] is False and body["platform_connected"] is True
    assert body["problems"] == ["database: ConnectionError: the store is closed"]


async def test_healthz_is_503_when_the_database_is_slow_or_commits_are_stuck(
        runtime: Runtime, platform: FakePlatform, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def hangs() -> None:
        await asyncio.sleep(10)

    monkeypatch.setattr(operations, "DB_TIMEOUT_SECONDS", 0.05)
    monkeypatch.setattr(runtime.store, "ping", hangs)
    status, body = await health(client)
    assert status == 503 and body["db_ok"] is False and body["problems"] == ["database: TimeoutError"]
    monkeypatch.undo()

    monkeypatch.setattr(operations, "backlog", lambda _bot: (7, 90.0))
    status, body = await health(client)
    assert status == 503 and body["db_ok"] is True
    assert body["commit_lag_seconds"] == 90.0 and body["pending_events"] == 7
    assert body["problems"] == ["commits: the oldest of 7 handled event(s) has waited 90s"]


def test_the_store_ping_reads_through_a_connection_of_its_own(tmp_path: Path) -> None:
    """The health check never takes the writer's lock (a long commit does not make the bot look dead)."""
    from bot.app import open_store

    async def go() -> None:
        store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
        await store.open()
        try:
            async with store._lock:  # a commit in flight holds it
                await asyncio.wait_for(store.ping(), 5)
        finally:
            await store.close()
        with pytest.raises(ConnectionError):
            await store.ping()

    asyncio.run(go())


def test_histogram_buckets_are_cumulative_and_inclusive() -> None:
    from bot.metrics import Histogram

    h = Histogram((0.1, 1.0))
    for v in (0.05, 0.1, 0.5, 3.0):
        h.observe(v)
    assert h.cumulative() == [("0.1", 2), ("1.0", 3), ("+Inf", 4)]
    assert h.count == 4 and h.total == pytest.approx(3.65)


async def test_the_console_alone_is_healthy_while_its_database_answers(tmp_path: Path) -> None:
    from bot.app import open_store
    from bot.web.operations import database_health

    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await store.open()
    assert await database_health(store) == (True, {"status": "ok", "role": "console", "db_ok": True,
                                                   "problems": []})
    await store.close()
    healthy, body = await database_health(store)
    assert not healthy and body["db_ok"] is False and body["problems"][0].startswith("database: ")
