"""The figures of the stats report: the day's numbers, messages by local hour over several days, the
daily trend of four weeks, and the activity-by-hour chart drawn from them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from handlers.checkin.rates import percent
from handlers.stats.draw import IN_THREAD, Drawer
from handlers.stats.repository import StatsRepository
from handlers.stats.settings import StatsSettings
from rules.config import Config
from rules.templates import render
from scheduler.common import day_label, day_start
from storage.tables import ACTIVITY_TYPES

TREND_DAYS = 28


async def hourly_series(repo: StatsRepository, group: str, last_day: date, days: int, tz: Any,
                        until: datetime | None = None, stats: StatsSettings | None = None
                        ) -> list[tuple[str, list[int]]]:
    """[(day label, 24 message counts by local hour)] for the `days` local days ending with `last_day`."""
    first = last_day - timedelta(days=days - 1)
    since = day_start(first, tz)
    buckets = await repo.events.hourly_activity(group, since, until or day_start(last_day + timedelta(days=1), tz))
    grid = {first + timedelta(days=n): [0] * 24 for n in range(days)}
    for start, n in buckets.items():
        local = start.astimezone(tz)
        if local.date() in grid:
            grid[local.date()][local.hour] += n
    stats = stats or StatsSettings()
    return [(day_label(d, stats.weekdays, stats.weekday_prefix), counts) for d, counts in sorted(grid.items())]


async def daily_trend(repo: StatsRepository, group: str, last_day: date, days: int, tz: Any, names: dict[str, str]
                      ) -> tuple[list[str], dict[str, list[int]]]:
    """Messages, active members and check-ins per local day (series named by `names`)."""
    labels: list[str] = []
    counts: dict[str, list[int]] = {"messages": [], "speakers": [], "checkins": []}
    for n in range(days):
        d = last_day - timedelta(days=days - 1 - n)
        start, end = day_start(d, tz), day_start(d + timedelta(days=1), tz)
        labels.append(f"{d:%m-%d}")
        counts["messages"].append(await repo.events.event_count(group, ACTIVITY_TYPES, start, end))
        counts["speakers"].append(await repo.events.active_count(group, start, end))
        counts["checkins"].append((await repo.checkins.checkin_counts([group], d.isoformat())).get(group, 0))
    return labels, {names.get(k, k): v for k, v in counts.items()}




async def render_hourly_chart(repo: StatsRepository, config: Config, group: str, name: str | None, last_day: date,
                              days: int, path: Path, until: datetime | None = None, draw: Drawer = IN_THREAD) -> Path:
    """The activity-by-hour chart of a group as a PNG, drawn by `draw` (draw.py: the job's child process;
    by default a worker thread of this process)."""
    stats = config.group(group, name).settings.stats
    series = await hourly_series(repo, group, last_day, days, config.tz, until, stats)
    total = sum(sum(c) for _, c in series)
    fields = {"group_name": name or group, "days": days}
    title = render(stats.chart_title, **fields)
    subtitle = render(stats.chart_subtitle, **fields, first=series[0][0], last=series[-1][0], total=total)
    return await draw.hourly(title, series, path, subtitle=subtitle, labels=stats.labels.model_dump())


async def numbers(repo: StatsRepository, group: str, day: date, tz: Any, until: datetime, talkers: int
                  ) -> dict[str, Any]:
    """The day's figures from local midnight to `until`."""
    start = day_start(day, tz)
    members = (await repo.members.group_sizes([group])).get(group, (None, 0))[1]
    checkins = (await repo.checkins.checkin_counts([group], day.isoformat())).get(group, 0)
    return {
        "members": members,
        "joins": await repo.events.event_count(group, ("join",), start, until, members=True),
        "leaves": await repo.events.event_count(group, ("leave",), start, until, members=True),
        "messages": await repo.events.event_count(group, ACTIVITY_TYPES, start, until),
        "active": await repo.events.active_count(group, start, until),
        "checkins": checkins,
        "checkin_rate": percent(checkins, max(members, checkins)),
        "red_packets": await repo.events.event_count(group, ("red_packet",), start, until),
        "ads": await repo.ads.ads_caught(group, start, until),
        "talkers": await repo.events.talkers(group, start, until, talkers) if talkers else [],
    }
