"""The activity handler: every member event moves the group's and member's stats; a roster event (the
platform's member list) makes members who never spoke known, and those gone as left."""

from __future__ import annotations

from bot.context import Context
from bot.events import MESSAGE_TYPES, Event, Note, Outcome
from bot.feature import Band, Handler


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.group is not None
    members = ctx.repo
    if event.type == "roster":
        left = await members.sync_roster(event.group, event.group_name, [(m.id, m.name) for m in event.members],
                                         event.ts, complete=event.complete)
        return Outcome(notes=(Note(rule="activity/roster", reason=f"{len(event.members)} listed, {left} gone",
                                   data={"listed": len(event.members), "left": left}),))
    members.note_activity(
        event.group, event.group_name, event.user, event.user_name, event.ts,
        message=event.type in MESSAGE_TYPES, joined=event.type == "join", left=event.type == "leave",
    )
    return None


HANDLER = Handler("activity", Band.OBSERVE, handle, matches=lambda e, _c: e.group is not None)
