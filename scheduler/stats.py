"""The daily stats report (日报) to operators: members, joins, leaves, messages, active members,
check-in rate, red packets, ads caught, top talkers, and a chart of activity by hour over the last
days; on Mondays also the daily trend of the last four weeks. `qunbot stats` draws the same chart.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core import JobContext, JobSpec
from bot.events import Action
from handlers.checkin import percent
from rules.config import Config
from rules.schema import GroupSettings, StatsSettings
from rules.templates import render
from scheduler.common import (
    daily_jobs,
    day_label,
    day_start,
    fill,
    local_now,
    safe_name,
    served_groups,
    to_operators,
)
from storage.store import Store

TREND_DAYS = 28


async def hourly_series(store: Store, group: str, last_day: date, days: int, tz: Any,
                        until: datetime | None = None, stats: StatsSettings | None = None
                        ) -> list[tuple[str, list[int]]]:
    """[(day label, 24 message counts by local hour)] for the `days` local days ending with `last_day`."""
    first = last_day - timedelta(days=days - 1)
    since = day_start(first, tz)
    buckets = await store.hourly_activity(group, since, until or day_start(last_day + timedelta(days=1), tz))
    grid = {first + timedelta(days=n): [0] * 24 for n in range(days)}
    for start, n in buckets.items():
        local = start.astimezone(tz)
        if local.date() in grid:
            grid[local.date()][local.hour] += n
    stats = stats or StatsSettings()
    return [(day_label(d, stats.weekdays, stats.weekday_prefix), counts) for d, counts in sorted(grid.items())]


async def daily_trend(store: Store, group: str, last_day: date, days: int, tz: Any, names: dict[str, str]
                      ) -> tuple[list[str], dict[str, list[int]]]:
    """Messages, active members and check-ins per local day (series named by `names`)."""
    labels: list[str] = []
    counts: dict[str, list[int]] = {"messages": [], "speakers": [], "checkins": []}
    for n in range(days):
        d = last_day - timedelta(days=days - 1 - n)
        start, end = day_start(d, tz), day_start(d + timedelta(days=1), tz)
        labels.append(f"{d:%m-%d}")
        counts["messages"].append(await store.event_count(group, _MESSAGES, start, end))
        counts["speakers"].append(await store.active_count(group, start, end))
        counts["checkins"].append((await store.checkin_counts([group], d.isoformat())).get(group, 0))
    return labels, {names.get(k, k): v for k, v in counts.items()}


_MESSAGES = ("text", "image", "link", "mini_program", "contact_card", "red_packet", "media")


async def render_hourly_chart(store: Store, config: Config, group: str, name: str | None, last_day: date, days: int,
                              path: Path, until: datetime | None = None) -> Path:
    """The activity-by-hour chart of a group as a PNG (rendered in a worker thread)."""
    from scheduler import charts

    stats = config.group(group, name).settings.stats
    series = await hourly_series(store, group, last_day, days, config.tz, until, stats)
    total = sum(sum(c) for _, c in series)
    fields = {"group_name": name or group, "days": days}
    title = render(stats.chart_title, **fields)
    subtitle = render(stats.chart_subtitle, **fields, first=series[0][0], last=series[-1][0], total=total)
    return await asyncio.to_thread(charts.render_hourly, title, series, path, subtitle=subtitle,
                                   labels=stats.labels.model_dump())


def build(config: Config) -> list[JobSpec]:
    return daily_jobs(config, "stats", lambda s: s.stats, run)


async def run(at: str, ctx: JobContext) -> list[Action]:
    actions: list[Action] = []
    for group, name, settings in await served_groups(ctx):
        if settings.stats.enabled and settings.stats.time == at:
            actions += await report(ctx, group, name, settings)
    return actions


async def numbers(store: Store, group: str, day: date, tz: Any, until: datetime, talkers: int) -> dict[str, Any]:
    """The day's figures from local midnight to `until`."""
    start = day_start(day, tz)
    members = (await store.group_sizes([group])).get(group, (None, 0))[1]
    checkins = (await store.checkin_counts([group], day.isoformat())).get(group, 0)
    return {
        "members": members,
        "joins": await store.event_count(group, ("join",), start, until, members=True),
        "leaves": await store.event_count(group, ("leave",), start, until, members=True),
        "messages": await store.event_count(group, _MESSAGES, start, until),
        "active": await store.active_count(group, start, until),
        "checkins": checkins,
        "checkin_rate": percent(checkins, max(members, checkins)),
        "red_packets": await store.event_count(group, ("red_packet",), start, until),
        "ads": await store.ads_caught(group, start, until),
        "talkers": await store.talkers(group, start, until, talkers) if talkers else [],
    }


async def report(ctx: JobContext, group: str, name: str | None, settings: GroupSettings) -> list[Action]:
    stats = settings.stats
    if not settings.operators:
        ctx.note(f"group {group}: no operators configured; stats report not sent")
        return []
    now = ctx.clock.now()
    day = local_now(ctx).date()
    figures = await numbers(ctx.store, group, day, ctx.config.tz, now, stats.top_talkers)
    talkers = "、".join(fill(ctx, stats.talker_item, name, settings, name=t["display_name"] or t["user_id"],
                            count=t["count"]) for t in figures["talkers"]) or "—"
    text = fill(ctx, stats.report_text, name, settings, **{**figures, "talkers": talkers})
    data = {"group": group, **{k: v for k, v in figures.items() if k != "talkers"},
            "talkers": [[t["user_id"], t["count"]] for t in figures["talkers"]]}
    folder = Path(ctx.config.model.bot.reports_dir)
    actions = to_operators(settings, "stats_report", text=text, **data)
    try:
        chart = await render_hourly_chart(ctx.store, ctx.config, group, name, day, stats.chart_days,
                                          folder / f"stats-{safe_name(group)}-{day}.png", until=now)
        actions += to_operators(settings, "stats_report", image=str(chart), group=group, chart="hourly")
        if stats.weekly_chart and day.weekday() == 0:
            from scheduler import charts

            labels, series = await daily_trend(ctx.store, group, day - timedelta(days=1), TREND_DAYS, ctx.config.tz,
                                               dict(stats.trend_series))
            title = fill(ctx, stats.trend_title, name, settings, days=TREND_DAYS)
            trend = await asyncio.to_thread(charts.render_trend, title, labels, series,
                                            folder / f"trend-{safe_name(group)}-{day}.png",
                                            labels=stats.labels.model_dump())
            actions += to_operators(settings, "stats_report", image=str(trend), group=group, chart="trend")
    except Exception as exc:  # a chart that cannot be drawn (no CJK font …) must not cost the report
        ctx.note(f"group {group}: chart not drawn: {type(exc).__name__}: {exc}")
    return actions
