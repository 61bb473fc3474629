"""The daily purge list (清理名单): members silent for `inactive_days` days who joined at least
`grace_days` ago, minus owners/admins/operators, the whitelist and the bot; longest inactive first.
Operators get a short summary and a CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese
names) by direct message; `purge.auto_kick` may also remove members, up to a daily cap.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from bot.core import JobContext, JobSpec
from bot.events import Action
from handlers.levels import tier_of
from rules.config import Config
from rules.schema import GroupSettings
from scheduler.common import daily_jobs, fill, local_now, safe_name, served_groups, to_operators
from storage.gcpause import paused_gc
from storage.store import Store

CSV_COLUMNS = ("member_id", "display_name", "joined", "last_active", "days_silent", "messages", "points", "tier")


class Candidate(NamedTuple):
    """A member proposed for removal (a tuple: tens of thousands are built for a big group)."""

    user_id: str
    display_name: str | None
    joined_at: datetime
    last_active_at: datetime | None
    days_silent: int
    messages: int
    points: int
    tier: str


async def purge_list(store: Store, config: Config, group: str, settings: GroupSettings, now: datetime, *,
                     days: int | None = None) -> list[Candidate]:
    """The members to propose for removal in `group` as of `now` (see the module doc)."""
    # Collections started by tens of thousands of new rows walk the whole heap and find nothing;
    # paused for the whole list (its reads included), not only while the rows are built.
    with paused_gc():
        return await _purge_list(store, config, group, settings, now, days or settings.purge.inactive_days)


async def _purge_list(store: Store, config: Config, group: str, settings: GroupSettings, now: datetime,
                      days: int) -> list[Candidate]:
    purge = settings.purge
    exclude = {*settings.admins, *settings.operators, *purge.whitelist, config.bot_id}
    rows = await store.inactive_members(group, now - timedelta(days=days), now - timedelta(days=purge.grace_days),
                                        exclude)
    tier_since, silent_since = now - timedelta(days=settings.levels.tier_days), now - timedelta(days=days)
    # only members last active between the two can have counted activity (the rest: the lowest tier)
    activity = (await store.silent_activity(group, tier_since, silent_since)
                if rows and tier_since < silent_since else {})
    levels = settings.levels
    idle = tier_of((0, 0, 0), levels)
    tiers = {user: tier_of(counts, levels) for user, counts in activity.items()}
    return [Candidate(user, name, joined, last, max(0, (now - (last or joined)).days), count, points,
                      tiers.get(user, idle))
            for user, name, joined, last, count, points in rows]


def _cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: a leading = + - @ would make it a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(candidates: list[Candidate], path: Path, tz: Any, *, header: tuple[str, ...] = (),
              never: str = "") -> Path:
    """The list as CSV, UTF-8 with a BOM (Excel and WPS then read the Chinese names), local times;
    names that look like formulas are quoted as text."""
    path.parent.mkdir(parents=True, exist_ok=True)

    def when(t: datetime | None) -> str:
        return t.astimezone(tz).isoformat(" ", "minutes")[:16] if t else ""  # strftime's "%Y-%m-%d %H:%M", faster

    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as handle, paused_gc():
        writer = csv.writer(handle)
        writer.writerow(header or CSV_COLUMNS)
        for c in candidates:
            writer.writerow((_cell(c.user_id), _cell(c.display_name or ""), when(c.joined_at),
                             when(c.last_active_at) or never, c.days_silent, c.messages, c.points, _cell(c.tier)))
    tmp.replace(path)  # a reader never sees half a file
    return path


def build(config: Config) -> list[JobSpec]:
    return daily_jobs(config, "purge", lambda s: s.purge, run)


async def run(at: str, ctx: JobContext) -> list[Action]:
    actions: list[Action] = []
    for group, name, settings in await served_groups(ctx):
        purge = settings.purge
        if not purge.enabled or purge.time != at:
            continue
        actions += await report(ctx, group, name, settings)
    return actions


async def report(ctx: JobContext, group: str, name: str | None, settings: GroupSettings) -> list[Action]:
    purge = settings.purge
    now = ctx.clock.now()
    candidates = await purge_list(ctx.store, ctx.config, group, settings, now)
    ids = [c.user_id for c in candidates]
    members = (await ctx.store.group_sizes([group])).get(group, (None, 0))[1]
    ctx.note(f"group {group}: {len(candidates)} inactive for {purge.inactive_days}+ days of {members}")
    actions: list[Action] = []
    if not settings.operators:
        ctx.note(f"group {group}: no operators configured; purge list not sent")
    elif not candidates:
        text = fill(ctx, purge.empty_text, name, settings, days=purge.inactive_days, members=members)
        actions += to_operators(settings, "purge_report", text=text, group=group, members=[])
    else:
        day = local_now(ctx).date()
        path = write_csv(candidates, Path(ctx.config.model.bot.reports_dir) / f"purge-{safe_name(group)}-{day}.csv",
                         ctx.config.tz, header=purge.csv_header, never=purge.csv_never)
        top = "、".join(fill(ctx, purge.top_item, name, settings, name=c.display_name or c.user_id,
                            days_silent=c.days_silent) for c in candidates[:purge.top])
        text = fill(ctx, purge.report_text, name, settings, count=len(candidates), days=purge.inactive_days,
                    members=members, top=top, csv=path.name)
        actions += to_operators(settings, "purge_report", text=text, group=group, members=ids)
        # the file names the list by its size only: every id is in the CSV and on the text already
        actions += to_operators(settings, "purge_report", file=str(path), group=group, count=len(ids))
    if purge.auto_kick != "off" and candidates:
        actions += _auto_kick(ctx, group, name, settings, candidates)
    return actions


def _auto_kick(ctx: JobContext, group: str, name: str | None, settings: GroupSettings,
               candidates: list[Candidate]) -> list[Action]:
    purge = settings.purge
    chosen = candidates[:purge.auto_kick_daily_cap]
    names = "、".join(c.display_name or c.user_id for c in chosen)
    if purge.auto_kick == "dry_run":
        ctx.note(f"group {group}: auto_kick dry run: would remove {len(chosen)}: {[c.user_id for c in chosen]}")
        text = fill(ctx, purge.auto_kick_text, name, settings, count=len(chosen), names=names, mode=purge.dry_run_mode)
        return to_operators(settings, "purge_report/auto_kick", text=text, group=group,
                            members=[c.user_id for c in chosen], dry_run=True)
    kicks = [Action(action="kick", rule="purge_report/auto_kick", group=group, user=c.user_id,
                    reason=fill(ctx, purge.kick_reason, name, settings, days_silent=c.days_silent),
                    data={"group": group, "days_silent": c.days_silent}) for c in chosen]
    ctx.note(f"group {group}: auto_kick removes {len(chosen)} (cap {purge.auto_kick_daily_cap})")
    text = fill(ctx, purge.auto_kick_text, name, settings, count=len(chosen), names=names, mode=purge.kick_mode)
    return kicks + to_operators(settings, "purge_report/auto_kick", text=text, group=group,
                                members=[c.user_id for c in chosen], dry_run=False)
