"""The purge job alone: who is listed (silent long enough, past the grace days, not an admin), in what
order, and what the operators get (a summary and the CSV)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from bot.events import Event
from handlers import purge
from tests.conftest import BASIC_CONFIG, CST, EventFactory
from tests.features.conftest import OpenHarness

DUE = datetime(2026, 3, 20, 21, 30, tzinfo=CST)


def at(days_ago: float) -> Callable[..., Event]:
    """Events exactly `days_ago` days before the job runs."""
    return partial(EventFactory(DUE - timedelta(days=days_ago)), after=0)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.both_databases  # SQLite and PostgreSQL (tests/features/conftest.py)
async def test_silent_members_past_the_grace_days_are_listed_longest_silent_first(
        harness: OpenHarness, tmp_path: Path) -> None:
    config = BASIC_CONFIG.replace("bot: {name: 小管家, id: bot}",
                                  f"bot: {{name: 小管家, id: bot, reports_dir: '{tmp_path / 'reports'}'}}")
    h = await harness(purge.FEATURE, config)
    h.seen(at(40)("join", user="u_old", user_name="老潜水"), at(30)(text="第一句也是最后一句", user="u_old",
                                                                user_name="老潜水"))
    h.seen(at(25)("join", user="u_mute", user_name="从不说话"))
    h.seen(at(3)("join", user="u_fresh", user_name="新来的"))  # silent, but within the grace days
    h.seen(at(40)("join", user="admin1", user_name="群主"))  # silent, but an admin
    h.seen(at(1)(text="昨天还在", user="u_talk", user_name="活跃"))
    actions, notes = await h.run_job("purge:21:30", DUE)
    summary, attachment = actions
    assert (summary.rule, summary.user, summary.data["members"]) == ("purge_report", "op1", ["u_old", "u_mute"])
    assert "老潜水（30 天）" in (summary.text or "") and attachment.action == "send_file"
    rows = read_csv(Path(attachment.path or ""))
    assert [r[0] for r in rows[1:]] == ["u_old", "u_mute"]
    assert (rows[1][4], rows[2][4], rows[2][3]) == ("30", "25", "从未")  # days silent; u_mute never spoke
    assert any("2 inactive" in n for n in notes)


async def test_without_operators_the_admins_get_the_list_and_with_neither_the_run_says_so(
        harness: OpenHarness, tmp_path: Path) -> None:
    admins_only = BASIC_CONFIG.replace("  operators: [op1]\n", "").replace(
        "bot: {name: 小管家, id: bot}", f"bot: {{name: 小管家, id: bot, reports_dir: '{tmp_path / 'reports'}'}}")
    h = await harness(purge.FEATURE, admins_only)
    h.seen(at(30)("join", user="u_old"))
    actions, _ = await h.run_job("purge:21:30", DUE)
    assert {a.user for a in actions} == {"admin1"} and actions[0].data["members"] == ["u_old"]

    nobody = admins_only.replace("  admins: [admin1]\n", "")
    h2 = await harness(purge.FEATURE, nobody)
    h2.seen(at(30)("join", user="u_old"))
    actions, notes = await h2.run_job("purge:21:30", DUE)
    assert actions == [] and any("no operators or admins" in n for n in notes)
