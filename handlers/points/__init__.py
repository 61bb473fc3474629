"""points: a ledger of points, awarded for check-ins, messages and red packets, and granted or
deducted by owners; the members' boards.

- **Awards** (handler `points-award`, after commands and keyword replies): a message earns
  `message_points` once per `message_cooldown_seconds`, if it has `message_min_length` letters, digits
  or CJK characters, up to `message_daily_cap` a day (one conditional SQL upsert); a red packet
  `red_packet_points`. A message that a command, keyword rule or the ad check took earns nothing.
- **Commands** (handler `points`): `我的积分`, `积分榜` / `今日积分榜` / `本周积分榜` (equal points share a
  place), and for admins and operators `加分 @某人 10 理由`, `扣分 @某人 5 理由`, `积分明细 [@某人]`
  (a member may see their own). Rules `points/mine`, `points/board-*`, `points/grant`, `points/deduct`,
  `points/ledger`, `points/refused`.
- **Tables**: `points_ledger` (group, member, delta, reason, source event, who asked, why, time) and
  `points_balances` (the balance, moved by `balance = balance + :delta` in the same transaction as its
  ledger row, the per-message award's state and the highest level announced).
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.points import tables
from handlers.points.awards import AWARDS
from handlers.points.commands import COMMANDS
from handlers.points.repository import PointsRepository
from handlers.points.settings import PointsSettings

FEATURE = Feature("points", handlers=(COMMANDS, AWARDS), settings={"points": (PointsSettings, PointsSettings())},
                  repository=PointsRepository, tables=(tables.LEDGER, tables.BALANCES))
