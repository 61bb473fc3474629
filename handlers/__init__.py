"""The features: one package each (handler(s), settings, repository, tables, jobs), and the one list.

The handler chain, the group settings (rules.schema.group_settings_model) and the scheduled jobs
(scheduler.jobs.jobs_from_config) are all assembled from FEATURES. A handler's place in the chain
comes from its band and order, not from its place here. Adding a feature is one line below.
"""

from __future__ import annotations

from importlib import import_module

from bot.feature import Feature

FEATURE_PACKAGES = (
    "activity",
    "welcome",
    "keywords",
    "admin",
    "ads",
    "checkin",
    "points",
    "levels",
    "announcements",
    "purge",
    "stats",
    "anomaly",
    "shop",
    "retention",
    "jielong",
    "poll",
    "roll_call",
    "lottery",
    "red_packet",
    "topic_hours",
)

FEATURES: tuple[Feature, ...] = tuple(import_module(f"handlers.{name}").FEATURE for name in FEATURE_PACKAGES)
