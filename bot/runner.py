"""A live run: platform events in, the bot, the committer, the scheduler, hot reload; clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.app import start_runtime
from bot.clock import OffsetClock, SystemClock
from bot.platform import Platform
from handlers import default_handlers
from rules.config import Config
from rules.reload import ConfigHolder
from scheduler.live import LiveScheduler

log = logging.getLogger("qunbot.run")


def make_platform(adapter: str, config: Config, clock: SystemClock) -> Platform:
    """The platform adapter by name (the Wechaty one is an optional extra)."""
    if adapter == "console":
        from bot.adapters.console import ConsolePlatform

        assert isinstance(clock, OffsetClock)
        return ConsolePlatform(clock)
    if adapter == "wechaty":
        try:
            from bot.adapters.wechaty import WechatyPlatform
        except ImportError as exc:
            raise SystemExit(f"the wechaty adapter needs the extra: pip install 'qunbot[wechat]' ({exc.name} "
                             "is missing)") from None
        return WechatyPlatform.from_config(config)
    raise SystemExit(f"unknown adapter {adapter!r} (console, wechaty)")


async def run_live(config: Config, config_path: str | None, adapter: str, db_url: str) -> int:
    """Run until the platform closes or SIGINT/SIGTERM; returns the exit status."""
    clock = OffsetClock()
    platform = make_platform(adapter, config, clock)
    holder = ConfigHolder(config, config_path)
    runtime = await start_runtime(holder, db_url, clock, platform, default_handlers())
    bot = runtime.bot
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    scheduler = LiveScheduler(bot)
    holder.listeners.append(scheduler.rebuild)
    scheduler.start()
    committer = asyncio.create_task(bot.run_committer(stop), name="committer")
    watcher = asyncio.create_task(holder.watch(stop), name="config-watch") if config_path else None

    async def pump() -> None:
        async for event in platform.events():
            bot.dispatch(event)
        log.info("the %s adapter closed", adapter)

    if adapter == "console":
        getattr(platform, "say", print)(f"qunbot 控制台：你是「{getattr(platform, 'user_name', '')}」，"
                                        f"在群「{getattr(platform, 'group_name', '')}」。输入 :help 查看命令。")
    pumping = asyncio.create_task(pump(), name="platform")
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({pumping, stopper}, return_when=asyncio.FIRST_COMPLETED)
    log.info("shutting down")
    pumping.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await pumping
    scheduler.shutdown()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(bot.drain(), timeout=5)
    stop.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(committer, timeout=5)
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watcher
    # let paced sends finish (console: what the bot answered the last lines)
    await runtime.outbox.drain(seconds=30 if adapter == "console" else 2)
    await runtime.close()
    close = getattr(platform, "close", None)
    if close is not None:
        await close()
    return 0
