"""A live run: platform events in, the bot, the committer, the scheduler, hot reload; clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime

from bot.app import Runtime, start_runtime, tell_operators_of_risks, unreported_groups
from bot.clock import Clock, OffsetClock, SystemClock
from bot.fleet import join_fleet
from bot.platform import Platform, PlatformFatal
from bot.web.console import pick_up_web_actions
from bot.web.operations import start_operations
from handlers import FEATURES
from rules.config import Config
from rules.reload import ConfigHolder
from scheduler.live import ClockScheduler, LiveScheduler

log = logging.getLogger("qunbot.run")


def make_platform(adapter: str, config: Config, clock: SystemClock) -> Platform:
    """The platform adapter by name (the Wechaty one is an optional extra)."""
    if adapter == "console":
        from bot.adapters.console import ConsolePlatform

        assert isinstance(clock, OffsetClock)
        return ConsolePlatform(clock, tz=config.tz)
    if adapter == "wechaty":
        try:
            from bot.adapters.wechaty import WechatyPlatform
        except ImportError as exc:
            raise PlatformFatal(f"the wechaty adapter needs the extra: pip install 'qunbot[wechat]' "
                                f"({exc.name} is missing)") from None
        return WechatyPlatform.from_config(config, clock)
    raise PlatformFatal(f"unknown adapter {adapter!r} (console, wechaty)")


async def run_live(config: Config, config_path: str | None, adapter: str, db_url: str, *,
                   clock_start: datetime | None = None) -> int:
    """Run until the platform closes or SIGINT/SIGTERM; returns the exit status. With `clock_start`
    the bot's clock starts there (tests, demos) and scheduled jobs follow that clock."""
    clock = OffsetClock()
    if clock_start is not None:
        clock.advance(clock_start.astimezone(UTC) - clock.now())
    try:
        platform = make_platform(adapter, config, clock)
    except PlatformFatal as exc:
        print(f"qunbot: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if adapter == "console":
        getattr(platform, "say", print)(f"qunbot 控制台：你是「{getattr(platform, 'user_name', '')}」，"
                                        f"在群「{getattr(platform, 'group_name', '')}」。输入 :help 查看命令。")
    return await serve(platform, ConfigHolder(config, config_path), db_url, clock, stop,
                       drain_seconds=30 if adapter == "console" else 2,
                       follow_clock=adapter == "console" or clock_start is not None)


_BACKGROUND: set[asyncio.Task[object]] = set()


def _background(coro: Coroutine[object, object, object]) -> None:
    """Run `coro` on its own (a config listener is called synchronously); keep a reference until done."""
    task = asyncio.ensure_future(coro)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


async def serve(platform: Platform, holder: ConfigHolder, db_url: str, clock: Clock, stop: asyncio.Event, *,
                drain_seconds: float = 2, started: Callable[[Runtime], None] | None = None,
                follow_clock: bool = False) -> int:
    """Serve a platform until it closes or `stop` is set: bot, committer, scheduler, hot reload.

    Shutdown: stop reading, handle what was queued, commit, let paced sends go out (up to
    `drain_seconds`), close. Returns 1 when the platform failed for good, else 0.
    """
    fleet = await join_fleet(holder, db_url)  # the process lock; with `accounts:`, leases (bot/fleet/)
    runtime = await start_runtime(holder, db_url, clock, platform, FEATURES, resend_only=fleet.resends)
    await fleet.attach(runtime)
    ops = await start_operations(runtime, platform)  # /healthz and /metrics (bot/web/operations.py)
    await unreported_groups(runtime)
    bot = runtime.bot
    if hasattr(platform, "settle"):
        platform.settle = bot.drain  # the console: a :tick waits for the lines before it
    if started is not None:
        started(runtime)
    scheduler: LiveScheduler | ClockScheduler = ClockScheduler(bot) if follow_clock else LiveScheduler(bot)
    holder.listeners.append(scheduler.rebuild)
    holder.risk_listeners.append(lambda found: _background(tell_operators_of_risks(bot, found)))
    scheduler.start()
    committer = asyncio.create_task(bot.run_committer(stop), name="committer")
    watcher = asyncio.create_task(holder.watch(stop), name="config-watch") if holder.path else None
    # actions a web console in another process queued (a removal): this bot sends them
    pickup = asyncio.create_task(pick_up_web_actions(runtime.store, runtime.outbox, stop, owns=fleet.owns_row),
                                 name="web-pickup")
    stop_console = None
    if holder.current.model.web.enabled:
        from bot.web.security import TokenMissing
        from bot.web.serve import start_console

        try:
            _console, stop_console = await start_console(holder, db_url, clock, bot=bot, ops=ops)
        except (OSError, ValueError, TokenMissing) as exc:
            log.error("the web console could not start: %s", exc)

    async def pump() -> None:
        async for event in platform.events():
            bot.dispatch(event)
        log.info("the platform closed")

    pumping = asyncio.create_task(pump(), name="platform")
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({pumping, stopper}, return_when=asyncio.FIRST_COMPLETED)
    status = 0
    if pumping.done() and not pumping.cancelled() and pumping.exception() is not None:
        exc = pumping.exception()
        if isinstance(exc, PlatformFatal):
            print(f"qunbot: {exc}", file=sys.stderr)
        else:
            log.error("the platform failed", exc_info=exc)
        status = 1
    log.info("shutting down")
    stopper.cancel()
    stop_reading = getattr(platform, "stop", None)
    if stop_reading is not None:
        stop_reading()
    pumping.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await pumping
    scheduler.shutdown()
    if isinstance(scheduler, ClockScheduler):  # a job it is running ends before the store closes
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(scheduler.stop(), timeout=5)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(bot.drain(), timeout=5)
    stop.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(committer, timeout=5)
    pickup.cancel()
    if stop_console is not None:
        await stop_console()
    await ops.stop()
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watcher
    await runtime.outbox.drain(seconds=drain_seconds)
    await runtime.close()
    close = getattr(platform, "close", None)
    if close is not None:
        await close()
    return status
