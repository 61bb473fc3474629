"""The daily purge job: operators get a summary and the CSV by direct message; `purge.auto_kick` may
also remove members (dry run first), up to a daily cap."""

from __future__ import annotations

from pathlib import Path

from bot.events import OTHERWISE, Action
from bot.feature import JobContext, JobSpec
from handlers.purge.digest import PurgeDigest
from handlers.purge.listing import Candidate, purge_list, write_csv
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
    return daily_jobs(config, "purge", lambda s: s.purge, run)


async def run(at: str, ctx: JobContext) -> list[Action]:
    served = [(g, n, s) for g, n, s in await served_groups(ctx) if s.purge.enabled and s.purge.time == at]
    digest = PurgeDigest(ctx, digest_recipients((s for _, _, s in served), ctx.config.model.bot.report_digest_from))
    actions: list[Action] = []
    try:
        for group, name, settings in served:
            actions += await report(ctx, group, name, settings, digest)
        return actions + digest.actions()
    finally:
        digest.close()


async def report(ctx: JobContext, group: str, name: str | None, settings: GroupSettings,
                 digest: PurgeDigest | None = None) -> list[Action]:
    """The group's list to its recipients, but to those in `digest` as part of their digest."""
    purge = settings.purge
    now = ctx.clock.now()
    candidates = await purge_list(ctx.repo, ctx.config, group, settings, now)
    ids = [c.user_id for c in candidates]
    members = (await ctx.members.group_sizes([group])).get(group, (None, 0))[1]
    ctx.note(f"group {group}: {len(candidates)} inactive for {purge.inactive_days}+ days of {members}")
    skip = digest.recipients if digest is not None else frozenset()
    own = [r for r in settings.report_to if r not in skip]  # who gets the group's own report
    actions: list[Action] = []
    if not settings.report_to:
        ctx.note(f"group {group}: no operators or admins configured; purge list not sent")
    if digest is not None:
        digest.add(group, name, settings, candidates)
    if own and not candidates:
        text = fill(ctx, purge.empty_text, name, settings, days=purge.inactive_days, members=members)
        actions += besides(to_operators(settings, "purge_report", text=text, group=group, members=[]), skip)
    elif own:
        day = local_now(ctx).date()
        path = write_csv(candidates, Path(ctx.config.model.bot.reports_dir) / f"purge-{safe_name(group)}-{day}.csv",
                         ctx.config.tz, header=purge.csv_header, never=purge.csv_never)
        top = "、".join(fill(ctx, purge.top_item, name, settings, name=c.display_name or c.user_id,
                            days_silent=c.days_silent) for c in candidates[:purge.top])
        text = fill(ctx, purge.report_text, name, settings, count=len(candidates), days=purge.inactive_days,
                    members=members, top=top, csv=path.name)
        actions += besides(to_operators(settings, "purge_report", text=text, group=group, members=ids), skip)
        # the file names the list by its size only: every id is in the CSV and on the text already
        actions += besides(to_operators(settings, "purge_report", file=str(path), group=group, count=len(ids)), skip)
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
    kicks = kick_actions(ctx, group, name, settings, chosen, "purge_report/auto_kick")
    ctx.note(f"group {group}: auto_kick removes {len(chosen)} (cap {purge.auto_kick_daily_cap})")
    text = fill(ctx, purge.auto_kick_text, name, settings, count=len(chosen), names=names, mode=purge.kick_mode)
    return kicks + to_operators(settings, "purge_report/auto_kick", text=text, group=group,
                                members=[c.user_id for c in chosen], dry_run=False)


def kick_actions(ctx: JobContext, group: str, name: str | None, settings: GroupSettings,
                 chosen: list[Candidate], rule: str) -> list[Action]:
    """One `kick` per member (the purge job's auto-kick, the web console's "remove selected"): the reason
    from the group's settings, and a direct message to the operators should the platform refuse it."""
    purge = settings.purge
    reasons: dict[int, str] = {}  # by days silent: a few texts for thousands of members

    def reason(days: int) -> str:
        if days not in reasons:
            reasons[days] = fill(ctx, purge.kick_reason, name, settings, days_silent=days)
        return reasons[days]

    def failed(c: Candidate) -> list[dict[str, object]]:  # told only when the platform refuses this removal
        text = fill(ctx, purge.kick_failed_text, name, settings, name=c.display_name or c.user_id)
        return [a.model_dump(mode="json", exclude_none=True)
                for a in to_operators(settings, rule, text=text, group=group, member=c.user_id)]

    return [Action(action="kick", rule=rule, group=group, user=c.user_id, reason=reason(c.days_silent),
                   data={"group": group, "days_silent": c.days_silent, "user_name": c.display_name,
                         "group_name": name, OTHERWISE: failed(c)}) for c in chosen]
