"""The announcement jobs: built from the config, run at their instants."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from functools import partial
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.events import Action
from bot.feature import JobContext, JobSpec
from handlers.announcements.settings import Announcement
from rules.config import Config
from rules.schema import GroupSettings, cron_days, crontab_trigger
from scheduler.common import daily_memo, day_start, fill, fires_at, local_now, served_groups


def spec_key(entry: Announcement) -> str:
    return f"{entry.time}|{entry.days}" if entry.time != "peak" else "peak"


def trigger_for(entry: Announcement, tz: ZoneInfo) -> CronTrigger:
    """The instants of a fixed entry: HH:MM on `days`, or its cron expression (which has its own days)."""
    if len(entry.time.split()) == 5:
        return crontab_trigger(entry.time, tz)
    hour, minute = (int(x) for x in entry.time.split(":"))
    return CronTrigger(hour=hour, minute=minute, day_of_week=cron_days(entry.days), timezone=tz)


def build(config: Config) -> list[JobSpec]:
    tz = config.tz
    fixed: dict[str, CronTrigger] = {}
    peak = False
    for settings in config.variants():
        for entry in settings.announcements:
            if entry.time == "peak":
                peak = True
            else:
                fixed.setdefault(spec_key(entry), trigger_for(entry, tz))
    jobs = [JobSpec(f"announce:{key}", trigger, partial(run_fixed, key)) for key, trigger in sorted(fixed.items())]
    if peak:
        jobs.append(JobSpec("announce:peak", CronTrigger(minute=0, timezone=tz), run_peak))
    return jobs


async def _silent(ctx: JobContext, group: str, entry: Announcement) -> str | None:
    """Why the group gets no announcement now (None: it does)."""
    if entry.send_when_silent:
        return None
    last = await ctx.members.group_last_message(group)
    if last is None or ctx.due - last > timedelta(days=entry.silent_days):
        since = "no message yet" if last is None else f"last message {last.isoformat()}"
        return f"group {group} silent for {entry.silent_days}+ days ({since}): announcement skipped"
    return None


def _announce(ctx: JobContext, group: str, name: str | None, settings: GroupSettings, index: int,
              entry: Announcement, rule: str, **data: object) -> Action:
    day = local_now(ctx).date()
    pick = day.toordinal() % len(entry.texts)  # rotates by day
    text = fill(ctx, entry.texts[pick], name, settings)
    return Action(action="send", rule=rule, group=group, text=text,
                  data={"group": group, "entry": index, "text": pick, "time": entry.time, **data})


async def run_fixed(key: str, ctx: JobContext) -> list[Action]:
    actions: list[Action] = []
    for group, name, settings in await served_groups(ctx):
        for index, entry in enumerate(settings.announcements):
            if spec_key(entry) != key:
                continue
            reason = await _silent(ctx, group, entry)
            if reason:
                ctx.note(reason)
                continue
            actions.append(_announce(ctx, group, name, settings, index, entry, "announcements"))
    return actions


async def busiest_hour(ctx: JobContext, group: str, entry: Announcement) -> tuple[int, str]:
    """The local hour with the most messages over the last `peak_days` days, and why it was chosen
    (the fallback hour when there are fewer than `peak_min_messages` messages)."""
    tz = ctx.config.tz
    today = day_start(local_now(ctx).date(), tz)  # whole local days: the same answer all day long
    by_hour: Counter[int] = Counter()
    counts = await ctx.repo.events.hourly_activity(group, today - timedelta(days=entry.peak_days), today)
    for start, n in counts.items():
        by_hour[start.astimezone(tz).hour] += n
    total = sum(by_hour.values())
    fallback = int(entry.peak_fallback.split(":")[0])
    if total < entry.peak_min_messages or not by_hour:
        return fallback, (f"only {total} messages in the last {entry.peak_days} days (< {entry.peak_min_messages}): "
                          f"fallback {fallback:02d}:00")
    hour, n = max(sorted(by_hour.items()), key=lambda kv: kv[1])  # ties: the earliest hour
    runner_up = sorted(by_hour.values(), reverse=True)[1] if len(by_hour) > 1 else 0
    return hour, (f"busiest hour of the last {entry.peak_days} days: {hour:02d}:00-{hour:02d}:59 with {n} of "
                  f"{total} messages (next best {runner_up})")


async def run_peak(ctx: JobContext) -> list[Action]:
    actions: list[Action] = []
    hour_now = local_now(ctx).hour
    for group, name, settings in await served_groups(ctx):
        for index, entry in enumerate(settings.announcements):
            if entry.time != "peak":
                continue
            days = CronTrigger(day_of_week=cron_days(entry.days), hour=hour_now, minute=0,
                               timezone=ctx.config.tz)
            if not fires_at(days, ctx.due):
                continue
            memo = daily_memo(ctx, f"peak:{index}", group)
            if "hour" not in memo:  # chosen once a day (at the first hourly check)
                memo["hour"], memo["why"] = await busiest_hour(ctx, group, entry)
            hour, why = memo["hour"], memo["why"]
            if hour != hour_now:
                continue
            last = await ctx.repo.audit.last_rule_use(group, "announcements/peak")
            if last is not None and last >= day_start(local_now(ctx).date(), ctx.config.tz):
                continue  # already announced today (before a restart)
            reason = await _silent(ctx, group, entry)
            if reason:
                ctx.note(reason)
                continue
            ctx.note(f"group {group}: peak announcement at {hour:02d}:00 — {why}")
            actions.append(_announce(ctx, group, name, settings, index, entry, "announcements/peak",
                                     peak_hour=hour, why=why))
    return actions
