"""The red-packet boards: 红包榜 (the local day) and 红包周榜 (the last 7 local days, today included — a
rolling week, so the board is not empty on Mondays), counted from the events table (type red_packet):
the top `board_size` with equal counts sharing a place, and the asker's own place even when not in the
top. Like the points boards, a member's repeat within `command_cooldown_seconds` is answered once."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.context import Context
from bot.events import Event, Outcome, reply
from bot.feature import Band, Handler
from handlers.red_packet.settings import RedPacketSettings
from rules.names import shown_name
from rules.normalize import command_form, command_heads, head

MAX_WORD_CHARS = 40  # a board word is the whole message: longer ones are conversation
PERIOD_DAYS = {"today": 1, "week": 7}


def period_bounds(ctx: Context, period: str) -> tuple[datetime, datetime]:
    """[since, until): from local midnight (today, or 6 days before it) to the next local midnight."""
    today = ctx.today
    first = today - timedelta(days=PERIOD_DAYS[period] - 1)
    return (datetime.combine(first, time(0), tzinfo=ctx.config.tz),
            datetime.combine(today + timedelta(days=1), time(0), tzinfo=ctx.config.tz))


def _period_of(text: str, settings: RedPacketSettings) -> str | None:
    if len(text) > MAX_WORD_CHARS:
        return None
    form = command_form(text)
    return next((p for w, p in settings.board_words.items() if command_form(w) == form), None) if form else None


async def board(event: Event, ctx: Context, period: str) -> Outcome:
    assert event.group is not None and event.user is not None
    settings: RedPacketSettings = ctx.settings.red_packet
    rule = f"red_packet/board-{period}"
    since, until = period_bounds(ctx, period)
    name = settings.period_names.get(period, period)
    rows = await ctx.repo.board(event.group, since, until, settings.board_size)
    place, count = await ctx.repo.place(event.group, event.user, since, until)
    facts = {"period": period, "since": since.isoformat(), "place": place, "count": count,
             "rows": [{"user": r["user_id"], "count": r["count"], "place": r["place"]} for r in rows]}
    if not rows:
        return Outcome(actions=(reply(event, rule, ctx.render(settings.board_empty, period=name), **facts),), stop=True)
    hidden = ctx.settings.ad_name_placeholder
    lines = [ctx.render(settings.board_title, period=name)]
    lines += [ctx.render(settings.board_line, place=r["place"], count=r["count"],
                         name=shown_name(r["display_name"] or r["user_id"], hidden)) for r in rows]
    lines.append(ctx.render(settings.board_own, place=place, count=count, period=name) if place
                 else ctx.render(settings.board_own_none, period=name))
    return Outcome(actions=(reply(event, rule, "\n".join(lines), mention=True, **facts),), stop=True)


async def handle(event: Event, ctx: Context) -> Outcome | None:
    period = _period_of(event.text, ctx.settings.red_packet)
    if period is None:
        return None
    repeated = ctx.repeated(f"red_packet/board-{period}")
    return Outcome(notes=(repeated,), stop=True) if repeated else await board(event, ctx, period)


def _matches(event: Event, ctx: Context) -> bool:
    """Cheap on ordinary chat: most messages are turned away by their length or first character."""
    text = event.text if event.type == "text" else ""
    if not text or len(text) > MAX_WORD_CHARS or event.group is None or event.user is None or ctx.group is None:
        return False
    settings: RedPacketSettings = ctx.settings.red_packet
    if not settings.enabled or head(text) not in command_heads(tuple(settings.board_words)):
        return False
    return _period_of(text, settings) is not None


BOARDS = Handler("red_packet-boards", Band.COMMAND, handle, matches=_matches, order=45)
