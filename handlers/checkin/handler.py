"""The check-in handler: 签到 (rank of the local day, streak, points, the group's rate), and the
boards 签到榜, 连续签到榜 and 签到率."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.context import Context
from bot.events import Event, Note, Outcome, reply
from bot.feature import Band, Handler
from handlers.checkin.rates import rate_fields
from handlers.checkin.settings import CheckinSettings
from handlers.levels.handler import level_up
from rules.normalize import command_form, command_heads, command_words, head
from rules.templates import template_fields


def _local_day(ctx: Context, when: datetime) -> date:
    return when.astimezone(ctx.config.tz).date()


def points_for(settings: CheckinSettings, streak: int) -> int:
    """Base points plus the streak bonus (per day after the first), capped."""
    return settings.base_points + min(settings.streak_bonus * (streak - 1), settings.streak_bonus_cap)


def _in_window(ctx: Context, when: datetime) -> bool:
    window = ctx.settings.checkin.window
    if window is None:
        return True
    hhmm = when.astimezone(ctx.config.tz).strftime("%H:%M")
    if window.start <= window.end:
        return window.start <= hhmm < window.end
    return hhmm >= window.start or hhmm < window.end  # a window across midnight


async def check_in(event: Event, ctx: Context) -> Outcome:
    assert event.group is not None and event.user is not None
    settings = ctx.settings.checkin
    if not _in_window(ctx, event.ts):
        assert settings.window is not None
        text = ctx.render(settings.window.outside_reply, start=settings.window.start, end=settings.window.end)
        return Outcome(actions=(reply(event, "checkin/window", text, mention=True, outside=True),), stop=True)
    day = _local_day(ctx, event.ts)
    late = day < _local_day(ctx, ctx.now)  # delivered after its day: later days continue its streak
    result = await ctx.repo.check_in(event.group, event.user, day.isoformat(), (day - timedelta(days=1)).isoformat(),
                                      event.ts, event.id, lambda streak: points_for(settings, streak), late=late)
    if result.already:
        told = _told_already(ctx, event.group, event.user, day)
        if told is not None:
            return Outcome(notes=(told,), stop=True)
    template = settings.already_reply if result.already else settings.reply
    # a member who checked in yesterday is known; only a first check-in (or one after a gap) asks
    newcomer = False
    if not result.already and result.streak == 1:
        presence = await ctx.members.presence(event.group, event.user)
        newcomer = presence is None or not presence.present
    fields = await rate_fields(ctx, event.group, day, template_fields(template),
                               newcomer=newcomer,
                               count=None if result.already else result.rank)
    text = ctx.render(template, rank=result.rank, streak=result.streak, points=result.points,
                      balance=result.balance, **fields)
    actions = [reply(event, "checkin", text, mention=True, rank=result.rank, streak=result.streak,
                     points=result.points, balance=result.balance, already=result.already, day=day.isoformat(),
                     **({"late": True} if late else {}))]
    if not result.already:
        up = await level_up(ctx, ctx.repo.points, event, event.user, event.user_name,
                            result.balance - result.points, result.balance)
        if up is not None:
            actions.append(up)
    return Outcome(actions=tuple(actions), stop=True)


def _told_already(ctx: Context, group: str, user: str, day: date) -> Note | None:
    """The "already" reply goes once per member and day: the note to stay silent with when it went
    (kept in the feature's memory: after a restart a member may hear it once more)."""
    told: dict[tuple[str, str], str] = ctx.memory.setdefault("already_told", {})
    if told.get((group, user)) == day.isoformat():
        return Note(rule="checkin", reason=f"{day.isoformat()} 已经签过，也已经提醒过，不再回复",
                    data={"already": True, "day": day.isoformat()})
    if len(told) > 100_000:
        told.clear()
    told[(group, user)] = day.isoformat()
    return None


async def board(event: Event, ctx: Context) -> Outcome:
    assert event.group is not None
    settings = ctx.settings.checkin
    day = _local_day(ctx, event.ts)
    rows = await ctx.repo.checkin_board(event.group, day.isoformat(), settings.board_size)
    if not rows:
        return Outcome(actions=(reply(event, "checkin/board", ctx.render(settings.board_empty), count=0),), stop=True)
    fields = await rate_fields(ctx, event.group, day, {"rate"})
    lines = [ctx.render(settings.board_title, count=fields["count"], members=fields["members"], rate=fields["rate"])]
    lines += [ctx.render(settings.board_line, rank=r["rank"], name=r["display_name"] or r["user_id"],
                         at=r["ts"].astimezone(ctx.config.tz).strftime("%H:%M"), streak=r["streak"]) for r in rows]
    return Outcome(actions=(reply(event, "checkin/board", "\n".join(lines), count=fields["count"],
                                  members=[r["user_id"] for r in rows]),), stop=True)


async def streaks(event: Event, ctx: Context) -> Outcome:
    assert event.group is not None
    settings = ctx.settings.checkin
    day = _local_day(ctx, event.ts)
    rows = await ctx.repo.streak_board(event.group, day.isoformat(), (day - timedelta(days=1)).isoformat(),
                                        settings.board_size)
    if not rows:
        return Outcome(actions=(reply(event, "checkin/streaks", ctx.render(settings.streak_empty)),), stop=True)
    lines = [ctx.render(settings.streak_title)]
    lines += [ctx.render(settings.streak_line, place=n, name=r["display_name"] or r["user_id"], streak=r["streak"])
              for n, r in enumerate(rows, 1)]
    return Outcome(actions=(reply(event, "checkin/streaks", "\n".join(lines),
                                  members=[[r["user_id"], r["streak"]] for r in rows]),), stop=True)


async def rates(event: Event, ctx: Context) -> Outcome:
    assert event.group is not None
    settings = ctx.settings.checkin
    day = _local_day(ctx, event.ts)
    template = settings.rate_campaign_reply if ctx.settings.tags else settings.rate_reply
    fields = await rate_fields(ctx, event.group, day, template_fields(template))
    text = ctx.render(template, **fields)
    return Outcome(actions=(reply(event, "checkin/rate", text, count=fields["count"], members=fields["members"]),),
                   stop=True)


async def handle(event: Event, ctx: Context) -> Outcome | None:
    settings = ctx.settings.checkin
    form = command_form(event.text)
    if form in command_words(settings.triggers):
        return await check_in(event, ctx)
    for words, rule, answer in ((settings.board_words, "checkin/board", board),
                                (settings.streak_words, "checkin/streaks", streaks),
                                (settings.rate_words, "checkin/rate", rates)):
        if form in command_words(words):
            repeated = ctx.repeated(rule)
            return Outcome(notes=(repeated,), stop=True) if repeated else await answer(event, ctx)
    return None


def _matches(event: Event, ctx: Context) -> bool:
    if event.type != "text" or event.group is None or event.user is None or ctx.group is None:
        return False
    settings = ctx.settings.checkin
    if not settings.enabled or len(event.text) > 40:
        return False
    every = (settings.triggers, settings.board_words, settings.streak_words, settings.rate_words)
    if head(event.text) not in command_heads(*every):
        return False  # ordinary chat, turned away by its first character
    form = command_form(event.text)
    return any(form in command_words(words) for words in every)


HANDLER = Handler("checkin", Band.COMMAND, handle, matches=_matches, order=10)
