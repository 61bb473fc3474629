"""The daily stats job: the day's numbers and the activity-by-hour chart to the operators (Mondays: the
four-week trend too)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.events import Action
from bot.feature import JobContext, JobSpec
from handlers.stats.digest import StatsDigest
from handlers.stats.draw import IN_THREAD, ChartFailed, ChartWorker, Drawer
from handlers.stats.series import TREND_DAYS, daily_trend, numbers, render_hourly_chart
from rules.config import Config
from rules.schema import GroupSettings
from scheduler.common import (
    besides,
    daily_jobs,
    digest_recipients,
    fill,
    local_now,
    safe_name,
    served_groups,
    to_operators,
)


def build(config: Config) -> list[JobSpec]:
    return daily_jobs(config, "stats", lambda s: s.stats, run)


async def run(at: str, ctx: JobContext) -> list[Action]:
    served = [(g, n, s) for g, n, s in await served_groups(ctx) if s.stats.enabled and s.stats.time == at]
    digest = StatsDigest(ctx, digest_recipients((s for _, _, s in served), ctx.config.model.bot.report_digest_from))
    actions: list[Action] = []
    # one child process draws the run's charts, started on the first: none when every report goes in a digest
    async with ChartWorker() as draw:
        for group, name, settings in served:
            actions += await report(ctx, group, name, settings, draw, digest)
    return actions + await digest.actions()


async def report(ctx: JobContext, group: str, name: str | None, settings: GroupSettings,
                 draw: Drawer = IN_THREAD, digest: StatsDigest | None = None) -> list[Action]:
    """The group's report and charts to its recipients, but to those in `digest` as part of their digest."""
    stats = settings.stats
    if not settings.report_to:
        ctx.note(f"group {group}: no operators or admins configured; stats report not sent")
        return []
    skip = digest.recipients if digest is not None else frozenset()
    own = any(r not in skip for r in settings.report_to)  # someone gets the group's own report
    now = ctx.clock.now()
    day = local_now(ctx).date()
    figures = await numbers(ctx.repo, group, day, ctx.config.tz, now, stats.top_talkers if own else 0)
    if digest is not None:
        digest.add(group, name, settings, figures)
    if not own:
        return []
    talkers = "、".join(fill(ctx, stats.talker_item, name, settings, name=t["display_name"] or t["user_id"],
                            count=t["count"]) for t in figures["talkers"]) or "—"
    text = fill(ctx, stats.report_text, name, settings, **{**figures, "talkers": talkers})
    data = {"group": group, **{k: v for k, v in figures.items() if k != "talkers"},
            "talkers": [[t["user_id"], t["count"]] for t in figures["talkers"]]}
    folder = Path(ctx.config.model.bot.reports_dir)
    actions = besides(to_operators(settings, "stats_report", text=text, **data), skip)
    try:
        chart = await render_hourly_chart(ctx.repo, ctx.config, group, name, day, stats.chart_days,
                                          folder / f"stats-{safe_name(group)}-{day}.png", until=now, draw=draw)
        actions += besides(to_operators(settings, "stats_report", image=str(chart), group=group, chart="hourly"),
                           skip)
        if stats.weekly_chart and day.weekday() == 0:
            labels, series = await daily_trend(ctx.repo, group, day - timedelta(days=1), TREND_DAYS, ctx.config.tz,
                                               dict(stats.trend_series))
            title = fill(ctx, stats.trend_title, name, settings, days=TREND_DAYS)
            trend = await draw.trend(title, labels, series, folder / f"trend-{safe_name(group)}-{day}.png",
                                     labels=stats.labels.model_dump())
            actions += besides(to_operators(settings, "stats_report", image=str(trend), group=group, chart="trend"),
                               skip)
    except Exception as exc:  # a chart that cannot be drawn (no CJK font …) must not cost the report
        reason = str(exc) if isinstance(exc, ChartFailed) else f"{type(exc).__name__}: {exc}"
        ctx.note(f"group {group}: chart not drawn: {reason}")
    return actions
