"""The welcome handler: the welcome on join, the first rename reminder when a name does not fit (with
the welcome, or on the member's first message), thanks once it fits. With `welcome.batch_seconds` (the
default) joins, and with `rename_batch_minutes` first reminders, are queued for the group's batched
message (handlers/welcome/batch.py); the one follow-up is the group's daily one (followup.py)."""

from __future__ import annotations

from bot.context import Context
from bot.events import MESSAGE_TYPES, Event, Note, Outcome, reply
from bot.feature import Band, Handler
from handlers.welcome.batch import queue
from handlers.welcome.names import fits, quiet


def _fits(ctx: Context, name: str | None) -> bool:
    return fits(ctx.group.compiled["welcome"] if ctx.group else None, ctx.memory, name)


def _format_example(ctx: Context) -> str:
    fmt = ctx.settings.welcome.name_format
    return fmt.example if fmt else ""


async def handle(event: Event, ctx: Context) -> Outcome | None:
    settings = ctx.settings.welcome
    if not settings.enabled:
        return None
    assert event.group is not None and event.user is not None
    example = _format_example(ctx)
    if event.type == "join":
        asked = False
        notes: list[Note] = []
        if not _fits(ctx, event.user_name):
            before = await ctx.repo.reminders(event.group, event.user)
            why_not = quiet(settings, before)
            if why_not is None:
                asked = True
            else:
                notes.append(Note(rule="welcome/rename-reminder", reason=why_not))
        if settings.batch_seconds:
            return await queue(event, ctx, welcome=True, remind=asked, notes=notes)
        text = ctx.render(settings.text, inviter=event.inviter or "", name_format=example)
        if asked:
            text += "\n" + ctx.render(settings.rename_reminder, name_format=example)
            ctx.repo.reminded(event.group, event.user, ctx.today.isoformat(), before)
        return Outcome(actions=(reply(event, "welcome", text, mention=True, rename_asked=asked),), notes=tuple(notes))
    if event.type == "rename" and _fits(ctx, event.user_name):
        before = await ctx.repo.reminders(event.group, event.user)
        if before is not None and before.open:
            ctx.repo.thanked(event.group, event.user, before)
            text = ctx.render(settings.rename_thanks, name_format=example)
            return Outcome(actions=(reply(event, "welcome/rename-thanks", text, mention=True),))
        return None
    # a rename that still does not fit, or any message: remind a member whose name does not fit
    if _fits(ctx, event.user_name):
        return None
    return await _remind(event, ctx, example)


async def _remind(event: Event, ctx: Context, example: str) -> Outcome | None:
    assert event.group is not None and event.user is not None
    before = await ctx.repo.reminders(event.group, event.user)
    why_not = quiet(ctx.settings.welcome, before)
    if why_not is not None:
        return Outcome(notes=(Note(rule="welcome/rename-reminder", reason=why_not),))
    if event.type == "red_packet":
        return Outcome(notes=(Note(rule="welcome/rename-reminder",
                                   reason="a red packet is a gift, not answered with a rename reminder: "
                                          "the member's next message is"),))
    if ctx.settings.welcome.rename_batch_minutes:
        return await queue(event, ctx, welcome=False, remind=True, notes=[])
    ctx.repo.reminded(event.group, event.user, ctx.today.isoformat(), before)
    text = ctx.render(ctx.settings.welcome.rename_reminder, name_format=example)
    return Outcome(actions=(reply(event, "welcome/rename-reminder", text, mention=True,
                                  reminder=1 if before is None else before.count + 1),))


def _matches(event: Event, ctx: Context) -> bool:
    if event.group is None or event.user is None:
        return False
    if event.type in ("join", "rename"):
        return True
    # only members of groups with a name format are checked on ordinary messages
    return ctx.group is not None and ctx.group.compiled["welcome"] is not None and event.type in MESSAGE_TYPES


HANDLER = Handler("welcome", Band.AUTO_REPLY, handle, matches=_matches, order=0)
