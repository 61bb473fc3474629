"""levels: points levels (新手/活跃/专家/忠诚 by thresholds), level-up announcements, activity tiers
(核心/活跃/普通/沉默 from the last days' messages, check-ins and red packets) and 我的等级."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from bot.context import Context
from bot.core import Band, Handler
from bot.events import Action, Event, Outcome, reply
from rules.normalize import command_form, command_words
from rules.schema import LevelsSettings


class Level(NamedTuple):
    name: str
    next_name: str | None
    next_at: int | None  # points needed for the next level


def level_of(balance: int, settings: LevelsSettings) -> Level:
    """The level a balance reaches (thresholds ascending; the first starts at 0)."""
    ladder = sorted(settings.thresholds.items(), key=lambda kv: kv[1])
    current = ladder[0][0]  # also below it (a negative balance after deductions)
    for name, minimum in ladder[1:]:
        if balance < minimum:
            return Level(current, name, minimum)
        current = name
    return Level(current, None, None)


def level_rank(name: str, settings: LevelsSettings) -> int:
    """The place of a level on the ladder (0 = the lowest)."""
    return [n for n, _ in sorted(settings.thresholds.items(), key=lambda kv: kv[1])].index(name)


def tier_of(counts: tuple[int, int, int], settings: LevelsSettings) -> str:
    """The activity tier of (messages, check-ins, red packets) over `tier_days` days."""
    w = settings.tier_weights
    messages, checkins, red_packets = counts
    score = messages * w.get("message", 0) + checkins * w.get("checkin", 0) + red_packets * w.get("red_packet", 0)
    for name, minimum in sorted(settings.tiers.items(), key=lambda kv: -kv[1]):
        if score >= minimum:
            return name
    return min(settings.tiers.items(), key=lambda kv: kv[1])[0]


def tier_since(now: datetime, settings: LevelsSettings) -> datetime:
    return now - timedelta(days=settings.tier_days)


async def level_up(ctx: Context, event: Event, user: str, user_name: str | None, before: int, after: int
                   ) -> Action | None:
    """The announcement when a balance moves from `before` to `after` across a level's threshold
    upward, the first time the member reaches that level (falling back and climbing again is quiet)."""
    settings = ctx.settings.levels
    if not settings.enabled or after <= before:
        return None
    old, new = level_of(before, settings), level_of(after, settings)
    if old.name == new.name:
        return None
    assert event.group is not None
    if not await ctx.store.reach_level(event.group, user, level_rank(new.name, settings)):
        return None
    name = user_name or user
    text = ctx.render(settings.announce, level=new.name, user_name=name)
    return Action(action="send", rule="levels", group=event.group, text=text, mentions=(user,),
                  data={"event": event.id, "level": new.name, "previous": old.name, "user": user,
                        "balance": after})


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.group is not None and event.user is not None
    settings = ctx.settings.levels
    balance = await ctx.store.balance(event.group, event.user)
    level = level_of(balance, settings)
    counts = await ctx.store.member_activity(event.group, tier_since(ctx.now, settings), event.user)
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
    return command_form(event.text) in command_words(ctx.settings.levels.my_level_words)


HANDLER = Handler("levels", Band.COMMAND, handle, matches=_matches, order=30)
