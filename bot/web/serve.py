"""Starting the console: alone (`qunbot web`) or beside a running bot (`qunbot run` with web.enabled)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.clock import Clock, SystemClock
from bot.web.console import WebConsole
from bot.web.security import token_from_env
from bot.web.server import check_bind, make_app, start_site
from rules.reload import ConfigHolder

if TYPE_CHECKING:
    from bot.core import Bot

Stop = Callable[[], Awaitable[None]]


async def start_console(holder: ConfigHolder, db_url: str, clock: Clock, *, bot: Bot | None = None,
                        host: str | None = None, port: int | None = None, public: bool | None = None,
                        token: str | None = None, ops: Any = None) -> tuple[WebConsole, Stop]:
    """Open the console's own store on `db_url`, serve it; returns the console and how to stop it.
    Raises TokenMissing (no QUNBOT_WEB_TOKEN) or ValueError (a public address without `public`)."""
    from bot.app import open_store

    settings = holder.current.model.web
    token = token if token is not None else token_from_env()
    host = host or settings.host
    port = port or settings.port
    public = settings.public if public is None else public
    refusal = check_bind(host, public)
    if refusal:
        raise ValueError(refusal)
    store = open_store(db_url)
    await store.open()
    path = Path(holder.path) if holder.path else None
    console = WebConsole(holder, store, clock, token, settings, bot=bot, config_path=path, ops=ops)
    try:
        runner = await start_site(make_app(console), host, port, public)
    except BaseException:
        await store.close()
        raise

    async def stop() -> None:
        await runner.cleanup()
        await store.close()

    return console, stop


async def serve_alone(holder: ConfigHolder, db_url: str, *, host: str | None, port: int | None,
                      public: bool) -> int:
    """`qunbot web`: the console alone until SIGINT/SIGTERM; the config file is watched (hot reload)."""
    stop_event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop_event.set)
    _console, stop = await start_console(holder, db_url, SystemClock(), host=host, port=port, public=public or None)
    watcher = asyncio.create_task(holder.watch(stop_event)) if holder.path else None
    try:
        await stop_event.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
        await stop()
    return 0
