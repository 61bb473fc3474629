"""Check-ins decided in memory by the database's one writer: ranks stay unique and gapless when a
check-in counted in SQL (a late one) or a question about the day's counter (another group's rate, a
report) is on its way to the database at the same moment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import open_store
from handlers.checkin.repository import CheckinRepository
from tests.conftest import HeldQuery, reopened, until

T = datetime(2026, 3, 2, 15, 59, 58, tzinfo=UTC)  # 23:59:58 in Shanghai
DAY, YESTERDAY, BEFORE = "2026-03-02", "2026-03-01", "2026-02-28"


def five(_streak: int) -> int:
    return 5


async def test_a_check_in_counted_in_sql_beside_one_decided_in_memory_gives_each_its_own_rank(
        tmp_path: Path) -> None:
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    await store.open()  # empty: a counter memory does not hold is 0
    repo = store.repository(CheckinRepository)
    try:
        first = await repo.check_in("g", "u1", DAY, YESTERDAY, T, "e1", five)
        await repo.points.balance("g", "u3")  # u3's balance is known (paid for a message earlier)
        # u2's check-in of 23:59:59 handled after midnight: late, counted in SQL
        late = asyncio.create_task(repo.check_in("g", "u2", DAY, YESTERDAY, T, "e2", five, late=True))
        await until(lambda: ("g", DAY) in repo._in_sql)  # the late one is on its way to the database
        meanwhile = await repo.check_in("g", "u3", DAY, YESTERDAY, T, "e3", five)
        second = await late
        assert sorted([first.rank, second.rank, meanwhile.rank]) == [1, 2, 3]
        await store.commit()  # at the first try: a duplicate rank would fail it for ever
        assert await repo.checkin_counts(["g"], DAY) == {"g": 3}
        after = await repo.check_in("g", "u4", DAY, YESTERDAY, T, "e4", five)
        assert after.rank == 4
        await store.commit()  # at the first try: a duplicate rank would fail it for ever
    finally:
        await store.close()


async def test_a_counter_question_answered_after_a_rank_was_taken_in_memory_never_lowers_it(tmp_path: Path) -> None:
    store = await reopened(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")  # a counter is read when first asked
    repo = store.repository(CheckinRepository)
    try:
        for user in ("u1", "u3", "u4"):  # yesterday's check-ins: their days and balances are known
            await repo.check_in("g", user, YESTERDAY, BEFORE, T, f"y-{user}", five)
        await store.commit()  # at the first try: a duplicate rank would fail it for ever
        first = asyncio.create_task(repo.check_in("g", "u1", DAY, YESTERDAY, T, "e1", five))
        report = asyncio.create_task(repo.checkin_counts(["g"], DAY))  # another group's rate, or a job
        one = await first
        await until(store._lock.locked)  # the report's question is on its way
        two = await repo.check_in("g", "u3", DAY, YESTERDAY, T, "e3", five)
        await report
        three = await repo.check_in("g", "u4", DAY, YESTERDAY, T, "e4", five)
        assert [one.rank, two.rank, three.rank] == [1, 2, 3]
        await store.commit()  # at the first try: a duplicate rank would fail it for ever
    finally:
        await store.close()


async def test_a_counter_answer_asked_for_before_memory_was_dropped_is_not_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import handlers.checkin.repository as checkin_repository

    store = await reopened(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    repo = store.repository(CheckinRepository)
    try:
        for user in ("u1", "u2", "u3"):
            await repo.check_in("g", user, YESTERDAY, BEFORE, T, f"y-{user}", five)
        await store.commit()
        held = HeldQuery(store, "SELECT checkin_days.group_id", times=2)
        first = asyncio.create_task(repo.check_in("g", "u1", DAY, YESTERDAY, T, "e1", five))
        await held.held[0].wait()
        report = asyncio.create_task(repo.checkin_counts(["h", "g"], DAY))  # another group's campaign rate
        await asyncio.sleep(0)
        held.release(0)
        one = await first
        await held.held[1].wait()  # the report's answer will say 1
        two = await repo.check_in("g", "u2", DAY, YESTERDAY, T, "e2", five)
        # the counters' map is full: remembering the report's first group drops it
        monkeypatch.setattr(checkin_repository, "MAX_CACHED_DAYS", len(repo._day_counts) - 1)
        held.release(1)
        await report
        monkeypatch.setattr(checkin_repository, "MAX_CACHED_DAYS", 100_000)
        three = await repo.check_in("g", "u3", DAY, YESTERDAY, T, "e3", five)
        assert [one.rank, two.rank, three.rank] == [1, 2, 3]
        await store.commit()  # at the first try: a duplicate rank would fail it for ever
    finally:
        await store.close()
