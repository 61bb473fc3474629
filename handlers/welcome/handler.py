"""The welcome handler: the welcome on join, a rename reminder while a name does not fit, thanks once it does."""

from __future__ import annotations

from bot.context import Context
from bot.events import MESSAGE_TYPES, Event, Note, Outcome, reply
from bot.feature import Band, Handler

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
    today = ctx.today.isoformat()
    if event.type == "join":
        text = ctx.render(settings.text, inviter=event.inviter or "", name_format=example)
        asked = False
        if not _fits(ctx, event.user_name):
            text += "\n" + ctx.render(settings.rename_reminder, name_format=example)
            ctx.repo.set_reminded(event.group, event.user, today, event.ts)
            asked = True
        return Outcome(actions=(reply(event, "welcome", text, mention=True, rename_asked=asked),))
    if event.type == "rename":
        if _fits(ctx, event.user_name):
            if await ctx.repo.reminded_on(event.group, event.user):
                ctx.repo.set_reminded(event.group, event.user, "", event.ts)
                text = ctx.render(settings.rename_thanks, name_format=example)
                return Outcome(actions=(reply(event, "welcome/rename-thanks", text, mention=True),))
            return None
        return await _remind(event, ctx, example, today)
    # any other message: remind a member whose name still does not fit, once a day
    if _fits(ctx, event.user_name):
        return None
    return await _remind(event, ctx, example, today)


async def _remind(event: Event, ctx: Context, example: str, today: str) -> Outcome | None:
    assert event.group is not None and event.user is not None
    if await ctx.repo.reminded_on(event.group, event.user) == today:
        return Outcome(notes=(Note(rule="welcome/rename-reminder", reason="already reminded today"),))
    ctx.repo.set_reminded(event.group, event.user, today, event.ts)
    text = ctx.render(ctx.settings.welcome.rename_reminder, name_format=example)
    return Outcome(actions=(reply(event, "welcome/rename-reminder", text, mention=True),))


def _matches(event: Event, ctx: Context) -> bool:
    if event.group is None or event.user is None:
        return False
    if event.type in ("join", "rename"):
        return True
    # only members of groups with a name format are checked on ordinary messages
    return ctx.group is not None and ctx.group.compiled["welcome"] is not None and event.type in MESSAGE_TYPES


HANDLER = Handler("welcome", Band.AUTO_REPLY, handle, matches=_matches, order=0)
