"""The `harness` fixture: FeatureHarness instances on a temp database, closed at the end of the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.clock import DrivenClock
from bot.feature import Feature
from tests.conftest import BASIC_CONFIG
from tests.features.harness import FeatureHarness

OpenHarness = Callable[..., Awaitable[FeatureHarness]]


@pytest.fixture
async def harness(tmp_path: Path, clock: DrivenClock) -> AsyncIterator[OpenHarness]:
    """`await harness(feature, config_text=...)`: a FeatureHarness on a fresh SQLite file."""
    opened: list[FeatureHarness] = []

    async def open_one(feature: Feature, config_text: str = BASIC_CONFIG) -> FeatureHarness:
        db = tmp_path / f"{feature.name}-{len(opened)}.db"  # a test may open the same feature twice
        h = await FeatureHarness.open(feature, f"sqlite+aiosqlite:///{db}", clock, config_text)
        opened.append(h)
        return h

    yield open_one
    for h in opened:
        await h.close()
