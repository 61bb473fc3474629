"""activity: records every member event and keeps group and member stats (always runs)."""

from __future__ import annotations

from bot.context import Context
from bot.core import Band, Handler
from bot.events import MESSAGE_TYPES, Event, Outcome


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.group is not None
    ctx.store.note_activity(
        event.group, event.group_name, event.user, event.user_name, event.ts,
        message=event.type in MESSAGE_TYPES, joined=event.type == "join", left=event.type == "leave",
    )
    return None


HANDLER = Handler("activity", Band.OBSERVE, handle, matches=lambda e, _c: e.group is not None)
