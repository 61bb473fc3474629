"""Live scheduling: APScheduler's AsyncIOScheduler in the configured time zone, rebuilt on reload.

Misfire policy: a job that could not run on time (the bot was down or busy) still runs when it is
less than `MISFIRE_GRACE_SECONDS` late; later than that it is skipped and APScheduler logs it. Runs
are recorded per (job, due instant), so a restart never runs one twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core import Bot, JobSpec
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

    def rebuild(self, config: Config) -> None:
        """Replace every job by the ones of `config` (same ids: no duplicates, none lost)."""
        try:
            jobs = jobs_from_config(config)
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


def latest_fire_time(trigger: Any, now: datetime, within_seconds: float) -> datetime | None:
    """The trigger's latest fire time in [now - within_seconds, now] (APScheduler 3 does not pass it)."""
    t = trigger.get_next_fire_time(None, now - timedelta(seconds=within_seconds))
    last = None
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t)
    return last
