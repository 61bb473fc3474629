"""Jobs derived from the config: each feature that runs on time has a `jobs` builder (its Feature).

A builder takes the config and returns JobSpecs (id, APScheduler trigger, async run). Ids are stable
for the same config entry ("announce:09:00|*", "purge:21:30", "stats:22:00", "anomaly:hourly"), so a
reload replaces jobs instead of doubling them, and a moved time is a new id (the old job goes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from bot.feature import Feature, JobBuilder, JobSpec
from rules.config import Config


def jobs_from_config(config: Config, features: Iterable[Feature] | None = None,
                     extra: list[JobBuilder] | None = None) -> list[JobSpec]:
    """Every job the config asks for, each tagged with its feature (ids unique; a duplicate id is a
    programming error). `features` defaults to handlers.FEATURES."""
    if features is None:
        from handlers import FEATURES

        features = FEATURES
    jobs: list[JobSpec] = []
    for feature in features:
        if feature.jobs is not None:
            jobs.extend(dataclasses.replace(j, feature=feature.name) for j in feature.jobs(config))
    for build in extra or []:
        jobs.extend(build(config))
    ids = [j.id for j in jobs]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate job ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return jobs
