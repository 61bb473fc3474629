"""The scheduled jobs one by one: purge lists (who is listed, auto-kick), announcements (silent
groups, days, cron), anomalies (quiet day, ad spike, mass leave), stats without a font, the CLI, and
the scheduler that follows the bot's clock."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import DrivenClock
from bot.events import parse_event
from bot.feature import JobSpec
from rules.config import Config
from scheduler.jobs import jobs_from_config
from tests.conftest import BASIC_CONFIG, CST, ROOT, feed

JOBS_CONFIG = BASIC_CONFIG + """
  purge: {time: "21:30", inactive_days: 14, grace_days: 7, whitelist: [vip]}
  stats: {enabled: false}
  announcements:
    - {time: "09:00", days: weekdays, texts: [工作日早上好]}
    - {time: "30 12 * * 6", texts: [周六午安]}
  anomaly: {mass_leave_count: 3, mass_leave_minutes: 60, ad_spike_min: 3, quiet_min_usual: 10}
"""


@pytest.fixture
def config_text() -> str:
    return JOBS_CONFIG


def ev(n: str, when: datetime, type_: str = "text", user: str = "u1", **kw: object):
    body = {"id": n, "ts": when.isoformat(), "type": type_, "group": "g1", "group_name": "测试群", "user": user,
            "user_name": f"{user}-名字"} | kw
    if type_ == "text" and "text" not in body:
        body["text"] = "今天也来聊两句"
    return parse_event(body)


def job(runtime, job_id: str) -> JobSpec:
    return {j.id: j for j in jobs_from_config(runtime.bot.config)}[job_id]


async def run_at(runtime, clock: DrivenClock, job_id: str, when: datetime) -> list:
    platform = runtime.outbox.platform
    before = len(platform.sent)
    clock.set(when)
    await runtime.bot.commit()
    assert await runtime.bot.run_job(job(runtime, job_id), when)
    await runtime.outbox.drain()  # a job's messages to one chat go a second apart
    return platform.sent[before:]


D0 = datetime(2026, 4, 1, 10, 0, tzinfo=CST)


async def test_purge_lists_silent_members_but_not_admins_operators_whitelist_newcomers_or_the_gone(
        runtime, clock: DrivenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    roster = [{"id": u, "name": f"{u}-名字"} for u in ("quiet", "admin1", "op1", "vip", "talker", "gone", "late")]
    await feed(runtime, clock, ev("r", D0, "roster", user="x", members=roster),
               ev("t0", D0 + timedelta(hours=1), user="talker"), ev("q0", D0 + timedelta(hours=2), user="quiet"),
               ev("l", D0 + timedelta(days=3), "leave", user="gone"),
               ev("t1", D0 + timedelta(days=19), user="talker"),
               ev("n", D0 + timedelta(days=17), "join", user="new"))
    sent = await run_at(runtime, clock, "purge:21:30", datetime(2026, 4, 21, 21, 30, tzinfo=CST))
    text, file = sent
    assert text.user == file.user == "op1" and text.rule == "purge_report"
    # "late" never spoke and came with the roster (20 days ago): listed first; "quiet" spoke 20 days ago
    assert text.data["members"] == ["late", "quiet"]
    assert Path(file.path).name == "purge-g1-2026-04-21.csv"
    assert (await asyncio.to_thread(Path(file.path).read_bytes))[:3] == b"\xef\xbb\xbf"


async def test_auto_kick_dry_run_tells_operators_and_on_removes_up_to_the_cap(
        runtime, clock: DrivenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    roster = [{"id": f"m{n}"} for n in range(5)]
    await feed(runtime, clock, ev("r", D0, "roster", user="x", members=roster))
    base = JOBS_CONFIG.replace("whitelist: [vip]}", "whitelist: [vip], auto_kick: dry_run, auto_kick_daily_cap: 2}")
    runtime.bot.holder.current = Config.from_text(base)
    sent = await run_at(runtime, clock, "purge:21:30", datetime(2026, 4, 21, 21, 30, tzinfo=CST))
    assert [a.action for a in sent] == ["send", "send_file", "send"]
    assert sent[2].rule == "purge_report/auto_kick" and sent[2].data["dry_run"] and "试运行" in sent[2].text
    runtime.bot.holder.current = Config.from_text(base.replace("auto_kick: dry_run", "auto_kick: on"))
    sent = await run_at(runtime, clock, "purge:21:30", datetime(2026, 4, 22, 21, 30, tzinfo=CST))
    kicks = [a for a in sent if a.action == "kick"]
    assert [(k.group, k.user) for k in kicks] == [("g1", "m0"), ("g1", "m1")] and "未活跃" in kicks[0].reason


async def test_announcements_skip_a_silent_group_and_follow_days_and_cron(runtime, clock: DrivenClock) -> None:
    await feed(runtime, clock, ev("a", datetime(2026, 4, 2, 20, 0, tzinfo=CST)))  # Thursday
    monday = await run_at(runtime, clock, "announce:09:00|weekdays", datetime(2026, 4, 6, 9, 0, tzinfo=CST))
    assert monday == []  # three days without a message: silent
    await feed(runtime, clock, ev("b", datetime(2026, 4, 6, 9, 30, tzinfo=CST)))
    tuesday = await run_at(runtime, clock, "announce:09:00|weekdays", datetime(2026, 4, 7, 9, 0, tzinfo=CST))
    assert [(a.group, a.text) for a in tuesday] == [("g1", "工作日早上好")]
    trigger = job(runtime, "announce:09:00|weekdays").trigger
    assert trigger.get_next_fire_time(None, datetime(2026, 4, 10, 9, 1, tzinfo=CST)).weekday() == 0  # not Sat/Sun
    cron = job(runtime, "announce:30 12 * * 6|*").trigger
    assert cron.get_next_fire_time(None, datetime(2026, 4, 7, tzinfo=CST)) == datetime(2026, 4, 11, 12, 30,
                                                                                        tzinfo=CST)


async def test_mass_leave_and_ad_spike_alerts_give_the_numbers_once(runtime, clock: DrivenClock) -> None:
    t = datetime(2026, 4, 10, 14, 5, tzinfo=CST)
    ads = [ev(f"ad{n}", t + timedelta(minutes=n), user=f"s{n}", text="兼职刷单日结，加V: abc12345 详聊")
           for n in range(4)]
    leaves = [ev(f"lv{n}", t + timedelta(minutes=10 + n), "leave", user=f"p{n}") for n in range(3)]
    await feed(runtime, clock, *ads, *leaves)
    sent = await run_at(runtime, clock, "anomaly:hourly", datetime(2026, 4, 10, 15, 0, tzinfo=CST))
    rules = {a.rule: a for a in sent}
    assert set(rules) == {"anomaly/mass_leave", "anomaly/ad_spike"} and all(a.user == "op1" for a in sent)
    assert rules["anomaly/mass_leave"].data["count"] == 3 and "3 人退群" in rules["anomaly/mass_leave"].text
    assert rules["anomaly/ad_spike"].data["today"] == 4 and rules["anomaly/ad_spike"].data["usual"] == 0
    again = await run_at(runtime, clock, "anomaly:hourly", datetime(2026, 4, 10, 16, 0, tzinfo=CST))
    assert again == []  # the same departures and the same day's ads are not reported twice


async def test_quiet_day_alert_compares_with_the_usual_day_by_this_hour(runtime, clock: DrivenClock) -> None:
    events = []
    for day in range(1, 15):  # 14 ordinary days: 12 messages before noon
        for n in range(12):
            events.append(ev(f"d{day}-{n}", datetime(2026, 4, day, 9, n * 4, tzinfo=CST), user=f"u{n}"))
    events.append(ev("today", datetime(2026, 4, 15, 9, 0, tzinfo=CST)))
    await feed(runtime, clock, *events)
    morning = await run_at(runtime, clock, "anomaly:hourly", datetime(2026, 4, 15, 11, 0, tzinfo=CST))
    assert morning == []  # before quiet_from (12:00)
    [alert] = await run_at(runtime, clock, "anomaly:hourly", datetime(2026, 4, 15, 13, 0, tzinfo=CST))
    assert alert.rule == "anomaly/quiet" and alert.data["today"] == 1 and alert.data["usual"] == 12.0
    assert "到 13 点只有 1 条消息，平时这个时候约 12.0 条" in alert.text
    assert await run_at(runtime, clock, "anomaly:hourly", datetime(2026, 4, 15, 14, 0, tzinfo=CST)) == []


async def test_stats_report_goes_out_as_text_when_the_chart_cannot_be_drawn(
        runtime, clock: DrivenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers.stats import charts

    monkeypatch.chdir(tmp_path)

    monkeypatch.setenv(charts.ENV_FONT, str(tmp_path / "none.ttf"))  # the chart process finds no font
    runtime.bot.holder.current = Config.from_text(JOBS_CONFIG.replace("stats: {enabled: false}", "stats: {}"))
    await feed(runtime, clock, ev("a", datetime(2026, 4, 10, 9, 0, tzinfo=CST)))
    sent = await run_at(runtime, clock, "stats:22:00", datetime(2026, 4, 10, 22, 0, tzinfo=CST))
    assert [a.action for a in sent] == ["send"] and "消息 1 条" in sent[0].text


async def test_clock_scheduler_fires_jobs_as_the_bots_clock_passes_them(runtime) -> None:
    from bot.clock import OffsetClock
    from scheduler.live import ClockScheduler

    clock = OffsetClock()
    clock.advance(datetime(2026, 4, 7, 8, 59, 59, 500000, tzinfo=CST) - clock.now())
    runtime.bot.clock = clock
    await feed_live(runtime, ev("a", datetime(2026, 4, 7, 8, 0, tzinfo=CST)))
    scheduler = ClockScheduler(runtime.bot)
    scheduler.TICK_SECONDS = 0.05
    scheduler.start()
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if any(a.text == "工作日早上好" for a in runtime.outbox.platform.sent):
                break
        assert await runtime.store.audit.job_ran("announce:09:00|weekdays", datetime(2026, 4, 7, 9, 0, tzinfo=CST))
        clock.advance(timedelta(days=4, hours=4))  # the console's ":time +4d": Saturday's cron job runs on the way
        for _ in range(100):
            await asyncio.sleep(0.05)
            if await runtime.store.audit.job_ran("announce:30 12 * * 6|*", datetime(2026, 4, 11, 12, 30, tzinfo=CST)):
                break
        else:
            pytest.fail("the Saturday job did not run after the clock jumped")
    finally:
        await scheduler.stop()


async def feed_live(runtime, *events) -> None:
    for event in events:
        await runtime.bot.process(event)
    await runtime.bot.commit()


def test_cli_purge_list_and_stats(tmp_path: Path) -> None:
    from tests.test_replay import QUNBOT

    now = datetime.now(CST).replace(microsecond=0)
    rows = [ev("r", now - timedelta(days=30), "roster", user="x",
               members=[{"id": "quiet", "name": "潜水员"}, {"id": "talker", "name": "话痨"}]),
            ev("t", now - timedelta(hours=1), user="talker")]
    transcript = tmp_path / "t.jsonl"
    transcript.write_text("".join(r.model_dump_json(exclude_none=True) + "\n" for r in rows), encoding="utf-8")
    db = f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"
    config = ROOT / "config.yaml"

    def qunbot(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*QUNBOT, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)

    assert qunbot("replay", "--config", str(config), "--db", db, str(transcript)).returncode == 0
    listed = qunbot("purge-list", "--config", str(config), "--db", db, "--group", "测试群", "--csv", "p.csv")
    assert listed.returncode == 0, listed.stderr
    assert "1 人超过" in listed.stdout and "quiet\t潜水员\t30 天" in listed.stdout
    lines = (tmp_path / "p.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("成员ID,群昵称,") and lines[1].startswith("quiet,潜水员,") and ",从未," in lines[1]
    chart = qunbot("stats", "--config", str(config), "--db", db, "--group", "g1", "--days", "7", "--png", "c.png")
    assert chart.returncode == 0, chart.stderr
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    missing = qunbot("purge-list", "--config", str(config), "--db", db, "--group", "nope")
    assert missing.returncode == 2 and "数据库里没有群" in missing.stderr


async def test_a_member_who_never_spoke_is_silent_from_joining_not_forever(
        runtime, clock: DrivenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runtime.bot.holder.current = Config.from_text(JOBS_CONFIG.replace("grace_days: 7", "grace_days: 0"))
    await feed(runtime, clock, ev("old", D0, "join", user="old"),
               ev("fresh", D0 + timedelta(days=18), "join", user="fresh"),
               ev("talk", D0 + timedelta(days=5), user="spoke"))
    text, _file = await run_at(runtime, clock, "purge:21:30", datetime(2026, 4, 21, 21, 30, tzinfo=CST))
    # "old" joined 20 days ago and never spoke; "spoke" last spoke 16 days ago; "fresh" joined 3 days ago
    assert text.data["members"] == ["old", "spoke"]


async def test_a_join_raid_across_the_hour_boundary_is_reported_once(runtime, clock: DrivenClock) -> None:
    t = datetime(2026, 4, 10, 9, 57, 30, tzinfo=CST)
    runtime.bot.holder.current = Config.from_text(JOBS_CONFIG.replace(
        "anomaly: {", "anomaly: {join_raid_count: 6, join_raid_minutes: 5, "))
    await feed(runtime, clock, *[ev(f"j{n}", t + timedelta(seconds=30 * n), "join", user=f"r{n}") for n in range(8)])
    at_ten = await run_at(runtime, clock, "anomaly:hourly", datetime(2026, 4, 10, 10, 0, tzinfo=CST))
    at_eleven = await run_at(runtime, clock, "anomaly:hourly", datetime(2026, 4, 10, 11, 0, tzinfo=CST))
    raids = [a for a in at_ten + at_eleven if a.rule == "anomaly/join_raid"]
    assert len(raids) == 1 and raids[0].data["count"] == 8 and "09:57–10:01" in raids[0].text
    at_noon = await run_at(runtime, clock, "anomaly:hourly", datetime(2026, 4, 10, 12, 0, tzinfo=CST))
    assert not [a for a in at_noon if a.rule == "anomaly/join_raid"]


async def test_an_ad_spike_is_reported_once_per_24_hours(runtime, clock: DrivenClock) -> None:
    t = datetime(2026, 4, 10, 20, 0, tzinfo=CST)
    await feed(runtime, clock, *[ev(f"ad{n}", t + timedelta(minutes=n), user=f"s{n}",
                                    text="兼职刷单日结，加V: abc12345 详聊") for n in range(4)])
    first = await run_at(runtime, clock, "anomaly:hourly", datetime(2026, 4, 10, 21, 0, tzinfo=CST))
    after_midnight = await run_at(runtime, clock, "anomaly:hourly", datetime(2026, 4, 11, 0, 0, tzinfo=CST))
    assert [a.rule for a in first] == ["anomaly/ad_spike"] and after_midnight == []


async def test_leaves_found_by_a_roster_count_once_in_the_day_but_make_no_mass_leave_burst(
        runtime, clock: DrivenClock) -> None:
    from handlers.stats.repository import StatsRepository
    from handlers.stats.series import numbers

    t = datetime(2026, 4, 10, 14, 0, tzinfo=CST)
    members = [{"id": f"p{n}"} for n in range(6)]
    await feed(runtime, clock, ev("r1", t, "roster", user=None, members=members),
               # after downtime four are gone at once; one of them is announced by the platform later
               ev("r2", t + timedelta(minutes=30), "roster", user=None, members=members[4:]),
               ev("lv", t + timedelta(minutes=31), "leave", user="p0"))
    sent = await run_at(runtime, clock, "anomaly:hourly", datetime(2026, 4, 10, 15, 0, tzinfo=CST))
    assert [a for a in sent if a.rule == "anomaly/mass_leave"] == []  # the roster's time is not theirs
    stats = runtime.store.repository(StatsRepository)
    day = await numbers(stats, "g1", t.date(), CST, t + timedelta(hours=2), talkers=0)
    assert day["leaves"] == 4  # p0 left once, though both the roster and the platform said so


async def test_groups_whose_reports_would_go_nowhere_are_named_once_at_start(
        tmp_path, clock: DrivenClock, caplog) -> None:
    from bot.app import start_runtime, unreported_groups
    from handlers import FEATURES
    from rules.reload import ConfigHolder
    from tests.conftest import FakePlatform

    text = BASIC_CONFIG.replace("  operators: [op1]\n", "").replace("  admins: [admin1]\n", "") + (
        'groups:\n  "g2": {operators: [op2]}\n')
    rt = await start_runtime(ConfigHolder(Config.from_text(text)), f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
                             clock, FakePlatform(), FEATURES)
    try:
        assert await unreported_groups(rt) == ["all groups (the defaults have neither)"]
        for group, name in (("g1", "无人群"), ("g2", "有运营群")):
            await feed(rt, clock, parse_event({"id": f"x{group}", "ts": clock.now().isoformat(), "type": "text",
                                               "group": group, "group_name": name, "user": "u1", "text": "hi"}))
        assert await unreported_groups(rt) == ["无人群 (g1)"]
        assert "无人群 (g1)" in caplog.text and "no operators or admins" in caplog.text
    finally:
        await rt.close()


async def test_the_clock_scheduler_stops_after_the_job_it_is_running_not_in_its_middle(runtime) -> None:
    """Cancelled mid-statement, a job left the connection's transaction broken, and closing the store failed."""
    from scheduler.live import ClockScheduler

    scheduler = ClockScheduler(runtime.bot)
    finished: list[bool] = []

    async def slow_job(*_args) -> None:
        await asyncio.sleep(0.2)
        finished.append(True)

    scheduler._in_job = True  # as while a job runs
    scheduler._task = asyncio.create_task(slow_job())
    scheduler.shutdown()
    await scheduler.stop()
    assert finished == [True] and scheduler._task.done() and not scheduler._task.cancelled()
