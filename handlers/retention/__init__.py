"""retention: what is kept and for how long, and a member's erasure (删除数据 @成员).

- **Daily job** (`retention:04:00`, `retention.time`): events older than `texts_days` (180) lose their
  texts — the payload keeps id, time, group, member, type and ids, so counts, activity charts, purge
  lists, tiers and idempotency (they read columns) stay right; the audit rows of those days lose what
  they said and quoted; ad evidence and owners' ledger notes are blanked; so are the lines, names and
  example lines of 接龙 chains that ended (closed, or started `jielong.expire_days` earlier) before then,
  the quotes of 扣1 roll calls whose window ended before then and names in the red-packet queue (the
  rows stay: 接龙统计's count and the contract facts read them). Images older than `media_days`
  (30) and reports older than `reports_days` (90) are deleted (inside `bot.media_dir` and
  `bot.reports_dir` only). Per group (overrides may change the days); a run trims at most 5,000 rows
  (they wait for its commit in memory), the rest goes on in a run per group (timer `more`); see jobs.py.
- **Erasure**: `删除数据 @成员` or `/forget @成员` in a group (admins and operators; rule
  `retention/forget`, `data`: the counts — `jielong`, `roll_calls` and `red_packets` among them) and
  `qunbot forget-member USER [--group G]` erase one member's texts, images, ad samples, display name,
  ledger notes, 接龙 lines (text and name; the lines stay counted) and the example lines of the chains
  they started, and the quotes of the 扣1 roll calls they opened, keeping anonymous totals, with an
  audit note (rule `retention/forget`) that says who asked and how much went; see forget.py. Chain
  titles, poll titles and options (the group's activity, the admin's words) and lottery ids stay.
- **For real**: every SQLite connection runs with `secure_delete`; after an erasure the file is
  VACUUMed and the WAL truncated (after the daily job, the WAL only); on PostgreSQL the touched tables
  are VACUUMed (storage/journal.py `Scrub`, storage/dialect.py `scrub`).

No tables of its own (no migration): it rewrites events, actions and other features' rows.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.retention.handler import HANDLER, forget
from handlers.retention.jobs import build, more
from handlers.retention.repository import RetentionRepository
from handlers.retention.settings import RetentionSettings

FEATURE = Feature("retention", handlers=(HANDLER,), settings={"retention": (RetentionSettings, RetentionSettings())},
                  jobs=build, repository=RetentionRepository, timers={"forget": forget, "more": more})
