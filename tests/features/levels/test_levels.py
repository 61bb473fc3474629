"""levels: levels by points thresholds, activity tiers over the last days, 我的等级."""

from __future__ import annotations

from datetime import datetime

from bot.clock import DrivenClock
from bot.events import parse_event
from handlers.levels.ladder import level_of, tier_of
from handlers.levels.settings import LevelsSettings
from tests.conftest import CST, FakePlatform, feed


def test_level_of_walks_the_thresholds_in_order_of_points() -> None:
    s = LevelsSettings(thresholds={"专家": 500, "新手": 0, "忠诚": 2000, "活跃": 100})
    assert [level_of(b, s) for b in (0, 99, 100, 499, 500, 2000, 99999)] == [
        ("新手", "活跃", 100), ("新手", "活跃", 100), ("活跃", "专家", 500), ("活跃", "专家", 500),
        ("专家", "忠诚", 2000), ("忠诚", None, None), ("忠诚", None, None)]


def test_tiers_from_messages_check_ins_and_red_packets() -> None:
    s = LevelsSettings()  # weights 1 / 2 / 5; 核心 60, 活跃 15, 普通 1, 沉默 0
    assert tier_of((0, 0, 0), s) == "沉默"
    assert tier_of((1, 0, 0), s) == "普通"
    assert tier_of((5, 5, 0), s) == "活跃"
    assert tier_of((20, 10, 4), s) == "核心"


def test_thresholds_must_start_at_zero() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="start at 0"):
        LevelsSettings(thresholds={"活跃": 100})


async def test_my_level_reports_level_next_level_and_tier(runtime, clock: DrivenClock,
                                                           platform: FakePlatform) -> None:
    def ev(n: str, day: int, text: str, user: str = "u1"):
        return parse_event({"id": n, "ts": datetime(2026, 3, day, 9, tzinfo=CST).isoformat(), "type": "text",
                            "group": "g1", "group_name": "测试群", "user": user, "user_name": "小明", "text": text})

    await feed(runtime, clock, *[ev(f"c{d}", d, "签到") for d in range(1, 9)], ev("q", 9, "我的等级"),
               ev("q2", 9, "我的等级", user="u9"))
    mine, other = [a for a in platform.sent if a.rule == "levels/mine"]
    # 8 check-ins: 5+6+...+12 = 68 points; activity 8 messages + 8 check-ins*2 = 24 -> 活跃
    assert mine.text == "@小明 你的等级「新手」（68 分），再得 32 分升为「活跃」；近 30 天活跃度：活跃"
    assert other.data["tier"] == "沉默" and other.data["balance"] == 0
