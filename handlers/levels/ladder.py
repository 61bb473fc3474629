"""The level ladder (by points) and the activity tiers (by recent activity): pure functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from handlers.levels.settings import LevelsSettings


class Level(NamedTuple):
    name: str
    next_name: str | None
    next_at: int | None  # points needed for the next level


def level_of(balance: int, settings: LevelsSettings) -> Level:
    """The level a balance reaches (thresholds ascending; the first starts at 0)."""
    ladder = sorted(settings.thresholds.items(), key=lambda kv: kv[1])
    current = ladder[0][0]  # also below it (a negative balance after deductions)
    for name, minimum in ladder[1:]:
        if balance < minimum:
            return Level(current, name, minimum)
        current = name
    return Level(current, None, None)


def level_rank(name: str, settings: LevelsSettings) -> int:
    """The place of a level on the ladder (0 = the lowest)."""
    return [n for n, _ in sorted(settings.thresholds.items(), key=lambda kv: kv[1])].index(name)


def tier_of(counts: tuple[int, int, int], settings: LevelsSettings) -> str:
    """The activity tier of (messages, check-ins, red packets) over `tier_days` days."""
    w = settings.tier_weights
    messages, checkins, red_packets = counts
    score = messages * w.get("message", 0) + checkins * w.get("checkin", 0) + red_packets * w.get("red_packet", 0)
    for name, minimum in sorted(settings.tiers.items(), key=lambda kv: -kv[1]):
        if score >= minimum:
            return name
    return min(settings.tiers.items(), key=lambda kv: kv[1])[0]


def tier_since(now: datetime, settings: LevelsSettings) -> datetime:
    return now - timedelta(days=settings.tier_days)
