"""The points feature's repository: the ledger, balances moved by SQL increments with each ledger row,
the per-message award (one conditional upsert), boards and places, and the highest level reached."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.points.tables import BALANCES, LEDGER
from storage import dialect
from storage.base import UTCDateTime
from storage.journal import BulkWrite
from storage.member_map import MemberMap
from storage.members import free_text, summed_per_key
from storage.repository import Repository
from storage.tables import MEMBERS

if TYPE_CHECKING:
    from storage.store import Store

MAX_CACHED_AWARDS = 500_000
_summed = summed_per_key("balance", "group_id", "user_id")
MESSAGE_AWARDS = "message_awards"  # the buffer of message awards judged from memory
BALANCE_ADDS = "balance_adds"  # the buffer of other amounts decided in memory (a check-in's points)
BALANCE_BUFFERS = (MESSAGE_AWARDS, BALANCE_ADDS)  # what a question about balances flushes first
_UNKNOWN = -1 << 62  # `_Held.balance` when memory does not know it (balances are never that low)


class _Held:
    """What memory holds of one member's points (one small record, not an entry in three maps: 30,000
    members a day cost a third as much): `moves`, how often memory moved the balance (`balance_token`);
    `balance` as last moved or read by the database's one writer, or _UNKNOWN; the per-message award as
    last written or read (`award_at` None: not known), with the balance it left (None: not known)."""

    __slots__ = ("award_at", "award_balance", "award_day", "award_paid", "balance", "moves")

    def __init__(self) -> None:
        self.moves = 0
        self.balance = _UNKNOWN
        self.award_at: datetime | None = None
        self.award_day = ""
        self.award_paid = 0
        self.award_balance: int | None = None


def balance_row(group: str, user: str, delta: int, ts: datetime) -> dict[str, Any]:
    """A balances row that adds `delta` (the upsert's excluded row)."""
    return {"group_id": group, "user_id": user, "balance": delta, "message_day": None, "message_points": 0,
            "last_message_award_at": None, "updated_at": ts, "top_level": 0}


def _ledger_insert(_engine: AsyncEngine) -> Any:
    return LEDGER.insert()


def _message_awards_upsert(engine: AsyncEngine) -> Any:
    """A message award decided in memory: the balance moved by SQL, the day's figures as decided."""
    b = dialect.upsert(engine, BALANCES)
    ex = b.excluded
    return b.on_conflict_do_update(
        index_elements=[BALANCES.c.group_id, BALANCES.c.user_id],
        set_={"balance": BALANCES.c.balance + ex.balance, "message_day": ex.message_day,
              "message_points": ex.message_points, "last_message_award_at": ex.last_message_award_at,
              "updated_at": ex.updated_at})


def _balance_adds_upsert(engine: AsyncEngine) -> Any:
    """An amount added to a balance decided in memory (the upsert's excluded row: `balance_row`)."""
    b = dialect.upsert(engine, BALANCES)
    return b.on_conflict_do_update(
        index_elements=[BALANCES.c.group_id, BALANCES.c.user_id],
        set_={"balance": BALANCES.c.balance + b.excluded.balance, "updated_at": b.excluded.updated_at})


class PointsRepository(Repository):
    """Points: every award or deduction is a ledger row; balances are its sums, never read and written back."""

    writes = (BulkWrite("ledger", 130, _ledger_insert),
              # one row per member: the amounts added up, the other fields (the day's figures) of the latest
              BulkWrite(MESSAGE_AWARDS, 125, _message_awards_upsert, _summed, before_writes=True),
              BulkWrite(BALANCE_ADDS, 126, _balance_adds_upsert, _summed, before_writes=True))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._ledger = store.buffer("ledger")
        self.audit = store.audit  # who was refused before (the owners' commands)
        engine = store.engine
        self._balance = select(BALANCES.c.balance).where(and_(BALANCES.c.group_id == bindparam("g"),
                                                              BALANCES.c.user_id == bindparam("u")))
        b = dialect.upsert(engine, BALANCES)
        self.balance_add = b.on_conflict_do_update(
            index_elements=[BALANCES.c.group_id, BALANCES.c.user_id],
            set_={"balance": BALANCES.c.balance + b.excluded.balance, "updated_at": b.excluded.updated_at},
        ).returning(BALANCES.c.balance)
        mb = dialect.upsert(engine, BALANCES)
        ex = mb.excluded
        self._message_award_stmt = mb.on_conflict_do_update(
            index_elements=[BALANCES.c.group_id, BALANCES.c.user_id],
            set_={"balance": BALANCES.c.balance + ex.balance,
                  "message_points": case((BALANCES.c.message_day == ex.message_day,
                                          BALANCES.c.message_points + ex.message_points), else_=ex.message_points),
                  "message_day": ex.message_day, "last_message_award_at": ex.last_message_award_at,
                  "updated_at": ex.updated_at},
            where=and_(
                or_(BALANCES.c.last_message_award_at.is_(None),
                    BALANCES.c.last_message_award_at <= bindparam("not_after", type_=UTCDateTime())),
                or_(BALANCES.c.message_day.is_(None), BALANCES.c.message_day != ex.message_day,
                    BALANCES.c.message_points + ex.message_points <= bindparam("cap"))),
        ).returning(BALANCES.c.balance, BALANCES.c.message_points)
        # a spend that never takes a balance below zero (RETURNING nothing when it would): the shop's
        self.spend = (update(BALANCES).where(and_(
            BALANCES.c.group_id == bindparam("g"), BALANCES.c.user_id == bindparam("u"),
            BALANCES.c.balance >= bindparam("cost"))).values(balance=BALANCES.c.balance - bindparam("cost"),
                                                              updated_at=bindparam("ts"))
            .returning(BALANCES.c.balance))
        # (group, user) -> what memory holds of the member's points (`_Held`): most messages are judged
        # and paid without a query; an answer of the database to a question or write that memory moved
        # meanwhile is older than memory, and is not kept (`balance_token`)
        self._held: MemberMap[_Held] = MemberMap(MAX_CACHED_AWARDS)
        self._awards = store.buffer(MESSAGE_AWARDS)
        self._adds = store.buffer(BALANCE_ADDS)
        self._epoch = 0  # counts the times _held started again

    def forget(self) -> None:
        for held in self._held.values():  # the moves stay: answers on their way are still judged by them
            held.balance, held.award_at = _UNKNOWN, None

    def _hold(self, key: tuple[str, str]) -> _Held:
        held = self._held.get(*key)
        if held is None:
            held = _Held()
            if self._held.set(*key, held):  # started again: answers on their way are older than memory
                self._epoch += 1
        return held

    def known_balance(self, group: str, user: str) -> int | None:
        """The member's balance when memory has it (None: ask `balance`)."""
        if self.journal.recovered:
            return None
        held = self._held.get(group, user)
        if held is None:
            return None
        if self.journal.alone and held.balance != _UNKNOWN:
            return held.balance
        return held.award_balance if held.award_at is not None else None

    def balance_token(self, group: str, user: str) -> tuple[int, int]:
        """Taken before a statement that returns the member's balance: `balance_moved(..., since=token)`
        then keeps that balance only if memory did not move it while the statement was on its way."""
        held = self._held.get(group, user)
        return self._epoch, held.moves if held is not None else 0

    def _unless_overtaken(self, key: tuple[str, str], balance: int | None, since: tuple[int, int] | None
                          ) -> int | None:
        """`balance` as a statement returned it, or None (the next question asks the database) when
        memory moved it after the `balance_token` `since` was taken."""
        return None if since is not None and since != self.balance_token(*key) else balance

    def _know_balance(self, key: tuple[str, str], balance: int | None, since: tuple[int, int] | None = None) -> None:
        balance = self._unless_overtaken(key, balance, since)
        held = self._hold(key)
        held.moves += 1
        held.balance = _UNKNOWN if balance is None or not self.journal.alone else balance

    async def award_points(self, group: str, user: str, delta: int, reason: str, ts: datetime, *,
                           event_id: str | None = None, actor: str | None = None, note: str | None = None) -> int:
        """Add `delta` (negative: deduct) to the member's balance with its ledger row; the new balance.
        The one writer (`Journal.alone`) buffers it, with the balance it knows or reads."""
        known = None
        if self.decides_in_memory:
            await self.balance(group, user)
            known = self.known_balance(group, user)  # read again after the await: nothing moves it from here on
        if known is not None:
            balance = known + delta
            self.add_buffered(group, user, delta, ts, balance)
        else:
            token = self.balance_token(group, user)
            rows = await self.journal.write_now(self.balance_add, balance_row(group, user, delta, ts))
            balance = int(rows[0][0])
            self.balance_moved(group, user, balance, since=token)
        self.add_ledger(group, user, delta, reason, ts, event_id, actor, note)
        return balance

    async def award_message_points(self, group: str, user: str, points: int, ts: datetime, day: str,
                                   cooldown_seconds: float, daily_cap: int, event_id: str) -> int | None:
        """Pay `points` for a message unless the member was paid less than `cooldown_seconds` ago or
        would pass `daily_cap` message points on the local `day`. The new balance, or None.

        A member this process has paid or read before is judged from memory and paid with a buffered
        write (no trip to the database per message: only this process writes a group's balances, and
        every other way a balance moves here says so); the first time, the conditional upsert judges."""
        key = (group, user)
        held = self._held.get(*key)
        if held is not None and held.award_at is not None and not self.journal.recovered:
            at, on, paid, balance = held.award_at, held.award_day, held.award_paid, held.award_balance
            if (ts - at).total_seconds() < cooldown_seconds or (on == day and paid + points > daily_cap):
                return None
            if balance is not None:
                paid = paid + points if on == day else points
                self._awards.append({"group_id": group, "user_id": user, "balance": points, "message_day": day,
                                     "message_points": paid, "last_message_award_at": ts, "updated_at": ts,
                                     "top_level": 0})
                self._remember_message_award(key, (ts, day, paid, balance + points))
                self.add_ledger(group, user, points, "message", ts, event_id, None, None)
                return balance + points
        token = self.balance_token(group, user)
        rows = await self.journal.write_now(self._message_award_stmt, {
            "group_id": group, "user_id": user, "balance": points, "message_day": day, "message_points": points,
            "last_message_award_at": ts, "updated_at": ts, "top_level": 0, "cap": daily_cap,
            "not_after": ts - timedelta(seconds=cooldown_seconds)})
        if not rows:
            result = await self.journal.read(select(
                BALANCES.c.last_message_award_at, BALANCES.c.message_day, BALANCES.c.message_points,
                BALANCES.c.balance).where(and_(BALANCES.c.group_id == group, BALANCES.c.user_id == user)),
                only=BALANCE_BUFFERS)
            row = result.first()
            if row is not None and row[0] is not None:
                self._remember_message_award(key, (row[0], row[1] or "", row[2], int(row[3])), since=token)
            return None
        self._remember_message_award(key, (ts, day, int(rows[0][1]), int(rows[0][0])), since=token)
        self.add_ledger(group, user, points, "message", ts, event_id, None, None)
        return int(rows[0][0])

    def add_buffered(self, group: str, user: str, delta: int, ts: datetime, balance: int) -> None:
        """Add `delta` to a balance known to be `balance - delta` (from `balance`) in the journal's next
        flush instead of a statement now (the ledger row is the caller's: `add_ledger`). Only for a
        process that is its database's one writer (`Journal.alone`), as the message awards."""
        self._adds.append(balance_row(group, user, delta, ts))
        self.balance_moved(group, user, balance)

    def balance_moved(self, group: str, user: str, balance: int | None = None, *,
                      since: tuple[int, int] | None = None) -> None:
        """A balance moved other than by a message award (a check-in, the shop): the new balance, or
        None when the caller does not know it (the next award then asks the database); `since`: the
        `balance_token` taken before the statement that returned it."""
        key = (group, user)
        balance = self._unless_overtaken(key, balance, since)
        held = self._held.get(*key)
        if held is not None and held.award_at is not None:
            held.award_balance = balance
        self._know_balance(key, balance)

    def _remember_message_award(self, key: tuple[str, str], state: tuple[datetime, str, int, int | None],
                                since: tuple[int, int] | None = None) -> None:
        balance = self._unless_overtaken(key, state[3], since)
        held = self._hold(key)
        held.award_at, held.award_day, held.award_paid = state[0], sys.intern(state[1]), state[2]  # one string a day
        held.award_balance = balance
        self._know_balance(key, balance)

    def add_ledger(self, group: str, user: str, delta: int, reason: str, ts: datetime, event_id: str | None,
                   actor: str | None, note: str | None) -> None:
        """The ledger row of a change whose balance was moved in SQL (award_points, check-in)."""
        self._ledger.append({"group_id": group, "user_id": user, "delta": delta, "reason": reason,
                             "note": free_text(note) if note else note, "event_id": event_id,
                             "actor": actor, "ts": ts})

    async def reach_level(self, group: str, user: str, rank: int) -> bool:
        """Note that the member reached the level at place `rank`; False when it (or a higher one) was
        reached before (a level-up is announced once)."""
        rows = await self.journal.write_now(
            update(BALANCES).where(and_(BALANCES.c.group_id == group, BALANCES.c.user_id == user,
                                        BALANCES.c.top_level < rank)).values(top_level=rank)
            .returning(BALANCES.c.top_level), {})
        return bool(rows)

    async def balance(self, group: str, user: str) -> int:
        """The member's points (0 before any award): from memory when it knows them (every way a balance
        moves here says so: `balance_moved`), else from the database."""
        known = self.known_balance(group, user)
        if known is not None:
            return known
        token = self.balance_token(group, user)
        result = await self.journal.read(self._balance, {"g": group, "u": user}, only=BALANCE_BUFFERS)
        balance = int(result.scalar() or 0)
        if not self.journal.recovered:
            self._know_balance((group, user), balance, since=token)
        return balance

    async def points_board(self, group: str, since: datetime | None, limit: int) -> list[dict[str, Any]]:
        """Top members by points earned since `since` (None: balances), with names and places (equal
        points share a place: 1, 2, 2, 4)."""
        params = {"group": group, "limit": limit} | ({} if since is None else {"since": since})
        result = await self.journal.read(_board(since is not None), params,
                                         only=("members", "ledger", *BALANCE_BUFFERS))
        rows = [dict(r._mapping) for r in result]
        for n, row in enumerate(rows):
            row["place"] = rows[n - 1]["place"] if n and rows[n - 1]["points"] == row["points"] else n + 1
        return rows

    async def points_place(self, group: str, user: str, since: datetime | None) -> tuple[int, int]:
        """The member's (place, points) on the board of `points_board` (place 0: no points)."""
        params = {"group": group, "user": user} | ({} if since is None else {"since": since})
        result = await self.journal.read(_place(since is not None), params, only=("ledger", *BALANCE_BUFFERS))
        points, ahead = result.one()
        if not points or points <= 0:
            return 0, int(points or 0)
        return int(ahead) + 1, int(points)

    async def points_earned(self, group: str, user: str, since: datetime) -> int:
        """The member's net points since `since`, from the ledger."""
        result = await self.journal.read(_EARNED, {"group": group, "user": user, "since": since}, only=("ledger",))
        return int(result.scalar() or 0)

    async def ledger_of(self, group: str, user: str, limit: int) -> list[dict[str, Any]]:
        """The member's latest ledger rows, newest first."""
        result = await self.journal.read(
            select(LEDGER).where(and_(LEDGER.c.group_id == group, LEDGER.c.user_id == user))
            .order_by(LEDGER.c.ts.desc(), LEDGER.c.id.desc()).limit(limit), only=("ledger",))
        return [dict(r._mapping) for r in result]

    async def ledger_sums(self, group: str) -> dict[str, int]:
        """Each member's ledger sum (equal to the balance; for checks and tests)."""
        result = await self.journal.read(select(LEDGER.c.user_id, func.sum(LEDGER.c.delta))
                                  .where(LEDGER.c.group_id == group).group_by(LEDGER.c.user_id), only=("ledger",))
        return {u: int(n) for u, n in result}

    async def balances(self, group: str) -> dict[str, int]:
        result = await self.journal.read(
            select(BALANCES.c.user_id, BALANCES.c.balance).where(BALANCES.c.group_id == group), only=BALANCE_BUFFERS)
        return {u: int(n) for u, n in result}


# The members' questions, built once with bound parameters (group, user, since, limit): building a select for each
# question was a third of a command's time.
def _points_by_member(since: bool) -> Any:
    if not since:
        return select(BALANCES.c.user_id, BALANCES.c.balance.label("points")).where(
            BALANCES.c.group_id == bindparam("group")).subquery()
    return (select(LEDGER.c.user_id, func.sum(LEDGER.c.delta).label("points"))
            .where(and_(LEDGER.c.group_id == bindparam("group"), LEDGER.c.ts >= bindparam("since")))
            .group_by(LEDGER.c.user_id).subquery())


@lru_cache(maxsize=2)
def _board(since: bool) -> Any:
    per = _points_by_member(since)
    return (select(per.c.user_id, MEMBERS.c.display_name, per.c.points)
            .select_from(per.outerjoin(MEMBERS, and_(MEMBERS.c.group_id == bindparam("group"),
                                                     MEMBERS.c.user_id == per.c.user_id)))
            .where(per.c.points > 0).order_by(per.c.points.desc(), per.c.user_id).limit(bindparam("limit")))


@lru_cache(maxsize=2)
def _place(since: bool) -> Any:
    per = _points_by_member(since)
    mine = select(per.c.points).where(per.c.user_id == bindparam("user")).scalar_subquery()
    return select(mine, select(func.count()).select_from(per).where(per.c.points > mine).scalar_subquery())


_EARNED = select(func.coalesce(func.sum(LEDGER.c.delta), 0)).where(and_(
    LEDGER.c.group_id == bindparam("group"), LEDGER.c.user_id == bindparam("user"), LEDGER.c.ts >= bindparam("since")))
