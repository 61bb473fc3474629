"""The erasure command: `删除数据 @成员` (or `/forget @成员`), for the group's admins and operators.

The handler checks who asks and whom they mean, and sets the timer "forget" due at once: the erasure
runs as a job right after the commit of the command (so the command's own text, which names the
member, is erased with the rest), and answers in the group with what went (rule `retention/forget`).
A member who is not an admin is told once who can do it (rule `retention/refused`), then ignored.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict

from bot.context import Context
from bot.events import Action, Event, Note, Outcome, Timer, reply
from bot.feature import Band, Handler, JobContext
from handlers.retention.forget import forget_member
from rules.normalize import command_heads, head, split_command
from scheduler.common import fill


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.type == "text" and event.group is not None and event.user is not None
    settings = ctx.settings.retention
    rest = split_command(event.text, settings.forget_words)
    if rest is None:
        return None
    if not ctx.is_admin:
        if await ctx.repo.audit.told_before(event.group, event.user, "retention/refused"):
            return Outcome(notes=(Note(rule="retention/refused", reason="erasure asked by a non-admin (told before)"),),
                           stop=True)
        return Outcome(actions=(reply(event, "retention/refused", ctx.render(settings.forget_not_allowed),
                                      mention=True),), stop=True)
    target, name, _left = await ctx.mentioned_member(rest)
    if target is None:
        text = (ctx.ambiguous_reply(name) or ctx.render(settings.forget_unknown, target_name=name)) if name \
            else ctx.render(settings.forget_usage)
        return Outcome(actions=(reply(event, "retention/forget", text, error="unknown member" if name else "usage"),),
                       stop=True)
    key = "forget:" + hashlib.sha1(event.id.encode()).hexdigest()[:32]
    timer = Timer(name="forget", key=key, due=ctx.now,
                  data={"group": event.group, "user": target, "by": event.user, "event": event.id})
    return Outcome(notes=(Note(rule="retention/forget", reason=f"erasure of {target} asked by {event.user}"),),
                   timers=(timer,), stop=True)


def _matches(event: Event, ctx: Context) -> bool:
    return (event.type == "text" and event.group is not None and event.user is not None and ctx.group is not None
            and head(event.text) in command_heads(ctx.settings.retention.forget_words)
            and split_command(event.text, ctx.settings.retention.forget_words) is not None)


HANDLER = Handler("retention", Band.COMMAND, handle, matches=_matches, order=60)


async def forget(ctx: JobContext, timer: Timer) -> list[Action]:
    """The erasure the command asked for, right after its commit; the answer names counts only."""
    group, user, asked = timer.data["group"], timer.data["user"], timer.data["event"]
    name = (await ctx.members.groups_named()).get(group)
    settings = ctx.config.group(group, name).settings
    r = settings.retention
    erased = await forget_member(ctx.repo, ctx.config, user, group, ctx.clock.now(), by=timer.data["by"],
                                 placeholder=r.erased_name, vacuum=r.vacuum_after_forget, extra_events=[asked])
    counts = asdict(erased)
    ctx.note(f"member {user} erased in {group}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    text = fill(ctx, r.forget_reply, name, settings, **counts)
    return [Action(action="send", rule="retention/forget", group=group, text=text, reply_to=asked,
                   data={"event": asked, "member": user, **counts})]
