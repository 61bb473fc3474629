"""The audit log and durable outbox (actions and notes, with their delivery state), and the runs of
scheduled jobs. Cooldowns ask it when a rule last acted; `why` reads it back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import dialect
from storage.journal import BulkWrite
from storage.repository import Repository
from storage.tables import ACTIONS, EVENTS, GROUPS, JOB_RUNS, MEMBERS

if TYPE_CHECKING:
    from storage.store import Store

MAX_RULE_USES = 200_000
MAX_SEARCH = 500  # rows one search answers at most (the web console pages through the log)
MAX_RUNS_KEPT = 4_096  # job runs of this process remembered, so that most "ran before?" need no query
_UNKNOWN: Any = object()


def _actions_insert(engine: AsyncEngine) -> Any:
    return dialect.upsert(engine, ACTIONS).on_conflict_do_nothing(index_elements=[ACTIONS.c.id])


def _job_runs_insert(engine: AsyncEngine) -> Any:
    return dialect.upsert(engine, JOB_RUNS).on_conflict_do_nothing(index_elements=[JOB_RUNS.c.job_id,
                                                                                   JOB_RUNS.c.due_at])


def _delivery_update(_engine: AsyncEngine) -> Any:
    return (update(ACTIONS).where(ACTIONS.c.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), sent_at=bindparam("b_when")))


class AuditLog(Repository):
    """Actions and notes (the audit log), their delivery, and job runs."""

    writes = (BulkWrite("actions", 60, _actions_insert), BulkWrite("job_runs", 70, _job_runs_insert),
              BulkWrite("delivery", 80, _delivery_update))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._actions, self._job_runs = store.buffer("actions"), store.buffer("job_runs")
        self._delivery = store.buffer("delivery")
        self._rule_use: dict[tuple[str, str], datetime | None] = {}
        self._rule_use_all = False  # a miss in _rule_use means "never" (a database that started empty)
        # the latest instant of the job runs stored before (None: none; _UNKNOWN: not asked yet), and the
        # runs recorded since: a job due later than the mark ran only if this process ran it
        self._runs_until: Any = _UNKNOWN
        self._ran: set[tuple[str, datetime]] = set()

    def opened(self, empty: bool) -> None:
        self._rule_use_all = empty

    def forget(self) -> None:
        self._rule_use.clear()
        self._rule_use_all = False
        self._runs_until = _UNKNOWN
        self._ran.clear()

    # -- facts ------------------------------------------------------------------------------------

    def record_actions(self, rows: Sequence[dict[str, Any]]) -> None:
        """Audit rows (actions pending delivery, and notes); see bot.audit for their shape."""
        for row in rows:
            self._actions.append(row)
            if row["status"] != "note" and row["group_id"]:
                if len(self._rule_use) > MAX_RULE_USES:
                    self.journal.forget_caches()
                self._rule_use[(row["group_id"], row["rule"])] = row["ts"]

    def mark_delivered(self, action_ids: Iterable[str], status: str, when: datetime) -> None:
        """An action went out (status 'sent') or gave up ('failed', 'expired')."""
        for action_id in action_ids:
            self._delivery.append({"b_id": action_id, "b_status": status, "b_when": when})

    def record_job_run(self, job_id: str, due_at: datetime, ran_at: datetime, note: str | None = None) -> None:
        """A scheduled job ran for its instant `due_at`."""
        self.journal.pending_job(job_id, due_at)
        if len(self._ran) >= MAX_RUNS_KEPT:  # the mark moves past them: later questions about them query
            self._runs_until = max(due for _, due in self._ran) if self._runs_until is None else max(
                self._runs_until, *(due for _, due in self._ran))
            self._ran.clear()
        self._ran.add((job_id, due_at))
        self._job_runs.append({"job_id": job_id, "due_at": due_at, "ran_at": ran_at, "note": note})

    # -- questions --------------------------------------------------------------------------------

    async def last_rule_use(self, group: str, rule: str) -> datetime | None:
        """When `rule` last produced an action in `group` (for cooldowns)."""
        key = (group, rule)
        if key in self._rule_use:
            return self._rule_use[key]
        if self._rule_use_all and not self.journal.recovered:
            return None
        result = await self.journal.read(
            select(func.max(ACTIONS.c.ts)).where(and_(ACTIONS.c.group_id == group, ACTIONS.c.rule == rule,
                                                      ACTIONS.c.status != "note")), flush=False)
        when = result.scalar()
        if len(self._rule_use) > MAX_RULE_USES // 2:
            self.journal.forget_caches()
        self._rule_use[key] = when
        return when

    async def told_before(self, group: str, user: str, rule: str) -> bool:
        """Did `rule` already answer an event of this member in this group?"""
        result = await self.journal.read(
            select(ACTIONS.c.id).select_from(ACTIONS.join(EVENTS, EVENTS.c.id == ACTIONS.c.event_id))
            .where(and_(ACTIONS.c.group_id == group, ACTIONS.c.rule == rule, EVENTS.c.user_id == user)).limit(1),
            only=("actions", "events"))
        return result.first() is not None

    async def last_acted_event(self, group: str, exclude_prefix: str = "admin") -> str | None:
        """The id of the latest event of `group` that a rule acted on (sent or removed; not the
        admins' own commands): what /why explains when it is asked without an id."""
        result = await self.journal.read(
            select(ACTIONS.c.event_id).where(and_(
                ACTIONS.c.group_id == group, ACTIONS.c.status != "note", ACTIONS.c.event_id.is_not(None),
                ~ACTIONS.c.rule.startswith(exclude_prefix))).order_by(ACTIONS.c.ts.desc()).limit(1))
        return result.scalar()

    async def audit_of_event(self, event_id: str) -> list[dict[str, Any]]:
        """Every action and note recorded for an event, in the order they were made."""
        result = await self.journal.read(
            select(ACTIONS).where(ACTIONS.c.event_id == event_id).order_by(ACTIONS.c.ts, ACTIONS.c.id))
        return [dict(r._mapping) for r in result]

    async def undelivered_actions(self) -> list[dict[str, Any]]:
        """Actions recorded but not delivered (the process stopped between commit and send)."""
        result = await self.journal.read(
            select(ACTIONS).where(ACTIONS.c.status == "pending").order_by(ACTIONS.c.ts, ACTIONS.c.id))
        return [dict(r._mapping) for r in result]

    async def pending_with_prefix(self, prefix: str, limit: int = 500) -> list[dict[str, Any]]:
        """Undelivered actions whose id starts with `prefix` (e.g. "web:", queued by the web console
        in another process for the running bot to send), oldest first."""
        result = await self.journal.read(
            select(ACTIONS).where(and_(ACTIONS.c.status == "pending", ACTIONS.c.id.startswith(prefix)))
            .order_by(ACTIONS.c.ts, ACTIONS.c.id).limit(limit))
        return [dict(r._mapping) for r in result]

    async def audit_of_events(self, event_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """`audit_of_event` for many events at once (a page of them): event id -> its rows, in order."""
        found: dict[str, list[dict[str, Any]]] = {e: [] for e in event_ids}
        ids = list(found)
        for start in range(0, len(ids), 500):
            result = await self.journal.read(
                select(ACTIONS).where(ACTIONS.c.event_id.in_(ids[start:start + 500]))
                .order_by(ACTIONS.c.ts, ACTIONS.c.id), only=("actions",))
            for r in result:
                found[r.event_id].append(dict(r._mapping))
        return found

    async def search(self, *, group: str | None = None, rule: str | None = None, member: str | None = None,
                     since: datetime | None = None, until: datetime | None = None,
                     before: tuple[datetime, str] | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Actions and notes, newest first (by ts, then id), at most `limit` (<= MAX_SEARCH): of a group,
        of rules starting with `rule`, about a member (the action's target or the event's sender), in
        [since, until), and before the (ts, id) of a previous page's last row. Each row also has
        `member` (that member's id), `member_name` and `group_name`."""
        a = ACTIONS
        who = func.coalesce(a.c.user_id, EVENTS.c.user_id)
        conditions = []
        if group:
            conditions.append(a.c.group_id == group)
        if rule:
            conditions.append(a.c.rule.startswith(rule, autoescape=True))
        if member:
            conditions.append(or_(a.c.user_id == member, EVENTS.c.user_id == member))
        if since is not None:
            conditions.append(a.c.ts >= since)
        if until is not None:
            conditions.append(a.c.ts < until)
        if before is not None:
            conditions.append(or_(a.c.ts < before[0], and_(a.c.ts == before[0], a.c.id < before[1])))
        stmt = (select(a, who.label("member"), MEMBERS.c.display_name.label("member_name"),
                       GROUPS.c.name.label("group_name"))
                .select_from(a.outerjoin(EVENTS, EVENTS.c.id == a.c.event_id)
                             .outerjoin(GROUPS, GROUPS.c.id == a.c.group_id)
                             .outerjoin(MEMBERS, and_(MEMBERS.c.group_id == a.c.group_id, MEMBERS.c.user_id == who)))
                .where(*conditions).order_by(a.c.ts.desc(), a.c.id.desc())
                .limit(max(1, min(limit, MAX_SEARCH))))
        result = await self.journal.read(stmt, only=("actions", "events", "groups", "members"))
        return [dict(r._mapping) for r in result]

    async def pending_kicks(self, group: str) -> set[str]:
        """Members of the group whose removal is queued and not yet sent."""
        result = await self.journal.read(select(ACTIONS.c.user_id).where(and_(
            ACTIONS.c.status == "pending", ACTIONS.c.action == "kick", ACTIONS.c.group_id == group)))
        return {user for (user,) in result}

    async def job_ran(self, job_id: str, due_at: datetime) -> bool:
        """Whether the job ran for this instant (here or in an earlier process)."""
        if self._runs_until is _UNKNOWN:
            result = await self.journal.read(select(func.max(JOB_RUNS.c.due_at)), only=("job_runs",))
            self._runs_until = result.scalar()
        if not self.journal.recovered and (self._runs_until is None or due_at > self._runs_until):
            return (job_id, due_at) in self._ran
        # only job runs are flushed first: nothing else writes that table, and the rest of the batch stays
        # buffered for one executemany at the commit
        result = await self.journal.read(
            select(JOB_RUNS.c.job_id).where(and_(JOB_RUNS.c.job_id == job_id, JOB_RUNS.c.due_at == due_at)),
            only=("job_runs",))
        return result.first() is not None
