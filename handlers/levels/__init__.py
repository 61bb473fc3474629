"""levels: points levels and activity tiers.

- **Levels** (`levels.thresholds`, default 新手 0 · 活跃 100 · 专家 500 · 忠诚 2000) by the member's
  points; when an award moves a balance across a threshold upward for the first time, the feature
  that awarded it announces the new level (rule `levels`, `data.level`) with `level_up`, once
  (the highest level reached is kept with the balance).
- **Tiers** (核心/活跃/普通/沉默) score the last `tier_days` days: messages ×1, check-ins ×2, red packets
  ×5 by default (`levels.tier_weights`, `levels.tiers`); the purge list and reports use them.
- `我的等级` answers the level, the points to the next one and the tier (rule `levels/mine`).

No tables of its own: its repository reads the points feature's balances and counts events and
check-ins.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.levels.handler import HANDLER
from handlers.levels.repository import LevelsRepository
from handlers.levels.settings import LevelsSettings

FEATURE = Feature("levels", handlers=(HANDLER,), settings={"levels": (LevelsSettings, LevelsSettings())},
                  repository=LevelsRepository)
