"""Anomaly alerts to operators, checked hourly against the group's own trailing baseline
(`anomaly.baseline_days`): a day far quieter than usual by this hour, a join raid (many joins
within minutes), an ad spike (ads of the last 24 hours against a usual day), a mass leave. Each alert
gives the numbers (now against usual); a kind is reported at most once per local day, except raids
and mass leaves, which are looked for in the last hour only and so are reported once each.
"""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.core import JobContext, JobSpec
from bot.events import Action
from rules.config import Config
from rules.schema import GroupSettings
from scheduler.common import daily_memo, day_start, fill, local_now, served_groups, to_operators

_MESSAGES = ("text", "image", "link", "mini_program", "contact_card", "red_packet", "media")


def build(config: Config) -> list[JobSpec]:
    if not any(s.anomaly.enabled for s in config.variants()):
        return []
    return [JobSpec("anomaly:hourly", CronTrigger(minute=0, timezone=config.tz), run)]


async def run(ctx: JobContext) -> list[Action]:
    actions: list[Action] = []
    for group, name, settings in await served_groups(ctx):
        if settings.anomaly.enabled:
            actions += await check(ctx, group, name, settings)
    return actions


async def check(ctx: JobContext, group: str, name: str | None, settings: GroupSettings) -> list[Action]:
    found: list[Action] = []
    for probe in (_join_raid, _mass_leave, _ad_spike, _quiet):
        alert = await probe(ctx, group, name, settings)
        if alert is None:
            continue
        kind, text, data = alert
        ctx.note(f"group {group}: {kind}: {data}")
        if settings.operators:
            found += to_operators(settings, f"anomaly/{kind}", text=text, group=group, kind=kind, **data)
        else:
            ctx.note(f"group {group}: no operators configured; {kind} alert not sent")
    return found


Alert = tuple[str, str, dict[str, object]]


def _usual_per_day(total: int, days: int) -> float:
    return round(total / days, 1)


async def _already_today(ctx: JobContext, group: str, kind: str) -> bool:
    last = await ctx.store.last_rule_use(group, f"anomaly/{kind}")
    return last is not None and last >= day_start(local_now(ctx).date(), ctx.config.tz)


async def _join_raid(ctx: JobContext, group: str, name: str | None, settings: GroupSettings) -> Alert | None:
    a = settings.anomaly
    times = await ctx.store.event_times(group, "join", ctx.due - timedelta(hours=1), ctx.due)
    window = timedelta(minutes=a.join_raid_minutes)
    best, first, last = 0, None, None
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        if end - start + 1 > best:
            best, first, last = end - start + 1, times[start], t
    if best < a.join_raid_count or first is None or last is None:
        return None
    base_since = ctx.due - timedelta(days=a.baseline_days)
    usual = _usual_per_day(await ctx.store.event_count(group, ("join",), base_since, ctx.due - timedelta(hours=1)),
                           a.baseline_days)
    tz = ctx.config.tz
    text = fill(ctx, a.join_raid_text, name, settings, count=best, minutes=a.join_raid_minutes, usual=usual,
                first=first.astimezone(tz).strftime("%H:%M"), last=last.astimezone(tz).strftime("%H:%M"))
    return "join_raid", text, {"count": best, "minutes": a.join_raid_minutes, "usual": usual,
                               "first": first.isoformat(), "last": last.isoformat()}


async def _mass_leave(ctx: JobContext, group: str, name: str | None, settings: GroupSettings) -> Alert | None:
    a = settings.anomaly
    window = timedelta(minutes=a.mass_leave_minutes)
    count = await ctx.store.event_count(group, ("leave",), ctx.due - window, ctx.due)
    if count < a.mass_leave_count:
        return None
    last = await ctx.store.last_rule_use(group, "anomaly/mass_leave")
    if last is not None and ctx.due - last < window:
        return None  # the same departures were reported by the previous check
    usual = _usual_per_day(await ctx.store.event_count(
        group, ("leave",), ctx.due - timedelta(days=a.baseline_days), ctx.due - window), a.baseline_days)
    text = fill(ctx, a.mass_leave_text, name, settings, count=count, minutes=a.mass_leave_minutes, usual=usual)
    return "mass_leave", text, {"count": count, "minutes": a.mass_leave_minutes, "usual": usual}


async def _ad_spike(ctx: JobContext, group: str, name: str | None, settings: GroupSettings) -> Alert | None:
    a = settings.anomaly
    day_ago = ctx.due - timedelta(days=1)
    today = await ctx.store.ads_caught(group, day_ago, ctx.due)
    if today < a.ad_spike_min:
        return None
    usual = _usual_per_day(await ctx.store.ads_caught(group, day_ago - timedelta(days=a.baseline_days), day_ago),
                           a.baseline_days)
    if today < a.ad_spike_ratio * usual or await _already_today(ctx, group, "ad_spike"):
        return None
    text = fill(ctx, a.ad_spike_text, name, settings, today=today, usual=usual)
    return "ad_spike", text, {"today": today, "usual": usual}


async def _quiet(ctx: JobContext, group: str, name: str | None, settings: GroupSettings) -> Alert | None:
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
        for start, n in (await ctx.store.hourly_activity(group, first, day_start(today, tz))).items():
            by_hour[start.astimezone(tz).hour] += n
        memo["by_hour"] = by_hour
    usual = round(sum(memo["by_hour"][:local.hour]) / a.baseline_days, 1)
    if usual < a.quiet_min_usual:
        return None
    so_far = await ctx.store.event_count(group, _MESSAGES, day_start(today, tz), ctx.due)
    if so_far >= a.quiet_ratio * usual:
        return None
    text = fill(ctx, a.quiet_text, name, settings, today=so_far, usual=usual, hour=local.hour)
    return "quiet", text, {"today": so_far, "usual": usual, "hour": local.hour}
