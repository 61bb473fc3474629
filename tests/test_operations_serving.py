"""A running bot (`serve`) with `metrics: {port}` alone, and with its web console: /healthz and /metrics
served, /metrics guarded by the token on the console's port and on a public metrics port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Runtime
from bot.clock import SystemClock
from bot.events import Event, parse_event
from bot.runner import serve
from bot.web.operations import Operations, serve_alone
from bot.web.security import TokenMissing
from rules.config import Config
from rules.reload import ConfigHolder
from rules.schema import MetricsSettings
from tests.conftest import FakePlatform

TOKEN = "ops-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def texts(n: int) -> list[Event]:
    now = datetime.now(UTC) - timedelta(seconds=n)
    return [parse_event({"id": f"live{i}", "ts": (now + timedelta(seconds=i)).isoformat(), "type": "text",
                         "group": "g1", "group_name": "测试群", "user": f"u{i}", "user_name": f"成员{i}",
                         "text": "大家好"}) for i in range(n)]


class ScriptedPlatform(FakePlatform):
    """Says a few messages, then waits until the bot stops."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.script = events

    async def events(self) -> AsyncIterator[Event]:  # type: ignore[override]
        for event in self.script:
            yield event
        await asyncio.Event().wait()


@asynccontextmanager
async def running(config_text: str, tmp_path, platform: FakePlatform) -> AsyncIterator[Runtime]:
    stop, ready = asyncio.Event(), asyncio.Event()
    found: list[Runtime] = []

    def started(rt: Runtime) -> None:
        found.append(rt)
        ready.set()

    task = asyncio.create_task(serve(platform, ConfigHolder(Config.from_text(config_text)),
                                     f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", SystemClock(), stop,
                                     started=started))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        yield found[0]
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 20) == 0


async def get(http: aiohttp.ClientSession, url: str, **kw: object) -> tuple[int, str]:
    for _ in range(100):
        try:
            async with http.get(url, **kw) as response:
                return response.status, await response.text()
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"nothing answers at {url}")


def handled(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "qunbot_events_handled_total" and sample.labels == {"type": "text"}:
                return sample.value
    return 0.0


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("QUNBOT_WEB_TOKEN", raising=False)
    yield


async def test_metrics_port_alone_serves_health_and_metrics(tmp_path, no_token) -> None:
    port = free_port()
    platform = ScriptedPlatform(texts(3))
    config = f"bot: {{id: qunbot}}\nmetrics: {{port: {port}}}\n"
    async with running(config, tmp_path, platform), aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):  # the three messages handled and committed
            status, body = await get(http, f"{base}/metrics")
            assert status == 200  # bound to this machine: open, no token needed
            if handled(body) == 3:
                break
            await asyncio.sleep(0.05)
        assert handled(body) == 3
        status, body = await get(http, f"{base}/healthz")
        assert status == 200 and '"status": "ok"' in body and '"platform_connected": true' in body
        status, _ = await get(http, f"{base}/")  # the console is not served here
        assert status == 404
        platform.connected = False  # type: ignore[attr-defined]
        status, body = await get(http, f"{base}/healthz")
        assert status == 503 and '"platform: disconnected"' in body


async def test_the_console_port_serves_healthz_openly_and_metrics_with_the_token(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUNBOT_WEB_TOKEN", TOKEN)
    port = free_port()
    config = f"bot: {{id: qunbot}}\nweb: {{enabled: true, port: {port}}}\n"
    async with running(config, tmp_path, ScriptedPlatform(texts(2))), aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{port}"
        status, body = await get(http, f"{base}/healthz", allow_redirects=False)
        assert status == 200 and '"db_ok": true' in body  # no session needed
        status, body = await get(http, f"{base}/metrics", allow_redirects=False)
        assert status == 401 and "Bearer" in body and TOKEN not in body
        status, _ = await get(http, f"{base}/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"})
        assert status == 401
        for _ in range(100):
            status, body = await get(http, f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert status == 200
            if handled(body) == 2:
                break
            await asyncio.sleep(0.05)
        assert handled(body) == 2
        status, _ = await get(http, f"{base}/", allow_redirects=False)  # the pages still want a session
        assert status == 302


async def test_a_public_metrics_port_wants_the_token(runtime: Runtime, platform: FakePlatform,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ops = Operations.of(runtime, platform)
    with pytest.raises(ValueError, match=r"metrics\.public"):
        await serve_alone(ops, MetricsSettings(port=free_port(), host="0.0.0.0"))
    monkeypatch.delenv("QUNBOT_WEB_TOKEN", raising=False)
    with pytest.raises(TokenMissing):
        await serve_alone(ops, MetricsSettings(port=free_port(), host="0.0.0.0", public=True))
    monkeypatch.setenv("QUNBOT_WEB_TOKEN", TOKEN)
    port = free_port()
    await serve_alone(ops, MetricsSettings(port=port, host="0.0.0.0", public=True))
    try:
        async with aiohttp.ClientSession() as http:
            assert (await get(http, f"http://127.0.0.1:{port}/metrics"))[0] == 401
            status, body = await get(http, f"http://127.0.0.1:{port}/metrics",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
            assert status == 200 and "qunbot_events_handled_total" in body
            assert (await get(http, f"http://127.0.0.1:{port}/healthz"))[0] == 200
    finally:
        await ops.stop()
