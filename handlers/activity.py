"""activity: records every member event and keeps group and member stats (always runs); a roster
event (the platform's member list) makes members who never spoke known, and those gone as left."""

from __future__ import annotations

from bot.context import Context
from bot.core import Band, Handler
from bot.events import MESSAGE_TYPES, Event, Note, Outcome
from handlers.checkin import note_membership


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.group is not None
    if event.type in ("join", "leave", "roster"):
        note_membership(ctx.memory, event.group, {"join": 1, "leave": -1}.get(event.type))
    if event.type == "roster":
        left = await ctx.store.sync_roster(event.group, event.group_name, [(m.id, m.name) for m in event.members],
                                           event.ts, complete=event.complete)
        return Outcome(notes=(Note(rule="activity/roster", reason=f"{len(event.members)} listed, {left} gone",
                                   data={"listed": len(event.members), "left": left}),))
    ctx.store.note_activity(
        event.group, event.group_name, event.user, event.user_name, event.ts,
        message=event.type in MESSAGE_TYPES, joined=event.type == "join", left=event.type == "leave",
    )
    return None


HANDLER = Handler("activity", Band.OBSERVE, handle, matches=lambda e, _c: e.group is not None)
