"""The check-in handler alone: 签到 once a local day with rank, streak and points; the boards."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers import checkin
from handlers.points.repository import PointsRepository
from tests.conftest import EventFactory
from tests.features.conftest import OpenHarness
from tests.features.harness import texts


async def test_a_first_check_in_is_rank_one_with_base_points_and_a_second_is_already(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(checkin.FEATURE)
    first = await h.call(make_event(text="签到！"))
    assert first is not None and first.stop
    data = first.actions[0].data
    assert (first.actions[0].rule, data["rank"], data["streak"], data["points"], data["balance"], data["already"]) \
        == ("checkin", 1, 1, 5, 5, False)
    assert "签到成功" in texts(first)[0] and "100%" in texts(first)[0]  # the only member, and checked in

    again = await h.call(make_event(text="打卡"))
    assert again is not None and again.actions[0].data["already"] is True and again.actions[0].data["points"] == 0
    assert await h.store.repository(PointsRepository).balance("g1", "u1") == 5


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_the_next_day_continues_the_streak_and_pays_the_bonus(harness: OpenHarness,
                                                                    make_event: EventFactory) -> None:
    h = await harness(checkin.FEATURE)
    await h.call(make_event(text="签到"))
    next_day = await h.call(make_event(text="签到", after=timedelta(days=1).total_seconds()))
    assert next_day is not None
    assert (next_day.actions[0].data["streak"], next_day.actions[0].data["points"]) == (2, 6)


async def test_ranks_follow_the_order_of_members_and_the_board_lists_them(harness: OpenHarness,
                                                                          make_event: EventFactory) -> None:
    h = await harness(checkin.FEATURE)
    for n, user in enumerate(("u1", "u2", "u3"), 1):
        outcome = await h.call(make_event(text="签到", user=user, user_name=f"成员{n}"))
        assert outcome is not None and outcome.actions[0].data["rank"] == n
        h.seen(make_event(text="hi", user=user, user_name=f"成员{n}"))
    board = await h.call(make_event(text="签到榜"))
    assert board is not None and board.actions[0].rule == "checkin/board"
    assert board.actions[0].data["members"] == ["u1", "u2", "u3"]
    assert "成员1" in texts(board)[0] and "成员3" in texts(board)[0]


async def test_a_sentence_that_mentions_check_in_is_not_one(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(checkin.FEATURE)
    assert await h.call(make_event(text="昨天忘了签到")) is None
    assert await h.store.count("checkins") == 0
