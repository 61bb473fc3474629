"""The `harness` fixture: FeatureHarness instances on a temp database, closed at the end of the test.

A test marked `@pytest.mark.both_databases` runs twice: its harnesses on SQLite files, then on fresh
PostgreSQL databases (tests/pg_harness.py; skipped locally without PostgreSQL, a failure under CI=true).
A representative test or two of each feature carries the mark, so every repository's SQL runs on both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.clock import DrivenClock
from bot.feature import Feature
from tests.conftest import BASIC_CONFIG
from tests.features.harness import FeatureHarness

OpenHarness = Callable[..., Awaitable[FeatureHarness]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_databases: run the test's `harness` on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_databases") and "harness" in metafunc.fixturenames:
        metafunc.parametrize("harness", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
async def harness(request: pytest.FixtureRequest, tmp_path: Path, clock: DrivenClock
                  ) -> AsyncIterator[OpenHarness]:
    """`await harness(feature, config_text=...)`: a FeatureHarness on a fresh SQLite file (or, for a test
    marked `both_databases`, also on a fresh PostgreSQL database)."""
    opened: list[FeatureHarness] = []
    server = request.getfixturevalue("pg_server") if getattr(request, "param", "sqlite") == "postgresql" else None

    async def open_one(feature: Feature, config_text: str = BASIC_CONFIG) -> FeatureHarness:
        db = tmp_path / f"{feature.name}-{len(opened)}.db"  # a test may open the same feature twice
        url = server.create_database() if server is not None else f"sqlite+aiosqlite:///{db}"
        h = await FeatureHarness.open(feature, url, clock, config_text)
        opened.append(h)
        return h

    yield open_one
    for h in opened:
        await h.close()
