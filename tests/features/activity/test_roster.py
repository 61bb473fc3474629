"""roster events: the platform's member list makes silent members known and marks the gone as left
(a leave the reports count)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import DrivenClock
from tests.conftest import EventFactory, FakePlatform, feed


async def test_roster_adds_silent_members_and_marks_the_missing_as_left(
        runtime, clock: DrivenClock, platform: FakePlatform, make_event: EventFactory) -> None:
    await feed(runtime, clock, make_event(text="大家好", user="talker", user_name="话多"),
               make_event("roster", members=[{"id": "talker", "name": "话多"}, {"id": "quiet", "name": "潜水"},
                                             {"id": "q2"}]))
    quiet = await runtime.store.members.member("g1", "quiet")
    assert quiet is not None and quiet.display_name == "潜水" and quiet.left_at is None and quiet.message_count == 0
    assert (await runtime.store.members.group_sizes(["g1"]))["g1"][1] == 3
    await feed(runtime, clock, make_event("leave", user="q2"), make_event("roster", members=[{"id": "talker"}]))
    assert (await runtime.store.members.member("g1", "quiet")).left_at is not None
    assert (await runtime.store.members.member("g1", "talker")).display_name == "话多"
    assert (await runtime.store.members.group_sizes(["g1"]))["g1"][1] == 1
    # the announced leave of q2 and the unannounced one of quiet are both leaves for the reports
    day = clock.now() - timedelta(days=1)
    assert await runtime.store.events.event_count("g1", ("leave",), day, clock.now() + timedelta(seconds=1)) == 2
    await feed(runtime, clock, make_event("roster", members=[{"id": "talker"}]))  # the same list again
    assert await runtime.store.events.event_count("g1", ("leave",), day, clock.now() + timedelta(seconds=1)) == 2
    await feed(runtime, clock, make_event("roster", members=[], complete=False))
    assert (await runtime.store.members.group_sizes(["g1"]))["g1"][1] == 1
    await feed(runtime, clock, make_event("join", user="quiet"), make_event("roster", members=[{"id": "talker"},
                                                                                               {"id": "quiet"}]))
    assert (await runtime.store.members.group_sizes(["g1"]))["g1"][1] == 2


async def test_a_roster_that_fails_midway_records_a_leave_for_every_member_it_marked_left(
        runtime, clock: DrivenClock, make_event: EventFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    everyone = [{"id": "keep"}, *({"id": f"m{n:03}"} for n in range(600))]
    await feed(runtime, clock, make_event("roster", members=everyone))
    real = AsyncConnection.execute
    updates = 0

    async def second_update_fails(self, stmt, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal updates
        if getattr(stmt, "is_update", False) and "left_at" in str(stmt):
            updates += 1
            if updates == 2:  # the second chunk of 500
                raise OperationalError("UPDATE", {}, Exception("disk I/O error"))
        return await real(self, stmt, *args, **kwargs)

    monkeypatch.setattr(AsyncConnection, "execute", second_update_fails)
    await feed(runtime, clock, make_event("roster", members=[{"id": "keep"}]))
    monkeypatch.setattr(AsyncConnection, "execute", real)
    await runtime.bot.commit()
    present = (await runtime.store.members.group_sizes(["g1"]))["g1"][1]
    leaves = await runtime.store.events.event_count("g1", ("leave",), clock.now() - timedelta(days=1),
                                             clock.now() + timedelta(seconds=1))
    assert updates >= 2 and present < 601 and leaves == 601 - present
