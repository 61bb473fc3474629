"""Shared fixtures: a driven clock, a temp-file store, a bot wired to a recording platform."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.app import Runtime, start_runtime
from bot.clock import DrivenClock
from bot.events import Action, Event, parse_event
from bot.platform import Capabilities, Unsupported
from handlers import FEATURES
from rules.config import Config
from rules.reload import ConfigHolder
from tests.pg_harness import PgServer, pg_missing

ROOT = Path(__file__).resolve().parent.parent
CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=CST)

BASIC_CONFIG = """
bot: {name: 小管家, id: bot}
outbox: {min_interval_seconds: 1, per_group_per_minute: 20}
defaults:
  rules: 不发广告
  admins: [admin1]
  operators: [op1]
  welcome:
    text: "欢迎 @{user_name} 加入{group_name}！{rules}"
  keywords:
    - {name: 群规, match: exact, patterns: [群规], reply: "{rules}", mention: true, cooldown_seconds: 60}
    - {name: 报名, match: contains, patterns: [怎么报名], reply: "私聊群主报名", cooldown_seconds: 0}
    - {name: 资料, match: regex, patterns: ['资料(在哪|哪里)'], reply: "资料见公告：{matched}", cooldown_seconds: 0}
"""


class FakePlatform:
    """Records what the bot sent; can be told to fail or to lack capabilities."""

    def __init__(self, capabilities: Capabilities | None = None) -> None:
        self.capabilities = capabilities or Capabilities()
        self.sent: list[Action] = []
        self.fail_next = 0
        self.attempts = 0

    async def events(self) -> AsyncIterator[Event]:  # pragma: no cover - not used by tests
        return
        yield

    async def send(self, action: Action) -> None:
        self.attempts += 1
        if action.action == "kick" and not self.capabilities.kick:
            raise Unsupported("the bot is not the group owner")
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("network down")
        self.sent.append(action)

    def texts(self) -> list[str]:
        return [a.text or "" for a in self.sent if a.action == "send"]


class EventFactory:
    """Builds events with unique ids and increasing times."""

    def __init__(self, start: datetime = T0) -> None:
        self.t = start
        self.n = itertools.count(1)

    def __call__(self, type_: str = "text", *, after: float = 1.0, **kw: Any) -> Event:
        self.t += timedelta(seconds=after)
        base: dict[str, Any] = {"id": f"e{next(self.n)}", "ts": self.t.isoformat(), "type": type_,
                                "group": "g1", "group_name": "测试群", "user": "u1", "user_name": "小明"}
        if type_ == "tick":
            base = {k: base[k] for k in ("id", "ts", "type")}
        base.update(kw)
        return parse_event(base)


@pytest.fixture
def clock() -> DrivenClock:
    return DrivenClock(T0.astimezone(UTC))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def make_event() -> EventFactory:
    return EventFactory()


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def config_text() -> str:
    return BASIC_CONFIG


@pytest.fixture
async def runtime(config_text: str, db_url: str, clock: DrivenClock, platform: FakePlatform
                  ) -> AsyncIterator[Runtime]:
    rt = await start_runtime(ConfigHolder(Config.from_text(config_text)), db_url, clock, platform,
                             FEATURES)
    yield rt
    await rt.close()


async def feed(rt: Runtime, clock: DrivenClock, *events: Event) -> None:
    """Handle events as replay does (clock at each event's time; the timers handlers set fire before a
    later event, clock at their due time), then commit and let the paced sends go out (the outbox's
    clock runs on past the last event, as at the end of a replay). Scheduled jobs are left to the test."""
    for event in events:
        await fire_timers(rt, clock, event.ts)
        clock.set(event.ts)
        await rt.bot.process(event)
    await rt.bot.commit()
    await rt.outbox.drain()


async def until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until `condition` holds (a step of theirs a test of interleaving waits for)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the other task never got there")


async def fire_timers(rt: Runtime, clock: DrivenClock, until: datetime) -> int:
    """Fire the pending timers due at or before `until`, earliest first, with the clock at each one's
    due time (as replay does); returns how many ran."""
    from bot.timers import from_row

    ran = 0
    while True:
        due = [row for row in rt.store.timers.pending() if row.due <= until]
        if not due:
            return ran
        clock.set(due[0].due)
        await rt.bot.commit()
        if not await rt.bot.run_timer(from_row(due[0])):
            assert not rt.store.timers.is_pending(due[0].feature, due[0].key, due[0].due), "a timer failed to run"
        ran += 1


# -- PostgreSQL: a real throwaway server (tests/pg_harness.py), started once per session when asked for --


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A running PostgreSQL cluster for the session. Skips when PostgreSQL is not installed, except under
    CI=true, where that is a failure (CI must run every test)."""
    missing = pg_missing()
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs a real PostgreSQL server: {missing}", pytrace=False)
        pytest.skip(missing)
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the session's server (`postgresql+asyncpg://…`), one per test."""
    return pg_server.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on both backends: a SQLite file in tmp_path, then a fresh PostgreSQL database.
    (A module can run the `runtime` fixture on both with `def db_url(any_db_url): return any_db_url`.)"""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("pg_url")


class HeldQuery:
    """Holds the store's statements that start with `prefix` at the database until `release`d (the
    first `times` of them), so a test can act while a question is on its way."""

    def __init__(self, store: Any, prefix: str, times: int = 1) -> None:
        self.prefix, self.held = prefix, [asyncio.Event() for _ in range(times)]
        self._go = [asyncio.Event() for _ in range(times)]
        self._n = 0
        real = store._connection

        async def connection() -> Any:
            conn = await real()
            gate = self

            class Held:
                def __getattr__(self, name: str) -> Any:
                    return getattr(conn, name)

                async def execute(self, stmt: Any, params: Any = None) -> Any:
                    if str(stmt).startswith(gate.prefix) and gate._n < len(gate.held):
                        n, gate._n = gate._n, gate._n + 1
                        gate.held[n].set()
                        await gate._go[n].wait()
                    return await conn.execute(stmt, params)

            return Held()

        store._connection = connection

    def release(self, n: int = 0) -> None:
        self._go[n].set()


async def reopened(url: str) -> Any:
    """A store (every feature) opened as after a restart on a database with rows (one event), so what
    memory does not hold is read from the tables once."""
    from bot.app import open_store

    store = open_store(url)
    await store.open()
    store.events.record_event("e0", T0, "g0", "u0", "text", {}, T0)
    await store.close()
    store = open_store(url)
    await store.open()
    return store
