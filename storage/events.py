"""The event log: every event the bot handled (its id makes a later delivery a no-op), and the counts
the reports make of it (activity by hour, the day's numbers, bursts of joins and leaves)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import dialect
from storage.journal import BulkWrite
from storage.repository import Repository
from storage.tables import ACTIVITY_TYPES, EVENTS, MEMBERS, ROSTER_LEAVE

if TYPE_CHECKING:
    from storage.store import Store

MAX_KNOWN_IDS = 1_000_000
FILTER_BITS = 1 << 24  # 2 MB: about 0.2% false positives at MAX_KNOWN_IDS ids, with FILTER_HASHES places each
FILTER_HASHES = 4
_ACTIVITY = sorted(ACTIVITY_TYPES)


def _events_insert(engine: AsyncEngine) -> Any:
    return dialect.upsert(engine, EVENTS).on_conflict_do_nothing(index_elements=[EVENTS.c.id])


class IdFilter:
    """A Bloom filter of the event ids this process handled: an id it does not hold was not handled
    here; one it holds may have been (the database says). 2 MB, however many ids: a set of the ids
    themselves took about 90 bytes an id."""

    def __init__(self) -> None:
        self._bits = bytearray(FILTER_BITS // 8)
        self.count = 0

    @staticmethod
    def _places(key: str) -> list[int]:
        h = hash(key) & 0xFFFF_FFFF_FFFF_FFFF  # str hashes are 64-bit SipHash (seeded per process)
        low, step = h & 0xFFFF_FFFF, (h >> 32) | 1
        return [(low + n * step) % FILTER_BITS for n in range(FILTER_HASHES)]

    def add(self, key: str) -> None:
        bits = self._bits
        for place in self._places(key):
            bits[place >> 3] |= 1 << (place & 7)
        self.count += 1

    def __contains__(self, key: object) -> bool:
        bits = self._bits
        return isinstance(key, str) and all(bits[p >> 3] & (1 << (p & 7)) for p in self._places(key))


class EventLog(Repository):
    """Events: recorded once, counted by the reports."""

    writes = (BulkWrite("events", 50, _events_insert),)

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._rows = store.buffer("events")
        self._all_ids: IdFilter | None = None

    def opened(self, empty: bool) -> None:
        # On a database that starts empty, this process is the only writer of events: an id its filter
        # does not hold was never handled, without a query (until there are too many for the filter).
        self._all_ids = IdFilter() if empty else None

    def record_event(self, event_id: str, ts: datetime, group: str | None, user: str | None, type_: str,
                     payload: dict[str, Any] | str, handled_at: datetime) -> None:
        """The event was handled: store it (its id makes a later delivery a no-op)."""
        self.journal.pending_event(event_id)
        if self._all_ids is not None:
            self._all_ids.add(event_id)
            if self._all_ids.count > MAX_KNOWN_IDS:
                self._all_ids = None
        self._rows.append({"id": event_id, "ts": ts, "group_id": group, "user_id": user,
                           "type": type_, "payload": payload, "handled_at": handled_at})

    async def seen_events(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids were handled before (committed or pending)."""
        if self._all_ids is not None and not self.journal.recovered:
            event_ids = [i for i in event_ids if i in self._all_ids]  # the others are certainly new
            if not event_ids:
                return set()
        seen: set[str] = set()
        for start in range(0, len(event_ids), 500):
            chunk = list(event_ids[start:start + 500])
            result = await self.journal.read(select(EVENTS.c.id).where(EVENTS.c.id.in_(chunk)), flush=False)
            seen.update(r[0] for r in result)
        # after the query: a commit that failed meanwhile has put its ids back among the pending ones
        return seen | {i for i in event_ids if self.journal.is_pending(i)}

    async def event_payload(self, event_id: str) -> dict[str, Any] | None:
        result = await self.journal.read(select(EVENTS.c.payload).where(EVENTS.c.id == event_id))
        row = result.first()
        return row[0] if row else None

    # -- counts for the reports -------------------------------------------------------------------

    async def hourly_activity(self, group: str, since: datetime, until: datetime) -> dict[datetime, int]:
        """Messages (incl. check-ins and red packets) per UTC quarter hour in [since, until), keyed by
        the quarter's start: callers add them up by local hour (right in any time zone)."""
        bucket = dialect.quarter_bucket(self.journal.engine, EVENTS.c.ts).label("bucket")
        result = await self.journal.read(
            select(bucket, func.count()).where(and_(
                EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until,
                EVENTS.c.type.in_(_ACTIVITY))).group_by(bucket), only=("events",))
        return {dialect.bucket_start(b): int(n) for b, n in result}

    async def event_count(self, group: str, types: Iterable[str], since: datetime, until: datetime, *,
                          members: bool = False) -> int:
        """Events of these types in the group in [since, until); with `members`, the members they
        came from (a leave found by a roster and announced later too is one member who left)."""
        counted = func.count(EVENTS.c.user_id.distinct()) if members else func.count()
        result = await self.journal.read(select(counted).select_from(EVENTS).where(and_(
            EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until,
            EVENTS.c.type.in_(sorted(types)))), only=("events",))
        return int(result.scalar() or 0)

    async def event_counts_by_group(self, types: Iterable[str], since: datetime, until: datetime,
                                    groups: Sequence[str] | None = None) -> dict[tuple[str, str], int]:
        """Events of these types per (group, type) in [since, until), all groups (or `groups`) at once.
        Naming the groups lets the database seek each one in the (group, ts) index instead of reading all."""
        where = EVENTS.c.group_id.in_(sorted(groups)) if groups is not None else EVENTS.c.group_id.is_not(None)
        result = await self.journal.read(select(EVENTS.c.group_id, EVENTS.c.type, func.count()).where(and_(
            EVENTS.c.ts >= since, EVENTS.c.ts < until, EVENTS.c.type.in_(sorted(types)),
            where)).group_by(EVENTS.c.group_id, EVENTS.c.type), only=("events",))
        return {(g, t): int(n) for g, t, n in result}

    async def daily_counts_by_group(self, groups: Sequence[str], types: Iterable[str], bounds: Sequence[datetime]
                                    ) -> dict[str, list[int]]:
        """Events of these types per group and per interval [bounds[i], bounds[i+1]) (e.g. local days), in one
        query that walks each group's index range (a group list, not the whole table)."""
        n = len(bounds) - 1
        found: dict[str, list[int]] = {g: [0] * n for g in groups}
        if n < 1:
            return found
        bucket = case(*[(EVENTS.c.ts < b, i) for i, b in enumerate(bounds[1:])], else_=n).label("bucket")
        for start in range(0, len(groups), 500):
            chunk = list(groups[start:start + 500])
            result = await self.journal.read(select(EVENTS.c.group_id, bucket, func.count()).where(and_(
                EVENTS.c.group_id.in_(chunk), EVENTS.c.ts >= bounds[0], EVENTS.c.ts < bounds[-1],
                EVENTS.c.type.in_(sorted(types)))).group_by(EVENTS.c.group_id, bucket), only=("events",))
            for g, b, count in result:
                if 0 <= b < n:
                    found[g][b] = int(count)
        return found

    async def event_times(self, group: str, type_: str, since: datetime, until: datetime) -> list[datetime]:
        """When events of one type happened in the group in [since, until), in order; only events the
        platform timed (a leave found by a roster carries the roster's time, not the member's)."""
        result = await self.journal.read(select(EVENTS.c.ts).where(and_(
            EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until, EVENTS.c.type == type_,
            EVENTS.c.id.not_like(ROSTER_LEAVE + "%")))
            .order_by(EVENTS.c.ts), only=("events",))
        return [r[0] for r in result]

    async def talkers(self, group: str, since: datetime, until: datetime, limit: int) -> list[dict[str, Any]]:
        """The members who sent the most messages in [since, until): user_id, display_name, count."""
        n = func.count().label("count")
        per = (select(EVENTS.c.user_id, n).where(and_(
            EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until,
            EVENTS.c.type.in_(_ACTIVITY), EVENTS.c.user_id.is_not(None)))
            .group_by(EVENTS.c.user_id).subquery())
        result = await self.journal.read(
            select(per.c.user_id, MEMBERS.c.display_name, per.c["count"])
            .select_from(per.outerjoin(MEMBERS, and_(MEMBERS.c.group_id == group, MEMBERS.c.user_id == per.c.user_id)))
            .order_by(per.c["count"].desc(), per.c.user_id).limit(limit), only=("events", "members"))
        return [dict(r._mapping) for r in result]

    async def active_count(self, group: str, since: datetime, until: datetime) -> int:
        """Distinct members with a message in [since, until)."""
        result = await self.journal.read(select(func.count(func.distinct(EVENTS.c.user_id))).where(and_(
            EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until,
            EVENTS.c.type.in_(_ACTIVITY))), only=("events",))
        return int(result.scalar() or 0)
