"""jielong: WeChat's 接龙 (sign-up chains) kept per group and title, each line given to the member who added it.

- **Copies**: a member posts the whole 接龙 text — `#接龙`, a title line, an optional example line
  (`例 …`), numbered lines in any style (`1. `, `1、`, `1 `, full-width digits and dots) — with their
  own line added. The bot keeps one chain per group and title (at most `max_open` (20) open per group,
  the oldest closed), compares the copy with it by the lines' words, never their numbers, and gives
  each new line to the sender (a copy adding several lines gives all of them). The sender may edit or
  drop their own lines; a copy that drops or changes another member's line is ignored whole and the
  stored chain stays. A member's repeated line counts once (`allow_duplicates`). Silent: members see
  the copy itself; a Note (rule `jielong/copy`) says what was taken or why not (`rejected_reply` can
  tell the member). A chain ends `expire_days` (7) after it started or on an admin's `结束接龙 [标题]`.
- **取消接龙 [标题]**: the sender's own lines leave the latest open (or named) chain; a short answer
  without @ (rule `jielong/cancel`).
- **接龙统计 [标题]** (admins; rule `jielong`): the count and the members present (roster and activity;
  not the bot, admins or operators) who have not signed, @ at most `max_mentions` (20), "等 N 人" for
  the rest. `data`: `title`, `count` (lines counted), `members` (ids who signed, in list order),
  `missing` (ids), `missing_count`, `chain`, `open`.
- **接龙导出 [标题]** (admins; rule `jielong/export`): a CSV (UTF-8 with BOM: 序号, 成员id, 群昵称, 内容,
  时间) under `bot.reports_dir` sent to the asker by direct message (`send_file`, `user` = the asker);
  once it went, the group hears "已私信发给你" (if it could not go: add the bot as a friend first).

Tables `jielong_chains` and `jielong_entries` (migration 0009): a chain's lines keep their place, text,
member and status (ok, dup, cancelled). See chain.py for the reading and the comparison of copies.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.jielong import tables
from handlers.jielong.handler import HANDLER
from handlers.jielong.repository import JielongRepository
from handlers.jielong.settings import JielongSettings

FEATURE = Feature("jielong", handlers=(HANDLER,), settings={"jielong": (JielongSettings, JielongSettings())},
                  repository=JielongRepository, tables=(tables.CHAINS, tables.ENTRIES))
