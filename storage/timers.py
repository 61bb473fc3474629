"""The timers handlers and jobs set (a batch's end, a poll's deadline): pending until they fire.

One row per (feature, key). Setting a key that is pending keeps the pending timer (its due time and
data) and says so; a fired timer's row is deleted in the commit of its run. Every pending timer is
known in memory (loaded when the store opens), so the scheduler can be told at once and a restart
schedules them again. The set and delete rows are sealed into the journal as they come, so a timer
set, fired and set again before a commit ends in the database as it did in memory.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import dialect
from storage.journal import BulkWrite
from storage.repository import Repository
from storage.tables import TIMERS

if TYPE_CHECKING:
    from storage.store import Store


class PendingTimer(NamedTuple):
    feature: str
    key: str
    name: str
    due: datetime
    data: dict[str, Any]


def _timer_insert(engine: AsyncEngine) -> Any:
    return dialect.upsert(engine, TIMERS).on_conflict_do_nothing(index_elements=[TIMERS.c.feature, TIMERS.c.key])


def _timer_delete(_engine: AsyncEngine) -> Any:
    return delete(TIMERS).where(and_(TIMERS.c.feature == bindparam("b_feature"), TIMERS.c.key == bindparam("b_key"),
                                     TIMERS.c.due_at == bindparam("b_due")))


class TimerTable(Repository):
    """Pending timers: set (unless the key is pending), fired, and all of them for the scheduler."""

    writes = (BulkWrite("timer_set", 74, _timer_insert), BulkWrite("timer_done", 75, _timer_delete))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._set, self._done = store.buffer("timer_set"), store.buffer("timer_done")
        # not a cache: the pending timers themselves (a rollback replays the writes that made them)
        self._pending: dict[tuple[str, str], PendingTimer] = {}

    def set(self, feature: str, key: str, name: str, due: datetime, data: dict[str, Any], now: datetime) -> bool:
        """Set a timer; False (and nothing changes) when one with this key is pending."""
        if (feature, key) in self._pending:
            return False
        self._pending[(feature, key)] = PendingTimer(feature, key, name, due, data)
        self._set.append({"feature": feature, "key": key, "name": name, "due_at": due, "data": data, "set_at": now})
        self.journal.seal(("timer_set",))
        return True

    def fired(self, feature: str, key: str, due: datetime) -> None:
        """The timer due at `due` ran (or cannot run): its row goes with the commit of its run."""
        found = self._pending.get((feature, key))
        if found is not None and found.due == due:
            del self._pending[(feature, key)]
        self._done.append({"b_feature": feature, "b_key": key, "b_due": due})
        self.journal.seal(("timer_done",))

    def pending(self) -> list[PendingTimer]:
        """Every pending timer, earliest first."""
        return sorted(self._pending.values(), key=lambda t: (t.due, t.feature, t.key))

    def is_pending(self, feature: str, key: str, due: datetime) -> bool:
        found = self._pending.get((feature, key))
        return found is not None and found.due == due

    def let_go(self, feature: str, key: str) -> None:
        """Forget a pending timer in this process only (its row stays): another process fires it (bot/fleet/)."""
        self._pending.pop((feature, key), None)

    async def adopt(self) -> list[PendingTimer]:
        """Read the pending timers again and keep those this process did not know (another process set
        them); returns those, earliest first."""
        result = await self.journal.read(select(TIMERS.c.feature, TIMERS.c.key, TIMERS.c.name, TIMERS.c.due_at,
                                                TIMERS.c.data))
        new = [PendingTimer(f, k, n, due, data or {}) for f, k, n, due, data in result.all()
               if (f, k) not in self._pending]
        for timer in new:
            self._pending[(timer.feature, timer.key)] = timer
        return sorted(new, key=lambda t: (t.due, t.feature, t.key))

    async def load(self) -> None:
        """Read every pending timer (when the store opens)."""
        result = await self.journal.read(select(TIMERS.c.feature, TIMERS.c.key, TIMERS.c.name, TIMERS.c.due_at,
                                                TIMERS.c.data))
        self._pending = {(f, k): PendingTimer(f, k, n, due, data or {}) for f, k, n, due, data in result.all()}
