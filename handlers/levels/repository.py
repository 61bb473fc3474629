"""The levels feature's repository: balances and the highest level reached (the points feature's
tables), and each member's recent activity for the tiers (events and check-ins)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, func, literal, select

from handlers.checkin.repository import CHECKIN_BUFFERS
from handlers.checkin.tables import CHECKINS
from handlers.points.repository import PointsRepository
from storage.repository import Repository
from storage.tables import ACTIVITY_TYPES, EVENTS

if TYPE_CHECKING:
    from storage.store import Store


class LevelsRepository(Repository):
    """Levels read the points' balances; tiers count messages, check-ins and red packets."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.points = store.repository(PointsRepository)

    async def member_activity(self, group: str, since: datetime, user: str | None = None
                              ) -> dict[str, tuple[int, int, int]]:
        """Per member since `since`: (messages, check-ins, red packets). Check-ins are also messages.
        Red packets count apart, not as messages."""
        kinds = case((EVENTS.c.type == "red_packet", literal("r")), else_=literal("m"))
        where = [EVENTS.c.group_id == group, EVENTS.c.ts >= since,
                 EVENTS.c.type.in_(sorted(ACTIVITY_TYPES)), EVENTS.c.user_id.is_not(None)]
        cwhere = [CHECKINS.c.group_id == group, CHECKINS.c.ts >= since]
        if user is not None:
            where.append(EVENTS.c.user_id == user)
            cwhere.append(CHECKINS.c.user_id == user)
        out: dict[str, list[int]] = {}
        result = await self.journal.read(select(EVENTS.c.user_id, kinds, func.count()).where(and_(*where))
                                  .group_by(EVENTS.c.user_id, kinds), only=("events",))
        for uid, kind, n in result:
            out.setdefault(uid, [0, 0, 0])[2 if kind == "r" else 0] += int(n)
        result = await self.journal.read(select(CHECKINS.c.user_id, func.count()).where(and_(*cwhere))
                                  .group_by(CHECKINS.c.user_id), only=CHECKIN_BUFFERS)
        for uid, n in result:
            out.setdefault(uid, [0, 0, 0])[1] += int(n)
        return {u: (m, c, r) for u, (m, c, r) in out.items()}
