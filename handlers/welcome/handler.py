"""The welcome handler: the welcome on join, a rename reminder when a name does not fit (once, and once
more after some days), thanks once it does."""

from __future__ import annotations

from datetime import date, timedelta

from bot.context import Context
from bot.events import MESSAGE_TYPES, Event, Note, Outcome, reply
from bot.feature import Band, Handler
from handlers.welcome.repository import Reminders

MAX_CACHED_NAMES = 50_000


def _fits(ctx: Context, name: str | None) -> bool:
    pattern = ctx.group.compiled["welcome"] if ctx.group else None
    if pattern is None:
        return True
    if name is None:
        return False
    cache: dict[tuple[str, str], bool] = ctx.memory.setdefault("fits", {})
    key = (pattern.pattern, name)
    found = cache.get(key)
    if found is None:
        if len(cache) > MAX_CACHED_NAMES:
            cache.clear()
        found = cache[key] = pattern.fullmatch(name) is not None
    return found


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
        text = ctx.render(settings.text, inviter=event.inviter or "", name_format=example)
        asked = False
        notes: tuple[Note, ...] = ()
        if not _fits(ctx, event.user_name):
            before = await ctx.repo.reminders(event.group, event.user)
            why_not = _quiet(ctx, before)
            if why_not is None:
                text += "\n" + ctx.render(settings.rename_reminder, name_format=example)
                ctx.repo.reminded(event.group, event.user, ctx.today.isoformat(), before)
                asked = True
            else:
                notes = (Note(rule="welcome/rename-reminder", reason=why_not),)
        return Outcome(actions=(reply(event, "welcome", text, mention=True, rename_asked=asked),), notes=notes)
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


def _quiet(ctx: Context, before: Reminders | None) -> str | None:
    """Why no reminder is due (None: one is): a member is reminded once, and once more after
    `rename_followup_days` days, never again."""
    if before is None:
        return None
    followup = ctx.settings.welcome.rename_followup_days
    if before.count >= 2 or followup <= 0:
        return f"reminded {before.count} time(s) already (last {before.last_on}): no more reminders"
    due = date.fromisoformat(before.first_on) + timedelta(days=followup)
    if ctx.today < due:
        return f"reminded on {before.first_on}; the one follow-up is due on {due.isoformat()}"
    return None


async def _remind(event: Event, ctx: Context, example: str) -> Outcome | None:
    assert event.group is not None and event.user is not None
    before = await ctx.repo.reminders(event.group, event.user)
    why_not = _quiet(ctx, before)
    if why_not is not None:
        return Outcome(notes=(Note(rule="welcome/rename-reminder", reason=why_not),))
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
