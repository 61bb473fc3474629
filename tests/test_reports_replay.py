"""Three weeks of a training-camp group replayed with --until (tests/scenario_month.py): announcements
at 09:00 and 21:00 local every day, a `peak` announcement at the transcript's busiest hour, a daily
purge report listing exactly the silent members, a daily stats report with a readable chart, and an
anomaly alert on the day of the join raid."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest
from PIL import Image

from bot.adapters.replay import replay
from rules.config import Config
from tests import scenario_month as sm
from tests.conftest import CST


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    import asyncio
    import os

    folder = tmp_path_factory.mktemp("month")
    transcript, config = sm.write(folder)
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)  # reports_dir is relative: data/reports under the run's folder
    try:
        # with a database of its own (without --db a replay keeps its reports in a temporary folder)
        db_url = f"sqlite+aiosqlite:///{folder / 'r.db'}"
        status = asyncio.run(replay(Config.from_file(config), transcript, db_url=db_url,
                                    until=datetime.fromisoformat(sm.UNTIL), out=out))
    finally:
        os.chdir(cwd)
    assert status == 0
    return folder, [json.loads(line) for line in out.getvalue().splitlines()]


def _local(action: dict) -> datetime:
    return datetime.fromisoformat(action["ts"]).astimezone(CST)


def test_announcements_at_nine_and_twenty_one_every_day(month: tuple[Path, list[dict]]) -> None:
    _, actions = month
    fixed = [a for a in actions if a["rule"] == "announcements"]
    times = Counter((_local(a).date().isoformat(), a["data"]["time"]) for a in fixed)
    assert len(times) == sm.DAYS * 2 and set(times.values()) == {1}
    assert all(_local(a).strftime("%H:%M") == a["data"]["time"] for a in fixed)
    assert {a["group"] for a in fixed} == {sm.GROUP["group"]}
    mornings = [a for a in fixed if a["data"]["time"] == "09:00"]
    picks = [a["data"]["text"] for a in mornings]
    assert all(x != y for x, y in pairwise(picks)) and set(picks) == {0, 1}  # rotate daily
    first_of_kind = next(a for a in mornings if a["data"]["text"] == 0)
    day = "一二三四五六日"[_local(first_of_kind).weekday()]
    assert first_of_kind["text"] == f"早上好☀️ 星期{day}，记得签到"  # {weekday} is filled


def test_peak_announcement_at_the_busiest_hour_with_its_reason(month: tuple[Path, list[dict]]) -> None:
    _, actions = month
    peaks = [a for a in actions if a["rule"] == "announcements/peak"]
    assert len(peaks) == sm.DAYS  # one a day
    early = [a for a in peaks if "fallback" in a["data"]["why"]]
    assert early and all(_local(a).hour == 21 for a in early)  # too little data at first: 21:00
    settled = [a for a in peaks if "fallback" not in a["data"]["why"]]
    assert len(settled) >= sm.DAYS - 3
    assert all(_local(a).strftime("%H:%M") == "20:00" and a["data"]["peak_hour"] == 20 for a in settled)
    assert "busiest hour of the last 14 days: 20:00-20:59" in settled[-1]["data"]["why"]


def test_purge_report_lists_exactly_the_silent_members(month: tuple[Path, list[dict]]) -> None:
    folder, actions = month
    reports = [a for a in actions if a["rule"] == "purge_report"]
    assert all(a["user"] == sm.OPERATOR and _local(a).strftime("%H:%M") == "21:30" for a in reports)
    last_day = [a for a in reports if _local(a).date() == datetime.fromisoformat(sm.UNTIL).date()]
    text, file = (next(a for a in last_day if a["action"] == k) for k in ("send", "send_file"))
    expected = ["mute1", "mute2", "faded3", "faded2", "faded1"]  # never spoke first, then by last activity
    assert text["data"]["members"] == expected and file["data"]["count"] == len(expected)
    assert text["data"]["group"] == sm.GROUP["group"]
    assert "5 人超过 14 天" in text["text"] and "mute1-城市-岗位（20 天）" in text["text"]
    raw = (folder / file["path"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: spreadsheets read the Chinese names
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["成员ID", "群昵称", "进群时间（或首次记录）", "最后活跃", "未活跃天数", "消息数", "积分",
                       "活跃度"]
    assert [r[0] for r in rows[1:]] == expected
    assert rows[1][1] == "mute1-城市-岗位" and rows[1][3] == "从未" and rows[1][7] == "沉默"
    # early days: nobody silent long enough yet
    first = next(a for a in reports if a["action"] == "send")
    assert first["data"]["members"] == [] and "没有超过 14 天不活跃" in first["text"]
    listed = {m for a in reports for m in a["data"].get("members", [])}
    assert not listed & {*sm.ACTIVE, sm.NEWCOMER, sm.ADMIN, *(f"raid{n}" for n in range(12))}


def test_daily_stats_report_with_a_chart(month: tuple[Path, list[dict]]) -> None:
    folder, actions = month
    stats = [a for a in actions if a["rule"] == "stats_report"]
    texts = [a for a in stats if a["action"] == "send"]
    assert len(texts) == sm.DAYS and all(_local(a).strftime("%H:%M") == "22:00" for a in texts)
    raid_day = texts[sm.RAID_DAY]
    assert raid_day["data"]["joins"] == 12 and raid_day["data"]["active"] == len(sm.ACTIVE)
    assert raid_day["data"]["checkins"] == len(sm.ACTIVE) and "话痨榜" in raid_day["text"]
    images = [a for a in stats if a["action"] == "send_image"]
    hourly = [a for a in images if a["data"]["chart"] == "hourly"]
    trend = [a for a in images if a["data"]["chart"] == "trend"]
    assert len(hourly) == sm.DAYS and len(trend) == 3  # the weekly trend on Mondays (4, 11, 18 May)
    with Image.open(folder / hourly[-1]["path"]) as png:
        assert png.format == "PNG" and png.width >= 1000


def test_join_raid_alert_on_the_raid_day_only(month: tuple[Path, list[dict]]) -> None:
    _, actions = month
    alerts = [a for a in actions if a["rule"].startswith("anomaly/")]
    assert [a["rule"] for a in alerts] == ["anomaly/join_raid"]
    [alert] = alerts
    assert alert["user"] == sm.OPERATOR and _local(alert).strftime("%m-%d %H:%M") == "05-19 15:00"
    assert alert["data"]["count"] == 12 and alert["data"]["group"] == sm.GROUP["group"]
    assert "12 人" in alert["text"] and "14:10" in alert["text"]
