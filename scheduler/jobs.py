"""Jobs derived from the config. Each capability that runs on time adds a builder to JOB_BUILDERS.

A builder takes the config and returns JobSpecs (id, APScheduler trigger, async run). Ids are stable
for the same config entry, so a reload replaces jobs instead of doubling them. The sections of the
scheduled capabilities (announcements, purge, stats, anomaly) validate already; their builders come
with the issues that build them.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core import JobSpec
from rules.config import Config

JobBuilder = Callable[[Config], list[JobSpec]]
JOB_BUILDERS: list[JobBuilder] = []


def jobs_from_config(config: Config, extra: list[JobBuilder] | None = None) -> list[JobSpec]:
    """Every job the config asks for (ids unique; a duplicate id is a programming error)."""
    jobs: list[JobSpec] = []
    for build in [*JOB_BUILDERS, *(extra or [])]:
        jobs.extend(build(config))
    ids = [j.id for j in jobs]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate job ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return jobs
