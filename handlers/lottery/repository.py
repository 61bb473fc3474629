"""The lottery's repository: the members who could win, each group's pending draw (known in memory once
loaded, with the message ids collected so far), the draw's result, and what `qunbot lottery-verify` reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.lottery.draw import sorted_pool
from handlers.lottery.tables import DRAWS, SEED_EVENTS
from storage.journal import BulkWrite
from storage.repository import Repository
from storage.tables import EVENTS, MEMBERS

if TYPE_CHECKING:
    from storage.store import Store

_BUFFERS = ("lottery_draw", "lottery_seed", "lottery_drawn")


@dataclass
class PendingDraw:
    """A draw waiting for the messages that fix its seed."""

    id: str  # the 抽奖 command's event id
    group: str
    wanted: int
    days: int
    pool: tuple[str, ...]
    digest: str
    seed_messages: int
    created_by: str
    seeds: list[str] = field(default_factory=list)  # ids of the messages after the command, in order


def _draw_insert(_engine: AsyncEngine) -> Any:
    return DRAWS.insert()


def _seed_insert(_engine: AsyncEngine) -> Any:
    return SEED_EVENTS.insert()


def _drawn_update(_engine: AsyncEngine) -> Any:
    return (update(DRAWS).where(and_(DRAWS.c.id == bindparam("b_id"), DRAWS.c.status == bindparam("b_was")))
            .values(status=bindparam("b_status"), seed=bindparam("b_seed"), winners=bindparam("b_winners"),
                    drawn_at=bindparam("b_at")))


class LotteryRepository(Repository):
    """Draws, their seeds and results, and the members who spoke lately."""

    writes = (BulkWrite("lottery_draw", 160, _draw_insert), BulkWrite("lottery_seed", 161, _seed_insert),
              BulkWrite("lottery_drawn", 162, _drawn_update))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.audit = store.audit  # who was refused before
        self._buffers = {name: store.buffer(name) for name in _BUFFERS}
        self._pending: dict[str, PendingDraw] = {}  # group -> its pending draw (every one, once loaded)
        self._loaded = False

    def forget(self) -> None:
        self._pending.clear()
        self._loaded = False

    def _write(self, name: str, row: dict[str, Any]) -> None:
        self._buffers[name].append(row)
        self.journal.seal((name,))  # in the order they happen: a draw, its messages, its result

    # -- pending draws ------------------------------------------------------------------------------

    def maybe_pending(self, group: str) -> bool:
        """Could the group have a pending draw? (no await: the observer's cheap test on every message)"""
        return not self._loaded or group in self._pending

    async def pending(self, group: str) -> PendingDraw | None:
        if not self._loaded:
            draws = (await self.journal.read(select(
                DRAWS.c.id, DRAWS.c.group_id, DRAWS.c.wanted, DRAWS.c.days, DRAWS.c.pool, DRAWS.c.pool_digest,
                DRAWS.c.seed_messages, DRAWS.c.created_by).where(DRAWS.c.status == "pending"), only=_BUFFERS)).all()
            found = {row[1]: PendingDraw(row[0], row[1], row[2], row[3], tuple(row[4]), row[5], row[6], row[7])
                     for row in draws}
            if found:
                by_id = {d.id: d for d in found.values()}
                seeds = await self.journal.read(select(SEED_EVENTS.c.draw_id, SEED_EVENTS.c.event_id).where(
                    SEED_EVENTS.c.draw_id.in_(list(by_id))).order_by(SEED_EVENTS.c.draw_id, SEED_EVENTS.c.seq),
                    only=_BUFFERS)
                for draw_id, event_id in seeds:
                    by_id[draw_id].seeds.append(event_id)
            self._pending, self._loaded = found, True
        return self._pending.get(group)

    def open(self, draw: PendingDraw, at: datetime) -> None:
        """A new draw (the caller checked that none is pending in its group)."""
        self._pending[draw.group] = draw
        self._write("lottery_draw", {"id": draw.id, "group_id": draw.group, "created_by": draw.created_by,
                                     "created_at": at, "wanted": draw.wanted, "days": draw.days,
                                     "pool": list(draw.pool), "pool_digest": draw.digest,
                                     "seed_messages": draw.seed_messages, "status": "pending", "seed": None,
                                     "winners": None, "drawn_at": None})

    def add_seed(self, draw: PendingDraw, event_id: str, ts: datetime) -> int | None:
        """A message after the command: its id joins the seed. How many there are now (None: the draw is
        no longer pending, or has all it waits for)."""
        if self._pending.get(draw.group) is not draw or len(draw.seeds) >= draw.seed_messages:
            return None
        draw.seeds.append(event_id)
        self._write("lottery_seed", {"draw_id": draw.id, "seq": len(draw.seeds), "event_id": event_id, "ts": ts})
        return len(draw.seeds)

    def take(self, draw: PendingDraw) -> bool:
        """Take the draw out of the pending ones to draw it (False: someone else did; no await, so the last
        message and the timer cannot both draw it)."""
        if self._pending.get(draw.group) is not draw:
            return False
        del self._pending[draw.group]
        return True

    def drawn(self, draw: PendingDraw, seed: str, winners: Sequence[str], at: datetime) -> None:
        self._write("lottery_drawn", {"b_id": draw.id, "b_was": "pending", "b_status": "drawn", "b_seed": seed,
                                      "b_winners": list(winners), "b_at": at})

    # -- who can win --------------------------------------------------------------------------------

    async def eligible(self, group: str, since: datetime, exclude: Iterable[str]) -> list[str]:
        """Members present in the group whose last message is at or after `since`, minus `exclude`; sorted."""
        result = await self.journal.read(select(MEMBERS.c.user_id).where(and_(
            MEMBERS.c.group_id == group, MEMBERS.c.left_at.is_(None), MEMBERS.c.last_active_at >= since)),
            only=("members", "roster"))
        excluded = set(exclude)
        return sorted_pool(u for (u,) in result if u not in excluded)

    # -- what lottery-verify reads ------------------------------------------------------------------

    async def stored(self, draw_id: str) -> dict[str, Any] | None:
        """A draw as stored, with `seeds`: the ids of the messages that made its seed, in order."""
        row = (await self.journal.read(select(DRAWS).where(DRAWS.c.id == draw_id), only=_BUFFERS)).first()
        if row is None:
            return None
        seeds = await self.journal.read(select(SEED_EVENTS.c.event_id).where(SEED_EVENTS.c.draw_id == draw_id)
                                        .order_by(SEED_EVENTS.c.seq), only=_BUFFERS)
        return {**row._mapping, "seeds": [e for (e,) in seeds]}

    async def events(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The recorded events of these ids (group, user, type, time), by id."""
        result = await self.journal.read(select(EVENTS.c.id, EVENTS.c.group_id, EVENTS.c.user_id, EVENTS.c.type,
                                                EVENTS.c.ts).where(EVENTS.c.id.in_(list(ids))))
        return {i: {"group": g, "user": u, "type": t, "ts": ts} for i, g, u, t, ts in result}
