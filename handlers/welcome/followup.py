"""The daily follow-up: the second and last rename reminder, `rename_followup_days` (3) days after the
first, is not an answer to a message. Once a day at `welcome.rename_followup_time` (20:00, local) each
group gets one message that mentions every member whose follow-up is due (rule
`welcome/rename-reminder`, `data.followup: true`), at most `batch_max_mentions`, the others named as
`rename_more` ("等 N 人") and mentioned the next day. A member who renamed to a fitting name meanwhile,
left, or is unknown to the roster is not mentioned, and their follow-up is closed (a note says so); one
whose name is unknown waits for the next day.

One job per distinct time ("rename-followup:20:00"), like the purge list's: replay fires it at its
instant, and with several accounts each group is claimed once per instant (`ctx.serve`).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from bot.events import Action
from bot.feature import JobContext, JobSpec
from handlers.welcome.names import fits
from handlers.welcome.repository import WelcomeRepository
from handlers.welcome.settings import WelcomeSettings
from rules.config import Config, GroupRuntime
from rules.names import shown_name
from scheduler.common import daily_trigger, fill, local_now


def _follows_up(settings: WelcomeSettings, at: str) -> bool:
    return (settings.enabled and settings.name_format is not None and settings.rename_followup_days > 0
            and settings.rename_followup_time == at)


def build(config: Config) -> list[JobSpec]:
    """One job per distinct follow-up time of the groups that ask for a name format."""
    times = sorted({s.welcome.rename_followup_time for s in config.variants()
                    if _follows_up(s.welcome, s.welcome.rename_followup_time)})
    return [JobSpec(f"rename-followup:{t}", daily_trigger(t, config.tz), partial(run, t)) for t in times]


async def run(at: str, ctx: JobContext) -> list[Action]:
    """Every group with a follow-up due at this time: one message each."""
    repo: WelcomeRepository = ctx.repo
    today = local_now(ctx).date()
    groups = await repo.followup_groups((today - timedelta(days=1)).isoformat())  # follow-ups are 1+ days on
    if not groups:
        return []
    if ctx.serve is not None:  # several accounts: the groups this process holds, each claimed for this run
        kept = await ctx.serve(groups)
        groups = [g for g in groups if g in kept]
    named = await ctx.members.group_names(groups)
    actions: list[Action] = []
    for group in groups:
        runtime = ctx.config.group(group, named.get(group))
        if _follows_up(runtime.settings.welcome, at):
            actions += await followup(ctx, repo, runtime, group, named.get(group), today)
    return actions


async def followup(ctx: JobContext, repo: WelcomeRepository, runtime: GroupRuntime, group: str,
                   group_name: str | None, today: date) -> list[Action]:
    """The group's follow-up message (or none): every member due, minus those who renamed or left."""
    settings = runtime.settings.welcome
    cutoff = today - timedelta(days=settings.rename_followup_days)
    waiting = await repo.followups_due(group, cutoff.isoformat())
    known = await ctx.members.members_among(group, [user for user, _ in waiting])
    pattern = runtime.compiled["welcome"]
    due = []
    for user, before in waiting:
        member = known.get(user)
        if member is None or member.left_at is not None:
            repo.closed(group, user, before)
            ctx.note(f"{group}: {user} {'left' if member else 'is not on the roster'}: no follow-up")
        elif member.display_name is None:
            ctx.note(f"{group}: {user}'s name is unknown: the follow-up waits for the next day")
        elif fits(pattern, ctx.memory, member.display_name):
            repo.closed(group, user, before)
            ctx.note(f"{group}: {user} renamed to a fitting name ({member.display_name}): no follow-up")
        else:
            due.append((user, member.display_name, before))
    if not due:
        return []
    cap = settings.batch_max_mentions
    asked, more = due[:cap], len(due) - cap
    for user, _, before in asked:
        repo.reminded(group, user, today.isoformat(), before)
    hidden = runtime.settings.ad_name_placeholder  # said instead of a name that is an ad
    who = " @".join(shown_name(name, hidden) or "" for _, name, _ in asked)
    if more > 0:
        who += " " + fill(ctx, settings.rename_more, group_name or group, runtime.settings, count=more)
        ctx.note(f"{group}: {more} follow-up(s) past the mention cap ({cap}): mentioned tomorrow")
    example = settings.name_format.example if settings.name_format else ""
    text = fill(ctx, settings.rename_followup, group_name or group, runtime.settings, user_name=who,
                name_format=example)
    mentioned = [user for user, _, _ in asked]
    facts = {"members": mentioned, "reminder": {user: 2 for user in mentioned}, "followup": True,
             "more": max(more, 0)}
    return [Action(action="send", rule="welcome/rename-reminder", group=group, text=text,
                   mentions=tuple(mentioned), data=facts)]
