"""The check-in feature's repository: once per (group, member, local day), ranks from a counter row
incremented in SQL, streaks, boards, and the points of a check-in written in the same steps."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.checkin.tables import CHECKIN_DAYS, CHECKINS
from handlers.points.repository import PointsRepository, balance_row
from storage import dialect
from storage.journal import BulkWrite, Run
from storage.member_map import MemberMap
from storage.members import summed_per_key
from storage.repository import Repository
from storage.tables import MEMBERS

if TYPE_CHECKING:
    from storage.store import Store

MAX_CACHED_MEMBERS = 500_000
MAX_CACHED_DAYS = 100_000  # (group, local day) counters known in memory
CHECKIN_ROWS, DAY_COUNTS = "checkin_rows", "checkin_day_counts"  # buffers of check-ins decided in memory
CHECKIN_BUFFERS = (CHECKIN_ROWS, DAY_COUNTS)  # what a question about check-ins flushes first


@dataclass(frozen=True)
class CheckinResult:
    """A check-in as stored: `already` when the member had checked in that day (nothing awarded)."""

    already: bool
    rank: int
    streak: int
    points: int
    balance: int


def _following_days(day: str, later: list[str]) -> list[str]:
    """The local dates among `later` (ascending) that follow `day` without a gap."""
    out: list[str] = []
    expect = date.fromisoformat(day) + timedelta(days=1)
    for d in later:
        if d != expect.isoformat():
            break
        out.append(d)
        expect += timedelta(days=1)
    return out


def _checkin_insert(_engine: AsyncEngine) -> Any:
    return CHECKINS.insert()


def _day_count_upsert(engine: AsyncEngine) -> Any:
    c = dialect.upsert(engine, CHECKIN_DAYS)
    return c.on_conflict_do_update(index_elements=[CHECKIN_DAYS.c.group_id, CHECKIN_DAYS.c.local_date],
                                   set_={"count": CHECKIN_DAYS.c.count + c.excluded.count})


class CheckinRepository(Repository):
    """Check-ins, their day counters and boards.

    A process that is its database's one writer (`Journal.alone`: SQLite, or one account alone on
    PostgreSQL) decides a check-in in memory: the day's counter and the member's latest days are
    known once read, and the counter increment, the check-in row and the points join the journal's
    next flush (no statement per check-in). Otherwise ranks, streaks and balances are answered by the
    database itself: a counter row incremented in SQL (`count = count + 1 RETURNING count`), a unique
    (group, member, local date) key, balances moved by `balance = balance + :delta`."""

    writes = (BulkWrite(DAY_COUNTS, 127, _day_count_upsert, summed_per_key("count", "group_id", "local_date"),
                        before_writes=True),
              BulkWrite(CHECKIN_ROWS, 128, _checkin_insert, before_writes=True))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.points = store.repository(PointsRepository)
        engine = store.engine
        self._days_stmt = (select(CHECKINS.c.local_date, CHECKINS.c.rank, CHECKINS.c.streak, CHECKINS.c.points)
                             .where(and_(CHECKINS.c.group_id == bindparam("g"), CHECKINS.c.user_id == bindparam("u"),
                                         CHECKINS.c.local_date.in_(bindparam("days", expanding=True)))))
        member_checkins = and_(CHECKINS.c.group_id == bindparam("g"), CHECKINS.c.user_id == bindparam("u"))
        self._checkins_after = (select(CHECKINS.c.local_date).where(and_(
            member_checkins, CHECKINS.c.local_date > bindparam("d"))).order_by(CHECKINS.c.local_date))
        self._streaks_raise = update(CHECKINS).where(and_(
            member_checkins, CHECKINS.c.local_date.between(bindparam("first"), bindparam("last")))).values(
            streak=CHECKINS.c.streak + bindparam("by"))
        c = dialect.upsert(engine, CHECKIN_DAYS).values(group_id=bindparam("g"), local_date=bindparam("d"), count=1)
        self._checkin_count_up = c.on_conflict_do_update(
            index_elements=[CHECKIN_DAYS.c.group_id, CHECKIN_DAYS.c.local_date],
            set_={"count": CHECKIN_DAYS.c.count + 1}).returning(CHECKIN_DAYS.c.count)
        self._checkin_count_down = (update(CHECKIN_DAYS).where(and_(
            CHECKIN_DAYS.c.group_id == bindparam("g"), CHECKIN_DAYS.c.local_date == bindparam("d")))
            .values(count=CHECKIN_DAYS.c.count - 1))
        self._checkin = dialect.upsert(engine, CHECKINS).on_conflict_do_nothing(
            index_elements=[CHECKINS.c.group_id, CHECKINS.c.user_id, CHECKINS.c.local_date]).returning(CHECKINS.c.rank)
        # (group, user) -> the member's latest check-ins (two days), flat: (day, rank, streak, points) * n
        # (`_days_of`; a dict of tuples per member cost three times as much)
        self._checkins: MemberMap[tuple[str | int, ...]] = MemberMap(MAX_CACHED_MEMBERS)
        self._all = False  # a miss in _checkins means "none" (a database that started empty)
        # (group, local day) -> the day's check-ins, when this process is the one writer (`alone`)
        self._day_counts: dict[tuple[str, str], int] = {}
        self._all_days = False  # a miss in _day_counts means "none"
        self._in_sql: Counter[tuple[str, str]] = Counter()  # (group, day) -> check-ins counted in SQL now
        self._wiped = 0  # how often _day_counts was dropped: an answer asked for before is not kept
        self._rows = store.buffer(CHECKIN_ROWS)
        self._counts = store.buffer(DAY_COUNTS)

    def opened(self, empty: bool) -> None:
        self._all = self._all_days = empty

    def forget(self) -> None:
        self._checkins.clear()
        self._day_counts.clear()
        self._all = self._all_days = False
        self._wiped += 1

    async def check_in(self, group: str, user: str, day: str, yesterday: str, ts: datetime, event_id: str | None,
                       points_for_streak: Callable[[int], int], *, late: bool = False) -> CheckinResult:
        """Check the member in for the local `day` (once): rank of the day, streak, points, balance.
        The counter, the check-in row and the award are written together or not at all.

        `late`: the check-in arrives after its day (a delayed delivery). Check-ins of the days right
        after it, written meanwhile, then continue its streak (their streaks are raised in the same
        transaction; the points they were paid stay as they were)."""
        # the cache knows each member's latest days only: a late day is looked up in the database
        look = self._checkins_stored if late else self._checkins_on
        known = await look(group, user, (day, yesterday))
        if day in known:
            rank, streak, _points = known[day]
            return CheckinResult(True, rank, streak, 0, await self.points.balance(group, user))
        if not late and (group, user) not in self._checkins and not self._all:
            for d, row in known.items():  # what the database said, for the next check-in
                self._remember_checkin(group, user, d, row)
        key = {"g": group, "d": day}
        streak = known[yesterday][1] + 1 if yesterday in known else 1
        points = points_for_streak(streak)
        if not late and self.decides_in_memory:
            buffered = await self._check_in_buffered(group, user, day, ts, event_id, streak, points)
            if buffered is not None:
                return buffered

        async def steps(run: Run) -> tuple[int, int, list[str]] | None:
            rank = (await run(self._checkin_count_up, key))[0][0]
            inserted = await run(self._checkin, {
                "group_id": group, "user_id": user, "local_date": day, "rank": rank, "streak": streak,
                "points": points, "ts": ts, "event_id": event_id})
            if not inserted:
                # checked in meanwhile by another writer: give the number back (we hold the counter's row)
                await run(self._checkin_count_down, key)
                return None
            balance = (await run(self.points.balance_add, balance_row(group, user, points, ts)))[0][0]
            following: list[str] = []
            if late:
                following = _following_days(day, [d for (d,) in await run(self._checkins_after, {
                    "g": group, "u": user, "d": day})])
                if following:
                    await run(self._streaks_raise, {"g": group, "u": user, "first": following[0],
                                                          "last": following[-1], "by": streak})
            return rank, int(balance), following

        token = self.points.balance_token(group, user)
        counted = (group, day)  # while this one is counted in SQL, no check-in takes a rank from memory
        self._in_sql[counted] += 1
        try:
            done = await self.journal.write_steps(steps)
        finally:
            self._in_sql[counted] -= 1
            if not self._in_sql[counted]:
                del self._in_sql[counted]
        if done is None:
            rank, streak, _points = (await look(group, user, (day,)))[day]
            return CheckinResult(True, rank, streak, 0, await self.points.balance(group, user))
        rank, balance, following = done
        if self.journal.alone:  # the one writer's rank is the day's count
            self._remember_count(group, day, max(rank, self._day_counts.get((group, day), 0)))
        self.points.balance_moved(group, user, balance, since=token)
        self._raise_cached_streaks(group, user, following, streak)
        # a late day is cached where the member's latest days are (it stays only if among them)
        if not late or (group, user) in self._checkins or self._all:
            self._remember_checkin(group, user, day, (rank, streak, points))
        self.points.add_ledger(group, user, points, "checkin", ts, event_id, None, None)
        return CheckinResult(False, rank, streak, points, balance)

    async def _check_in_buffered(self, group: str, user: str, day: str, ts: datetime, event_id: str | None,
                                 streak: int, points: int) -> CheckinResult | None:
        """`check_in` decided in memory (the one writer, a member not checked in on `day`): the rank
        from the day's counter, the balance from the points feature; the rows are buffered. None when
        memory lost what it needs meanwhile (the caller asks the database)."""
        await self._counts_of([group], day)
        await self.points.balance(group, user)
        # Nothing awaits from here on, so check-ins handled at the same time take their ranks in turn.
        again = _days_of(self._checkins.get(group, user, ())).get(day)
        balance = self.points.known_balance(group, user)
        count = None if (group, day) in self._in_sql else self._day_counts.get((group, day))
        if balance is None or (count is None and again is None):
            return None
        if again is not None:  # the same member, a moment ago
            return CheckinResult(True, again[0], again[1], 0, balance)
        assert count is not None
        rank, balance = count + 1, balance + points
        self._counts.append({"group_id": group, "local_date": day, "count": 1})
        self._rows.append({"group_id": group, "user_id": user, "local_date": day, "rank": rank, "streak": streak,
                           "points": points, "ts": ts, "event_id": event_id})
        self._remember_count(group, day, rank)
        self.points.add_buffered(group, user, points, ts, balance)
        self._remember_checkin(group, user, day, (rank, streak, points))
        self.points.add_ledger(group, user, points, "checkin", ts, event_id, None, None)
        return CheckinResult(False, rank, streak, points, balance)

    def _remember_count(self, group: str, day: str, count: int) -> None:
        if len(self._day_counts) > MAX_CACHED_DAYS:
            self._day_counts.clear()
            self._all_days = False
            self._wiped += 1
        self._day_counts[(group, day)] = count

    async def _counts_of(self, groups: Sequence[str], day: str) -> dict[str, int]:
        """The day's counters of these groups: from memory for the one writer when it knows them (a
        counter that a check-in moves in SQL right now is asked for)."""
        out: dict[str, int] = {}
        ask = list(groups)
        if self.decides_in_memory:
            ask = []
            for g in groups:
                n = None if (g, day) in self._in_sql else self._day_counts.get((g, day))
                if n is None and self._all_days and (g, day) not in self._in_sql:
                    n = 0
                    self._remember_count(g, day, 0)  # so a check-in finds it after its awaits
                if n is None:
                    ask.append(g)
                else:
                    out[g] = n
        if ask:
            wiped = self._wiped
            result = await self.journal.read(select(CHECKIN_DAYS.c.group_id, CHECKIN_DAYS.c.count).where(and_(
                CHECKIN_DAYS.c.group_id.in_(ask), CHECKIN_DAYS.c.local_date == day)), only=CHECKIN_BUFFERS)
            stored = {g: int(n) for g, n in result}
            answered = {g: stored.get(g, 0) for g in ask}
            out.update(answered)
            if self.journal.alone and wiped == self._wiped:
                # the one writer's counter only grows: a check-in decided in memory while this question
                # was on its way is already counted there, and not in the answer (an answer asked for
                # before memory was dropped may miss such a check-in: it is not kept)
                grown = {g: max(n, self._day_counts.get((g, day), 0)) for g, n in answered.items()}
                out.update(grown)
                for g, n in grown.items():
                    self._remember_count(g, day, n)
        return {g: n for g, n in out.items() if n}

    async def _checkins_on(self, group: str, user: str, days: tuple[str, ...]) -> dict[str, tuple[int, int, int]]:
        """The member's check-ins on these days, from the cache of latest days when it has them."""
        key = (group, user)
        known = self._checkins.get(*key)
        if not self.journal.recovered and (known is not None or self._all):
            return {d: v for d, v in _days_of(known or ()).items() if d in days}
        return await self._checkins_stored(group, user, days)

    async def _checkins_stored(self, group: str, user: str, days: tuple[str, ...]
                               ) -> dict[str, tuple[int, int, int]]:
        result = await self.journal.read(self._days_stmt, {"g": group, "u": user, "days": list(days)},
                                         only=CHECKIN_BUFFERS)
        return {d: (r, s, p) for d, r, s, p in result}

    def _raise_cached_streaks(self, group: str, user: str, days: list[str], by: int) -> None:
        key = (group, user)
        known = _days_of(self._checkins.get(*key, ()))
        if any(d in known for d in days):
            for d in days:
                if d in known:
                    rank, streak, points = known[d]
                    known[d] = (rank, streak + by, points)
            if self._checkins.set(*key, _flat(known)):
                self._all = False

    def _remember_checkin(self, group: str, user: str, day: str, row: tuple[int, int, int]) -> None:
        known = _days_of(self._checkins.get(group, user, ()))
        known[sys.intern(day)] = row
        if self._checkins.set(group, user, _flat(known)):
            self._all = False

    async def checkin_counts(self, groups: Sequence[str], day: str) -> dict[str, int]:
        """How many members of each group checked in on the local `day` (groups with none are left out)."""
        return await self._counts_of(groups, day)

    async def checkin_board(self, group: str, day: str, limit: int) -> list[dict[str, Any]]:
        """The day's check-ins in order: rank, user, name, ts, streak."""
        result = await self.journal.read(
            select(CHECKINS.c.rank, CHECKINS.c.user_id, MEMBERS.c.display_name, CHECKINS.c.ts, CHECKINS.c.streak)
            .select_from(CHECKINS.outerjoin(MEMBERS, and_(MEMBERS.c.group_id == CHECKINS.c.group_id,
                                                          MEMBERS.c.user_id == CHECKINS.c.user_id)))
            .where(and_(CHECKINS.c.group_id == group, CHECKINS.c.local_date == day))
            .order_by(CHECKINS.c.rank).limit(limit), only=("members", *CHECKIN_BUFFERS))
        return [dict(r._mapping) for r in result]

    async def streak_board(self, group: str, day: str, yesterday: str, limit: int) -> list[dict[str, Any]]:
        """Current streaks (the member checked in today or yesterday), longest first."""
        streak = func.max(CHECKINS.c.streak).label("streak")
        inner = (select(CHECKINS.c.user_id, streak)
                 .where(and_(CHECKINS.c.group_id == group, CHECKINS.c.local_date.in_((day, yesterday))))
                 .group_by(CHECKINS.c.user_id).subquery())
        result = await self.journal.read(
            select(inner.c.user_id, MEMBERS.c.display_name, inner.c.streak)
            .select_from(inner.outerjoin(MEMBERS, and_(MEMBERS.c.group_id == group,
                                                       MEMBERS.c.user_id == inner.c.user_id)))
            .order_by(inner.c.streak.desc(), inner.c.user_id).limit(limit), only=("members", *CHECKIN_BUFFERS))
        return [dict(r._mapping) for r in result]


def _days_of(flat: tuple[str | int, ...]) -> dict[str, tuple[int, int, int]]:
    """The cached check-ins of a member: local day -> (rank, streak, points)."""
    return {flat[i]: flat[i + 1 : i + 4] for i in range(0, len(flat), 4)}  # type: ignore[misc]


def _flat(days: dict[str, tuple[int, int, int]]) -> tuple[str | int, ...]:
    """The latest two days of `days` (yesterday is all a streak needs), flat."""
    return tuple(x for day in sorted(days)[-2:] for x in (day, *days[day]))
