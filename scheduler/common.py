"""What the scheduled jobs share: the groups to serve, local time, triggers, templates, operator DMs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot import paths
from bot.context import WEEKDAYS
from bot.events import Action
from bot.feature import JobContext, JobSpec
from rules.config import Config
from rules.names import mask_names
from rules.schema import GroupSettings, cron_days, shared_fields
from rules.templates import render


async def served_groups(ctx: JobContext) -> list[tuple[str, str | None, GroupSettings]]:
    """Every group the bot has seen, with its name (else its id) and effective settings, in name order."""
    named = await ctx.members.groups_named()
    if ctx.serve is not None:  # several accounts: the groups this process holds, each claimed for this run
        kept = await ctx.serve(sorted(named))
        named = {g: n for g, n in named.items() if g in kept}
    # a group whose name is unknown is called by its id in reports
    return [(g, name or g, ctx.config.group(g, name).settings)
            for g, name in sorted(named.items(), key=lambda kv: (kv[1] or kv[0], kv[0]))]


def local_now(ctx: JobContext) -> datetime:
    return ctx.clock.now().astimezone(ctx.config.tz)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight of `day` as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=tz)


def daily_trigger(hhmm: str, tz: ZoneInfo, days: str = "*") -> CronTrigger:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return CronTrigger(hour=hour, minute=minute, day_of_week=cron_days(days), timezone=tz)


def daily_jobs(config: Config, kind: str, section: Callable[[GroupSettings], Any],
               run: Callable[[str, JobContext], Awaitable[list[Action]]]) -> list[JobSpec]:
    """One job per distinct time of a daily section (purge, stats) that some group has enabled:
    id "kind:HH:MM", `run(time, ctx)` serving the groups with that time."""
    times = sorted({section(s).time for s in config.variants() if section(s).enabled})
    return [JobSpec(f"{kind}:{t}", daily_trigger(t, config.tz), partial(run, t)) for t in times]


def fires_at(trigger: CronTrigger, instant: datetime) -> bool:
    """Whether `trigger` has a fire time exactly at `instant`."""
    return trigger.get_next_fire_time(None, instant - timedelta(seconds=1)) == instant


def day_label(day: date, weekdays: str = WEEKDAYS, prefix: str = "周") -> str:
    return f"{day:%m-%d} {prefix}{weekdays[day.weekday()]}"


def fill(ctx: JobContext, template: str, group_name: str | None, settings: GroupSettings, **extra: Any) -> str:
    """A template filled for a job (no member: user_name is empty), with the common fields."""
    local = local_now(ctx)
    values: dict[str, Any] = {"user_name": "", "group_name": group_name or "", "bot_name": ctx.config.model.bot.name,
                              "date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H:%M"),
                              "weekday": "星期" + WEEKDAYS[local.weekday()]}
    values.update(shared_fields(settings))
    values["rules"] = render(settings.rules, **values) if settings.rules else ""
    values.update(extra)
    mask_names(values, settings.ad_name_placeholder)
    return render(template, **values)


def to_operators(settings: GroupSettings, rule: str, *, text: str | None = None, image: str | None = None,
                 file: str | None = None, **data: Any) -> list[Action]:
    """Direct messages to the group's operators, else its admins (`report_to`): a text, an image, a file,
    in that order."""
    actions: list[Action] = []
    for operator in settings.report_to:
        if text is not None:
            actions.append(Action(action="send", rule=rule, user=operator, text=text, data=data))
        if image is not None:
            actions.append(Action(action="send_image", rule=rule, user=operator, path=image, data=data))
        if file is not None:
            actions.append(Action(action="send_file", rule=rule, user=operator, path=file, data=data))
    return actions


def digest_recipients(reports: Iterable[GroupSettings], threshold: int) -> frozenset[str]:
    """Who gets one digest instead of per-group reports from one job run: the recipients (`report_to`) of at
    least `threshold` of the groups reported on (`bot.report_digest_from`; 0: nobody)."""
    if threshold <= 0:
        return frozenset()
    counts = Counter(r for settings in reports for r in set(settings.report_to))
    return frozenset(r for r, n in counts.items() if n >= threshold)


def besides(actions: list[Action], digest: Collection[str]) -> list[Action]:
    """The per-group actions for the recipients not in `digest` (those get the digest instead)."""
    return [a for a in actions if a.user not in digest] if digest else actions


def daily_memo(ctx: JobContext, kind: str, group: str) -> dict[str, Any]:
    """A per-group scratch dict that lives for the current local day (baselines computed once a day)."""
    key = (kind, group, local_now(ctx).date())
    memo: dict[Any, dict[str, Any]] = ctx.memory.setdefault("jobs.daily", {})
    if key not in memo:
        if len(memo) > 50_000:
            memo.clear()
        memo[key] = {}
    return memo[key]


def safe_name(text: str) -> str:
    """A file-name-safe form of a group id for report files (bot.paths.safe_name, shorter, "@" as "_")."""
    return paths.safe_name(text, 80).replace("@", "_")
