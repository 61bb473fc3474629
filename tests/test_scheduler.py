"""Scheduled jobs in replay: due instants from APScheduler triggers, in order, before later events,
the clock set to each due time, never twice for the same instant."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from bot.adapters.replay import replay
from bot.events import Action
from bot.feature import JobContext, JobSpec
from rules.config import Config
from scheduler.driven import DueJobs
from scheduler.live import latest_fire_time
from tests.conftest import BASIC_CONFIG, ROOT

CST = timezone(timedelta(hours=8))


def announcer(job_id: str, text: str, hour: int, minute: int = 0) -> JobSpec:
    async def run(ctx: JobContext) -> list[Action]:
        return [Action(action="send", rule="announcements", group="g1",
                       text=f"{text} @ {ctx.clock.now().astimezone(CST):%H:%M}", data={"due": ctx.due.isoformat()})]

    return JobSpec(job_id, CronTrigger(hour=hour, minute=minute, timezone="Asia/Shanghai"), run)


async def _noop(ctx: JobContext) -> list[Action]:
    return []


def test_due_jobs_come_in_time_order_across_days() -> None:
    jobs = [announcer("night", "晚上好", 21), announcer("morning", "早上好", 9)]
    due = DueJobs(jobs, datetime(2026, 3, 2, 10, 0, tzinfo=CST))
    fired = [(d.astimezone(CST).strftime("%d %H:%M"), j.id) for d, j in due.due_until(
        datetime(2026, 3, 3, 21, 0, tzinfo=CST))]
    assert fired == [("02 21:00", "night"), ("03 09:00", "morning"), ("03 21:00", "night")]


def test_due_jobs_pass_the_hour_repeated_in_autumn_once_each_in_time_order() -> None:
    from zoneinfo import ZoneInfo

    new_york = ZoneInfo("America/New_York")  # 2026-11-01 01:00-02:00 happens twice (EDT, then EST)
    jobs = [JobSpec("hourly", CronTrigger(minute=0, timezone=new_york), _noop)]
    due = DueJobs(jobs, datetime(2026, 11, 1, 4, 30, tzinfo=UTC))
    fired = [when.astimezone(UTC).hour for when, _job in
             due.due_until(datetime(2026, 11, 1, 9, 30, tzinfo=UTC))]  # it used to loop for ever
    assert fired == [5, 6, 7, 8, 9]  # 01:00 EDT, 01:00 EST, 02:00, 03:00, 04:00 EST


def test_live_scheduler_finds_the_instant_a_late_run_belongs_to() -> None:
    trigger = CronTrigger(hour=9, minute=0, timezone="Asia/Shanghai")
    now = datetime(2026, 3, 2, 9, 12, 30, tzinfo=CST)
    assert latest_fire_time(trigger, now, 1800) == datetime(2026, 3, 2, 9, 0, tzinfo=CST)
    assert latest_fire_time(trigger, now, 600) is None  # more than 10 minutes late: skipped


def write_transcript(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


async def test_replay_runs_due_jobs_before_later_events_and_until(tmp_path: Path) -> None:
    base = {"type": "text", "group": "g1", "group_name": "群", "user": "u1", "user_name": "小明"}
    write_transcript(tmp_path / "t.jsonl", [
        {**base, "id": "a", "ts": "2026-03-02T08:59:00+08:00", "text": "群规"},
        {**base, "id": "b", "ts": "2026-03-02T09:00:00+08:00", "text": "hello"},
        {**base, "id": "c", "ts": "2026-03-02T20:00:00+08:00", "text": "群规"},
    ])
    jobs = [announcer("morning", "早上好", 9), announcer("night", "晚上好", 21)]
    db = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    out = io.StringIO()
    until = datetime(2026, 3, 3, 9, 30, tzinfo=CST)
    assert await replay(Config.from_text(BASIC_CONFIG), tmp_path / "t.jsonl", db_url=db, until=until, out=out,
                        jobs=jobs) == 0
    actions = [json.loads(line) for line in out.getvalue().splitlines()]
    seq = [(a["rule"], a.get("data", {}).get("event") or a["text"]) for a in actions]
    assert seq == [("keywords/群规", "a"), ("announcements", "早上好 @ 09:00"), ("keywords/群规", "c"),
                   ("announcements", "晚上好 @ 21:00"), ("announcements", "早上好 @ 09:00")]
    job_actions = [a for a in actions if a["rule"] == "announcements"]
    assert all("event" not in a["data"] for a in job_actions)
    assert datetime.fromisoformat(job_actions[0]["ts"]) == datetime(2026, 3, 2, 9, 0, tzinfo=CST)
    # the same transcript again on the same database: every event and job instant was seen
    again = io.StringIO()
    await replay(Config.from_text(BASIC_CONFIG), tmp_path / "t.jsonl", db_url=db, until=until, out=again, jobs=jobs)
    assert again.getvalue() == ""


def test_the_shipped_config_schedules_its_announcements_reports_and_checks() -> None:
    from scheduler.jobs import jobs_from_config

    jobs = {j.id: j for j in jobs_from_config(Config.from_file(ROOT / "config.yaml"))}
    assert set(jobs) == {"announce:09:00|*", "announce:21:00|*", "purge:21:30", "stats:22:00", "anomaly:hourly",
                         "retention:04:00", "rename-followup:20:00"}
    morning = jobs["announce:09:00|*"].trigger
    assert morning.get_next_fire_time(None, datetime(2026, 3, 2, 9, 1, tzinfo=CST)) == datetime(
        2026, 3, 3, 9, 0, tzinfo=CST)


def test_jobs_come_from_the_defaults_and_every_group_override() -> None:
    from scheduler.jobs import jobs_from_config

    config = Config.from_text(BASIC_CONFIG + """
  announcements: [{time: "09:00", texts: [早]}]
  purge: {time: "21:30"}
groups:
  "班级-*":
    announcements: [{time: "0 8 * * 1-5", texts: [工作日早]}, {time: peak, texts: [高峰]}]
    purge: {time: "20:00"}
  "g9": {stats: {enabled: false}, anomaly: {enabled: false}}
""")
    ids = sorted(j.id for j in jobs_from_config(config))
    assert ids == ["announce:0 8 * * 1-5|*", "announce:09:00|*", "announce:peak", "anomaly:hourly",
                   "purge:20:00", "purge:21:30", "retention:04:00", "stats:22:00"]


async def test_a_reload_that_changes_an_announcement_time_moves_the_job(tmp_path: Path) -> None:
    from bot.app import start_runtime
    from handlers import FEATURES
    from rules.reload import ConfigHolder
    from scheduler.live import LiveScheduler
    from tests.conftest import FakePlatform

    def text(hhmm: str) -> str:
        return BASIC_CONFIG + f"""
  announcements: [{{time: "{hhmm}", texts: [早上好]}}]
  purge: {{enabled: false}}
  stats: {{enabled: false}}
  anomaly: {{enabled: false}}
  retention: {{enabled: false}}
"""

    from bot.clock import SystemClock

    path = tmp_path / "config.yaml"
    path.write_text(text("09:00"), encoding="utf-8")
    holder = ConfigHolder(Config.from_file(path), path)

    rt = await start_runtime(holder, f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", SystemClock(), FakePlatform(),
                             FEATURES)
    scheduler = LiveScheduler(rt.bot)
    holder.listeners.append(scheduler.rebuild)
    scheduler.start()
    try:
        assert [(j.id, str(j.trigger)) for j in scheduler.scheduler.get_jobs()] == [
            ("announce:09:00|*", "cron[day_of_week='*', hour='9', minute='0']")]
        path.write_text(text("08:30"), encoding="utf-8")
        assert holder.reload()
        jobs = scheduler.scheduler.get_jobs()
        assert [(j.id, j.trigger.fields[5].expressions[0].first) for j in jobs] == [("announce:08:30|*", 8)]
        assert jobs[0].next_run_time.astimezone(CST).strftime("%H:%M") == "08:30"
        assert holder.reload()  # the same config again: the same single job
        assert [j.id for j in scheduler.scheduler.get_jobs()] == ["announce:08:30|*"]
    finally:
        scheduler.shutdown()
        await rt.close()


async def test_a_job_missed_less_than_the_grace_ago_runs_at_start_once(tmp_path: Path) -> None:
    from bot.app import start_runtime
    from bot.clock import SystemClock
    from bot.events import parse_event
    from handlers import FEATURES
    from rules.reload import ConfigHolder
    from scheduler.live import LiveScheduler
    from tests.conftest import FakePlatform

    clock = SystemClock()
    now = clock.now().astimezone(CST)
    missed = (now - timedelta(minutes=10)).strftime("%H:%M")
    long_ago = (now - timedelta(minutes=50)).strftime("%H:%M")
    config = Config.from_text(BASIC_CONFIG + f"""
  announcements: [{{time: "{missed}", texts: [补发的公告]}}, {{time: "{long_ago}", texts: [太晚的公告]}}]
  purge: {{enabled: false}}
  stats: {{enabled: false}}
  anomaly: {{enabled: false}}
""")
    db = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    for run in range(2):  # the second start finds the run recorded
        platform = FakePlatform()
        rt = await start_runtime(ConfigHolder(config), db, clock, platform, FEATURES)
        await rt.bot.process(parse_event({"id": f"hi{run}", "ts": now.isoformat(), "type": "text", "group": "g1",
                                          "group_name": "群", "user": "u1", "user_name": "小明", "text": "早"}))
        await rt.bot.commit()
        scheduler = LiveScheduler(rt.bot)
        scheduler.start()
        try:
            ran = await scheduler._catch_up
        finally:
            scheduler.shutdown()
        await rt.outbox.drain(seconds=2)
        await rt.close()
        texts = [a.text for a in platform.sent if a.rule == "announcements"]
        assert (ran, texts) == ((["announce:" + missed + "|*"], ["补发的公告"]) if run == 0 else ([], []))
