"""Report queries on SQLite and PostgreSQL: activity by local hour in any time zone, purge order."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.purge import Candidate, write_csv
from storage.store import Store


async def test_hourly_activity_adds_up_to_local_hours_in_half_hour_zones(any_db_url: str) -> None:
    store = Store.from_url(any_db_url)
    await store.open()
    try:
        kolkata = ZoneInfo("Asia/Kolkata")  # UTC+5:30
        start = datetime(2026, 3, 3, 10, 0, tzinfo=kolkata)
        for n in range(30):  # 10:00-10:29 local: all in local hour 10
            store.record_event(f"e{n}", start + timedelta(minutes=n), "g", "u", "text", {"text": "x"}, start)
        store.record_event("other", start, "h", "u", "text", {"text": "x"}, start)
        await store.commit()
        buckets = await store.hourly_activity("g", start - timedelta(days=1), start + timedelta(days=1))
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
