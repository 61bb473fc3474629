"""Points awards: for a message (cooldown, minimum length, daily cap; only when nothing earlier in the
chain took it) and for a red packet, each a ledger row, with the level-up it may bring."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.events import Event, Note, Outcome
from bot.feature import Band, Handler
from handlers.levels.handler import level_up
from rules.normalize import has_meaningful


async def award(event: Event, ctx: Context) -> Outcome | None:
    """Points for a message (when nothing earlier in the chain took it) or a red packet."""
    assert event.group is not None and event.user is not None
    settings = ctx.settings.points
    if event.type == "red_packet":
        if settings.red_packet_points <= 0:
            return None
        points = settings.red_packet_points
        balance: int | None = await ctx.repo.award_points(event.group, event.user, points, "red_packet", event.ts,
                                                           event_id=event.id)
    else:
        assert event.type == "text"
        points = settings.message_points
        if (points <= 0 or settings.message_daily_cap < points
                or not has_meaningful(event.text, settings.message_min_length)):
            return None
        day = event.ts.astimezone(ctx.config.tz).date().isoformat()
        balance = await ctx.repo.award_message_points(event.group, event.user, points, event.ts, day,
                                                       settings.message_cooldown_seconds, settings.message_daily_cap,
                                                       event.id)
        if balance is None:
            return None
    assert balance is not None
    up = await level_up(ctx, ctx.repo, event, event.user, event.user_name, balance - points, balance)
    data: dict[str, Any] = {"awarded": points, "balance": balance, "reason": event.type}
    return Outcome(actions=(up,) if up else (), notes=(Note(rule="points/award", reason=f"+{points}", data=data),))


def _award_matches(event: Event, ctx: Context) -> bool:
    return (event.type in ("text", "red_packet") and event.group is not None and event.user is not None
            and ctx.group is not None and ctx.settings.points.enabled)


AWARDS = Handler("points-award", Band.AUTO_REPLY, award, matches=_award_matches, order=50)
