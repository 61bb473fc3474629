"""Per-member cooldowns on member commands (issue 13, fair sending): the check-in's "already" reply goes
once per member and day; a member command repeated within a minute is answered once."""

from __future__ import annotations

import pytest

from handlers import checkin, levels, points
from tests.conftest import EventFactory
from tests.features.conftest import OpenHarness


async def test_the_already_reply_goes_once_a_day_per_member(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(checkin.FEATURE)
    replies = []
    for _ in range(4):  # minutes apart: no flood, no repeat within a minute
        outcome = await h.call(make_event(text="签到", after=300))
        replies.append([a.data["already"] for a in outcome.actions] if outcome else None)
        assert outcome is None or outcome.stop  # nothing else answers it either
    assert replies == [[False], [True], [], []]
    other = await h.call(make_event(text="签到", user="u2", user_name="小红"))
    assert other is not None and [a.data["already"] for a in other.actions] == [False]
    tomorrow = await h.call(make_event(text="签到", after=86_400))
    assert tomorrow is not None and [a.data["already"] for a in tomorrow.actions] == [False]
    again = await h.call(make_event(text="签到", after=300))
    assert again is not None and [a.data["already"] for a in again.actions] == [True]


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_member_commands_repeated_within_a_minute_are_answered_once(harness: OpenHarness,
                                                                            make_event: EventFactory) -> None:
    for feature, word in ((checkin.FEATURE, "签到榜"), (checkin.FEATURE, "签到率"), (points.FEATURE, "我的积分"),
                          (points.FEATURE, "积分榜"), (levels.FEATURE, "我的等级")):
        h = await harness(feature)
        first = await h.call(make_event(text=word))
        second = await h.call(make_event(text=word, after=20))
        other = await h.call(make_event(text=word, user="u2", user_name="小红", after=1))
        third = await h.call(make_event(text=word, after=45))
        assert first is not None and len(first.actions) == 1, word
        assert second is not None and second.stop and not second.actions and second.notes, word
        assert other is not None and len(other.actions) == 1, word  # another member is answered
        assert third is not None and len(third.actions) == 1, word  # a minute after the answer
