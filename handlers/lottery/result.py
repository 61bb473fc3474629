"""The draw's result: made by the message that completes the seed (the observer) or by the timer when
fewer came within `max_wait_minutes` (timer "draw", key "draw:<hash of the draw>")."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.events import Action, Timer
from bot.feature import JobContext
from handlers.lottery.draw import seed_of, winners_of
from handlers.lottery.repository import LotteryRepository, PendingDraw
from rules.names import shown_name
from rules.schema import GroupSettings
from scheduler.common import fill
from storage.members import Members

RULE = "lottery"  # the draw (replay-format.md: data winners, pool, seed)
TIMER = "draw"
MAX_NAME_CHARS = 30  # a winner's name as the result shows it
Fill = Callable[..., str]


def draw_timer(draw: PendingDraw, group_name: str | None, due: datetime) -> Timer:
    """The timer that draws with the messages that came, when fewer than awaited came in time."""
    return Timer(name=TIMER, key="draw:" + hashlib.sha1(draw.id.encode()).hexdigest(), due=due,
                 data={"group": draw.group, "group_name": group_name, "draw": draw.id})


async def finish(repo: LotteryRepository, members: Members, settings: GroupSettings, draw: PendingDraw,
                 at: datetime, render: Fill, event_id: str | None = None) -> Action:
    """Draw (the caller took `draw` from the pending ones): store the seed and winners, and the message
    that publishes them with the pool's size and digest; the first `max_mentions` winners are @mentioned,
    the others named."""
    seed = seed_of(draw.id, draw.seeds)
    winners = winners_of(seed, draw.pool, draw.wanted)
    repo.drawn(draw, seed, winners, at)
    lottery = settings.lottery
    known = await members.members_among(draw.group, winners)
    names = [shown_name(((known[w].display_name if w in known else None) or w)[:MAX_NAME_CHARS],
                        settings.ad_name_placeholder) or w for w in winners]
    cap = lottery.max_mentions
    said = " ".join(f"@{n}" for n in names[:cap]) + ("、" + "、".join(names[cap:]) if names[cap:] else "")
    all_win = render(lottery.all_win_text, count=draw.wanted, pool=len(draw.pool)) \
        if len(draw.pool) <= draw.wanted else ""
    text = render(lottery.result_text, count=draw.wanted, pool=len(draw.pool), days=draw.days,
                  messages=len(draw.seeds), minutes=lottery.max_wait_minutes, winners=said, all_win=all_win,
                  seed=seed, digest=draw.digest[:16], draw=draw.id)
    facts: dict[str, Any] = {"winners": winners, "pool": len(draw.pool), "seed": seed, "draw": draw.id,
                             "count": draw.wanted, "days": draw.days, "pool_digest": draw.digest,
                             "seed_events": [draw.id, *draw.seeds], "seed_messages": len(draw.seeds),
                             "all_win": len(draw.pool) <= draw.wanted}
    if event_id is not None:
        facts = {"event": event_id, **facts}
    return Action(action="send", rule=RULE, group=draw.group, text=text, mentions=tuple(winners[:cap]), data=facts)


async def fire(ctx: JobContext, timer: Timer) -> list[Action]:
    """`max_wait_minutes` after the command: draw with the messages that came, if it is still pending."""
    group, group_name = timer.data["group"], timer.data.get("group_name")
    repo: LotteryRepository = ctx.repo
    draw = await repo.pending(group)
    if draw is None or draw.id != timer.data["draw"] or not repo.take(draw):
        ctx.note(f"draw {timer.data['draw']} was drawn before its timer (its messages came)")
        return []
    ctx.note(f"{len(draw.seeds)} of the {draw.seed_messages} awaited messages came in time: drawn with those")
    settings = ctx.config.group(group, group_name).settings

    def render(template: str, **extra: Any) -> str:
        return fill(ctx, template, group_name or group, settings, **extra)

    return [await finish(repo, ctx.members, settings, draw, ctx.clock.now(), render)]
