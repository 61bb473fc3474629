"""roll_call: 扣1 — an admin asks the group to answer 1, the bot counts who did and who has not.

- **Opening**: an admin's (or operator's) message containing `扣1` (`open_words`, compared after
  normalisation: 扣１, 扣 1; 扣10分 does not) opens a roll call in the group for `window_minutes` (120).
  Silent: the admin's message is the call; a Note (rule `roll_call/open`) records it. A second 扣1
  while one is open does not reset it (a Note); after it ended, it opens a new one.
- **Answers**: a member's whole message that is `1` after normalisation (`answer_words`: `1`, `１`,
  `1️⃣`, `+1`, `扣1`) counts once per member (silent; a Note, rule `roll_call/answer`). Messages that
  merely contain 1 (我有1个问题) are not answers; neither is an admin's own 扣1; a member's 扣1 opens
  nothing.
- **扣1统计** (admins; rule `roll_call`): the open roll call (else the latest): how many answered and
  the members present (roster and activity; not the bot, admins or operators) who have not, @ at most
  `max_mentions` (20), "等 N 人" for the rest.
- **The window's end** (timer `end`, job `timer:roll_call:end:<hash>`): the operators (else the
  admins) get the same summary by direct message (rule `roll_call`, no mentions, names listed).

`data` of both: `answered` (ids, each once, first first), `missing` (ids), `count`, `missing_count`,
`call` (the id of the event that opened it), `open`; the summary also has `group`. Tables `roll_calls`
and `roll_call_answers` (migration 0011).
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.roll_call import summary, tables
from handlers.roll_call.handler import HANDLER
from handlers.roll_call.repository import RollCallRepository
from handlers.roll_call.settings import RollCallSettings

FEATURE = Feature("roll_call", handlers=(HANDLER,), settings={"roll_call": (RollCallSettings, RollCallSettings())},
                  repository=RollCallRepository, tables=(tables.ROLL_CALLS, tables.ANSWERS),
                  timers={summary.TIMER: summary.end})
