"""Live scheduling: APScheduler's AsyncIOScheduler in the configured time zone, rebuilt on reload.

Misfire policy: a job that could not run on time (the bot was down or busy) still runs when it is
less than `MISFIRE_GRACE_SECONDS` late; later than that it is skipped and APScheduler logs it. Runs
are recorded per (job, due instant), so a restart never runs one twice.

`ClockScheduler` runs the same jobs at the instants the same triggers compute, but follows the bot's
clock instead of the wall clock: for the console (whose clock `:time` moves forward) and for runs
started at a chosen time (`qunbot run --clock-start`, used by tests and demos).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core import Bot
from bot.feature import JobSpec
from rules.config import Config
from scheduler.jobs import jobs_from_config

log = logging.getLogger("qunbot.scheduler")
MISFIRE_GRACE_SECONDS = 30 * 60


class LiveScheduler:
    """Keeps APScheduler's jobs equal to what the config asks for."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.scheduler = AsyncIOScheduler(timezone=bot.config.tz)

    def start(self) -> None:
        self.rebuild(self.bot.config)
        self.scheduler.start()
        self._catch_up = asyncio.ensure_future(self.catch_up())

    async def catch_up(self) -> list[str]:
        """At start: run each job whose latest instant passed less than the grace ago and has not run
        (APScheduler only looks forward from now). Returns the ids of the jobs it ran."""
        now = self.bot.clock.now()
        ran = []
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
            if existing.id not in wanted:
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

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        catch_up = getattr(self, "_catch_up", None)
        if catch_up is not None and not catch_up.done():
            catch_up.cancel()


class ClockScheduler:
    """The jobs of the config, fired as the bot's clock passes their instants (checked twice a second)."""

    TICK_SECONDS = 0.5

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.jobs: dict[str, JobSpec] = {}
        self._cursor = bot.clock.now()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.rebuild(self.bot.config)
        self._task = asyncio.create_task(self._loop(), name="clock-scheduler")

    def rebuild(self, config: Config) -> None:
        try:
            self.jobs = {j.id: j for j in jobs_from_config(config, self.bot.features)}
        except Exception:
            log.exception("jobs could not be built from the new config; keeping the old ones")
            return
        log.info("scheduler (bot clock): %d job(s)", len(self.jobs))

    async def _loop(self) -> None:
        while True:
            now = self.bot.clock.now()
            due: list[tuple[datetime, str]] = []
            for job in self.jobs.values():
                t = job.trigger.get_next_fire_time(None, self._cursor)
                while t is not None and t <= now:
                    if t > self._cursor:
                        due.append((t, job.id))
                    t = job.trigger.get_next_fire_time(t, t + timedelta(microseconds=1))
            self._cursor = now
            for when, job_id in sorted(due):
                job = self.jobs.get(job_id)
                if job is None:
                    continue
                try:
                    await self.bot.run_job(job, when)
                except Exception:
                    log.exception("job %s (due %s) could not run", job_id, when.isoformat())
            await asyncio.sleep(self.TICK_SECONDS)

    def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()


def latest_fire_time(trigger: Any, now: datetime, within_seconds: float) -> datetime | None:
    """The trigger's latest fire time in [now - within_seconds, now] (APScheduler 3 does not pass it)."""
    t = trigger.get_next_fire_time(None, now - timedelta(seconds=within_seconds))
    last = None
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t)
    return last
