"""The anomaly jobs: built from the config, run at their instants."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from bot.events import Action
from bot.feature import JobContext, JobSpec
from rules.config import Config
from rules.schema import GroupSettings
from scheduler.common import daily_memo, day_start, fill, local_now, served_groups, to_operators
from storage.tables import ACTIVITY_TYPES


def build(config: Config) -> list[JobSpec]:
    if not any(s.anomaly.enabled for s in config.variants()):
        return []
    return [JobSpec("anomaly:hourly", CronTrigger(minute=0, timezone=config.tz), run)]


@dataclass
class Survey:
    """What an hourly run reads once for all groups instead of once per group: ads in the last 24
    hours, activity since the local day began, and (when a group has enough ads to be looked at
    closely) the ads of the baseline days before those 24 hours."""

    ads_today: dict[str, int]
    active_today: dict[str, int]
    ads_before: dict[int, dict[str, int]] = field(default_factory=dict)  # baseline days -> group -> ads

    async def ads_in_baseline(self, ctx: JobContext, group: str, days: int) -> int:
        if days not in self.ads_before:
            day_ago = ctx.due - timedelta(days=1)
            self.ads_before[days] = await ctx.repo.ads.ads_by_group(day_ago - timedelta(days=days), day_ago)
        return self.ads_before[days].get(group, 0)


async def run(ctx: JobContext) -> list[Action]:
    actions: list[Action] = []
    groups = [g for g in await served_groups(ctx) if g[2].anomaly.enabled]
    if not groups:
        return actions
    # one look at all groups first: most hours, most groups have nothing to check closely
    longest = max(max(s.anomaly.join_raid_minutes, s.anomaly.mass_leave_minutes) for _, _, s in groups)
    since = ctx.due - timedelta(hours=1, minutes=longest)
    ids = [g for g, _, _ in groups]
    recent = await ctx.repo.events.event_counts_by_group(("join", "leave"), since, ctx.due, ids)
    ads = await ctx.repo.ads.ads_by_group(ctx.due - timedelta(days=1), ctx.due)
    active: dict[str, int] = {}
    for (group, _type), n in (await ctx.repo.events.event_counts_by_group(
            ACTIVITY_TYPES, day_start(local_now(ctx).date(), ctx.config.tz), ctx.due, ids)).items():
        active[group] = active.get(group, 0) + n
    survey = Survey(ads, active)
    for group, name, settings in groups:
        a = settings.anomaly
        probes = [_quiet]
        if recent.get((group, "join"), 0) >= a.join_raid_count:
            probes.insert(0, _join_raid)
        if recent.get((group, "leave"), 0) >= a.mass_leave_count:
            probes.insert(0, _mass_leave)
        if ads.get(group, 0) >= a.ad_spike_min:
            probes.insert(0, _ad_spike)
        actions += await check(ctx, group, name, settings, probes, survey)
    return actions


async def check(ctx: JobContext, group: str, name: str | None, settings: GroupSettings,
                probes: list[Any] | None = None, survey: Survey | None = None) -> list[Action]:
    found: list[Action] = []
    for probe in probes or (_join_raid, _mass_leave, _ad_spike, _quiet):
        alert = await probe(ctx, group, name, settings, survey)
        if alert is None:
            continue
        kind, text, data = alert
        ctx.note(f"group {group}: {kind}: {data}")
        if settings.report_to:
            found += to_operators(settings, f"anomaly/{kind}", text=text, group=group, kind=kind, **data)
        else:
            ctx.note(f"group {group}: no operators or admins configured; {kind} alert not sent")
    return found


Alert = tuple[str, str, dict[str, object]]


def _usual_per_day(total: int, days: int) -> float:
    return round(total / days, 1)


async def _already_today(ctx: JobContext, group: str, kind: str) -> bool:
    last = await ctx.repo.audit.last_rule_use(group, f"anomaly/{kind}")
    return last is not None and last >= day_start(local_now(ctx).date(), ctx.config.tz)


def _burst(times: list[datetime], window: timedelta) -> tuple[int, datetime, datetime] | None:
    """The largest number of instants within `window` of each other: (count, first, last)."""
    best: tuple[int, datetime, datetime] | None = None
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        if best is None or end - start + 1 > best[0]:
            best = (end - start + 1, times[start], t)
    return best


async def _recent_burst(ctx: JobContext, group: str, kind: str, type_: str, window: timedelta,
                        count: int) -> tuple[int, datetime, datetime] | None:
    """A burst of `count` events within `window` that ended in the last hour (a burst across the hour
    boundary is seen whole) and was not reported by an earlier check."""
    times = await ctx.repo.events.event_times(group, type_, ctx.due - timedelta(hours=1) - window, ctx.due)
    found = _burst(times, window)
    if found is None or found[0] < count:
        return None
    last_alert = await ctx.repo.audit.last_rule_use(group, f"anomaly/{kind}")
    if last_alert is not None and last_alert >= found[2]:
        return None  # the previous check saw this burst whole
    return found


async def _join_raid(ctx: JobContext, group: str, name: str | None, settings: GroupSettings,
                      _survey: Survey | None = None) -> Alert | None:
    a = settings.anomaly
    window = timedelta(minutes=a.join_raid_minutes)
    found = await _recent_burst(ctx, group, "join_raid", "join", window, a.join_raid_count)
    if found is None:
        return None
    best, first, last = found
    base_since = ctx.due - timedelta(days=a.baseline_days)
    usual = _usual_per_day(await ctx.repo.events.event_count(group, ("join",), base_since, first, members=True),
                           a.baseline_days)
    tz = ctx.config.tz
    text = fill(ctx, a.join_raid_text, name, settings, count=best, minutes=a.join_raid_minutes, usual=usual,
                first=first.astimezone(tz).strftime("%H:%M"), last=last.astimezone(tz).strftime("%H:%M"))
    return "join_raid", text, {"count": best, "minutes": a.join_raid_minutes, "usual": usual,
                               "first": first.isoformat(), "last": last.isoformat()}


async def _mass_leave(ctx: JobContext, group: str, name: str | None, settings: GroupSettings,
                      _survey: Survey | None = None) -> Alert | None:
    a = settings.anomaly
    window = timedelta(minutes=a.mass_leave_minutes)
    found = await _recent_burst(ctx, group, "mass_leave", "leave", window, a.mass_leave_count)
    if found is None:
        return None
    count, first, last = found
    usual = _usual_per_day(await ctx.repo.events.event_count(
        group, ("leave",), ctx.due - timedelta(days=a.baseline_days), first, members=True), a.baseline_days)
    text = fill(ctx, a.mass_leave_text, name, settings, count=count, minutes=a.mass_leave_minutes, usual=usual)
    return "mass_leave", text, {"count": count, "minutes": a.mass_leave_minutes, "usual": usual,
                                "first": first.isoformat(), "last": last.isoformat()}


async def _ad_spike(ctx: JobContext, group: str, name: str | None, settings: GroupSettings,
                    survey: Survey | None = None) -> Alert | None:
    a = settings.anomaly
    day_ago = ctx.due - timedelta(days=1)
    today = survey.ads_today.get(group, 0) if survey else await ctx.repo.ads.ads_caught(group, day_ago, ctx.due)
    if today < a.ad_spike_min:
        return None
    before = (await survey.ads_in_baseline(ctx, group, a.baseline_days) if survey else
              await ctx.repo.ads.ads_caught(group, day_ago - timedelta(days=a.baseline_days), day_ago))
    usual = _usual_per_day(before, a.baseline_days)
    last_alert = await ctx.repo.audit.last_rule_use(group, "anomaly/ad_spike")
    if today < a.ad_spike_ratio * usual or (last_alert is not None and last_alert > day_ago):
        return None  # (the same 24 hours were reported already)
    text = fill(ctx, a.ad_spike_text, name, settings, today=today, usual=usual)
    return "ad_spike", text, {"today": today, "usual": usual}


async def _quiet(ctx: JobContext, group: str, name: str | None, settings: GroupSettings,
                 survey: Survey | None = None) -> Alert | None:
    a = settings.anomaly
    local = local_now(ctx)
    if local.strftime("%H:%M") < a.quiet_from or await _already_today(ctx, group, "quiet"):
        return None
    tz = ctx.config.tz
    today = local.date()
    memo = daily_memo(ctx, "quiet", group)
    if "by_hour" not in memo:  # messages per local hour of day, summed over the previous days (once a day)
        by_hour = [0] * 24
        first = day_start(today - timedelta(days=a.baseline_days), tz)
        for start, n in (await ctx.repo.events.hourly_activity(group, first, day_start(today, tz))).items():
            by_hour[start.astimezone(tz).hour] += n
        memo["by_hour"] = by_hour
    usual = round(sum(memo["by_hour"][:local.hour]) / a.baseline_days, 1)
    if usual < a.quiet_min_usual:
        return None
    so_far = (survey.active_today.get(group, 0) if survey else
              await ctx.repo.events.event_count(group, ACTIVITY_TYPES, day_start(today, tz), ctx.due))
    if so_far >= a.quiet_ratio * usual:
        return None
    text = fill(ctx, a.quiet_text, name, settings, today=so_far, usual=usual, hour=local.hour)
    return "quiet", text, {"today": so_far, "usual": usual, "hour": local.hour}
