"""The poll handler: an admin's 投票 标题 选项1 选项2 … [截止HH:MM] and 结束投票; members' 投1 / 投 2 / 投张三."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

from bot.context import Context
from bot.events import Event, Note, Outcome, reply
from bot.feature import Band, Handler
from handlers.poll.repository import Poll
from handlers.poll.result import RULE, close, confirm_timer, end_timer, when
from handlers.poll.settings import MAX_OPTION_CHARS, MAX_OPTIONS, MAX_TITLE_CHARS, MIN_OPTIONS, PollSettings
from rules.normalize import command_form, command_heads, command_words, head, split_command, strip_invisible

MAX_START_CHARS = 1200  # a title, 20 options of 30 characters and a deadline fit; longer is conversation
MAX_VOTE_CHARS = 64  # 投 and an option's text
MAX_WORD_CHARS = 40  # 结束投票 is a whole message
SEPARATORS = re.compile(r"[\s、，,；;]+")  # between options: spaces or a list's commas
HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _lead(text: str) -> str:
    """The text from its first letter or digit on (a command may follow an emoji)."""
    for n, ch in enumerate(text[:12]):
        if ch.isalnum():
            return text[n:]
    return text


def parse_start(rest: str, settings: PollSettings, local_now: datetime) -> tuple[str, list[str], datetime] | str:
    """(title, options, deadline) of "标题 选项1 选项2 … [截止HH:MM]", or what is wrong with it. The deadline
    is the next such local time after now (tomorrow when it has passed today), else `default_hours` on."""
    tokens = rest.split()
    if len(tokens) < 2:
        return "too few options"
    title, tokens = strip_invisible(tokens[0]), tokens[1:]
    word = settings.deadline_word
    hhmm: str | None = None
    last = unicodedata.normalize("NFKC", tokens[-1])
    if last.startswith(word) and HHMM.match(last[len(word):]):
        hhmm, tokens = last[len(word):], tokens[:-1]
    elif len(tokens) >= 2 and HHMM.match(last) and unicodedata.normalize("NFKC", tokens[-2]) == word:
        hhmm, tokens = last, tokens[:-2]
    options = [o for o in (strip_invisible(p) for t in tokens for p in SEPARATORS.split(t)) if o]
    if not title or len(title) > MAX_TITLE_CHARS:
        return "title too long"
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        return "too few options" if len(options) < MIN_OPTIONS else "too many options"
    if any(len(o) > MAX_OPTION_CHARS for o in options):
        return "option too long"
    forms = [command_form(o) for o in options]
    if len(set(options)) < len(options) or len({f for f in forms if f}) < len([f for f in forms if f]):
        return "options repeat"
    if hhmm is None:
        return title, options, local_now.astimezone(UTC) + timedelta(hours=settings.default_hours)
    hour, minute = (int(x) for x in hhmm.split(":"))
    if hour > 23 or minute > 59:
        return "bad deadline"
    deadline = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if deadline <= local_now:
        deadline += timedelta(days=1)
    return title, options, deadline.astimezone(UTC)


def choose(poll: Poll, wanted: str) -> int | None:
    """The option number a vote names: an option's text (compared normalised), else its number."""
    for n, option in enumerate(poll.options, 1):
        if wanted and command_form(option) == wanted:
            return n
    if wanted.isascii() and wanted.isdigit() and 1 <= int(wanted) <= len(poll.options):
        return int(wanted)
    return None


def _vote_rest(text: str, words: tuple[str, ...]) -> tuple[str, bool] | None:
    """What follows 投, normalised ("投 张三！" -> "张三"), and whether a space set it apart; None: no 投."""
    form = command_form(text)
    for word in sorted(command_words(words), key=len, reverse=True):
        if word and form.startswith(word) and len(form) > len(word):
            return form[len(word):], split_command(text, words) is not None
    return None


async def _refuse(event: Event, ctx: Context, what: str) -> Outcome:
    """A polite refusal the first time a member tries an admin's poll command in a group, then silence."""
    assert event.group is not None and event.user is not None
    if await ctx.repo.audit.told_before(event.group, event.user, f"{RULE}/refused"):
        return Outcome(notes=(Note(rule=f"{RULE}/refused", reason=f"{what} by a non-admin (refused before)"),),
                       stop=True)
    text = ctx.render(ctx.settings.poll.refused_reply)
    return Outcome(actions=(reply(event, f"{RULE}/refused", text, mention=True, asked=what),), stop=True)


async def start(event: Event, ctx: Context, rest: str) -> Outcome:
    assert event.group is not None and event.user is not None
    settings: PollSettings = ctx.settings.poll
    busy = await ctx.repo.open_poll(event.group)
    if busy is not None:
        text = ctx.render(settings.busy_reply, title=busy.title, deadline=when(busy.deadline, ctx.config.tz, settings))
        return Outcome(actions=(reply(event, f"{RULE}/busy", text, poll=busy.id, title=busy.title),), stop=True)
    parsed = parse_start(rest, settings, ctx.local_now)
    if isinstance(parsed, str):
        text = ctx.render(settings.usage_reply, min=MIN_OPTIONS, max=MAX_OPTIONS, option_chars=MAX_OPTION_CHARS,
                          title_chars=MAX_TITLE_CHARS)
        return Outcome(actions=(reply(event, f"{RULE}/usage", text, error=parsed),), stop=True)
    title, options, deadline = parsed
    poll = Poll(event.id, event.group, title, tuple(options), deadline, event.user)
    ctx.repo.start(poll, ctx.now)
    lines = "\n".join(ctx.render(settings.option_line, index=n, option=o) for n, o in enumerate(options, 1))
    text = ctx.render(settings.started_text, title=title, options=lines, count=len(options),
                      deadline=when(deadline, ctx.config.tz, settings))
    return Outcome(actions=(reply(event, f"{RULE}/started", text, poll=poll.id, title=title, options=options,
                                  deadline=deadline.isoformat()),),
                   timers=(end_timer(poll, event.group_name),), stop=True)


async def end_now(event: Event, ctx: Context) -> Outcome:
    """An admin's 结束投票: the result now."""
    assert event.group is not None and event.user is not None
    if not ctx.is_admin:
        return await _refuse(event, ctx, "end")
    settings: PollSettings = ctx.settings.poll
    poll = await ctx.repo.open_poll(event.group)
    done = await close(ctx.repo, poll, ctx.now, event.user, settings, ctx.render) if poll else None
    if done is None:
        return Outcome(actions=(reply(event, f"{RULE}/none", ctx.render(settings.none_open_reply)),), stop=True)
    text, facts = done
    return Outcome(actions=(reply(event, RULE, text, **facts),), stop=True)


async def vote(event: Event, ctx: Context, wanted: str, spaced: bool) -> Outcome | None:
    """投N / 投 选项名: the member's vote (a later one replaces it). Text after 投 that names no option is
    conversation (投资, 投诉) unless it is a number or set apart by a space: then a short correction."""
    assert event.group is not None and event.user is not None
    settings: PollSettings = ctx.settings.poll
    meant = spaced or (wanted.isascii() and wanted.isdigit())
    poll = await ctx.repo.open_poll(event.group)
    if poll is None:
        return Outcome(notes=(Note(rule=f"{RULE}/vote", reason="a vote, but no poll is open in the group"),)) \
            if meant else None
    choice = choose(poll, wanted)
    if choice is None:
        if not meant:
            return None
        repeated = ctx.repeated(f"{RULE}/unknown-option")
        if repeated is not None:
            return Outcome(notes=(repeated,), stop=True)
        text = ctx.render(settings.unknown_option_reply, count=len(poll.options))
        return Outcome(actions=(reply(event, f"{RULE}/unknown-option", text, mention=True, poll=poll.id,
                                      asked=wanted[:MAX_OPTION_CHARS]),), stop=True)
    before = await ctx.repo.current_choice(poll, event.user)
    if not ctx.repo.is_open(poll):  # ended while that was read
        return Outcome(notes=(Note(rule=f"{RULE}/vote", reason="the poll ended before this vote was recorded"),),
                       stop=True)
    batched = settings.confirm_votes and settings.confirm_seconds > 0
    ctx.repo.vote(poll, event.user, choice, event.id, event.ts, confirmed=not batched)
    option = poll.options[choice - 1]
    facts = {"poll": poll.id, "choice": choice, "option": option,
             "replaced": poll.options[before - 1] if before else None}
    if settings.confirm_votes and not batched:
        text = ctx.render(settings.confirm_reply, option=option)
        return Outcome(actions=(reply(event, f"{RULE}/confirm", text, mention=True, **facts),), stop=True)
    if not batched:
        return Outcome(notes=(Note(rule=f"{RULE}/vote", reason="vote recorded (confirmations are off)", data=facts),),
                       stop=True)
    why = f"vote recorded: confirmed in the group's merged message (within {settings.confirm_seconds}s)"
    return Outcome(notes=(Note(rule=f"{RULE}/vote", reason=why, data=facts),),
                   timers=(confirm_timer(event.group, event.group_name,
                                         ctx.now + timedelta(seconds=settings.confirm_seconds)),), stop=True)


async def handle(event: Event, ctx: Context) -> Outcome | None:
    settings: PollSettings = ctx.settings.poll
    assert event.type == "text"
    text = _lead(event.text)
    rest = split_command(text, settings.start_words)
    if rest is not None:
        if not ctx.is_admin:
            return await _refuse(event, ctx, "start") if rest else None
        return await start(event, ctx, rest)
    if len(text) <= MAX_WORD_CHARS and command_form(text) in command_words(settings.end_words):
        return await end_now(event, ctx)
    found = _vote_rest(text, settings.vote_words) if len(text) <= MAX_VOTE_CHARS else None
    return await vote(event, ctx, *found) if found else None


def _matches(event: Event, ctx: Context) -> bool:
    """Cheap on ordinary chat: most messages are turned away by their length or first character."""
    text = event.text if event.type == "text" else ""
    if not text or len(text) > MAX_START_CHARS or event.group is None or event.user is None or ctx.group is None:
        return False
    settings: PollSettings = ctx.settings.poll
    return settings.enabled and head(text) in command_heads(settings.start_words, settings.vote_words,
                                                             settings.end_words)


HANDLER = Handler("poll", Band.COMMAND, handle, matches=_matches, order=50)
