"""The levels feature's repository: balances and the highest level reached (the points feature's
tables), and each member's recent activity for the tiers (events and check-ins)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, case, func, literal, select

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
        params = {"group": group, "since": since} | ({} if user is None else {"user": user})
        events, checkins = _activity(user is not None)
        out: dict[str, list[int]] = {}
        for uid, kind, n in await self.journal.read(events, params, only=("events",)):
            out.setdefault(uid, [0, 0, 0])[2 if kind == "r" else 0] += int(n)
        for uid, n in await self.journal.read(checkins, params, only=CHECKIN_BUFFERS):
            out.setdefault(uid, [0, 0, 0])[1] += int(n)
        return {u: (m, c, r) for u, (m, c, r) in out.items()}


@lru_cache(maxsize=2)
def _activity(one: bool) -> tuple[Any, Any]:
    """The two counts of `member_activity`, built once with bound parameters (group, since; user when `one`)."""
    kinds = case((EVENTS.c.type == "red_packet", literal("r")), else_=literal("m"))
    where = [EVENTS.c.group_id == bindparam("group"), EVENTS.c.ts >= bindparam("since"),
             EVENTS.c.type.in_(sorted(ACTIVITY_TYPES)), EVENTS.c.user_id.is_not(None)]
    cwhere = [CHECKINS.c.group_id == bindparam("group"), CHECKINS.c.ts >= bindparam("since")]
    if one:
        where.append(EVENTS.c.user_id == bindparam("user"))
        cwhere.append(CHECKINS.c.user_id == bindparam("user"))
    return (select(EVENTS.c.user_id, kinds, func.count()).where(and_(*where)).group_by(EVENTS.c.user_id, kinds),
            select(CHECKINS.c.user_id, func.count()).where(and_(*cwhere)).group_by(CHECKINS.c.user_id))
