"""The shop's repository: a redemption takes one unit of stock and the points in one set of writes
(each a conditional SQL statement that never passes the stock or goes below zero), with its ledger
row; an admin's decision confirms it, or refuses it and gives the points and the unit back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.points.repository import PointsRepository, balance_row
from handlers.shop.tables import REDEMPTIONS, SHOP_SOLD
from storage import dialect
from storage.journal import BulkWrite, Run
from storage.repository import Repository

if TYPE_CHECKING:
    from storage.store import Store

_BUFFER = ("shop_redemption",)


@dataclass(frozen=True)
class Redeemed:
    """What a redemption came to: `status` pending (done), or why not: poor, sold_out, limit."""

    status: str
    balance: int
    stock_left: int | None  # None: unlimited


@dataclass(frozen=True)
class Decided:
    """An admin's decision on the member's oldest pending redemption."""

    item: str
    cost: int
    status: str  # confirmed | refused
    balance: int


def _redemption_insert(_engine: AsyncEngine) -> Any:
    return REDEMPTIONS.insert()


class ShopRepository(Repository):
    """Units sold, redemptions, and the points they take (the points feature's balances and ledger)."""

    writes = (BulkWrite("shop_redemption", 140, _redemption_insert),)

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.points = store.repository(PointsRepository)
        self.audit = store.audit
        self._rows = store.buffer("shop_redemption")
        key = and_(SHOP_SOLD.c.group_id == bindparam("g"), SHOP_SOLD.c.item == bindparam("i"))
        s = dialect.upsert(store.engine, SHOP_SOLD).values(group_id=bindparam("g"), item=bindparam("i"), sold=1)
        self._take_unit = s.on_conflict_do_update(
            index_elements=[SHOP_SOLD.c.group_id, SHOP_SOLD.c.item], set_={"sold": SHOP_SOLD.c.sold + 1},
            where=SHOP_SOLD.c.sold < bindparam("stock")).returning(SHOP_SOLD.c.sold)
        self._give_unit = update(SHOP_SOLD).where(and_(key, SHOP_SOLD.c.sold > 0)).values(sold=SHOP_SOLD.c.sold - 1)
        oldest_pending = (select(REDEMPTIONS.c.id).where(and_(
            REDEMPTIONS.c.group_id == bindparam("g"), REDEMPTIONS.c.user_id == bindparam("u"),
            REDEMPTIONS.c.status == "pending")).order_by(REDEMPTIONS.c.ts, REDEMPTIONS.c.id).limit(1)
            .scalar_subquery())
        # decided in SQL, not by an id read before: if the commit fails and the batch runs again, the
        # re-inserted rows get new ids (PostgreSQL), but "the member's oldest pending one" is the same row
        self._decide = (update(REDEMPTIONS).where(and_(REDEMPTIONS.c.id == oldest_pending,
                                                      REDEMPTIONS.c.status == "pending"))
                        .values(status=bindparam("b_status"), decided_by=bindparam("b_actor"),
                                decided_at=bindparam("b_ts"))
                        .returning(REDEMPTIONS.c.item, REDEMPTIONS.c.cost, REDEMPTIONS.c.took_unit))

    async def sold(self, group: str) -> dict[str, int]:
        """Units given out in the group, by item."""
        result = await self.journal.read(select(SHOP_SOLD.c.item, SHOP_SOLD.c.sold).where(
            SHOP_SOLD.c.group_id == group), flush=False)
        return {item: int(n) for item, n in result}

    async def redeemed_count(self, group: str, user: str, item: str) -> int:
        """The member's redemptions of `item` that were not refused."""
        result = await self.journal.read(select(func.count()).select_from(REDEMPTIONS).where(and_(
            REDEMPTIONS.c.group_id == group, REDEMPTIONS.c.user_id == user, REDEMPTIONS.c.item == item,
            REDEMPTIONS.c.status != "refused")), only=_BUFFER)
        return int(result.scalar() or 0)

    async def redeem(self, group: str, user: str, item: str, cost: int, stock: int | None, ts: datetime,
                     event_id: str | None) -> Redeemed:
        """Take one unit of `item` (when it has a stock) and `cost` points from the member, together or
        not at all; the redemption is pending until an admin decides."""
        if stock is not None and stock <= 0:
            return Redeemed("sold_out", await self.points.balance(group, user), 0)

        async def steps(run: Run) -> Redeemed:
            left: int | None = None
            if stock is not None:
                taken = await run(self._take_unit, {"g": group, "i": item, "stock": stock})
                if not taken:
                    return Redeemed("sold_out", -1, 0)
                left = stock - int(taken[0][0])
            paid = await run(self.points.spend, {"g": group, "u": user, "cost": cost, "ts": ts})
            if not paid:
                if stock is not None:  # give the unit back (we hold its row)
                    await run(self._give_unit, {"g": group, "i": item})
                return Redeemed("poor", -1, None if left is None else left + 1)
            return Redeemed("pending", int(paid[0][0]), left)

        token = self.points.balance_token(group, user)
        done = await self.journal.write_steps(steps)
        if done.status != "pending":
            return Redeemed(done.status, await self.points.balance(group, user), done.stock_left)
        self._rows.append({"group_id": group, "user_id": user, "item": item, "cost": cost,
                           "took_unit": int(stock is not None), "status": "pending", "event_id": event_id, "ts": ts,
                           "decided_by": None, "decided_at": None})
        self.points.add_ledger(group, user, -cost, "shop", ts, event_id, None, item)
        self.points.balance_moved(group, user, done.balance, since=token)
        return done

    async def decide(self, group: str, user: str, status: str, actor: str, ts: datetime, event_id: str | None
                     ) -> Decided | None:
        """Confirm or refuse the member's oldest pending redemption (None: nothing pending). A refusal
        gives the points back, and the unit of stock when one was taken."""
        self.journal.seal(_BUFFER)  # redemptions still buffered are written first (they commute with the rest)

        async def steps(run: Run) -> tuple[str, int, int] | None:
            decided = await run(self._decide, {"g": group, "u": user, "b_status": status, "b_actor": actor,
                                               "b_ts": ts})
            if not decided:
                return None
            item, cost, took_unit = decided[0]
            if status != "refused":
                return item, int(cost), -1
            if took_unit:
                await run(self._give_unit, {"g": group, "i": item})
            balance = (await run(self.points.balance_add, balance_row(group, user, int(cost), ts)))[0][0]
            return item, int(cost), int(balance)

        token = self.points.balance_token(group, user)
        done = await self.journal.write_steps(steps)
        if done is None:
            return None
        item, cost, balance = done
        if status == "refused":
            self.points.add_ledger(group, user, cost, "shop_refund", ts, event_id, actor, item)
            self.points.balance_moved(group, user, balance, since=token)
        else:
            balance = await self.points.balance(group, user)
        return Decided(item, cost, status, balance)

    async def redemptions_of(self, group: str, user: str, limit: int) -> list[dict[str, Any]]:
        """The member's latest redemptions, newest first."""
        result = await self.journal.read(
            select(REDEMPTIONS).where(and_(REDEMPTIONS.c.group_id == group, REDEMPTIONS.c.user_id == user))
            .order_by(REDEMPTIONS.c.ts.desc(), REDEMPTIONS.c.id.desc()).limit(limit), only=_BUFFER)
        return [dict(r._mapping) for r in result]
