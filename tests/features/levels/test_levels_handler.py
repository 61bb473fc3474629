"""The levels handler alone (我的等级) and the level-up announcement other features make."""

from __future__ import annotations

import pytest

from handlers import levels
from handlers.levels.handler import level_up
from handlers.levels.repository import LevelsRepository
from tests.conftest import EventFactory
from tests.features.conftest import OpenHarness


async def test_my_level_names_the_level_the_points_to_the_next_and_the_tier(
        harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(levels.FEATURE)
    points = h.store.repository(LevelsRepository).points
    await points.award_points("g1", "u1", 120, "grant", make_event("red_packet").ts)
    outcome = await h.call(make_event(text="我的等级"))
    assert outcome is not None and outcome.actions[0].rule == "levels/mine"
    assert outcome.actions[0].data == {"event": outcome.actions[0].data["event"], "level": "活跃", "balance": 120,
                                       "tier": "沉默"}
    assert "再得 380 分" in (outcome.actions[0].text or "")


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_a_level_up_is_announced_the_first_time_only(harness: OpenHarness, make_event: EventFactory) -> None:
    h = await harness(levels.FEATURE)
    points = h.store.repository(LevelsRepository).points
    event = make_event(text="签到")
    await points.award_points("g1", "u1", 110, "grant", event.ts)
    up = await level_up(h.context(event), points, event, "u1", "小明", 90, 110)
    assert up is not None and up.rule == "levels" and up.data["level"] == "活跃" and up.mentions == ("u1",)
    assert await level_up(h.context(event), points, event, "u1", "小明", 90, 110) is None  # reached before
    assert await level_up(h.context(event), points, event, "u1", "小明", 20, 30) is None  # no threshold crossed
