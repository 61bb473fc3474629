"""Start the Node.js test gateway (tests/gateway) and drive it through its HTTP control endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp

GATEWAY_DIR = Path(__file__).resolve().parent / "gateway"
TOKEN = "insecure_test_token"
ROOM = "room1@chatroom"      # the bot owns it
ROOM2 = "room2@chatroom"     # the bot is a plain member there
BOT = "qunbot_self"


def gateway_missing() -> str | None:
    """Why the gateway cannot start here (None when it can)."""
    if shutil.which("node") is None:
        return "node is not installed: install Node.js 20, then `make test` runs `npm ci` in tests/gateway"
    if not (GATEWAY_DIR / "node_modules").is_dir():
        return "tests/gateway/node_modules is missing: run `make gateway` (npm ci)"
    return None


class Gateway:
    """One gateway process; `restart()` brings it back on the same ports."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.proc: subprocess.Popen[str] | None = None
        self.grpc_port = 0
        self.control_port = 0
        self.log = data_dir / "gateway.log"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self) -> None:
        env = {**os.environ, "GATEWAY_HEARTBEAT_MS": "2000"}
        with self.log.open("a") as err:
            self.proc = subprocess.Popen(
                ["node", "server.js", "--grpc-port", str(self.grpc_port), "--control-port", str(self.control_port),
                 "--token", TOKEN, "--data", str(self.data_dir)],
                cwd=GATEWAY_DIR, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().strip()
            if line.startswith("READY") or self.proc.poll() is not None:
                break
        if not line.startswith("READY"):
            raise RuntimeError(f"the gateway did not start: {line!r}; see {self.log}")
        ports = dict(kv.split("=") for kv in line.split()[1:])
        self.grpc_port, self.control_port = int(ports["grpc"]), int(ports["control"])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"http://127.0.0.1:{self.control_port}{path}"
        async with aiohttp.ClientSession() as session, session.request(method, url, json=body) as resp:
            data = await resp.json(content_type=None)
            if resp.status >= 400:
                raise RuntimeError(f"{method} {path}: {resp.status} {data}")
            return data

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.call("POST", path, body or {})

    async def get(self, path: str) -> Any:
        return await self.call("GET", path)

    async def wait_sent(self, predicate: Any, within: float = 10.0) -> dict[str, Any]:
        """The first message the bot sent that satisfies `predicate` (polls /sent)."""
        deadline = time.monotonic() + within
        while True:
            for message in await self.get("/sent"):
                if predicate(message):
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot sent nothing matching within {within}s: {await self.get('/sent')}")
            await asyncio.sleep(0.05)


@contextlib.contextmanager
def running_gateway(prefix: str) -> Iterator[Gateway]:
    """A gateway in a fresh temporary folder (its data and the bot's files), stopped on exit."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        gateway = Gateway(Path(tmp))
        gateway.start()
        try:
            yield gateway
        finally:
            gateway.stop()


@contextlib.asynccontextmanager
async def bot_process(gateway: Gateway, workdir: Path, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """`qunbot run --adapter wechaty ARGS` against the gateway, logged in; stopped (SIGTERM) on exit."""
    env = {**os.environ, "WECHATY_PUPPET_SERVICE_ENDPOINT": gateway.endpoint, "WECHATY_PUPPET_SERVICE_TOKEN": TOKEN,
           "QUNBOT_LOG": "WARNING"}
    bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", "--adapter", "wechaty", *args,
                                               cwd=workdir, env=env)
    try:
        for _ in range(100):
            if (await gateway.get("/health")).get("loggedIn"):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # the bot's stream is open and its first heartbeat came
        yield bot
    finally:
        bot.terminate()
        await asyncio.wait_for(bot.wait(), 10)


def started_gateway(tmp_path_factory: Any) -> Iterator[Gateway]:
    """A running gateway for a test module's fixture: skips when Node.js or the packages are missing,
    fails under CI=true (CI must run the end-to-end tests)."""
    import pytest

    missing = gateway_missing()
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs the Wechaty test gateway: {missing}")
        pytest.skip(missing)
    gw = Gateway(tmp_path_factory.mktemp("gateway"))
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()
