"""The anomaly job alone: a join raid and a mass leave are reported to the operators once per burst,
with today's numbers against the group's usual ones; an ordinary hour says nothing."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers import anomaly
from tests.conftest import CST, EventFactory
from tests.features.conftest import OpenHarness

DUE = datetime(2026, 3, 20, 15, 0, tzinfo=CST)


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_a_join_raid_is_reported_once(harness: OpenHarness) -> None:
    h = await harness(anomaly.FEATURE)
    joins = EventFactory(datetime(2026, 3, 20, 14, 30, tzinfo=CST))
    raid = [joins("join", user=f"r{n}", user_name=f"号{n}", after=10) for n in range(12)]
    h.seen(*raid)
    actions, _ = await h.run_job("anomaly:hourly", DUE)
    assert [(a.rule, a.user, a.data["count"]) for a in actions] == [("anomaly/join_raid", "op1", 12)]
    again, _ = await h.run_job("anomaly:hourly", datetime(2026, 3, 20, 15, 30, tzinfo=CST))
    assert again == []


async def test_an_ordinary_hour_raises_no_alert(harness: OpenHarness) -> None:
    h = await harness(anomaly.FEATURE)
    chat = EventFactory(datetime(2026, 3, 20, 14, 0, tzinfo=CST))
    h.seen(*(chat(text=f"聊天{n}", user=f"u{n % 5}", after=60) for n in range(30)), chat("join", user="n1"))
    actions, _ = await h.run_job("anomaly:hourly", DUE)
    assert actions == []
