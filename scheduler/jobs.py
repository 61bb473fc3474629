"""Jobs derived from the config. Each capability that runs on time adds a builder to JOB_BUILDERS.

A builder takes the config and returns JobSpecs (id, APScheduler trigger, async run). Ids are stable
for the same config entry ("announce:09:00|*", "purge:21:30", "stats:22:00", "anomaly:hourly"), so a
reload replaces jobs instead of doubling them, and a moved time is a new id (the old job goes).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core import JobSpec
from rules.config import Config

JobBuilder = Callable[[Config], list[JobSpec]]


def _builders() -> list[JobBuilder]:
    from scheduler import announcements, anomaly, purge, stats

    return [announcements.build, purge.build, stats.build, anomaly.build]


JOB_BUILDERS: list[JobBuilder] = _builders()


def jobs_from_config(config: Config, extra: list[JobBuilder] | None = None) -> list[JobSpec]:
    """Every job the config asks for (ids unique; a duplicate id is a programming error)."""
    jobs: list[JobSpec] = []
    for build in [*JOB_BUILDERS, *(extra or [])]:
        jobs.extend(build(config))
    ids = [j.id for j in jobs]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate job ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return jobs
