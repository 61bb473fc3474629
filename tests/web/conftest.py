"""The web console's fixtures: a demo world replayed once per session into a SQLite file, and a console
on a copy of it (each test may write) behind an aiohttp test client, signed in or not."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import open_store
from bot.clock import DrivenClock
from bot.web.console import WebConsole
from bot.web.server import make_app
from rules.config import Config
from rules.reload import ConfigHolder
from scripts import demo_world

TOKEN = "test-token-0123456789abcdef"
GROUPS, DAYS = 4, 12


@dataclass
class World:
    """The replayed demo world: its database file, its config and the instant the replay ended."""

    db: Path
    config_text: str
    until: datetime
    folder: Path


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("web-world")
    db = folder / "world.db"
    start = demo_world.START
    until = asyncio.run(demo_world.build(db, GROUPS, DAYS, reports=folder / "reports", start=start,
                                         until=start + timedelta(days=DAYS - 1, hours=22)))
    return World(db, demo_world.CONFIG, until, folder)


@dataclass
class Console:
    """A console on a copy of the world, its test client and its config file."""

    console: WebConsole
    client: TestClient
    config_path: Path
    db_url: str

    async def sign_in(self, token: str = TOKEN) -> None:
        form = await self.client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', await form.text())
        assert csrf is not None
        response = await self.client.post("/login", data={"csrf": csrf.group(1), "token": token, "next": "/"},
                                          allow_redirects=False)
        assert response.status == 302, await response.text()

    async def csrf(self, path: str = "/") -> str:
        """The session's CSRF token, read off a page."""
        page = await self.client.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert found is not None
        return found.group(1)


@pytest.fixture
async def web(world: World, tmp_path: Path) -> AsyncIterator[Console]:
    """A console (signed out) on a fresh copy of the world, with the clock at the replay's end."""
    db = tmp_path / "world.db"
    shutil.copy(world.db, db)
    config_path = tmp_path / "config.yaml"
    config_path.write_text(world.config_text, encoding="utf-8")
    config = Config.from_file(config_path).with_bot(reports_dir=str(tmp_path / "reports"))
    holder = ConfigHolder(config, config_path)
    db_url = f"sqlite+aiosqlite:///{db}"
    store = open_store(db_url)
    await store.open()
    clock = DrivenClock(world.until)
    console = WebConsole(holder, store, clock, TOKEN, config.model.web, config_path=config_path)
    client = TestClient(TestServer(make_app(console)))
    await client.start_server()
    try:
        yield Console(console, client, config_path, db_url)
    finally:
        await client.close()
        await store.close()


@pytest.fixture
async def signed_in(web: Console) -> Console:
    await web.sign_in()
    return web
