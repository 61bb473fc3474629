"""Report queries on SQLite and PostgreSQL: activity by local hour in any time zone, the purge list
(order, times, points, tiers), the CSV."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import open_store
from handlers.levels.ladder import tier_of
from handlers.levels.repository import LevelsRepository
from handlers.points.repository import PointsRepository
from handlers.purge.listing import Candidate, purge_list, write_csv
from handlers.purge.repository import PurgeRepository
from rules.config import Config
from tests.conftest import BASIC_CONFIG


async def test_hourly_activity_adds_up_to_local_hours_in_half_hour_zones(any_db_url: str) -> None:
    store = open_store(any_db_url)
    await store.open()
    try:
        kolkata = ZoneInfo("Asia/Kolkata")  # UTC+5:30
        start = datetime(2026, 3, 3, 10, 0, tzinfo=kolkata)
        for n in range(30):  # 10:00-10:29 local: all in local hour 10
            store.events.record_event(f"e{n}", start + timedelta(minutes=n), "g", "u", "text", {"text": "x"}, start)
        store.events.record_event("other", start, "h", "u", "text", {"text": "x"}, start)
        await store.commit()
        buckets = await store.events.hourly_activity("g", start - timedelta(days=1), start + timedelta(days=1))
        by_hour = Counter()
        for at, n in buckets.items():
            by_hour[at.astimezone(kolkata).hour] += n
        assert by_hour == {10: 30}
    finally:
        await store.close()


def test_purge_csv_quotes_names_that_look_like_formulas(tmp_path: Path) -> None:
    now = datetime(2026, 3, 3, tzinfo=UTC)
    rows = [Candidate("u1", '=HYPERLINK("http://x","点我")', now, None, 20, 0, 0, "沉默"),
            Candidate("u2", "+8613800000000", now, None, 20, 0, 0, "沉默"),
            Candidate("u3", "普通名字", now, now, 15, 3, 2, "普通")]
    text = write_csv(rows, tmp_path / "p.csv", UTC, never="从未").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[1].startswith("""u1,"'=HYPERLINK(""") and lines[2].startswith("u2,'+86")
    assert lines[3].startswith("u3,普通名字,") and ",从未," in lines[1]


async def test_purge_list_order_times_points_and_tiers_agree_with_the_full_activity_query(any_db_url: str) -> None:
    config = Config.from_text(BASIC_CONFIG + "  purge: {inactive_days: 14, grace_days: 7, whitelist: [vip]}\n")
    settings = config.group("g").settings
    now = datetime(2026, 3, 31, 13, 30, tzinfo=UTC)
    store = open_store(any_db_url)
    await store.open()
    try:
        n = 0

        def say(user: str, when: datetime, type_: str = "text", group: str = "g") -> None:
            nonlocal n
            n += 1
            store.events.record_event(f"e{n}", when, group, user, type_, {"text": "x"}, when)
            store.members.note_activity(group, "群", user, f"{user}名", when, message=type_ != "join",
                                        joined=type_ == "join")

        for user in ("chatty", "mid", "red", "quiet", "never", "admin1", "vip", "gone"):
            say(user, now - timedelta(days=60), "join")
        say("newbie", now - timedelta(days=3), "join")
        say("chatty", now - timedelta(days=1))
        for k in range(40):  # active 16-25 days ago: listed, with a tier above the lowest
            say("mid", now - timedelta(days=25, hours=-k * 5))
        say("red", now - timedelta(days=20), "red_packet")
        say("red", now - timedelta(days=40))  # before the tier window: not counted
        say("quiet", now - timedelta(days=45))
        say("admin1", now - timedelta(days=50))
        say("mid", now - timedelta(days=1), group="other")  # another group does not count
        store.events.record_event("leave", now - timedelta(days=30), "g", "gone", "leave", {}, now)
        store.members.note_activity("g", "群", "gone", None, now - timedelta(days=30), message=False, left=True)
        await store.commit()
        await store.repository(PointsRepository).award_points("g", "mid", 7, "grant", now - timedelta(days=20))
        await store.commit()

        listed = await purge_list(store.repository(PurgeRepository), config, "g", settings, now)
        assert [c.user_id for c in listed] == ["never", "quiet", "red", "mid"]  # longest silent first
        never, quiet, red, mid = listed
        assert never.last_active_at is None and never.joined_at == now - timedelta(days=60)
        assert never.days_silent == 60 and quiet.days_silent == 45 and red.days_silent == 20
        assert mid.last_active_at == now - timedelta(days=25, hours=-39 * 5) and mid.points == 7
        assert mid.messages == 40 and red.messages == 2
        assert all(c.joined_at.tzinfo is not None for c in listed)
        levels = store.repository(LevelsRepository)
        full = await levels.member_activity("g", now - timedelta(days=settings.levels.tier_days))
        for c in listed:
            assert c.tier == tier_of(full.get(c.user_id, (0, 0, 0)), settings.levels), c
        assert mid.tier != tier_of((0, 0, 0), settings.levels)
        assert full["red"] == (0, 0, 1)
    finally:
        await store.close()
