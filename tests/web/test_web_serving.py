"""Serving the console: `qunbot web` alone (refusals, a real start and stop), beside a running bot
(`web.enabled`), and a removal queued by a console in another process sent by the running bot."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import bot.web.console as web_console
from bot.app import open_store
from bot.clock import SystemClock
from bot.events import Action, Event
from bot.runner import serve
from bot.web.console import queue_actions
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import FakePlatform
from tests.web.conftest import TOKEN

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def qunbot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env=env)


def env_without_token() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "QUNBOT_WEB_TOKEN"}


def test_qunbot_web_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    done = qunbot("web", "--db", str(tmp_path / "x.db"), env=env_without_token())
    assert done.returncode == 2
    assert "QUNBOT_WEB_TOKEN" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_qunbot_run_with_the_console_enabled_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("web: {enabled: true}\n", encoding="utf-8")
    done = qunbot("run", "--config", str(config), "--db", str(tmp_path / "x.db"), env=env_without_token())
    assert done.returncode == 2 and "QUNBOT_WEB_TOKEN" in done.stderr


def test_another_address_needs_public(tmp_path: Path) -> None:
    done = qunbot("web", "--host", "0.0.0.0", "--db", str(tmp_path / "x.db"),
                  env={**os.environ, "QUNBOT_WEB_TOKEN": TOKEN})
    assert done.returncode == 2 and "--public" in done.stderr


async def test_qunbot_web_serves_the_database_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    store = open_store(f"sqlite+aiosqlite:///{db}")
    await store.open()
    await store.close()
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "web", "--db", str(db), "--port", str(port), cwd=ROOT,
        env={**os.environ, "QUNBOT_WEB_TOKEN": TOKEN}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/login") as page:
                        assert page.status == 200
                        assert "登录运营后台" in await page.text()
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "the console did not start"
                    await asyncio.sleep(0.2)
            async with http.get(f"http://127.0.0.1:{port}/healthz") as health:  # no session needed
                assert health.status == 200
                assert await health.json() == {"status": "ok", "role": "console", "db_ok": True, "problems": []}
            async with http.get(f"http://127.0.0.1:{port}/metrics") as metrics:  # no bot here: nothing to measure
                assert metrics.status in (302, 401, 404)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, raw = await asyncio.wait_for(proc.communicate(), 20)
    err = raw.decode()
    assert proc.returncode == 0, err
    assert f"web console on http://127.0.0.1:{port}/" in err
    assert TOKEN not in err


class IdlePlatform(FakePlatform):
    """A platform with no events: it waits until the bot stops."""

    async def events(self) -> AsyncIterator[Event]:
        await asyncio.Event().wait()
        yield  # pragma: no cover


async def test_a_running_bot_serves_the_console_and_sends_what_a_separate_console_queued(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUNBOT_WEB_TOKEN", TOKEN)
    monkeypatch.setattr(web_console, "PICKUP_SECONDS", 0.2)
    port = free_port()
    config = Config.from_text(f"bot: {{id: qunbot}}\noutbox: {{min_interval_seconds: 0}}\n"
                              f"web: {{enabled: true, port: {port}}}\n")
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    platform, stop, ready = IdlePlatform(), asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(platform, ConfigHolder(config), db_url, SystemClock(), stop,
                                     started=lambda _rt: ready.set()))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        async with aiohttp.ClientSession() as http:
            for _ in range(50):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/login") as page:
                        assert page.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("the running bot did not serve its console")
        # a console in another process (its own store on the same database) queues a removal
        other = open_store(db_url)
        await other.open()
        kick = Action(action="kick", rule="purge_report/web", group="g1@chatroom", user="u9", reason="长期未发言")
        queue_actions(other, [kick], "web console", SystemClock().now())
        await other.commit()
        await other.close()
        for _ in range(100):
            if any(a.action == "kick" for a in platform.sent):
                break
            await asyncio.sleep(0.1)
        sent = [a for a in platform.sent if a.action == "kick"]
        assert len(sent) == 1 and sent[0].user == "u9" and sent[0].data["by"] == "web console"
        await asyncio.sleep(0.5)  # picked up once: it is not sent again
        assert len([a for a in platform.sent if a.action == "kick"]) == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
