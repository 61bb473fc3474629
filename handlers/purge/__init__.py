"""purge: the daily purge list (清理名单) for operators, and optional auto-kick.

Members present with no message, check-in or red packet for `inactive_days` (14) days who joined (or
were first seen) at least `grace_days` (7) ago, minus admins, operators, `whitelist` and the bot,
longest inactive first (`listing.py`). Operators get a summary (count, the longest silent, days) and
a CSV — member id, display name, joined, last active, days silent, messages, points, tier — in UTF-8
with BOM (rule `purge_report`, `data`: `group`, `members`). `auto_kick: dry_run` tells operators whom
it would remove; `on` removes up to `auto_kick_daily_cap` a day (rule `purge_report/auto_kick`). One
job per distinct `purge.time` (`purge:21:30`). A recipient of `bot.report_digest_from` (10) or more
groups' lists at one run gets one digest instead (`digest.py`, rule `purge_report/digest`). The same
list offline: `qunbot purge-list`. No tables of its own: the repository reads members, balances,
events and check-ins.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.purge.jobs import build
from handlers.purge.repository import PurgeRepository
from handlers.purge.settings import PurgeSettings

FEATURE = Feature("purge", settings={"purge": (PurgeSettings, PurgeSettings())}, jobs=build,
                  repository=PurgeRepository)
