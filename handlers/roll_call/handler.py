"""The 扣1 handler: an admin's message containing 扣1 opens a roll call (silent, a Note, and a timer for
the window's end); members' 1s are counted once each (silent); 扣1统计 (admins) answers in the group."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

from bot.context import Context
from bot.events import Event, Note, Outcome, reply
from bot.feature import Band, Handler
from handlers.roll_call.repository import Call, RollCallRepository
from handlers.roll_call.settings import RollCallSettings
from handlers.roll_call.summary import RULE, end_timer, fact_data, facts, names
from rules.normalize import command_form, command_heads, command_words, head
from storage.members import free_text

MAX_WORD_CHARS = 20  # an answer or 扣1统计 is a whole short message
OPEN_RULE, ANSWER_RULE = "roll_call/open", "roll_call/answer"


@lru_cache(maxsize=64)
def _opener(words: tuple[str, ...]) -> re.Pattern[str]:
    """The open words in the compared form, not followed by a digit (扣1 opens, 扣10分 does not)."""
    return re.compile("|".join(re.escape(command_form(w)) + r"(?!\d)" for w in words))


def opens(text: str, s: RollCallSettings) -> bool:
    """Does this (admin's) message open a roll call? (扣1统计 and the like do not.)"""
    form = command_form(text[:s.max_open_chars])
    return bool(_opener(s.open_words).search(form)) and not any(w in form for w in command_words(s.stats_words))


async def open_call(event: Event, ctx: Context) -> Outcome:
    """Open a roll call unless one is open in the group (a second 扣1 does not reset it)."""
    assert event.group is not None and event.user is not None
    s: RollCallSettings = ctx.settings.roll_call
    repo: RollCallRepository = ctx.repo
    running = await repo.open_call(event.group, ctx.now)
    if running is not None:
        ends = running.ends_at.astimezone(ctx.config.tz).strftime("%H:%M")
        return Outcome(notes=(Note(rule=OPEN_RULE, reason=f"扣1已在进行中（{ends} 截止）：不重新开始",
                                   data={"call": running.id}),))
    call = Call(event.id, event.group, event.user, ctx.now, ctx.now + timedelta(minutes=s.window_minutes), None,
                free_text(event.text.strip()[:100]))
    repo.open(call)
    ends = call.ends_at.astimezone(ctx.config.tz).strftime("%m-%d %H:%M")
    note = Note(rule=OPEN_RULE, reason=f"扣1开始：{s.window_minutes} 分钟，{ends} 截止，届时把结果私信给运营",
                data={"call": call.id, "ends": call.ends_at.isoformat()})
    return Outcome(notes=(note,), timers=(end_timer(call, event.group_name),))


async def answer(event: Event, ctx: Context, call: Call) -> Outcome:
    """A member's 1: counted once (silent)."""
    assert event.user is not None
    repo: RollCallRepository = ctx.repo
    if await repo.has_answered(call.id, event.user):
        return Outcome(notes=(Note(rule=ANSWER_RULE, reason="已经扣过1：只算一次", data={"call": call.id}),), stop=True)
    repo.answer(call.id, event.user, ctx.now, event.id)
    return Outcome(notes=(Note(rule=ANSWER_RULE, reason="扣1已记录", data={"call": call.id}),), stop=True)


async def stats(event: Event, ctx: Context) -> Outcome:
    """扣1统计: the open roll call (else the latest) — who answered, who present has not, @ the first few."""
    assert event.group is not None
    if not ctx.is_admin:
        return Outcome(notes=(Note(rule=RULE, reason="扣1统计: asked by a member who is not an admin; not answered"),),
                       stop=True)
    s: RollCallSettings = ctx.settings.roll_call
    repo: RollCallRepository = ctx.repo
    call = await repo.open_call(event.group, ctx.now) or await repo.latest(event.group)
    if call is None:
        return Outcome(actions=(reply(event, f"{RULE}/none", ctx.render(s.none_reply)),), stop=True)
    answered, missing = await facts(repo, call, ctx.settings, ctx.config.bot_id)
    is_open = call.open_at(ctx.now)
    state = (ctx.render(s.open_state, ends=call.ends_at.astimezone(ctx.config.tz).strftime("%H:%M")) if is_open
             else s.ended_state)
    shown = missing[:s.max_mentions]
    listed = names(shown, s.max_mentions, ctx.settings.ad_name_placeholder, " ", "@")
    if len(missing) > len(shown):
        listed = f"{listed} {ctx.render(s.more_members, count=len(missing) - len(shown))}".strip()
    opened = call.opened_at.astimezone(ctx.config.tz).strftime("%m-%d %H:%M")
    text = ctx.render(s.stats_reply if missing else s.stats_all_reply, count=len(answered),
                      missing_count=len(missing), missing=listed, state=state, opened=opened, text=call.text[:40])
    action = reply(event, RULE, text, **fact_data(call, answered, missing, is_open))
    return Outcome(actions=(action.model_copy(update={"mentions": tuple(u for u, _ in shown)}),), stop=True)


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.group is not None
    s: RollCallSettings = ctx.settings.roll_call
    text = event.text
    short = command_form(text) if len(text) <= MAX_WORD_CHARS else ""
    if short and short in command_words(s.stats_words):
        return await stats(event, ctx)
    if ctx.is_admin and opens(text, s):  # an admin's own 扣1 opens (or is noted), it never answers
        return await open_call(event, ctx)
    if short and short in command_words(s.answer_words):
        call = await ctx.repo.open_call(event.group, ctx.now)
        if call is not None:
            return await answer(event, ctx, call)
    if not ctx.is_admin and opens(text, s) and await ctx.repo.open_call(event.group, ctx.now) is None:
        return Outcome(notes=(Note(rule=OPEN_RULE, reason="只有管理员发的「扣1」才开始统计：这条不算"),))
    return None


def _matches(event: Event, ctx: Context) -> bool:
    """Cheap on ordinary chat: a short message, or one holding the first character of an open word."""
    text = event.text if event.type == "text" else ""
    if not text or event.group is None or event.user is None or ctx.group is None:
        return False
    s: RollCallSettings = ctx.settings.roll_call
    if not s.enabled:
        return False
    if len(text) <= MAX_WORD_CHARS and head(text) in command_heads(s.answer_words, s.stats_words):
        form = command_form(text)
        if form in command_words(s.answer_words) or form in command_words(s.stats_words):
            return True
    window = text[:s.max_open_chars]
    return any(ch in window for ch in command_heads(s.open_words))


HANDLER = Handler("roll_call", Band.COMMAND, handle, matches=_matches, order=55)
