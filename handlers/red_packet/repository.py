"""The red-packet feature's repository: the queue of the merged thank-you, the 红包榜 counts (from the
shared events table, type red_packet) and one question about the ads feature's offences (did this red
packet settle an ad? then the ads feature thanked it already)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.ads.repository import AdsRepository
from handlers.ads.tables import AD_OFFENCES
from handlers.red_packet.tables import RED_PACKET_QUEUE as Q
from storage import dialect
from storage.journal import BulkWrite
from storage.members import cut_name
from storage.repository import Repository
from storage.tables import EVENTS, MEMBERS

if TYPE_CHECKING:
    from storage.store import Store

_QUEUE = ("red_packet_queue", "red_packet_taken")  # only this feature's questions read them


class Queued(NamedTuple):
    """A red packet waiting for the group's thank-you."""

    event_id: str
    user: str
    user_name: str | None
    queued_at: datetime


def _queue_insert(engine: AsyncEngine) -> Any:
    return dialect.upsert(engine, Q).on_conflict_do_nothing(index_elements=[Q.c.event_id])


def _queue_take(_engine: AsyncEngine) -> Any:
    return delete(Q).where(Q.c.event_id == bindparam("b_id"))


class RedPacketRepository(Repository):
    """Red packets queued for thanks, and red packets counted per member."""

    writes = (BulkWrite("red_packet_queue", 150, _queue_insert), BulkWrite("red_packet_taken", 151, _queue_take))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._queue, self._taken = store.buffer("red_packet_queue"), store.buffer("red_packet_taken")
        self.ads = store.repository(AdsRepository)  # its buffers must exist before we flush them

    # -- the merged thank-you -----------------------------------------------------------------------

    def queue(self, event_id: str, group: str, user: str, user_name: str | None, at: datetime) -> None:
        """The red packet waits for the group's next thank-you (keyed by its event: a re-delivery adds nothing)."""
        self._queue.append({"event_id": event_id, "group_id": group, "user_id": user,
                            "user_name": cut_name(user_name), "queued_at": at})

    async def take(self, group: str, limit: int) -> list[Queued]:
        """At most `limit` red packets queued in the group, first queued first; their rows go with this commit."""
        result = await self.journal.read(
            select(Q.c.event_id, Q.c.user_id, Q.c.user_name, Q.c.queued_at).where(Q.c.group_id == group)
            .order_by(Q.c.queued_at, Q.c.event_id).limit(limit), only=_QUEUE)
        taken = [Queued(*row) for row in result]
        self._taken.extend({"b_id": q.event_id} for q in taken)
        return taken

    async def excused_ad(self, group: str, user: str, red_packet_event: str) -> str | None:
        """The check of the ad that this red packet settled (the ads feature thanked it), or None."""
        result = await self.journal.read(
            select(AD_OFFENCES.c.check).where(and_(
                AD_OFFENCES.c.group_id == group, AD_OFFENCES.c.user_id == user,
                AD_OFFENCES.c.excused_by == red_packet_event)).limit(1), only=("ad_offence", "excuse"))
        return result.scalar()

    # -- the boards (events of type red_packet; the (group, ts, type, user) index bounds each scan) ----------

    @staticmethod
    def _per_member(group: str, since: datetime, until: datetime) -> Any:
        return (select(EVENTS.c.user_id, func.count().label("count")).where(and_(
            EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until, EVENTS.c.type == "red_packet",
            EVENTS.c.user_id.is_not(None))).group_by(EVENTS.c.user_id).subquery())

    async def board(self, group: str, since: datetime, until: datetime, limit: int) -> list[dict[str, Any]]:
        """The `limit` members who sent the most red packets in [since, until): user_id, display_name,
        count and place (equal counts share a place: 1, 2, 2, 4)."""
        per = self._per_member(group, since, until)
        result = await self.journal.read(
            select(per.c.user_id, MEMBERS.c.display_name, per.c["count"])
            .select_from(per.outerjoin(MEMBERS, and_(MEMBERS.c.group_id == group, MEMBERS.c.user_id == per.c.user_id)))
            .order_by(per.c["count"].desc(), per.c.user_id).limit(limit), only=("events", "members"))
        rows = [dict(r._mapping) for r in result]
        for n, row in enumerate(rows):
            row["place"] = rows[n - 1]["place"] if n and rows[n - 1]["count"] == row["count"] else n + 1
        return rows

    async def place(self, group: str, user: str, since: datetime, until: datetime) -> tuple[int, int]:
        """The member's (place, count) on that board (place 0: no red packet in the period)."""
        per = self._per_member(group, since, until)
        mine = select(per.c["count"]).where(per.c.user_id == user).scalar_subquery()
        result = await self.journal.read(select(
            mine, select(func.count()).select_from(per).where(per.c["count"] > mine).scalar_subquery()),
            only=("events",))
        count, ahead = result.one()
        if not count:
            return 0, 0
        return int(ahead) + 1, int(count)
