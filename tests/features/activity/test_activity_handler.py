"""The activity handler alone: members' stats, and the platform's member list (roster)."""

from __future__ import annotations

import pytest

from handlers import activity
from tests.conftest import EventFactory
from tests.features.conftest import OpenHarness


async def test_messages_joins_and_leaves_move_the_member_row(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(activity.FEATURE)
    join = make_event("join", user="u2", user_name="新人")
    assert await h.call(join) is None
    await h.call(make_event(text="大家好", user="u2", user_name="新人"))
    member = await h.store.members.member("g1", "u2")
    assert member is not None and member.joined_at == join.ts and member.message_count == 1
    await h.call(make_event("leave", user="u2", user_name="新人"))
    member = await h.store.members.member("g1", "u2")
    assert member is not None and member.left_at is not None


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_a_complete_roster_marks_members_missing_from_it_as_left(harness: OpenHarness,
                                                                       make_event: EventFactory) -> None:
    h = await harness(activity.FEATURE)
    for user in ("u1", "u2", "u3"):
        await h.call(make_event(text="hi", user=user))
    roster = make_event("roster", user=None, user_name=None,
                        members=[{"id": "u1", "name": "小明"}, {"id": "u4", "name": "潜水员"}])
    outcome = await h.call(roster)
    assert outcome is not None and outcome.notes[0].data == {"listed": 2, "left": 2}
    sizes = await h.store.members.group_sizes(["g1"])
    assert sizes == {"g1": ("测试群", 2)}  # u1 and the silent u4
    await h.store.commit()
    assert await h.store.count("events") == 2  # a leave event for each member the platform never announced
