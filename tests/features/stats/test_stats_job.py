"""The stats job alone: the day's numbers to the operators, then the activity-by-hour chart."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from handlers import stats
from tests.conftest import BASIC_CONFIG, CST, EventFactory
from tests.features.conftest import OpenHarness

DUE = datetime(2026, 3, 20, 22, 0, tzinfo=CST)  # a Friday: no weekly trend


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_the_daily_report_counts_the_day_and_sends_the_chart(harness: OpenHarness, tmp_path: Path) -> None:
    config = BASIC_CONFIG.replace("bot: {name: 小管家, id: bot}",
                                  f"bot: {{name: 小管家, id: bot, reports_dir: '{tmp_path / 'reports'}'}}")
    h = await harness(stats.FEATURE, config)
    day = EventFactory(datetime(2026, 3, 20, 9, 0, tzinfo=CST))
    h.seen(day("join", user="u9", user_name="新人"))
    h.seen(*(day(text=f"消息{n}", user=f"u{n % 3}", user_name=f"成员{n % 3}", after=600) for n in range(9)))
    h.seen(day("red_packet", user="u1", user_name="成员1"))
    h.seen(EventFactory(datetime(2026, 3, 19, 20, 0, tzinfo=CST))(text="昨天的", user="u5"))
    actions, notes = await h.run_job("stats:22:00", DUE)
    report, chart = actions
    assert (report.rule, report.user, chart.action, chart.data["chart"]) == ("stats_report", "op1", "send_image",
                                                                             "hourly")
    data = report.data
    assert (data["messages"], data["active"], data["joins"], data["red_packets"], data["members"]) == (10, 3, 1, 1, 5)
    assert "消息 10 条，3 人发言" in (report.text or "")
    assert is_png(Path(chart.path or "")) and not notes
