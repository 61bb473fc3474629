"""The store: the journal (storage/journal.py) with the repositories that read and write through it.

Storage is the only place that speaks SQL. Every feature has its own repository (a view over the
one journal, so a commit still covers everything an event wrote); the shared ones are here:
`members` (groups and the roster), `events` (the event log), `audit` (actions, notes, job runs) and
`timers` (the timers handlers and jobs set, pending until they fire).
A handler reaches its own feature's repository through its context, never the whole store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool

from storage import dialect, migrate
from storage.audit import AuditLog
from storage.base import Base
from storage.events import EventLog
from storage.journal import Detached, Journal
from storage.members import Members
from storage.repository import Repository
from storage.tables import EVENTS, JOB_RUNS
from storage.timers import TimerTable

R = TypeVar("R", bound=Repository)


class Store(Journal):
    """The journal and its repositories: the shared ones, and one per feature (built before it opens)."""

    def __init__(self, engine: AsyncEngine, repositories: Iterable[type[Repository]] = ()) -> None:
        super().__init__(engine)
        self._repositories: dict[type[Repository], Repository] = {}
        self._opened: bool | None = None  # None until open(); then whether the database started empty
        self.closed = False  # set by close(): a closed store answers no health check
        # told of every commit: (seconds writing it, events it made durable, whether it succeeded); /metrics
        self.on_commit: Callable[[float, int, bool], None] | None = None
        self.events = self.repository(EventLog)
        self.audit = self.repository(AuditLog)
        self.members = self.repository(Members)
        self.timers = self.repository(TimerTable)
        for kind in repositories:
            self.repository(kind)

    @classmethod
    def from_url(cls, url: str, repositories: Iterable[type[Repository]] = (), *, inline: bool = False) -> Store:
        """A store on `url`; `inline`: SQLite statements on the event loop's thread (a replay)."""
        return cls(dialect.make_engine(url, inline=inline), repositories)

    def repository(self, kind: type[R]) -> R:
        """The store's one repository of this kind (built on first use)."""
        found = self._repositories.get(kind)
        if found is None:
            found = self._repositories[kind] = kind(self)
            if self._opened is not None:
                found.opened(self._opened)
        return found  # type: ignore[return-value]

    async def open(self) -> None:
        """Upgrade the schema and open the writer connection."""
        await migrate.upgrade(self.engine)
        await self._connect()
        assert self._conn is not None
        self._opened = (await self._conn.execute(select(EVENTS.c.id).limit(1))).first() is None
        for repo in list(self._repositories.values()):
            repo.opened(self._opened)
        await self.timers.load()

    def not_alone(self) -> None:
        """Other processes write to this database too (several accounts, bot/fleet/): no cache may take
        a miss for "none" because the database started empty, and counters are moved in SQL, not
        decided in memory (`alone` is False)."""
        self._opened = False
        self.alone = False
        for repo in list(self._repositories.values()):
            repo.opened(False)

    async def close(self) -> None:
        self.closed = True
        await super().close()

    async def finish_commit(self, batch: Detached) -> None:
        """The journal's `finish_commit`, timed for `on_commit`."""
        began = time.perf_counter()
        try:
            await super().finish_commit(batch)
        except Exception:
            if self.on_commit is not None:
                self.on_commit(time.perf_counter() - began, 0, False)
            raise
        if self.on_commit is not None:
            self.on_commit(time.perf_counter() - began, len(batch.event_ids), True)

    async def ping(self) -> None:
        """Raise unless the database answers a one-row question, asked on a connection of its own (the
        writer's transaction and lock are left alone; /healthz). A closed store does not answer."""
        if self.closed:
            raise ConnectionError("the store is closed")
        if isinstance(self.engine.pool, StaticPool):  # in-memory SQLite: one shared connection, in this process
            return
        async with self.engine.connect() as conn:
            await conn.execute(select(EVENTS.c.id).limit(1))

    async def probe_exists(self, probe: tuple[str, Any]) -> bool:
        assert self._conn is not None
        kind, key = probe
        if kind == "event":
            stmt = select(EVENTS.c.id).where(EVENTS.c.id == key)
        else:
            stmt = select(JOB_RUNS.c.job_id).where(and_(JOB_RUNS.c.job_id == key[0], JOB_RUNS.c.due_at == key[1]))
        return (await self._conn.execute(stmt)).first() is not None

    async def refresh(self) -> None:
        """For a store that only reads while another writer works (the web console): end the open
        transaction (a snapshot) and forget the caches, so the next question sees the newest rows.
        Does nothing while writes are pending (they are committed by `commit`)."""
        async with self._lock:
            if self.dirty or self._conn is None:
                return
            try:
                await self._conn.commit()
                await self._conn.begin()
            except Exception:
                await self._roll_back()
                raise
        self.forget_caches()

    async def count(self, table: str) -> int:
        """Rows in a table, by name (for tests and the CLI)."""
        if table not in Base.metadata.tables:
            raise KeyError(f"no table {table!r}")
        result = await self.read(select(func.count()).select_from(Base.metadata.tables[table]))
        return int(result.scalar() or 0)

    async def discard(self) -> None:
        """Drop every write not committed yet, as if it was never made: the open transaction is rolled
        back (writes already run in it, `write_now`'s included), the buffers and the journal are
        emptied, the caches forgotten and the pending timers read again. For trial runs (the web
        console's playground, on a store of its own): what a repository keeps in memory that is not a
        cache (e.g. welcome's queue flags) is not reset, so discard only a store that does nothing else."""
        async with self._lock:
            self._journal, self._flushed = [], 0
            for rows in self._bulk.values():
                rows.clear()  # in place: repositories hold these lists
            self._pending_event_ids, self._probe, self._scrub, self._uncertain = set(), None, None, None
            try:
                if self._conn is not None:
                    await self._conn.rollback()
                    await self._conn.begin()
            except Exception:
                await self._roll_back()  # drops the connection: the next question opens a fresh one
            self.forget_caches()
        await self.timers.load()
