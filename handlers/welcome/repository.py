"""The welcome feature's repository: the local day each member was last reminded of the name format
(the `reminded_on` column of the shared members table), answered from memory once loaded."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import dialect
from storage.journal import BulkWrite
from storage.members import last_per_key
from storage.repository import Repository
from storage.tables import MEMBERS

if TYPE_CHECKING:
    from storage.store import Store

MAX_CACHED = 500_000


def _reminded_upsert(engine: AsyncEngine) -> Any:
    r = dialect.upsert(engine, MEMBERS)
    return r.on_conflict_do_update(index_elements=[MEMBERS.c.group_id, MEMBERS.c.user_id],
                                   set_={"reminded_on": r.excluded.reminded_on})


class WelcomeRepository(Repository):
    """Rename reminders (after the member rows they belong to)."""

    writes = (BulkWrite("reminded", 40, _reminded_upsert, last_per_key("group_id", "user_id")),)

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        store.members.also_flush("reminded")
        self._rows = store.buffer("reminded")
        # reminded_on of every member reminded so far; complete (a miss means never) while _all
        self._reminded: dict[tuple[str, str], str] = {}
        self._all = False

    def forget(self) -> None:
        self._reminded.clear()
        self._all = False

    def set_reminded(self, group: str, user: str, local_day: str, ts: datetime) -> None:
        """The member was reminded of the name format on that local day ('' clears it)."""
        if len(self._reminded) > MAX_CACHED:
            self.journal.forget_caches()
        self._reminded[(group, user)] = local_day
        self._rows.append({"group_id": group, "user_id": user, "reminded_on": local_day, "first_seen_at": ts,
                           "message_count": 0})

    async def reminded_on(self, group: str, user: str) -> str:
        """The local day the member was last reminded of the name format ('' for never or cleared)."""
        key = (group, user)
        found = self._reminded.get(key)
        if found is None and not self._all:
            await self._load()
            found = self._reminded.get(key)
        if found is None and self._all:
            return ""
        if found is None:
            result = await self.journal.read(select(MEMBERS.c.reminded_on).where(
                and_(MEMBERS.c.group_id == group, MEMBERS.c.user_id == user)), flush=False)
            found = self._reminded[key] = result.scalar() or ""
        return found

    async def _load(self) -> None:
        """Load every member's reminder day once (so later misses need no query)."""
        result = await self.journal.read(select(MEMBERS.c.group_id, MEMBERS.c.user_id, MEMBERS.c.reminded_on).where(
            and_(MEMBERS.c.reminded_on.is_not(None), MEMBERS.c.reminded_on != "")), flush=False)
        rows = result.all()
        if len(rows) > MAX_CACHED:
            return
        for group, user, day in rows:
            self._reminded.setdefault((group, user), day)
        self._all = True
