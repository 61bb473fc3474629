"""The topic-hours handler: an off-topic word inside the group's topic hours gets a light reminder, at
most once per `cooldown_minutes` per group (the last one is read from the audit log); outside the hours,
from admins and operators, or within the cooldown: a note only, so `why` tells."""

from __future__ import annotations

from typing import Any

import ahocorasick

from bot.context import WEEKDAYS, Context
from bot.events import Event, Note, Outcome, reply
from bot.feature import Band, Handler
from handlers.topic_hours.settings import TopicHoursSettings
from rules.normalize import command_form
from rules.schema import GroupSettings

RULE = "topic_hours"


class TopicWords:
    """The off-topic words as one Aho-Corasick automaton over their compared forms (full-width, case,
    spacing, punctuation, emoji and traditional characters folded as for commands), built once per config."""

    def __init__(self, words: tuple[str, ...]) -> None:
        self._automaton: Any = None
        forms: dict[str, str] = {}
        for word in words:
            form = command_form(word)
            if form:
                forms.setdefault(form, word)
        if forms:
            automaton = ahocorasick.Automaton()
            for form, word in forms.items():
                automaton.add_word(form, word)
            automaton.make_automaton()
            self._automaton = automaton

    def __bool__(self) -> bool:
        return self._automaton is not None

    def first(self, text: str) -> str | None:
        """The configured word that occurs first in `text` (compared forms), or None."""
        if self._automaton is None:
            return None
        form = command_form(text)
        return next((word for _end, word in self._automaton.iter(form)), None) if form else None


def compile_words(settings: GroupSettings) -> TopicWords | None:
    section: TopicHoursSettings = settings.topic_hours
    words = TopicWords(section.words) if section.enabled else None
    return words if words else None


def _note(reason: str, **data: Any) -> Outcome:
    return Outcome(notes=(Note(rule=RULE, reason=reason, data=data),))


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert ctx.group is not None and event.group is not None and event.type == "text"
    settings: TopicHoursSettings = ctx.settings.topic_hours
    word = ctx.group.compiled["topic_hours"].first(event.text[:settings.max_chars])
    if word is None:
        return None
    if ctx.is_admin:
        return _note(f"「{word}」：管理员和运营不提醒", word=word)
    local = ctx.local_now
    period = settings.period_at(local.isoweekday(), local.hour * 60 + local.minute)
    if period is None:
        return _note(f"「{word}」：不在话题时段内（周{WEEKDAYS[local.weekday()]} {local:%H:%M}），不提醒", word=word)
    window = f"{period.from_}–{period.to}"
    cooldown = settings.cooldown_minutes * 60
    if cooldown:
        last = await ctx.repo.last_rule_use(event.group, RULE)
        if last is not None and 0 <= (ctx.now - last).total_seconds() < cooldown:
            at = last.astimezone(ctx.config.tz).strftime("%H:%M")
            every = settings.cooldown_minutes
            return _note(f"「{word}」：话题时段 {window} 内，但本群 {at} 已经提醒过（{every} 分钟一次），不再提醒",
                         word=word, period=period.facts(), reminded=last.isoformat())
    text = ctx.render(settings.reminder, word=word, **{"from": period.from_, "to": period.to})
    action = reply(event, RULE, text, mention=settings.mention, word=word, period=period.facts())
    note = Note(rule=RULE, reason=f"「{word}」：话题时段 {window} 内的闲聊，轻提醒一次", data={"word": word})
    return Outcome(actions=(action,), notes=(note,))


def _matches(event: Event, ctx: Context) -> bool:
    return (event.type == "text" and event.group is not None and event.user is not None and ctx.group is not None
            and ctx.group.compiled["topic_hours"] is not None)


# after moderation (an ad is not an off-topic message: the ads handler stops the chain) and the commands
# and keyword replies; it does not stop the chain (the message is still ordinary chat: points, activity)
HANDLER = Handler("topic_hours", Band.AUTO_REPLY, handle, matches=_matches, order=40)
