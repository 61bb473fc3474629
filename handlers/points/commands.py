"""The points commands: the members' 我的积分 and 积分榜 (today / this week / all time), the owners' 加分,
扣分 and 积分明细 (admins and operators only: anyone else is refused politely once, then ignored)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from bot.context import Context
from bot.events import Action, Event, Note, Outcome, reply
from bot.feature import Band, Handler
from handlers.levels.handler import level_up
from handlers.levels.ladder import level_of
from rules.normalize import command_form, command_heads, command_words, head, split_command

_AMOUNT = re.compile(r"^[+-]?\d{1,9}$")


def _local_midnight(ctx: Context, when: datetime, days_back: int = 0) -> datetime:
    local = when.astimezone(ctx.config.tz).date() - timedelta(days=days_back)
    return datetime.combine(local, time(0), tzinfo=ctx.config.tz)


def period_start(ctx: Context, period: str) -> datetime | None:
    """The start of a board's period: local midnight today, local Monday 00:00, or None (all time)."""
    now = ctx.now
    if period == "today":
        return _local_midnight(ctx, now)
    if period == "week":
        return _local_midnight(ctx, now, now.astimezone(ctx.config.tz).weekday())
    return None


# -- members' commands ----------------------------------------------------------------------------------

async def my_points(event: Event, ctx: Context) -> Outcome:
    assert event.group is not None and event.user is not None
    settings = ctx.settings.points
    balance = await ctx.repo.balance(event.group, event.user)
    today = await ctx.repo.points_earned(event.group, event.user, _local_midnight(ctx, ctx.now))
    week = await ctx.repo.points_earned(event.group, event.user, period_start(ctx, "week"))  # type: ignore[arg-type]
    place, _ = await ctx.repo.points_place(event.group, event.user, None)
    level = level_of(balance, ctx.settings.levels).name
    text = ctx.render(settings.my_points_reply, balance=balance, today=_signed(today), week=_signed(week),
                      place=place or "—", level=level)
    return Outcome(actions=(reply(event, "points/mine", text, mention=True, balance=balance, today=today,
                                  week=week, place=place, level=level),), stop=True)


async def points_board(event: Event, ctx: Context, period: str) -> Outcome:
    assert event.group is not None and event.user is not None
    settings = ctx.settings.points
    since = period_start(ctx, period)
    name = settings.period_names.get(period, period)
    rows = await ctx.repo.points_board(event.group, since, settings.board_size)
    place, points = await ctx.repo.points_place(event.group, event.user, since)
    if not rows:
        return Outcome(actions=(reply(event, f"points/board-{period}", ctx.render(settings.board_empty, period=name),
                                      period=period),), stop=True)
    lines = [ctx.render(settings.board_title, period=name)]
    lines += [ctx.render(settings.board_line, place=r["place"], name=r["display_name"] or r["user_id"],
                         points=r["points"]) for r in rows]
    lines.append(ctx.render(settings.board_own, place=place, points=points) if place
                 else ctx.render(settings.board_own_none))
    return Outcome(actions=(reply(event, f"points/board-{period}", "\n".join(lines), mention=True, period=period,
                                  top=[[r["user_id"], r["points"]] for r in rows], place=place),), stop=True)


# -- owners' commands -----------------------------------------------------------------------------------

async def _refuse(event: Event, ctx: Context, what: str) -> Outcome:
    """A polite refusal the first time a member tries an owner's command in a group, then silence."""
    assert event.group is not None and event.user is not None
    if await ctx.repo.audit.told_before(event.group, event.user, "points/refused"):
        return Outcome(notes=(Note(rule="points/refused", reason=f"{what} by a non-admin (refused before)"),),
                       stop=True)
    text = ctx.render(ctx.settings.points.not_allowed_reply)
    return Outcome(actions=(reply(event, "points/refused", text, mention=True, asked=what),), stop=True)


async def change_points(event: Event, ctx: Context, rest: str, sign: int) -> Outcome:
    assert event.group is not None and event.user is not None
    settings = ctx.settings.points
    kind = "grant" if sign > 0 else "deduct"
    if not ctx.is_admin:
        return await _refuse(event, ctx, kind)
    target, name, left = await ctx.mentioned_member(rest)
    parts = left.split(maxsplit=1)
    if target is None and name is not None:
        text = ctx.ambiguous_reply(name) or ctx.render(settings.unknown_member_reply, target_name=name)
        return Outcome(actions=(reply(event, f"points/{kind}", text, error="unknown member"),), stop=True)
    if target is None or not parts or not _AMOUNT.match(parts[0]) or not 0 < abs(int(parts[0])) <= settings.max_grant:
        return Outcome(actions=(reply(event, f"points/{kind}", ctx.render(settings.usage_reply), error="usage"),),
                       stop=True)
    amount = abs(int(parts[0]))
    reason = parts[1].strip() if len(parts) > 1 else settings.reasons.get(kind, kind)
    delta = amount * sign
    balance = await ctx.repo.award_points(event.group, target, delta, kind, event.ts, event_id=event.id,
                                           actor=event.user, note=reason[:500])
    template = settings.grant_reply if sign > 0 else settings.deduct_reply
    text = ctx.render(template, target_name=name, delta=amount, reason=reason, balance=balance)
    actions: list[Action] = [reply(event, f"points/{kind}", text, actor=event.user, target=target, delta=delta,
                                   reason=reason, balance=balance)]
    up = await level_up(ctx, ctx.repo, event, target, name, balance - delta, balance)
    if up is not None:
        actions.append(up)
    return Outcome(actions=tuple(actions), stop=True)


async def ledger(event: Event, ctx: Context, rest: str) -> Outcome:
    assert event.group is not None and event.user is not None
    settings = ctx.settings.points
    target, name, _left = await ctx.mentioned_member(rest)
    if target is None and name is None:
        target, name = event.user, event.user_name or event.user  # one's own ledger
        repeated = ctx.repeated("points/ledger")
        if repeated is not None:
            return Outcome(notes=(repeated,), stop=True)
    elif target != event.user and not ctx.is_admin:
        return await _refuse(event, ctx, "ledger")
    if target is None:
        text = ctx.ambiguous_reply(name) or ctx.render(settings.unknown_member_reply, target_name=name)
        return Outcome(actions=(reply(event, "points/ledger", text, error="unknown member"),), stop=True)
    rows = await ctx.repo.ledger_of(event.group, target, settings.ledger_size)
    balance = await ctx.repo.balance(event.group, target)
    if not rows:
        text = ctx.render(settings.ledger_empty, target_name=name)
    else:
        lines = [ctx.render(settings.ledger_title, target_name=name, balance=balance)]
        lines += [ctx.render(settings.ledger_line, at=r["ts"].astimezone(ctx.config.tz).strftime("%m-%d %H:%M"),
                             delta=_signed(r["delta"]), reason=settings.reasons.get(r["reason"], r["reason"]),
                             note=ctx.render(settings.ledger_note, note=r["note"])
                             if r["note"] and r["note"] != settings.reasons.get(r["reason"]) else "")
                  for r in rows]
        text = "\n".join(lines)
    return Outcome(actions=(reply(event, "points/ledger", text, target=target, balance=balance,
                                  entries=len(rows)),), stop=True)


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


async def handle_command(event: Event, ctx: Context) -> Outcome | None:
    settings = ctx.settings.points
    form = command_form(event.text)
    if form in command_words(settings.my_points_words):
        repeated = ctx.repeated("points/mine")
        return Outcome(notes=(repeated,), stop=True) if repeated else await my_points(event, ctx)
    for word, period in settings.board_words.items():
        if form == command_form(word):
            repeated = ctx.repeated(f"points/board-{period}")
            return Outcome(notes=(repeated,), stop=True) if repeated else await points_board(event, ctx, period)
    for words, sign in ((settings.grant_words, 1), (settings.deduct_words, -1)):
        rest = split_command(event.text, words)
        if rest is not None:
            return await change_points(event, ctx, rest, sign)
    rest = split_command(event.text, settings.ledger_words)
    if rest is not None:
        return await ledger(event, ctx, rest)
    return None


def _command_matches(event: Event, ctx: Context) -> bool:
    if event.type != "text" or event.group is None or event.user is None or ctx.group is None:
        return False
    settings = ctx.settings.points
    if not settings.enabled:
        return False
    board = tuple(settings.board_words)
    if head(event.text) not in command_heads(settings.my_points_words, board, settings.grant_words,
                                             settings.deduct_words, settings.ledger_words):
        return False  # ordinary chat, turned away by its first character
    form = command_form(event.text)
    if form in command_words(settings.my_points_words) or form in command_words(board):
        return True
    return any(split_command(event.text, words) is not None
               for words in (settings.grant_words, settings.deduct_words, settings.ledger_words))


COMMANDS = Handler("points", Band.COMMAND, handle_command, matches=_command_matches, order=20)
