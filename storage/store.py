"""The store: the only place that speaks SQL. Writes are journaled and committed in groups.

Handlers never build SQL; they call the functions here, named for facts (`note_activity`,
`record_actions`) and questions (`member`, `last_rule_use`). All work happens in one open
transaction on one connection:

- writes go to per-table bulk buffers, sealed into a journal in a fixed table order (the tables'
  writes commute but for that order), so the rows of one statement travel in one executemany;
  on SQLite they are sent straight to the driver, already converted (storage/dialect.py);
- a question first flushes the journal into the open transaction, so it sees every earlier write
  (questions whose pending answers the store keeps in memory skip the flush);
- `begin_commit()` detaches the journal and `finish_commit()` writes and commits it while new writes
  start a fresh journal: the events of a batch become durable together (group commit);
- when a commit fails (database locked or gone), the batch goes back in front of the journal and
  `recover()` rolls back, so the next commit executes it again and nothing is lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import and_, bindparam, case, func, literal, null, or_, select, update
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import dialect, migrate
from storage.gcpause import paused_gc
from storage.models import (
    ActionRow,
    AdOffence,
    AdSample,
    Checkin,
    CheckinDay,
    EventRow,
    Group,
    JobRun,
    Member,
    PointsBalance,
    PointsEntry,
    UTCDateTime,
)

log = logging.getLogger("qunbot.store")
T = TypeVar("T")
_Run = Callable[[Any, dict[str, Any]], Awaitable[list[Any]]]

GROUPS = Group.__table__
MEMBERS = Member.__table__
EVENTS = EventRow.__table__
ACTIONS = ActionRow.__table__
JOB_RUNS = JobRun.__table__
AD_OFFENCES = AdOffence.__table__
AD_SAMPLES = AdSample.__table__
CHECKINS = Checkin.__table__
CHECKIN_DAYS = CheckinDay.__table__
LEDGER = PointsEntry.__table__
BALANCES = PointsBalance.__table__


class InactiveMember(NamedTuple):
    """A row of `Store.inactive_members`."""

    user_id: str
    display_name: str | None
    joined_at: datetime
    last_active_at: datetime | None
    message_count: int
    points: int


@dataclass(frozen=True)
class Detached:
    """Writes taken out of the journal to be committed (see Store.begin_commit)."""

    journal: list[tuple[Any, list[dict[str, Any]]]]
    flushed: int  # entries already executed in the open transaction
    event_ids: set[str]
    probe: tuple[str, Any] | None = None  # a row only this batch writes: ("event", id) or ("job", (id, due))


@dataclass(frozen=True)
class CheckinResult:
    """A check-in as stored: `already` when the member had checked in that day (nothing awarded)."""

    already: bool
    rank: int
    streak: int
    points: int
    balance: int


@dataclass(frozen=True)
class _Now:
    """A journal entry executed at once because its caller needs its result (RETURNING)."""

    stmt: Any
    params: dict[str, Any]


@dataclass(frozen=True)
class MemberInfo:
    group_id: str
    user_id: str
    display_name: str | None
    first_seen_at: datetime
    joined_at: datetime | None
    left_at: datetime | None
    last_active_at: datetime | None
    message_count: int
    reminded_on: str | None


class Store:
    """One writer connection with a journal of pending writes (see the module doc)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._journal: list[tuple[Any, list[dict[str, Any]]]] = []
        self._flushed = 0  # journal entries already executed in the open transaction
        self._bulk: dict[str, list[dict[str, Any]]] = {name: [] for name in _BULK_ORDER}
        self._pending_event_ids: set[str] = set()
        self._probe: tuple[str, Any] | None = None  # see Detached.probe
        self._uncertain: tuple[Detached, int] | None = None  # a batch whose commit failed, and its size
        self._all_ids: set[str] | None = None
        self._rule_use_all = False
        self._rule_use: dict[tuple[str, str], datetime | None] = {}
        # reminded_on of every member reminded so far; complete (a miss means never) while _reminded_all
        self._reminded: dict[tuple[str, str], str] = {}
        self._reminded_all = False
        # (group, user) -> {local day: (rank, streak, points)} of the member's latest check-ins (two days)
        self._checkins: dict[tuple[str, str], dict[str, tuple[int, int, int]]] = {}
        self._checkins_all = False  # a miss in _checkins means "none" (a database that started empty)
        # (group, user) -> (last award, local day, points that day) of the per-message award, as last
        # written: lets most messages skip the conditional award statement (which stays the judge)
        self._message_award: dict[tuple[str, str], tuple[datetime, str, int]] = {}
        self._recovered = False  # a rollback reset the caches: flush before every read until the next commit
        self._stmts = _Statements(engine)

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(dialect.make_engine(url))

    # -- life cycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        """Upgrade the schema and open the writer connection."""
        await migrate.upgrade(self.engine)
        await self._connect()
        assert self._conn is not None
        empty = (await self._conn.execute(select(EVENTS.c.id).limit(1))).first() is None
        # On a database that starts empty, this process is the only writer of events: the ids it
        # handled answer "seen before?" without a query (until there are too many to keep).
        self._all_ids = set() if empty else None
        self._rule_use_all = empty  # likewise every rule use is in _rule_use
        self._checkins_all = empty  # and every member's latest check-ins are in _checkins

    async def _connect(self) -> None:
        self._conn = await self.engine.connect()
        await self._conn.begin()

    async def close(self) -> None:
        """Commit what is pending and release the database."""
        if self._conn is not None:
            try:
                await self.commit()
            finally:
                await self._conn.close()
                self._conn = None
        await self.engine.dispose()

    @property
    def dirty(self) -> bool:
        """True when there are writes not yet committed."""
        return bool(self._journal) or any(self._bulk.values())

    # -- the journal --------------------------------------------------------------------------------

    def _seal(self, names: tuple[str, ...] | None = None) -> None:
        """Move bulk rows into the journal (all tables, or only `names`, which must commute with the rest)."""
        for name in _BULK_ORDER if names is None else names:
            rows = self._bulk[name]
            if rows:
                if name in _MERGE:
                    rows = _MERGE[name](rows)
                self._journal.append((self._stmts.driver(name, rows[0]) or self._stmts.bulk(name), rows))
                self._bulk[name] = []

    async def _flush(self, only: tuple[str, ...] | None = None) -> None:
        """Execute journal entries not yet executed (caller holds the lock)."""
        self._seal(only)
        await self._connection()
        while self._flushed < len(self._journal):
            stmt, rows = self._journal[self._flushed]
            await self._execute(stmt, rows)
            self._flushed += 1

    async def _execute(self, stmt: Any, rows: list[dict[str, Any]]) -> None:
        assert self._conn is not None
        if isinstance(stmt, dialect.DriverBulk):
            await self._conn.exec_driver_sql(stmt.sql, stmt.rows(rows))
        elif isinstance(stmt, _Now):
            await self._conn.execute(stmt.stmt, stmt.params)
        else:
            await self._conn.execute(stmt, rows)

    async def commit(self) -> None:
        """Make every write so far durable (raises on failure; then call `recover`)."""
        batch = await self.begin_commit()
        await self.finish_commit(batch)

    async def begin_commit(self) -> Detached:
        """Take the store (its lock) and every write so far out of the journal, for `finish_commit`.

        New writes go to a fresh journal meanwhile, so events can be handled while the detached
        batch is written; a question waits for the lock, so it sees the batch once it is committed.
        """
        await self._lock.acquire()
        try:
            self._seal()
        except BaseException:
            self._lock.release()
            raise
        batch = Detached(self._journal, self._flushed, self._pending_event_ids, self._probe)
        self._journal, self._flushed, self._pending_event_ids, self._probe = [], 0, set(), None
        return batch

    async def finish_commit(self, batch: Detached) -> None:
        """Write and commit a detached batch, then release the store. On failure the batch goes back
        in front of the journal (to run again after `recover`) and the error is raised."""
        try:
            if batch.journal:
                conn = await self._connection()
                for stmt, rows in batch.journal[batch.flushed:]:
                    await self._execute(stmt, rows)
                await conn.commit()
                await conn.begin()
            self._recovered = False
        except BaseException:
            self._journal = batch.journal + self._journal
            self._pending_event_ids |= batch.event_ids
            # The COMMIT may have reached the database although the call failed: `recover` looks for
            # the batch's probe row before the batch runs again (its increments must not run twice).
            self._uncertain = (batch, len(batch.journal))
            self._probe = batch.probe or self._probe
            await self._roll_back()
            raise
        finally:
            self._lock.release()

    def _forget_caches(self) -> None:
        """Drop the caches (they grew too big); until the next commit, questions flush first, since
        the dropped entries may have been the only record of pending answers."""
        self._rule_use.clear()
        self._rule_use_all = False
        self._reminded.clear()
        self._reminded_all = False
        self._message_award.clear()
        self._checkins.clear()
        self._checkins_all = False
        self._recovered = True

    async def _connection(self) -> AsyncConnection:
        """The writer connection, reconnecting when a failure left none (errors here are transient)."""
        if self._conn is None:
            await self._connect()
        assert self._conn is not None
        return self._conn

    async def _roll_back(self) -> None:
        """After a failed write (caller holds the lock): undo the open transaction at once, so no read
        or flush runs on it; every pending write runs again from the start of the journal, and the
        caches that may hold answers of the undone writes stop answering until the next commit."""
        self._flushed = 0
        self._forget_caches()
        if self._conn is not None:
            # Invalidate: the driver connection is closed, which discards its transaction for real
            # (after a failed COMMIT, SQLAlchemy's own rollback may not reach the driver).
            try:
                await self._conn.invalidate()
            except Exception as exc:
                log.warning("dropping the connection after a failed write: %s", exc)
            try:
                await self._conn.close()
            except Exception:
                pass
            self._conn = None

    async def recover(self) -> None:
        """After a failed commit: start on a fresh connection; the journal runs again on the next commit,
        unless the failed batch turns out to be committed after all (then only what came after runs)."""
        async with self._lock:
            await self._roll_back()
            await self._connect()
            uncertain, self._uncertain = self._uncertain, None
            if uncertain is not None and uncertain[0].probe is not None:
                batch, size = uncertain
                if await self._probe_exists(batch.probe):
                    log.warning("the failed commit was applied after all; its %d write(s) are not repeated", size)
                    self._journal = self._journal[size:]
                    self._pending_event_ids -= batch.event_ids
                    if self._probe == batch.probe:
                        self._probe = None

    async def _probe_exists(self, probe: tuple[str, Any]) -> bool:
        assert self._conn is not None
        kind, key = probe
        if kind == "event":
            stmt = select(EVENTS.c.id).where(EVENTS.c.id == key)
        else:
            stmt = select(JOB_RUNS.c.job_id).where(and_(JOB_RUNS.c.job_id == key[0], JOB_RUNS.c.due_at == key[1]))
        return (await self._conn.execute(stmt)).first() is not None

    async def _read(self, stmt: Any, params: dict[str, Any] | None = None, *, flush: bool = True,
                    only: tuple[str, ...] | None = None) -> Any:
        """Run a query in the open transaction. `flush=False` is for questions whose pending answers
        the store tracks in memory (it still flushes after a recovery, when those caches were reset);
        `only` flushes just those bulk tables (for questions about tables no other write touches)."""
        async with self._lock:
            try:
                if self._recovered:
                    await self._flush()
                elif flush:
                    await self._flush(only)
                conn = await self._connection()
                return await conn.execute(stmt, params or {})
            except Exception:
                await self._roll_back()  # a failed statement leaves the transaction unusable
                raise

    async def _rows(self, stmt: Any, *, only: tuple[str, ...] | None = None) -> list[Any]:
        """`_read` for long lists: every row as a plain tuple (see `dialect.fetch_rows`)."""
        async with self._lock:
            try:
                if self._recovered:
                    await self._flush()
                else:
                    await self._flush(only)
                return await dialect.fetch_rows(await self._connection(), stmt)
            except Exception:
                await self._roll_back()
                raise

    async def _write_now(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        """Execute one write at once in the open transaction and return its rows (RETURNING)."""
        async def one(run: _Run) -> list[Any]:
            return await run(stmt, params)

        return await self._write_steps(one)

    async def _write_steps(self, steps: Callable[[_Run], Awaitable[T]]) -> T:
        """Execute writes at once, in the open transaction, that belong together (`steps` calls
        `run(stmt, params)` for each and gets its rows back).

        They join the journal as executed entries: if the commit fails, the journal runs again from
        the last commit in the same order, so each statement meets the same rows and does the same.
        If one of them fails, all of them are taken out again (none is half done) and it raises."""
        async with self._lock:
            added: list[tuple[Any, list[dict[str, Any]]]] = []
            try:
                await self._flush(None if self._recovered else ())
                conn = await self._connection()

                async def run(stmt: Any, params: dict[str, Any]) -> list[Any]:
                    item: tuple[Any, list[dict[str, Any]]] = (_Now(stmt, params), [])
                    self._journal.insert(self._flushed, item)  # at the end of the executed part
                    self._flushed += 1
                    added.append(item)
                    result = await conn.execute(stmt, params)
                    return result.all() if result.returns_rows else []

                return await steps(run)
            except Exception:
                self._journal = [e for e in self._journal if not any(e is a for a in added)]
                await self._roll_back()
                raise

    # -- facts (buffered; durable at the next commit) ------------------------------------------------

    def record_event(self, event_id: str, ts: datetime, group: str | None, user: str | None, type_: str,
                     payload: dict[str, Any] | str, handled_at: datetime) -> None:
        """The event was handled: store it (its id makes a later delivery a no-op)."""
        self._pending_event_ids.add(event_id)
        if self._probe is None:
            self._probe = ("event", event_id)
        if self._all_ids is not None:
            self._all_ids.add(event_id)
            if len(self._all_ids) > MAX_KNOWN_IDS:
                self._all_ids = None
        self._bulk["events"].append({"id": event_id, "ts": ts, "group_id": group, "user_id": user,
                                     "type": type_, "payload": payload, "handled_at": handled_at})

    def note_activity(self, group: str, group_name: str | None, user: str | None, user_name: str | None,
                      ts: datetime, *, message: bool, joined: bool = False, left: bool = False) -> None:
        """Keep group and member stats: first seen, last active, message count, joins and leaves."""
        group_name, user_name = _name(group_name), _name(user_name)
        self._bulk["groups"].append({"id": group, "name": group_name, "first_seen_at": ts,
                                     "last_active_at": ts})
        if user is None:
            return
        self._bulk["members"].append({
            "group_id": group, "user_id": user, "display_name": user_name, "first_seen_at": ts,
            "joined_at": ts if joined else None, "left_at": ts if left else None,
            "last_active_at": ts if message else None, "message_count": 1 if message else 0,
        })

    async def sync_roster(self, group: str, group_name: str | None, members: Sequence[tuple[str, str | None]],
                          ts: datetime, *, complete: bool) -> int:
        """The group's member list as the platform reports it: listed members are present (names
        updated, first seen now if new); with `complete`, present members not listed have left (and
        a leave event is recorded for each, at the roster's time). Returns how many were marked as left."""
        self.note_activity(group, group_name, None, None, ts, message=False)
        listed = {user: _name(name) for user, name in members}
        self._seal()  # in time order with the member rows before and after it (joins, leaves)
        for user, name in listed.items():
            self._bulk["roster"].append({"group_id": group, "user_id": user, "display_name": name,
                                         "first_seen_at": ts, "message_count": 0})
        self._seal(("roster",))
        if not complete:
            return 0
        result = await self._read(select(MEMBERS.c.user_id).where(and_(
            MEMBERS.c.group_id == group, MEMBERS.c.left_at.is_(None))), only=("members", "roster"))
        gone = [u for (u,) in result if u not in listed]
        for start in range(0, len(gone), 500):
            chunk = gone[start:start + 500]
            await self._write_now(update(MEMBERS).where(and_(
                MEMBERS.c.group_id == group, MEMBERS.c.user_id.in_(chunk),
                MEMBERS.c.left_at.is_(None))).values(left_at=ts), {})
            for user in chunk:  # a leave the platform never announced: recorded, so the reports count it
                key = hashlib.sha1(f"{group}\n{user}\n{ts.isoformat()}".encode()).hexdigest()[:32]
                self.record_event(ROSTER_LEAVE + key, ts, group, user, "leave", {"via": "roster"}, ts)
        return len(gone)

    def record_actions(self, rows: Sequence[dict[str, Any]]) -> None:
        """Audit rows (actions pending delivery, and notes); see bot.audit for their shape."""
        for row in rows:
            self._bulk["actions"].append(row)
            if row["status"] != "note" and row["group_id"]:
                if len(self._rule_use) > 200_000:
                    self._forget_caches()
                self._rule_use[(row["group_id"], row["rule"])] = row["ts"]

    def mark_delivered(self, action_ids: Iterable[str], status: str, when: datetime) -> None:
        """An action went out (status 'sent') or gave up ('failed', 'expired')."""
        for action_id in action_ids:
            self._bulk["delivery"].append({"b_id": action_id, "b_status": status, "b_when": when})

    def record_job_run(self, job_id: str, due_at: datetime, ran_at: datetime, note: str | None = None) -> None:
        """A scheduled job ran for its instant `due_at`."""
        if self._probe is None:
            self._probe = ("job", (job_id, due_at))
        self._bulk["job_runs"].append({"job_id": job_id, "due_at": due_at, "ran_at": ran_at, "note": note})

    def set_reminded(self, group: str, user: str, local_day: str, ts: datetime) -> None:
        """The member was reminded of the name format on that local day ('' clears it)."""
        if len(self._reminded) > 500_000:
            self._forget_caches()
        self._reminded[(group, user)] = local_day
        self._bulk["reminded"].append({"group_id": group, "user_id": user, "reminded_on": local_day,
                                       "first_seen_at": ts, "message_count": 0})

    def record_ad_offence(self, event_id: str, group: str, user: str, ts: datetime, kind: str, check: str,
                          evidence: str) -> None:
        """The member was prompted about an ad (a warning until a red packet excuses it)."""
        self._bulk["ad_offence"].append({"event_id": event_id, "group_id": group, "user_id": user, "ts": ts,
                                             "kind": kind, "check": check, "evidence": evidence[:2000],
                                             "excused_by": None})

    def excuse_ad_offence(self, offence_event_id: str, red_packet_event_id: str) -> None:
        """A red packet settled the ad: it no longer counts as a warning."""
        self._bulk["excuse"].append({"b_id": offence_event_id, "b_by": red_packet_event_id})

    def record_ad_sample(self, event_id: str, text: str, label: str, group: str | None, decided_by: str | None,
                         ts: datetime) -> None:
        """An owner's /ad or /notad decision on a message (the latest decision wins)."""
        self._bulk["ad_sample"].append({"event_id": event_id, "text": _free_text(text), "label": label,
                                            "group_id": group, "decided_by": decided_by, "ts": ts})

    # -- questions ----------------------------------------------------------------------------------

    async def seen_events(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids were handled before (committed or pending)."""
        if self._all_ids is not None and not self._recovered:
            return {i for i in event_ids if i in self._all_ids}
        seen: set[str] = set()
        for start in range(0, len(event_ids), 500):
            chunk = list(event_ids[start:start + 500])
            result = await self._read(select(EVENTS.c.id).where(EVENTS.c.id.in_(chunk)), flush=False)
            seen.update(r[0] for r in result)
        # after the query: a commit that failed meanwhile has put its ids back among the pending ones
        return seen | {i for i in event_ids if i in self._pending_event_ids}

    async def member(self, group: str, user: str) -> MemberInfo | None:
        result = await self._read(self._stmts.member, {"g": group, "u": user}, only=_MEMBER_TABLES)
        row = result.first()
        return MemberInfo(**row._mapping) if row else None

    async def reminded_on(self, group: str, user: str) -> str:
        """The local day the member was last reminded of the name format ('' for never or cleared)."""
        key = (group, user)
        found = self._reminded.get(key)
        if found is None and not self._reminded_all:
            await self._load_reminded()
            found = self._reminded.get(key)
        if found is None and self._reminded_all:
            return ""
        if found is None:
            result = await self._read(select(MEMBERS.c.reminded_on).where(
                and_(MEMBERS.c.group_id == group, MEMBERS.c.user_id == user)), flush=False)
            found = self._reminded[key] = result.scalar() or ""
        return found

    async def _load_reminded(self) -> None:
        """Load every member's reminder day once (so later misses need no query)."""
        result = await self._read(select(MEMBERS.c.group_id, MEMBERS.c.user_id, MEMBERS.c.reminded_on).where(
            and_(MEMBERS.c.reminded_on.is_not(None), MEMBERS.c.reminded_on != "")), flush=False)
        rows = result.all()
        if len(rows) > 500_000:
            return
        for group, user, day in rows:
            self._reminded.setdefault((group, user), day)
        self._reminded_all = True

    async def last_rule_use(self, group: str, rule: str) -> datetime | None:
        """When `rule` last produced an action in `group` (for cooldowns)."""
        key = (group, rule)
        if key in self._rule_use:
            return self._rule_use[key]
        if self._rule_use_all and not self._recovered:
            return None
        result = await self._read(
            select(func.max(ACTIONS.c.ts)).where(and_(ACTIONS.c.group_id == group, ACTIONS.c.rule == rule,
                                                      ACTIONS.c.status != "note")), flush=False)
        when = result.scalar()
        if len(self._rule_use) > 100_000:
            self._forget_caches()
        self._rule_use[key] = when
        return when

    async def job_ran(self, job_id: str, due_at: datetime) -> bool:
        result = await self._read(
            select(JOB_RUNS.c.job_id).where(and_(JOB_RUNS.c.job_id == job_id, JOB_RUNS.c.due_at == due_at)))
        return result.first() is not None

    async def event_payload(self, event_id: str) -> dict[str, Any] | None:
        result = await self._read(select(EVENTS.c.payload).where(EVENTS.c.id == event_id))
        row = result.first()
        return row[0] if row else None

    async def audit_of_event(self, event_id: str) -> list[dict[str, Any]]:
        """Every action and note recorded for an event, in the order they were made."""
        result = await self._read(
            select(ACTIONS).where(ACTIONS.c.event_id == event_id).order_by(ACTIONS.c.ts, ACTIONS.c.id))
        return [dict(r._mapping) for r in result]

    async def undelivered_actions(self) -> list[dict[str, Any]]:
        """Actions recorded but not delivered (the process stopped between commit and send)."""
        result = await self._read(
            select(ACTIONS).where(ACTIONS.c.status == "pending").order_by(ACTIONS.c.ts, ACTIONS.c.id))
        return [dict(r._mapping) for r in result]

    async def ad_warnings(self, group: str, user: str, since: datetime) -> int:
        """Offences of the member in the group since `since` that no red packet excused."""
        result = await self._read(select(func.count()).select_from(AD_OFFENCES).where(and_(
            AD_OFFENCES.c.group_id == group, AD_OFFENCES.c.user_id == user, AD_OFFENCES.c.ts >= since,
            AD_OFFENCES.c.excused_by.is_(None))), only=_AD_TABLES)
        return int(result.scalar() or 0)

    async def open_ad_offence(self, group: str, user: str, since: datetime) -> dict[str, Any] | None:
        """The member's latest offence since `since` that is not excused yet."""
        result = await self._read(select(AD_OFFENCES).where(and_(
            AD_OFFENCES.c.group_id == group, AD_OFFENCES.c.user_id == user, AD_OFFENCES.c.ts >= since,
            AD_OFFENCES.c.excused_by.is_(None))).order_by(AD_OFFENCES.c.ts.desc()).limit(1), only=_AD_TABLES)
        row = result.first()
        return dict(row._mapping) if row else None

    async def ad_samples(self) -> list[dict[str, Any]]:
        """Every owner decision (text, label), oldest first."""
        result = await self._read(select(AD_SAMPLES).order_by(AD_SAMPLES.c.ts))
        return [dict(r._mapping) for r in result]

    async def count(self, table: str) -> int:
        """Rows in a table (for tests and the CLI)."""
        t = {"events": EVENTS, "members": MEMBERS, "groups": GROUPS, "actions": ACTIONS,
             "job_runs": JOB_RUNS, "ad_offences": AD_OFFENCES, "ad_samples": AD_SAMPLES, "checkins": CHECKINS,
             "points_ledger": LEDGER, "points_balances": BALANCES}[table]
        result = await self._read(select(func.count()).select_from(t))
        return int(result.scalar() or 0)

    # -- check-in and points -------------------------------------------------------------------------
    # Ranks, streaks and balances are answered by the database itself: a counter row incremented in
    # SQL (`count = count + 1 RETURNING count`), a unique (group, member, local date) key, balances
    # moved by `balance = balance + :delta`; never read in Python and written back.

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
            return CheckinResult(True, rank, streak, 0, await self.balance(group, user))
        if not late and (group, user) not in self._checkins and not self._checkins_all:
            for d, row in known.items():  # what the database said, for the next check-in
                self._remember_checkin(group, user, d, row)
        key = {"g": group, "d": day}
        streak = known[yesterday][1] + 1 if yesterday in known else 1
        points = points_for_streak(streak)

        async def steps(run: _Run) -> tuple[int, int, list[str]] | None:
            rank = (await run(self._stmts.checkin_count_up, key))[0][0]
            inserted = await run(self._stmts.checkin, {
                "group_id": group, "user_id": user, "local_date": day, "rank": rank, "streak": streak,
                "points": points, "ts": ts, "event_id": event_id})
            if not inserted:
                # checked in meanwhile by another writer: give the number back (we hold the counter's row)
                await run(self._stmts.checkin_count_down, key)
                return None
            balance = (await run(self._stmts.balance_add, _balance_row(group, user, points, ts)))[0][0]
            following: list[str] = []
            if late:
                following = _following_days(day, [d for (d,) in await run(self._stmts.checkins_after, {
                    "g": group, "u": user, "d": day})])
                if following:
                    await run(self._stmts.streaks_raise, {"g": group, "u": user, "first": following[0],
                                                          "last": following[-1], "by": streak})
            return rank, int(balance), following

        done = await self._write_steps(steps)
        if done is None:
            rank, streak, _points = (await look(group, user, (day,)))[day]
            return CheckinResult(True, rank, streak, 0, await self.balance(group, user))
        rank, balance, following = done
        self._raise_cached_streaks(group, user, following, streak)
        # a late day is cached where the member's latest days are (it stays only if among them)
        if not late or (group, user) in self._checkins or self._checkins_all:
            self._remember_checkin(group, user, day, (rank, streak, points))
        self._ledger(group, user, points, "checkin", ts, event_id, None, None)
        return CheckinResult(False, rank, streak, points, balance)

    async def _checkins_on(self, group: str, user: str, days: tuple[str, ...]) -> dict[str, tuple[int, int, int]]:
        """The member's check-ins on these days, from the cache of latest days when it has them."""
        key = (group, user)
        known = self._checkins.get(key)
        if not self._recovered and (known is not None or self._checkins_all):
            return {d: v for d, v in (known or {}).items() if d in days}
        return await self._checkins_stored(group, user, days)

    async def _checkins_stored(self, group: str, user: str, days: tuple[str, ...]
                               ) -> dict[str, tuple[int, int, int]]:
        result = await self._read(self._stmts.checkins_on, {"g": group, "u": user, "days": list(days)}, flush=False)
        return {d: (r, s, p) for d, r, s, p in result}

    def _raise_cached_streaks(self, group: str, user: str, days: list[str], by: int) -> None:
        known = self._checkins.get((group, user), {})
        for d in days:
            if d in known:
                rank, streak, points = known[d]
                known[d] = (rank, streak + by, points)

    def _remember_checkin(self, group: str, user: str, day: str, row: tuple[int, int, int]) -> None:
        if len(self._checkins) > 500_000:
            self._checkins.clear()
            self._checkins_all = False
        known = self._checkins.setdefault((group, user), {})
        known[day] = row
        for old in sorted(known)[:-2]:  # yesterday is all a streak needs
            del known[old]

    async def award_points(self, group: str, user: str, delta: int, reason: str, ts: datetime, *,
                           event_id: str | None = None, actor: str | None = None, note: str | None = None) -> int:
        """Add `delta` (negative: deduct) to the member's balance with its ledger row; the new balance."""
        rows = await self._write_now(self._stmts.balance_add, _balance_row(group, user, delta, ts))
        self._ledger(group, user, delta, reason, ts, event_id, actor, note)
        return int(rows[0][0])

    async def award_message_points(self, group: str, user: str, points: int, ts: datetime, day: str,
                                   cooldown_seconds: float, daily_cap: int, event_id: str) -> int | None:
        """Pay `points` for a message unless the member was paid less than `cooldown_seconds` ago or
        would pass `daily_cap` message points on the local `day`. The new balance, or None."""
        key = (group, user)
        last = self._message_award.get(key)
        if last is not None and not self._recovered:
            at, on, paid = last
            if (ts - at).total_seconds() < cooldown_seconds or (on == day and paid + points > daily_cap):
                return None
        rows = await self._write_now(self._stmts.message_award, {
            "group_id": group, "user_id": user, "balance": points, "message_day": day, "message_points": points,
            "last_message_award_at": ts, "updated_at": ts, "top_level": 0, "cap": daily_cap,
            "not_after": ts - timedelta(seconds=cooldown_seconds)})
        if not rows:
            result = await self._read(select(BALANCES.c.last_message_award_at, BALANCES.c.message_day,
                                             BALANCES.c.message_points).where(and_(
                BALANCES.c.group_id == group, BALANCES.c.user_id == user)), flush=False)
            row = result.first()
            if row is not None and row[0] is not None:
                self._remember_message_award(key, (row[0], row[1] or "", row[2]))
            return None
        self._remember_message_award(key, (ts, day, int(rows[0][1])))
        self._ledger(group, user, points, "message", ts, event_id, None, None)
        return int(rows[0][0])

    def _remember_message_award(self, key: tuple[str, str], state: tuple[datetime, str, int]) -> None:
        if len(self._message_award) > 500_000:
            self._message_award.clear()
        self._message_award[key] = state

    def _ledger(self, group: str, user: str, delta: int, reason: str, ts: datetime, event_id: str | None,
                actor: str | None, note: str | None) -> None:
        self._bulk["ledger"].append({"group_id": group, "user_id": user, "delta": delta, "reason": reason,
                                     "note": _free_text(note) if note else note, "event_id": event_id,
                                     "actor": actor, "ts": ts})

    async def reach_level(self, group: str, user: str, rank: int) -> bool:
        """Note that the member reached the level at place `rank`; False when it (or a higher one) was
        reached before (a level-up is announced once)."""
        rows = await self._write_now(
            update(BALANCES).where(and_(BALANCES.c.group_id == group, BALANCES.c.user_id == user,
                                        BALANCES.c.top_level < rank)).values(top_level=rank)
            .returning(BALANCES.c.top_level), {})
        return bool(rows)

    async def balance(self, group: str, user: str) -> int:
        """The member's points (0 before any award)."""
        result = await self._read(self._stmts.balance, {"g": group, "u": user}, flush=False)
        return int(result.scalar() or 0)

    async def checkin_counts(self, groups: Sequence[str], day: str) -> dict[str, int]:
        """How many members of each group checked in on the local `day`."""
        result = await self._read(select(CHECKIN_DAYS.c.group_id, CHECKIN_DAYS.c.count).where(and_(
            CHECKIN_DAYS.c.group_id.in_(list(groups)), CHECKIN_DAYS.c.local_date == day)), flush=False)
        return {g: int(n) for g, n in result}

    async def group_sizes(self, groups: Sequence[str]) -> dict[str, tuple[str | None, int]]:
        """Each group's name and its members present now (seen, not left)."""
        result = await self._read(
            select(GROUPS.c.id, GROUPS.c.name, func.count(MEMBERS.c.user_id))
            .select_from(GROUPS.outerjoin(MEMBERS, and_(MEMBERS.c.group_id == GROUPS.c.id,
                                                        MEMBERS.c.left_at.is_(None))))
            .where(GROUPS.c.id.in_(list(groups))).group_by(GROUPS.c.id, GROUPS.c.name),
            only=("groups", "members"))
        return {g: (name, int(n)) for g, name, n in result}

    async def groups_named(self) -> dict[str, str | None]:
        """Every group the bot has seen, with its last known name."""
        result = await self._read(select(GROUPS.c.id, GROUPS.c.name), only=("groups",))
        return {g: name for g, name in result}

    async def checkin_board(self, group: str, day: str, limit: int) -> list[dict[str, Any]]:
        """The day's check-ins in order: rank, user, name, ts, streak."""
        result = await self._read(
            select(CHECKINS.c.rank, CHECKINS.c.user_id, MEMBERS.c.display_name, CHECKINS.c.ts, CHECKINS.c.streak)
            .select_from(CHECKINS.outerjoin(MEMBERS, and_(MEMBERS.c.group_id == CHECKINS.c.group_id,
                                                          MEMBERS.c.user_id == CHECKINS.c.user_id)))
            .where(and_(CHECKINS.c.group_id == group, CHECKINS.c.local_date == day))
            .order_by(CHECKINS.c.rank).limit(limit), only=("members",))
        return [dict(r._mapping) for r in result]

    async def streak_board(self, group: str, day: str, yesterday: str, limit: int) -> list[dict[str, Any]]:
        """Current streaks (the member checked in today or yesterday), longest first."""
        streak = func.max(CHECKINS.c.streak).label("streak")
        inner = (select(CHECKINS.c.user_id, streak)
                 .where(and_(CHECKINS.c.group_id == group, CHECKINS.c.local_date.in_((day, yesterday))))
                 .group_by(CHECKINS.c.user_id).subquery())
        result = await self._read(
            select(inner.c.user_id, MEMBERS.c.display_name, inner.c.streak)
            .select_from(inner.outerjoin(MEMBERS, and_(MEMBERS.c.group_id == group,
                                                       MEMBERS.c.user_id == inner.c.user_id)))
            .order_by(inner.c.streak.desc(), inner.c.user_id).limit(limit), only=("members",))
        return [dict(r._mapping) for r in result]

    def _points_by_member(self, group: str, since: datetime | None) -> Any:
        if since is None:
            return select(BALANCES.c.user_id, BALANCES.c.balance.label("points")).where(
                BALANCES.c.group_id == group).subquery()
        return (select(LEDGER.c.user_id, func.sum(LEDGER.c.delta).label("points"))
                .where(and_(LEDGER.c.group_id == group, LEDGER.c.ts >= since))
                .group_by(LEDGER.c.user_id).subquery())

    async def points_board(self, group: str, since: datetime | None, limit: int) -> list[dict[str, Any]]:
        """Top members by points earned since `since` (None: balances), with names and places (equal
        points share a place: 1, 2, 2, 4)."""
        per = self._points_by_member(group, since)
        result = await self._read(
            select(per.c.user_id, MEMBERS.c.display_name, per.c.points)
            .select_from(per.outerjoin(MEMBERS, and_(MEMBERS.c.group_id == group,
                                                     MEMBERS.c.user_id == per.c.user_id)))
            .where(per.c.points > 0).order_by(per.c.points.desc(), per.c.user_id).limit(limit),
            only=("members", "ledger"))
        rows = [dict(r._mapping) for r in result]
        for n, row in enumerate(rows):
            row["place"] = rows[n - 1]["place"] if n and rows[n - 1]["points"] == row["points"] else n + 1
        return rows

    async def points_place(self, group: str, user: str, since: datetime | None) -> tuple[int, int]:
        """The member's (place, points) on the board of `points_board` (place 0: no points)."""
        per = self._points_by_member(group, since)
        mine = select(per.c.points).where(per.c.user_id == user).scalar_subquery()
        result = await self._read(select(
            mine, select(func.count()).select_from(per).where(per.c.points > mine).scalar_subquery()),
            only=("ledger",))
        points, ahead = result.one()
        if not points or points <= 0:
            return 0, int(points or 0)
        return int(ahead) + 1, int(points)

    async def points_earned(self, group: str, user: str, since: datetime) -> int:
        """The member's net points since `since`, from the ledger."""
        result = await self._read(select(func.coalesce(func.sum(LEDGER.c.delta), 0)).where(and_(
            LEDGER.c.group_id == group, LEDGER.c.user_id == user, LEDGER.c.ts >= since)), only=("ledger",))
        return int(result.scalar() or 0)

    async def ledger_of(self, group: str, user: str, limit: int) -> list[dict[str, Any]]:
        """The member's latest ledger rows, newest first."""
        result = await self._read(select(LEDGER).where(and_(LEDGER.c.group_id == group, LEDGER.c.user_id == user))
                                  .order_by(LEDGER.c.ts.desc(), LEDGER.c.id.desc()).limit(limit), only=("ledger",))
        return [dict(r._mapping) for r in result]

    async def ledger_sums(self, group: str) -> dict[str, int]:
        """Each member's ledger sum (equal to the balance; for checks and tests)."""
        result = await self._read(select(LEDGER.c.user_id, func.sum(LEDGER.c.delta))
                                  .where(LEDGER.c.group_id == group).group_by(LEDGER.c.user_id), only=("ledger",))
        return {u: int(n) for u, n in result}

    async def balances(self, group: str) -> dict[str, int]:
        result = await self._read(select(BALANCES.c.user_id, BALANCES.c.balance).where(BALANCES.c.group_id == group),
                                  flush=False)
        return {u: int(n) for u, n in result}

    async def member_activity(self, group: str, since: datetime, user: str | None = None
                              ) -> dict[str, tuple[int, int, int]]:
        """Per member since `since`: (messages, check-ins, red packets). Check-ins are also messages.
        Red packets count apart, not as messages."""
        kinds = case((EVENTS.c.type == "red_packet", literal("r")), else_=literal("m"))
        where = [EVENTS.c.group_id == group, EVENTS.c.ts >= since,
                 EVENTS.c.type.in_(sorted(_ACTIVITY_TYPES)), EVENTS.c.user_id.is_not(None)]
        cwhere = [CHECKINS.c.group_id == group, CHECKINS.c.ts >= since]
        if user is not None:
            where.append(EVENTS.c.user_id == user)
            cwhere.append(CHECKINS.c.user_id == user)
        out: dict[str, list[int]] = {}
        result = await self._read(select(EVENTS.c.user_id, kinds, func.count()).where(and_(*where))
                                  .group_by(EVENTS.c.user_id, kinds), only=("events",))
        for uid, kind, n in result:
            out.setdefault(uid, [0, 0, 0])[2 if kind == "r" else 0] += int(n)
        result = await self._read(select(CHECKINS.c.user_id, func.count()).where(and_(*cwhere))
                                  .group_by(CHECKINS.c.user_id), flush=False)
        for uid, n in result:
            out.setdefault(uid, [0, 0, 0])[1] += int(n)
        return {u: (m, c, r) for u, (m, c, r) in out.items()}

    async def silent_activity(self, group: str, since: datetime, until: datetime) -> dict[str, tuple[int, int, int]]:
        """`member_activity` in [since, until), only for members last active in that window: the only
        members of a purge list (silent since `until`) who have any activity to count since `since`,
        and none of it after `until` (their last activity is before it)."""
        recent = (select(MEMBERS.c.user_id).where(and_(
            MEMBERS.c.group_id == group, MEMBERS.c.last_active_at >= since, MEMBERS.c.last_active_at < until)))
        kinds = case((EVENTS.c.type == "red_packet", literal("r")), else_=literal("m"))
        out: dict[str, list[int]] = {}
        result = await self._read(select(EVENTS.c.user_id, kinds, func.count()).where(and_(
            EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until,
            EVENTS.c.type.in_(sorted(_ACTIVITY_TYPES)), EVENTS.c.user_id.in_(recent)))
            .group_by(EVENTS.c.user_id, kinds), only=("events", "members"))
        for uid, kind, n in result:
            out.setdefault(uid, [0, 0, 0])[2 if kind == "r" else 0] += int(n)
        result = await self._read(select(CHECKINS.c.user_id, func.count()).where(and_(
            CHECKINS.c.group_id == group, CHECKINS.c.user_id.in_(recent), CHECKINS.c.ts >= since,
            CHECKINS.c.ts < until)).group_by(CHECKINS.c.user_id), flush=False)
        for uid, n in result:
            out.setdefault(uid, [0, 0, 0])[1] += int(n)
        return {u: (m, c, r) for u, (m, c, r) in out.items()}

    async def find_member(self, group: str, name: str) -> str | None:
        """The id of the member whose display name is `name` (the latest seen when several are)."""
        result = await self._read(select(MEMBERS.c.user_id).where(and_(
            MEMBERS.c.group_id == group, MEMBERS.c.display_name == name))
            .order_by(MEMBERS.c.last_active_at.desc()).limit(1), only=("members",))
        return result.scalar()

    async def told_before(self, group: str, user: str, rule: str) -> bool:
        """Did `rule` already answer an event of this member in this group?"""
        result = await self._read(
            select(ACTIONS.c.id).select_from(ACTIONS.join(EVENTS, EVENTS.c.id == ACTIONS.c.event_id))
            .where(and_(ACTIONS.c.group_id == group, ACTIONS.c.rule == rule, EVENTS.c.user_id == user)).limit(1),
            only=("actions", "events"))
        return result.first() is not None

    # -- reports: purge lists, activity by hour, the day's numbers, anomalies ---------------------------

    async def inactive_members(self, group: str, active_before: datetime, joined_before: datetime,
                               exclude: Iterable[str] = (), limit: int | None = None) -> list[InactiveMember]:
        """Members present in the group with no activity (message, check-in, red packet) since
        `active_before` (counted from joining for who never spoke) who joined (or were first seen)
        before `joined_before`, minus `exclude`; longest inactive first. With points and messages."""
        since_join = func.coalesce(MEMBERS.c.joined_at, MEMBERS.c.first_seen_at)
        query = (
            # times read raw and parsed below: SQLAlchemy's own processing is most of the cost of a long list
            select(MEMBERS.c.user_id, MEMBERS.c.display_name, dialect.raw_time(since_join),
                   dialect.raw_time(MEMBERS.c.last_active_at), MEMBERS.c.message_count,
                   func.coalesce(BALANCES.c.balance, 0))
            .select_from(MEMBERS.outerjoin(BALANCES, and_(BALANCES.c.group_id == MEMBERS.c.group_id,
                                                          BALANCES.c.user_id == MEMBERS.c.user_id)))
            .where(and_(MEMBERS.c.group_id == group, MEMBERS.c.left_at.is_(None),
                        # silence counts from the last activity, or from joining for who never spoke
                        func.coalesce(MEMBERS.c.last_active_at, since_join) < active_before,
                        since_join <= joined_before))
            .order_by(func.coalesce(MEMBERS.c.last_active_at, since_join), MEMBERS.c.user_id)
        )
        if limit is not None:
            query = query.limit(limit + len(set(exclude)))
        excluded, utc = set(exclude), dialect.utc_time
        with paused_gc():
            rows = [InactiveMember(user, name, utc(joined), utc(last), count, points)
                    for user, name, joined, last, count, points in await self._rows(query, only=("members", "roster"))
                    if user not in excluded]
        return rows[:limit] if limit is not None else rows

    async def hourly_activity(self, group: str, since: datetime, until: datetime) -> dict[datetime, int]:
        """Messages (incl. check-ins and red packets) per UTC quarter hour in [since, until), keyed by
        the quarter's start: callers add them up by local hour (right in any time zone)."""
        bucket = dialect.quarter_bucket(self.engine, EVENTS.c.ts).label("bucket")
        result = await self._read(
            select(bucket, func.count()).where(and_(
                EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until,
                EVENTS.c.type.in_(sorted(_ACTIVITY_TYPES)))).group_by(bucket), only=("events",))
        return {dialect.bucket_start(b): int(n) for b, n in result}

    async def event_count(self, group: str, types: Iterable[str], since: datetime, until: datetime, *,
                          members: bool = False) -> int:
        """Events of these types in the group in [since, until); with `members`, the members they
        came from (a leave found by a roster and announced later too is one member who left)."""
        counted = func.count(EVENTS.c.user_id.distinct()) if members else func.count()
        result = await self._read(select(counted).select_from(EVENTS).where(and_(
            EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until,
            EVENTS.c.type.in_(sorted(types)))), only=("events",))
        return int(result.scalar() or 0)

    async def event_counts_by_group(self, types: Iterable[str], since: datetime, until: datetime
                                    ) -> dict[tuple[str, str], int]:
        """Events of these types per (group, type) in [since, until), all groups at once."""
        result = await self._read(select(EVENTS.c.group_id, EVENTS.c.type, func.count()).where(and_(
            EVENTS.c.ts >= since, EVENTS.c.ts < until, EVENTS.c.type.in_(sorted(types)),
            EVENTS.c.group_id.is_not(None))).group_by(EVENTS.c.group_id, EVENTS.c.type), only=("events",))
        return {(g, t): int(n) for g, t, n in result}

    async def ads_by_group(self, since: datetime, until: datetime) -> dict[str, int]:
        """Ads prompted about per group in [since, until)."""
        result = await self._read(select(AD_OFFENCES.c.group_id, func.count()).where(and_(
            AD_OFFENCES.c.ts >= since, AD_OFFENCES.c.ts < until)).group_by(AD_OFFENCES.c.group_id), only=_AD_TABLES)
        return {g: int(n) for g, n in result}

    async def event_times(self, group: str, type_: str, since: datetime, until: datetime) -> list[datetime]:
        """When events of one type happened in the group in [since, until), in order; only events the
        platform timed (a leave found by a roster carries the roster's time, not the member's)."""
        result = await self._read(select(EVENTS.c.ts).where(and_(
            EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until, EVENTS.c.type == type_,
            EVENTS.c.id.not_like(ROSTER_LEAVE + "%")))
            .order_by(EVENTS.c.ts), only=("events",))
        return [r[0] for r in result]

    async def talkers(self, group: str, since: datetime, until: datetime, limit: int) -> list[dict[str, Any]]:
        """The members who sent the most messages in [since, until): user_id, display_name, count."""
        n = func.count().label("count")
        per = (select(EVENTS.c.user_id, n).where(and_(
            EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until,
            EVENTS.c.type.in_(sorted(_ACTIVITY_TYPES)), EVENTS.c.user_id.is_not(None)))
            .group_by(EVENTS.c.user_id).subquery())
        result = await self._read(
            select(per.c.user_id, MEMBERS.c.display_name, per.c["count"])
            .select_from(per.outerjoin(MEMBERS, and_(MEMBERS.c.group_id == group, MEMBERS.c.user_id == per.c.user_id)))
            .order_by(per.c["count"].desc(), per.c.user_id).limit(limit), only=("events", "members"))
        return [dict(r._mapping) for r in result]

    async def active_count(self, group: str, since: datetime, until: datetime) -> int:
        """Distinct members with a message in [since, until)."""
        result = await self._read(select(func.count(func.distinct(EVENTS.c.user_id))).where(and_(
            EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until,
            EVENTS.c.type.in_(sorted(_ACTIVITY_TYPES)))), only=("events",))
        return int(result.scalar() or 0)

    async def ads_caught(self, group: str, since: datetime, until: datetime) -> int:
        """Ads the bot prompted about in [since, until) (excused or not)."""
        result = await self._read(select(func.count()).select_from(AD_OFFENCES).where(and_(
            AD_OFFENCES.c.group_id == group, AD_OFFENCES.c.ts >= since, AD_OFFENCES.c.ts < until)), only=_AD_TABLES)
        return int(result.scalar() or 0)

    async def group_last_message(self, group: str) -> datetime | None:
        """The time of the group's latest message, check-in or red packet (None: none yet)."""
        result = await self._read(select(func.max(MEMBERS.c.last_active_at)).where(MEMBERS.c.group_id == group),
                                  only=("members",))
        return result.scalar()


ROSTER_LEAVE = "roster-leave:"  # the id prefix of leaves found by a roster (see sync_roster)

# Bulk statements commute with each other except as ordered here (a member row before its reminder,
# an offence before its excuse); rows of one statement keep their order.
MAX_KNOWN_IDS = 1_000_000
_AD_TABLES = ("ad_offence", "excuse")  # only ads questions read them; they commute with every other write
_MEMBER_TABLES = ("members", "roster", "reminded")  # the writes a member question must see
_BULK_ORDER = ("groups", "members", "roster", "reminded", "events", "actions", "job_runs", "delivery", "ad_offence",
               "excuse", "ad_sample", "ledger")
_ACTIVITY_TYPES = frozenset({"text", "image", "link", "mini_program", "contact_card", "red_packet", "media"})


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


def _balance_row(group: str, user: str, delta: int, ts: datetime) -> dict[str, Any]:
    return {"group_id": group, "user_id": user, "balance": delta, "message_day": None, "message_points": 0,
            "last_message_award_at": None, "updated_at": ts, "top_level": 0}


def _free_text(text: str) -> str:
    """Text as every backend stores it (PostgreSQL refuses NUL characters)."""
    return text.replace("\x00", "") if "\x00" in text else text


def _name(name: str | None) -> str | None:
    """A display or group name cut to its column (256; PostgreSQL enforces the length)."""
    return None if name is None else _free_text(name)[:256]


def _merge_groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per group (one upsert may not touch a row twice on every backend)."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen = out.get(row["id"])
        if seen is None:
            out[row["id"]] = dict(row)
            continue
        seen["name"] = row["name"] or seen["name"]
        seen["last_active_at"] = max(seen["last_active_at"], row["last_active_at"])
    return list(out.values())


def _merge_members(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per member, keeping the effect of the rows in order (see the members upsert)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["group_id"], row["user_id"])
        a = out.get(key)
        if a is None:
            out[key] = dict(row)
            continue
        a["display_name"] = row["display_name"] or a["display_name"]
        a["joined_at"] = row["joined_at"] or a["joined_at"]
        if row["joined_at"] is not None and row["left_at"] is None:
            a["left_at"] = None
        elif row["left_at"] is not None:
            a["left_at"] = row["left_at"]
        if a["last_active_at"] is None or (row["last_active_at"] and row["last_active_at"] > a["last_active_at"]):
            a["last_active_at"] = row["last_active_at"] or a["last_active_at"]
        a["message_count"] += row["message_count"]
    return list(out.values())


def _last_per_key(*keys: str) -> Any:
    def merge(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return list({tuple(r[k] for k in keys): r for r in rows}.values())

    return merge


_MERGE = {"groups": _merge_groups, "members": _merge_members, "reminded": _last_per_key("group_id", "user_id"),
          "roster": _last_per_key("group_id", "user_id"),
          "ad_sample": _last_per_key("event_id")}


class _Statements:
    """Statements built once per engine (same object each time, so journal rows group together)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._driver: dict[tuple[str, tuple[str, ...]], dialect.DriverBulk | None] = {}
        g = dialect.upsert(engine, GROUPS)
        self.groups = g.on_conflict_do_update(
            index_elements=[GROUPS.c.id],
            set_={"name": func.coalesce(g.excluded.name, GROUPS.c.name),
                  "last_active_at": _later(g.excluded.last_active_at, GROUPS.c.last_active_at)},
        )
        m = dialect.upsert(engine, MEMBERS)
        ex = m.excluded
        self.members = m.on_conflict_do_update(
            index_elements=[MEMBERS.c.group_id, MEMBERS.c.user_id],
            set_={
                "display_name": func.coalesce(ex.display_name, MEMBERS.c.display_name),
                "joined_at": func.coalesce(ex.joined_at, MEMBERS.c.joined_at),
                # a join clears left_at; a leave sets it; anything else keeps it
                "left_at": case((and_(ex.joined_at.is_not(None), ex.left_at.is_(None)), None),
                                else_=func.coalesce(ex.left_at, MEMBERS.c.left_at)),
                "last_active_at": _later(ex.last_active_at, MEMBERS.c.last_active_at),
                "message_count": MEMBERS.c.message_count + ex.message_count,
            },
        )
        self.events = dialect.upsert(engine, EVENTS).on_conflict_do_nothing(index_elements=[EVENTS.c.id])
        self.actions = dialect.upsert(engine, ACTIONS).on_conflict_do_nothing(index_elements=[ACTIONS.c.id])
        self.job_runs = dialect.upsert(engine, JOB_RUNS).on_conflict_do_nothing(
            index_elements=[JOB_RUNS.c.job_id, JOB_RUNS.c.due_at])
        self.delivery = (
            update(ACTIONS).where(ACTIONS.c.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), sent_at=bindparam("b_when"))
        )
        ro = dialect.upsert(engine, MEMBERS)
        self.roster = ro.on_conflict_do_update(
            index_elements=[MEMBERS.c.group_id, MEMBERS.c.user_id],
            set_={"display_name": func.coalesce(ro.excluded.display_name, MEMBERS.c.display_name), "left_at": null()})
        r = dialect.upsert(engine, MEMBERS)
        self.reminded = r.on_conflict_do_update(
            index_elements=[MEMBERS.c.group_id, MEMBERS.c.user_id], set_={"reminded_on": r.excluded.reminded_on})

        self.ad_offence = dialect.upsert(engine, AD_OFFENCES).on_conflict_do_nothing(
            index_elements=[AD_OFFENCES.c.event_id])
        self.excuse = (update(AD_OFFENCES).where(AD_OFFENCES.c.event_id == bindparam("b_id"))
                       .values(excused_by=bindparam("b_by")))
        self.ledger = LEDGER.insert()
        # hot questions, built once
        self.member = select(MEMBERS).where(and_(MEMBERS.c.group_id == bindparam("g"),
                                                 MEMBERS.c.user_id == bindparam("u")))
        self.balance = select(BALANCES.c.balance).where(and_(BALANCES.c.group_id == bindparam("g"),
                                                             BALANCES.c.user_id == bindparam("u")))
        self.checkins_on = (select(CHECKINS.c.local_date, CHECKINS.c.rank, CHECKINS.c.streak, CHECKINS.c.points)
                            .where(and_(CHECKINS.c.group_id == bindparam("g"), CHECKINS.c.user_id == bindparam("u"),
                                        CHECKINS.c.local_date.in_(bindparam("days", expanding=True)))))
        member_checkins = and_(CHECKINS.c.group_id == bindparam("g"), CHECKINS.c.user_id == bindparam("u"))
        self.checkins_after = (select(CHECKINS.c.local_date).where(and_(
            member_checkins, CHECKINS.c.local_date > bindparam("d"))).order_by(CHECKINS.c.local_date))
        self.streaks_raise = update(CHECKINS).where(and_(
            member_checkins, CHECKINS.c.local_date.between(bindparam("first"), bindparam("last")))).values(
            streak=CHECKINS.c.streak + bindparam("by"))
        c = dialect.upsert(engine, CHECKIN_DAYS).values(group_id=bindparam("g"), local_date=bindparam("d"), count=1)
        self.checkin_count_up = c.on_conflict_do_update(
            index_elements=[CHECKIN_DAYS.c.group_id, CHECKIN_DAYS.c.local_date],
            set_={"count": CHECKIN_DAYS.c.count + 1}).returning(CHECKIN_DAYS.c.count)
        self.checkin_count_down = (update(CHECKIN_DAYS).where(and_(
            CHECKIN_DAYS.c.group_id == bindparam("g"), CHECKIN_DAYS.c.local_date == bindparam("d")))
            .values(count=CHECKIN_DAYS.c.count - 1))
        self.checkin = dialect.upsert(engine, CHECKINS).on_conflict_do_nothing(
            index_elements=[CHECKINS.c.group_id, CHECKINS.c.user_id, CHECKINS.c.local_date]).returning(CHECKINS.c.rank)
        b = dialect.upsert(engine, BALANCES)
        self.balance_add = b.on_conflict_do_update(
            index_elements=[BALANCES.c.group_id, BALANCES.c.user_id],
            set_={"balance": BALANCES.c.balance + b.excluded.balance, "updated_at": b.excluded.updated_at},
        ).returning(BALANCES.c.balance)
        mb = dialect.upsert(engine, BALANCES)
        ex = mb.excluded
        self.message_award = mb.on_conflict_do_update(
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
        s = dialect.upsert(engine, AD_SAMPLES)
        self.ad_sample = s.on_conflict_do_update(
            index_elements=[AD_SAMPLES.c.event_id],
            set_={"label": s.excluded.label, "decided_by": s.excluded.decided_by, "ts": s.excluded.ts})

    def bulk(self, name: str) -> Any:
        return getattr(self, name)

    def driver(self, name: str, sample: dict[str, Any]) -> dialect.DriverBulk | None:
        """The statement compiled for the driver, for rows shaped like `sample` (None: use SQLAlchemy)."""
        key = (name, tuple(sample))
        if key not in self._driver:
            self._driver[key] = dialect.DriverBulk.compile(self._engine, self.bulk(name), list(sample))
        return self._driver[key]


def _later(new: Any, old: Any) -> Any:
    """The later of two nullable timestamps, in portable SQL."""
    return case((old.is_(None), new), (new.is_(None), old), (new > old, new), else_=old)


def is_transient(exc: BaseException) -> bool:
    """A database error worth retrying (locked, busy, gone, connection dropped), not a bug."""
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, OSError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    import sqlite3

    return isinstance(exc, sqlite3.OperationalError)
