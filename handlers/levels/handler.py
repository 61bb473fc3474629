"""The levels handler (我的等级) and the level-up announcement other features make after an award."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.context import Context
from bot.events import Action, Event, Outcome, reply
from bot.feature import Band, Handler
from handlers.levels.ladder import level_of, level_rank, tier_of, tier_since
from rules.normalize import command_form, command_heads, command_words, head

if TYPE_CHECKING:
    from handlers.points.repository import PointsRepository


async def level_up(ctx: Context, points: PointsRepository, event: Event, user: str, user_name: str | None,
                   before: int, after: int) -> Action | None:
    """The announcement when a balance moves from `before` to `after` across a level's threshold
    upward, the first time the member reaches that level (falling back and climbing again is quiet)."""
    settings = ctx.settings.levels
    if not settings.enabled or after <= before or not any(before < m <= after for m in settings.thresholds.values()):
        return None  # no threshold crossed (most awards)
    old, new = level_of(before, settings), level_of(after, settings)
    if old.name == new.name:
        return None
    assert event.group is not None
    if not await points.reach_level(event.group, user, level_rank(new.name, settings)):
        return None
    name = user_name or user
    text = ctx.render(settings.announce, level=new.name, user_name=name)
    return Action(action="send", rule="levels", group=event.group, text=text, mentions=(user,),
                  data={"event": event.id, "level": new.name, "previous": old.name, "user": user,
                        "balance": after})


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.group is not None and event.user is not None
    repeated = ctx.repeated("levels/mine")
    if repeated is not None:
        return Outcome(notes=(repeated,), stop=True)
    settings = ctx.settings.levels
    balance = await ctx.repo.points.balance(event.group, event.user)
    level = level_of(balance, settings)
    counts = await ctx.repo.member_activity(event.group, tier_since(ctx.now, settings), event.user)
    tier = tier_of(counts.get(event.user, (0, 0, 0)), settings)
    if level.next_name is None:
        text = ctx.render(settings.top_level_reply, level=level.name, balance=balance, tier=tier,
                          days=settings.tier_days)
    else:
        assert level.next_at is not None
        text = ctx.render(settings.my_level_reply, level=level.name, balance=balance, next_level=level.next_name,
                          to_next=level.next_at - balance, tier=tier, days=settings.tier_days)
    return Outcome(actions=(reply(event, "levels/mine", text, mention=True, level=level.name, balance=balance,
                                  tier=tier),), stop=True)


def _matches(event: Event, ctx: Context) -> bool:
    if event.type != "text" or event.group is None or ctx.group is None or not ctx.settings.levels.enabled:
        return False
    words = ctx.settings.levels.my_level_words
    return head(event.text) in command_heads(words) and command_form(event.text) in command_words(words)


HANDLER = Handler("levels", Band.COMMAND, handle, matches=_matches, order=30)
