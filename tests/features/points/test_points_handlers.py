"""The points handlers alone: awards for messages and red packets, the members' and owners' commands."""

from __future__ import annotations

import pytest

from handlers import points
from handlers.points.repository import PointsRepository
from tests.conftest import EventFactory
from tests.features.conftest import OpenHarness
from tests.features.harness import texts


async def test_a_message_earns_a_point_once_per_cooldown_and_short_ones_nothing(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(points.FEATURE)
    paid = await h.call(make_event(text="今天的分享很有收获"), "points-award")
    assert paid is not None and paid.notes[0].rule == "points/award" and paid.notes[0].data["balance"] == 1
    assert await h.call(make_event(text="再补充一点想法", after=10), "points-award") is None  # within 60 s
    assert await h.call(make_event(text="1️⃣👍", after=120), "points-award") is None  # nothing meaningful
    later = await h.call(make_event(text="又想到一个好问题", after=120), "points-award")
    assert later is not None and later.notes[0].data["balance"] == 2
    repo = h.store.repository(PointsRepository)
    assert await repo.ledger_sums("g1") == await repo.balances("g1") == {"u1": 2}


async def test_a_red_packet_earns_its_points(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(points.FEATURE)
    outcome = await h.call(make_event("red_packet"), "points-award")
    assert outcome is not None and outcome.notes[0].data == {"awarded": 10, "balance": 10, "reason": "red_packet"}


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_an_admin_grants_points_to_the_member_mentioned(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(points.FEATURE)
    h.seen(make_event(text="大家好", user="u2", user_name="小红"))
    outcome = await h.call(make_event(text="加分 @小红 15 分享干货", user="admin1", user_name="群主", mentions=["u2"]))
    assert outcome is not None and outcome.stop
    action = outcome.actions[0]
    assert (action.rule, action.data["target"], action.data["delta"], action.data["balance"]) \
        == ("points/grant", "u2", 15, 15)
    assert action.data["reason"] == "分享干货" and "小红" in texts(outcome)[0]
    mine = await h.call(make_event(text="我的积分", user="u2", user_name="小红"))
    assert mine is not None and mine.actions[0].data["balance"] == 15 and mine.actions[0].data["place"] == 1


async def test_a_member_who_is_not_an_admin_is_refused_once_then_ignored(harness: OpenHarness,
                                                                         make_event: EventFactory) -> None:
    h = await harness(points.FEATURE)
    first_event = make_event(text="加分 @小红 100", mentions=["u2"])
    first = await h.call(first_event)
    assert first is not None and [a.rule for a in first.actions] == ["points/refused"]
    h.settle(first_event, first)
    second = await h.call(make_event(text="加分 @小红 100", mentions=["u2"]))
    assert second is not None and second.stop and not second.actions
    assert "refused before" in second.notes[0].reason
    assert await h.store.repository(PointsRepository).balance("g1", "u2") == 0
