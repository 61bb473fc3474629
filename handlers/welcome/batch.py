"""The batched message: joins and due rename reminders of a group are answered in one message that
mentions each member.

Two windows, one queue: a join opens the newcomers' window (the timer "batch:<group>", due
`welcome.batch_seconds` after it, 60), the first reminder of a member already in the group (on their
first message) the reminders' window ("remind:<group>", due `rename_batch_minutes` after it, 30: in a
group of a few messages an hour, a minute merges nothing). The member is queued (the feature's table
`welcome_queue`, one row per member, so a restart loses nothing); later events of a window ask for its
timer again and the core keeps the pending one. Whichever fires first takes the whole queue: reminders
queued before a join go out with its welcome, and the other window, when it fires, finds nothing.
Members who left meanwhile are dropped, a member whose current name fits is not reminded, and a
reminder no longer due (only the first reminder is sent this way; the follow-up is the daily one of
followup.py) is not sent. Newcomers get the welcome text with `{user_name}` = their names joined by
" @" (so "@{user_name}" mentions each), followed by `batch_more` ("等 N 位新朋友") past
`batch_max_mentions`; the members to remind get the rename reminder in the same message, on its own
line (rule `welcome`), or alone when nobody joined (rule `welcome/rename-reminder`). A member past the
mention cap is not reminded now (nor counted as reminded): their next message queues them again.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from bot.context import Context
from bot.events import Action, Event, Note, Outcome, Timer
from bot.feature import JobContext
from handlers.welcome.names import fits, quiet
from handlers.welcome.repository import Queued, Reminders, WelcomeRepository
from handlers.welcome.settings import WelcomeSettings
from rules.config import GroupRuntime
from rules.names import shown_name
from scheduler.common import fill, local_now

TIMER = "batch"
NEWCOMERS, REMINDERS = "batch", "remind"  # the two windows' keys: "batch:<group>", "remind:<group>"


def batch_timer(group: str, group_name: str | None, due: Any, window: str = NEWCOMERS) -> Timer:
    """The timer that closes one of the group's windows ("batch:<group>" for newcomers, "remind:<group>"
    for reminders; a long id is hashed to fit the key)."""
    key = f"{window}:{group}"
    if len(key) > 128:
        key = f"{window}:#" + hashlib.sha1(group.encode()).hexdigest()
    return Timer(name=TIMER, key=key, due=due, data={"group": group, "group_name": group_name})


def window_seconds(settings: WelcomeSettings, newcomer: bool) -> int:
    """How long the member's window stays open: batch_seconds for a newcomer, rename_batch_minutes for
    the first reminder of a member already in the group (0: answered at once)."""
    return settings.batch_seconds if newcomer else 60 * settings.rename_batch_minutes


async def queue(event: Event, ctx: Context, *, welcome: bool, remind: bool, notes: list[Note]) -> Outcome:
    """Queue the member for the group's next message and make sure its window is open."""
    assert event.group is not None and event.user is not None
    seconds = window_seconds(ctx.settings.welcome, welcome)
    if ctx.repo.queue(event.group, event.user, event.user_name, welcome=welcome, remind=remind,
                      inviter=getattr(event, "inviter", None), event_id=event.id, at=ctx.now):
        what = "welcome" if welcome else "rename reminder"
        notes.append(Note(rule="welcome" if welcome else "welcome/rename-reminder",
                          reason=f"{what} queued: sent with the group's batch (within {seconds}s)"))
    due = ctx.now + timedelta(seconds=seconds)
    timer = batch_timer(event.group, event.group_name, due, NEWCOMERS if welcome else REMINDERS)
    return Outcome(notes=tuple(notes), timers=(timer,))


async def fire(ctx: JobContext, timer: Timer) -> list[Action]:
    """The window closed: one message for the group's queue (or none)."""
    group, group_name = timer.data["group"], timer.data.get("group_name")
    repo: WelcomeRepository = ctx.repo
    taken = await repo.take(group)
    runtime = ctx.config.group(group, group_name)
    settings = runtime.settings.welcome
    actions: list[Action] = []
    if taken and not settings.enabled:
        ctx.note(f"welcome is off in {group}: {len(taken)} queued member(s) dropped")
    elif taken:
        actions = await _message(ctx, repo, runtime, group, group_name, taken)
    queued = repo.queued_since_take(group)  # queued while this message was made: the next window takes them
    if queued:
        newcomer = bool(queued & 1)
        due = ctx.clock.now() + timedelta(seconds=window_seconds(settings, newcomer))
        ctx.timers.append(batch_timer(group, group_name, due, NEWCOMERS if newcomer else REMINDERS))
    return actions


async def _message(ctx: JobContext, repo: WelcomeRepository, runtime: GroupRuntime, group: str,
                   group_name: str | None, taken: list[Queued]) -> list[Action]:
    settings = runtime.settings.welcome
    hidden = runtime.settings.ad_name_placeholder  # said instead of a name that is an ad
    pattern = runtime.compiled["welcome"]
    today = local_now(ctx).date()
    known = await ctx.members.members_among(group, [q.user for q in taken])
    newcomers: list[tuple[Queued, str]] = []
    due: list[tuple[Queued, str, Reminders | None]] = []
    for q in taken:
        member = known.get(q.user)
        if member is not None and member.left_at is not None:
            ctx.note(f"{q.user} left before the message: dropped")
            continue
        current = member.display_name if member is not None and member.display_name else q.user_name
        name = current or q.user
        if q.welcome:
            newcomers.append((q, name))
        if not q.remind:
            continue
        if fits(pattern, ctx.memory, current):
            ctx.note(f"{q.user} now has a fitting name ({current}): not reminded")
            continue
        before = await repo.reminders(group, q.user)
        why_not = quiet(settings, before)
        if why_not is None:
            due.append((q, name, before))
        else:
            ctx.note(f"{q.user}: {why_not}")
    cap = settings.batch_max_mentions
    shown = newcomers[:cap]
    more = len(newcomers) - len(shown)
    mentioned = [q.user for q, _ in shown]
    asked = []
    for item in due:
        if item[0].user not in mentioned and len(mentioned) >= cap:
            continue
        if item[0].user not in mentioned:
            mentioned.append(item[0].user)
        asked.append(item)
    if len(asked) < len(due):
        ctx.note(f"{len(due) - len(asked)} reminder(s) past the mention cap ({cap}): asked on their next message")
    if not mentioned:
        return []
    reminders: dict[str, int] = {}
    for q, _, before in asked:
        repo.reminded(group, q.user, today.isoformat(), before)
        reminders[q.user] = 1 if before is None else before.count + 1
    example = settings.name_format.example if settings.name_format else ""
    remind_text = fill(ctx, settings.rename_reminder, group_name or group, runtime.settings, name_format=example,
                       user_name=" @".join(shown_name(name, hidden) or "" for _, name, _ in asked)) if asked else ""
    welcomed = {q.user for q, _ in shown}
    events = [q.event_id for q, _ in shown] + [q.event_id for q, _, _ in asked if q.user not in welcomed]
    facts: dict[str, Any] = {"members": [q.user for q, _ in shown], "more": more, "rename_asked": bool(asked),
                             "asked": [q.user for q, _, _ in asked], "reminder": reminders, "events": events}
    if not shown:
        facts = {"members": [q.user for q, _, _ in asked], "reminder": reminders, "events": events}
        return [Action(action="send", rule="welcome/rename-reminder", group=group, text=remind_text,
                       mentions=tuple(mentioned), data=facts)]
    who = " @".join(shown_name(name, hidden) or "" for _, name in shown)
    if more:
        who += " " + fill(ctx, settings.batch_more, group_name or group, runtime.settings, count=more)
    inviters = {q.inviter for q, _ in shown}
    text = fill(ctx, settings.text, group_name or group, runtime.settings, user_name=who, name_format=example,
                inviter=inviters.pop() if len(inviters) == 1 else "")
    if remind_text:
        text += "\n" + remind_text
    return [Action(action="send", rule="welcome", group=group, text=text, mentions=tuple(mentioned), data=facts)]
