"""Live scheduling: APScheduler's AsyncIOScheduler in the configured time zone, rebuilt on reload.

Misfire policy: a job that could not run on time (the bot was down or busy) still runs when it is
less than `MISFIRE_GRACE_SECONDS` late; later than that it is skipped and APScheduler logs it. Runs
are recorded per (job, due instant), so a restart never runs one twice.

Timers that handlers set (bot/timers.py) are date jobs with no misfire limit (a batch due while the bot
was down still goes out): the pending ones are scheduled at start (the overdue ones run in
`catch_up`), new ones as the bot reports them (`Bot.timer_listeners`); a config reload leaves them
alone. A timer whose run could not read the database is tried again `TIMER_RETRY_SECONDS` later.

`ClockScheduler` runs the same jobs and timers at the instants the same triggers compute, but follows
the bot's clock instead of the wall clock: for the console (whose clock `:time` moves forward) and for
runs started at a chosen time (`qunbot run --clock-start`, used by tests and demos).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.core import Bot
from bot.events import Timer
from bot.feature import JobSpec
from bot.timers import from_row
from rules.config import Config
from scheduler.jobs import jobs_from_config

log = logging.getLogger("qunbot.scheduler")
MISFIRE_GRACE_SECONDS = 30 * 60
TIMER_RETRY_SECONDS = 30
TIMER_PREFIX = "timer:"


class LiveScheduler:
    """Keeps APScheduler's jobs equal to what the config asks for."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.scheduler = AsyncIOScheduler(timezone=bot.config.tz)

    def start(self) -> None:
        self.rebuild(self.bot.config)
        self.bot.timer_listeners.append(self.add_timer)
        self.scheduler.start()
        self._catch_up = asyncio.ensure_future(self.catch_up())

    async def catch_up(self) -> list[str]:
        """At start: run each pending timer that is due, and each job whose latest instant passed less
        than the grace ago and has not run (APScheduler only looks forward from now); schedule the
        timers still to come. Returns the ids of the jobs and timers it ran."""
        now = self.bot.clock.now()
        ran = []
        for timer in [from_row(row) for row in self.bot.store.timers.pending()]:
            if timer.due > now:
                self.add_timer(timer)
                continue
            try:
                if await self.bot.run_timer(timer):
                    log.info("timer %s (due %s) passed while the bot was down: run now", timer.job_id,
                             timer.due.isoformat())
                    ran.append(timer.job_id)
            except Exception:
                log.exception("timer %s (due %s) could not run", timer.job_id, timer.due.isoformat())
        for job in jobs_from_config(self.bot.config, self.bot.features):
            due = latest_fire_time(job.trigger, now, MISFIRE_GRACE_SECONDS)
            if due is not None and due < now:
                try:
                    if await self.bot.run_job(job, due):
                        log.info("job %s (due %s) missed while the bot was down: run now", job.id, due.isoformat())
                        ran.append(job.id)
                except Exception:
                    log.exception("job %s (due %s) could not run", job.id, due.isoformat())
        return ran

    def rebuild(self, config: Config) -> None:
        """Replace every job by the ones of `config` (same ids: no duplicates, none lost)."""
        try:
            jobs = jobs_from_config(config, self.bot.features)
        except Exception:
            log.exception("jobs could not be built from the new config; keeping the old ones")
            return
        wanted = {j.id for j in jobs}
        for existing in self.scheduler.get_jobs():
            if existing.id not in wanted and not existing.id.startswith(TIMER_PREFIX):
                existing.remove()
        for job in jobs:
            self.scheduler.add_job(self._run, trigger=job.trigger, args=[job], id=job.id, name=job.id,
                                   replace_existing=True, misfire_grace_time=MISFIRE_GRACE_SECONDS,
                                   coalesce=True, max_instances=1)
        log.info("scheduler: %d job(s)", len(jobs))

    async def _run(self, job: JobSpec) -> None:
        now = self.bot.clock.now()
        due = latest_fire_time(job.trigger, now, MISFIRE_GRACE_SECONDS) or now
        await self.bot.run_job(job, due)

    def add_timer(self, timer: Timer, at: datetime | None = None) -> None:
        """Schedule a timer for its due instant (or `at`, a retry); one date job per timer key."""
        self.scheduler.add_job(self._run_timer, trigger=DateTrigger(run_date=at or timer.due), args=[timer],
                               id=timer.job_id, name=timer.job_id, replace_existing=True,
                               misfire_grace_time=None, coalesce=True, max_instances=1)

    async def _run_timer(self, timer: Timer) -> None:
        try:
            ran = await self.bot.run_timer(timer)
        except Exception:
            log.exception("timer %s (due %s) could not run", timer.job_id, timer.due.isoformat())
            ran = False
        if not ran and self.bot.store.timers.is_pending(timer.feature, timer.key, timer.due):
            self.add_timer(timer, self.bot.clock.now() + timedelta(seconds=TIMER_RETRY_SECONDS))

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        catch_up = getattr(self, "_catch_up", None)
        if catch_up is not None and not catch_up.done():
            catch_up.cancel()


class ClockScheduler:
    """The jobs of the config and the pending timers, fired as the bot's clock passes their instants
    (checked twice a second)."""

    TICK_SECONDS = 0.5

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.jobs: dict[str, JobSpec] = {}
        self.timers: dict[str, Timer] = {}
        self._cursor = bot.clock.now()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._in_job = False  # a job or timer is running (see `shutdown`)

    def start(self) -> None:
        self.rebuild(self.bot.config)
        for row in self.bot.store.timers.pending():
            self.add_timer(from_row(row))
        self.bot.timer_listeners.append(self.add_timer)
        self._task = asyncio.create_task(self._loop(), name="clock-scheduler")

    def add_timer(self, timer: Timer) -> None:
        self.timers[timer.job_id] = timer

    def rebuild(self, config: Config) -> None:
        try:
            self.jobs = {j.id: j for j in jobs_from_config(config, self.bot.features)}
        except Exception:
            log.exception("jobs could not be built from the new config; keeping the old ones")
            return
        log.info("scheduler (bot clock): %d job(s)", len(self.jobs))

    async def _loop(self) -> None:
        while not self._stopping:
            now = self.bot.clock.now()
            due: list[tuple[datetime, str]] = []
            for job in self.jobs.values():
                t = job.trigger.get_next_fire_time(None, self._cursor)
                while t is not None and t <= now:
                    if t > self._cursor:
                        due.append((t, job.id))
                    t = job.trigger.get_next_fire_time(t, t + timedelta(microseconds=1))
            self._cursor = now
            timers = {key: t for key, t in self.timers.items() if t.due <= now}
            due.extend((t.due, key) for key, t in timers.items())
            for when, job_id in sorted(due):
                if self._stopping:
                    return
                self._in_job = True
                try:
                    timer = timers.get(job_id)
                    if timer is not None:
                        await self.bot.run_timer(timer)
                        gone = not self.bot.store.timers.is_pending(timer.feature, timer.key, timer.due)
                        if gone and self.timers.get(job_id) is timer:  # else tried again on the next tick
                            del self.timers[job_id]
                    elif job_id in self.jobs:
                        await self.bot.run_job(self.jobs[job_id], when)
                except Exception:
                    log.exception("job %s (due %s) could not run", job_id, when.isoformat())
                finally:
                    self._in_job = False
            await asyncio.sleep(self.TICK_SECONDS)

    def shutdown(self) -> None:
        """Fire no more jobs: at once while the loop waits for its next tick; a job already running ends
        first (cancelled in the middle of a statement, it would leave the database's transaction broken)."""
        self._stopping = True
        if self._task is not None and not self._in_job:
            self._task.cancel()

    async def stop(self) -> None:
        """`shutdown`, then wait until the loop has ended."""
        self.shutdown()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def latest_fire_time(trigger: Any, now: datetime, within_seconds: float) -> datetime | None:
    """The trigger's latest fire time in [now - within_seconds, now] (APScheduler 3 does not pass it)."""
    t = trigger.get_next_fire_time(None, now - timedelta(seconds=within_seconds))
    last = None
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t)
    return last
