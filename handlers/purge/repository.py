"""The purge feature's repository: members silent since a time (with their points), and the activity
of those last active inside the tier window (for their tiers)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import and_, case, func, literal, select

from handlers.checkin.repository import CHECKIN_BUFFERS
from handlers.checkin.tables import CHECKINS
from handlers.points.repository import BALANCE_BUFFERS
from handlers.points.tables import BALANCES
from storage import dialect
from storage.gcpause import paused_gc
from storage.repository import Repository
from storage.tables import ACTIVITY_TYPES, EVENTS, MEMBERS

if TYPE_CHECKING:
    from storage.store import Store


class InactiveMember(NamedTuple):
    """A row of `PurgeRepository.inactive_members`."""

    user_id: str
    display_name: str | None
    joined_at: datetime
    last_active_at: datetime | None
    message_count: int
    points: int


class PurgeRepository(Repository):
    """Who has been silent, for how long, with what points and activity."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.members = store.members

    async def silent_activity(self, group: str, since: datetime, until: datetime) -> dict[str, tuple[int, int, int]]:
        """`member_activity` in [since, until), only for members last active in that window: the only
        members of a purge list (silent since `until`) who have any activity to count since `since`,
        and none of it after `until` (their last activity is before it)."""
        recent = (select(MEMBERS.c.user_id).where(and_(
            MEMBERS.c.group_id == group, MEMBERS.c.last_active_at >= since, MEMBERS.c.last_active_at < until)))
        kinds = case((EVENTS.c.type == "red_packet", literal("r")), else_=literal("m"))
        out: dict[str, list[int]] = {}
        result = await self.journal.read(select(EVENTS.c.user_id, kinds, func.count()).where(and_(
            EVENTS.c.group_id == group, EVENTS.c.ts >= since, EVENTS.c.ts < until,
            EVENTS.c.type.in_(sorted(ACTIVITY_TYPES)), EVENTS.c.user_id.in_(recent)))
            .group_by(EVENTS.c.user_id, kinds), only=("events", "members"))
        for uid, kind, n in result:
            out.setdefault(uid, [0, 0, 0])[2 if kind == "r" else 0] += int(n)
        result = await self.journal.read(select(CHECKINS.c.user_id, func.count()).where(and_(
            CHECKINS.c.group_id == group, CHECKINS.c.user_id.in_(recent), CHECKINS.c.ts >= since,
            CHECKINS.c.ts < until)).group_by(CHECKINS.c.user_id), only=CHECKIN_BUFFERS)
        for uid, n in result:
            out.setdefault(uid, [0, 0, 0])[1] += int(n)
        return {u: (m, c, r) for u, (m, c, r) in out.items()}

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
            found = await self.journal.rows(query, only=("members", "roster", *BALANCE_BUFFERS))
            rows = [InactiveMember(user, name, utc(joined), utc(last), count, points)
                    for user, name, joined, last, count, points in found if user not in excluded]
        return rows[:limit] if limit is not None else rows
