"""shop: the points shop (积分商城) — members spend their points on the items an owner lists.

- `积分商城`: the catalogue (`shop.items`: name, cost, stock or unlimited, per-member limit) with what
  is left in this group;
- `兑换 名称` (or `兑换名称`): takes one unit of stock and the item's cost in points in one set of
  conditional SQL writes — stock never below zero, points never below zero, so members redeeming the
  last units at once get one unit each until they are gone — and answers with the balance left; the
  redemption is pending, with a ledger row (reason `shop`);
- `我的兑换`: the member's redemptions and their status;
- admins and operators: `确认兑换 @成员` confirms the member's oldest pending redemption (handed out),
  `拒绝兑换 @成员` refuses it and gives back the points (ledger reason `shop_refund`) and the unit.

Rule `shop`; `data`: `item`, `cost`, `balance` (after), `stock` (left; null when unlimited), `status`
(`pending`, `confirmed` or `refused`), or `error` (`poor`, `sold_out`, `limit`, `unknown item`) when
nothing was redeemed. Tables `shop_sold` (units given out per group and item) and `shop_redemptions`
(migration 0006); the points are the points feature's balances and ledger.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.shop import tables
from handlers.shop.handler import HANDLER
from handlers.shop.repository import ShopRepository
from handlers.shop.settings import ShopSettings

FEATURE = Feature("shop", handlers=(HANDLER,), settings={"shop": (ShopSettings, ShopSettings())},
                  repository=ShopRepository, tables=(tables.SHOP_SOLD, tables.REDEMPTIONS))
