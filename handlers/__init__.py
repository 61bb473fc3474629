"""The features: one package each (handler(s), settings, repository, tables, jobs), and the one list.

The handler chain, the group settings (rules.schema.group_settings_model) and the scheduled jobs
(scheduler.jobs.jobs_from_config) are all assembled from FEATURES. A handler's place in the chain
comes from its band and order, not from its place here.
"""

from __future__ import annotations

from handlers import (
    activity,
    admin,
    ads,
    announcements,
    anomaly,
    checkin,
    keywords,
    levels,
    points,
    purge,
    stats,
    welcome,
)

FEATURES = (
    activity.FEATURE,
    welcome.FEATURE,
    keywords.FEATURE,
    admin.FEATURE,
    ads.FEATURE,
    checkin.FEATURE,
    points.FEATURE,
    levels.FEATURE,
    announcements.FEATURE,
    purge.FEATURE,
    stats.FEATURE,
    anomaly.FEATURE,
)
