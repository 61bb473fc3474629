"""The lottery's handlers: an admin's 抽奖 N [D天] (fixes the pool and waits), and the observer that takes
the ids of the next messages in the group into the draw's seed and draws once enough have come."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from functools import lru_cache

from bot.context import Context
from bot.events import MESSAGE_TYPES, Event, Note, Outcome, reply
from bot.feature import Band, Handler
from handlers.lottery.draw import pool_digest
from handlers.lottery.repository import PendingDraw
from handlers.lottery.result import RULE, draw_timer, finish
from handlers.lottery.settings import LotterySettings
from rules.normalize import command_heads, head, split_command, starts_with_word

MAX_COMMAND_CHARS = 40  # 抽奖 3 人 14 天


@lru_cache(maxsize=64)
def _pattern(day_word: str) -> re.Pattern[str]:
    return re.compile(rf"(\d{{1,4}})\s*[人名个位]?\s*(?:(\d{{1,4}})\s*(?:{re.escape(day_word)})?)?")


def _rest(text: str, words: tuple[str, ...]) -> str | None:
    """What follows 抽奖: after a space, or a number written on ("抽奖3"); None: not the command."""
    stripped = text.strip()
    for n, ch in enumerate(stripped[:12]):  # after an emoji
        if ch.isalnum():
            stripped = stripped[n:]
            break
    rest = split_command(stripped, words)
    if rest is not None:
        return rest
    for word in words:
        if starts_with_word(stripped, word) and stripped[len(word):len(word) + 1].isdigit():
            return stripped[len(word):]
    return None


def parse(rest: str, settings: LotterySettings) -> tuple[int, int] | None:
    """(winners, days) of "N [D天]", within the settings' bounds; None: not understood."""
    found = _pattern(settings.day_word).fullmatch(unicodedata.normalize("NFKC", rest).strip())
    if found is None:
        return None
    count, days = int(found.group(1)), int(found.group(2) or settings.default_days)
    if not (1 <= count <= settings.max_winners and 1 <= days <= settings.max_days):
        return None
    return count, days


async def _refuse(event: Event, ctx: Context) -> Outcome:
    """A polite refusal the first time a member tries 抽奖 in a group, then silence."""
    assert event.group is not None and event.user is not None
    if await ctx.repo.audit.told_before(event.group, event.user, f"{RULE}/refused"):
        return Outcome(notes=(Note(rule=f"{RULE}/refused", reason="抽奖 by a non-admin (refused before)"),), stop=True)
    text = ctx.render(ctx.settings.lottery.refused_reply)
    return Outcome(actions=(reply(event, f"{RULE}/refused", text, mention=True),), stop=True)


async def command(event: Event, ctx: Context) -> Outcome | None:
    assert event.group is not None and event.user is not None and event.type == "text"
    settings: LotterySettings = ctx.settings.lottery
    rest = _rest(event.text, settings.words)
    if rest is None or (rest and not unicodedata.normalize("NFKC", rest[0]).isdigit()):
        return None  # 抽奖 in conversation ("抽奖什么时候开始")
    if not ctx.is_admin:
        return await _refuse(event, ctx) if rest else None
    parsed = parse(rest, settings)
    if parsed is None:
        text = ctx.render(settings.usage_reply, max_winners=settings.max_winners, max_days=settings.max_days,
                          days=settings.default_days)
        return Outcome(actions=(reply(event, f"{RULE}/usage", text),), stop=True)
    count, days = parsed
    busy = await ctx.repo.pending(event.group)
    if busy is not None:
        text = ctx.render(settings.busy_reply, count=busy.wanted, pool=len(busy.pool))
        return Outcome(actions=(reply(event, f"{RULE}/busy", text, draw=busy.id),), stop=True)
    group_settings = ctx.settings
    excluded = {*group_settings.admins, *group_settings.operators, ctx.config.bot_id}
    pool = await ctx.repo.eligible(event.group, ctx.now - timedelta(days=days), excluded)
    if not pool:
        text = ctx.render(settings.empty_reply, days=days)
        return Outcome(actions=(reply(event, f"{RULE}/empty", text, pool=0, days=days),), stop=True)
    draw = PendingDraw(event.id, event.group, count, days, tuple(pool), pool_digest(pool), settings.seed_messages,
                       event.user)
    ctx.repo.open(draw, ctx.now)
    text = ctx.render(settings.started_text, count=count, pool=len(pool), days=days, messages=settings.seed_messages,
                      minutes=settings.max_wait_minutes)
    due = ctx.now + timedelta(minutes=settings.max_wait_minutes)
    return Outcome(actions=(reply(event, f"{RULE}/started", text, draw=draw.id, count=count, pool=len(pool),
                                  days=days, pool_digest=draw.digest, seed_messages=settings.seed_messages,
                                  wait_minutes=settings.max_wait_minutes),),
                   timers=(draw_timer(draw, event.group_name, due),), stop=True)


def _command_matches(event: Event, ctx: Context) -> bool:
    text = event.text if event.type == "text" else ""
    if not text or len(text) > MAX_COMMAND_CHARS or event.group is None or event.user is None or ctx.group is None:
        return False
    settings: LotterySettings = ctx.settings.lottery
    return settings.enabled and head(text) in command_heads(settings.words)


async def observe(event: Event, ctx: Context) -> Outcome | None:
    """A message after a draw's command (by anyone but the bot, whose messages never reach the handlers):
    its id joins the seed; the last one awaited draws."""
    assert event.group is not None
    draw = await ctx.repo.pending(event.group)
    if draw is None or event.id == draw.id:
        return None
    count = ctx.repo.add_seed(draw, event.id, event.ts)
    if count is None:
        return None
    if count < draw.seed_messages:
        return Outcome(notes=(Note(rule=f"{RULE}/seed", reason=f"message {count} of the {draw.seed_messages} "
                                   f"whose ids make the seed of draw {draw.id}"),))
    if not ctx.repo.take(draw):
        return None
    return Outcome(actions=(await finish(ctx.repo, ctx.members, ctx.settings, draw, ctx.now, ctx.render, event.id),))


def _observe_matches(event: Event, ctx: Context) -> bool:
    """Cheap on every message: only groups that may have a pending draw go on."""
    return (event.type in MESSAGE_TYPES and event.group is not None and event.user is not None
            and ctx.repo.maybe_pending(event.group))


HANDLERS = (Handler("lottery", Band.COMMAND, command, matches=_command_matches, order=55),
            Handler("lottery_seed", Band.OBSERVE, observe, matches=_observe_matches, order=50))
