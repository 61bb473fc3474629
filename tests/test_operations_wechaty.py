"""Operations end to end: `qunbot --log-format json run --adapter wechaty` with `metrics: {port}` against the
real puppet-service gateway. /healthz turns 503 while the gateway is down and 200 once the bot has
reconnected; /metrics counts the reconnect and the messages; every log line is a JSON object."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT
from tests.gateway_harness import ROOM, TOKEN, Gateway, started_gateway

WEB_TOKEN = "ops-e2e-token-0123456789abcdef"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from started_gateway(tmp_path_factory)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def fetch(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


def sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return None


async def until(check, what: str, within: float = 30.0):  # type: ignore[no-untyped-def]
    for _ in range(int(within / 0.1)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {within}s: {what}")


async def test_health_metrics_and_json_logs_of_a_live_wechaty_bot(gateway: Gateway, tmp_path: Path) -> None:
    await gateway.post("/reset")
    port = free_port()
    (tmp_path / "config.yaml").write_text(
        "bot: {database: 'sqlite+aiosqlite:///bot.db', id: qunbot_self}\n"
        "outbox: {min_interval_seconds: 0.05}\n"
        "wechaty: {heartbeat_timeout_seconds: 10, reconnect_max_seconds: 1}\n"
        f"metrics: {{port: {port}}}\n"
        "defaults:\n  keywords:\n"
        "    - {name: 群规, match: exact, patterns: [群规], reply: 友善交流, cooldown_seconds: 0}\n",
        encoding="utf-8")
    env = {**os.environ, "WECHATY_PUPPET_SERVICE_ENDPOINT": gateway.endpoint, "WECHATY_PUPPET_SERVICE_TOKEN": TOKEN,
           "QUNBOT_WEB_TOKEN": WEB_TOKEN, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--log-format", "json", "run", "--adapter", "wechaty", cwd=tmp_path,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        async def healthy() -> bool:
            try:
                return (await fetch(f"{base}/healthz"))[0] == 200
            except aiohttp.ClientConnectionError:
                return False

        await until(healthy, "the bot connected and healthy")
        await gateway.post("/say", {"from": "wxid_alice", "room": ROOM, "text": "群规"})
        await gateway.wait_sent(lambda m: "友善交流" in (m["text"] or ""))
        _, text = await fetch(f"{base}/metrics")
        assert sample(text, "qunbot_platform_connected") == 1
        assert sample(text, "qunbot_platform_reconnects_total") == 0
        assert sample(text, "qunbot_events_handled_total", type="text") == 1
        assert sample(text, "qunbot_info", platform="WechatyPlatform", version="0.1.0", account="") == 1

        await asyncio.to_thread(gateway.stop)  # the puppet service goes away

        async def unhealthy() -> str | None:
            status, body = await fetch(f"{base}/healthz")
            return body if status == 503 else None

        body = json.loads(await until(unhealthy, "/healthz 503 while the gateway is down"))
        assert body["platform_connected"] is False and body["db_ok"] is True
        assert body["problems"] == ["platform: disconnected"]

        await asyncio.to_thread(gateway.start)  # back, on the same ports
        await until(healthy, "/healthz 200 once reconnected")
        _, text = await fetch(f"{base}/metrics")
        assert sample(text, "qunbot_platform_reconnects_total") == 1
        assert sample(text, "qunbot_platform_connected") == 1
    finally:
        proc.terminate()
        _, raw = await asyncio.wait_for(proc.communicate(), 20)
    err = raw.decode()
    assert proc.returncode == 0, err
    logged = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line is one JSON object
    assert all({"ts", "level", "logger", "message"} <= set(entry) for entry in logged)
    messages = [e["message"] for e in logged]
    assert any(m.startswith("health and metrics on http://127.0.0.1:") for m in messages)
    assert any(m.startswith("reconnected to the puppet service") for m in messages)
    assert WEB_TOKEN not in err and TOKEN not in err
