"""checkin: the daily 签到 with streaks, the day's ranking and the group's rate.

Members type `签到` / `打卡` / `早安打卡` (the whole message after normalisation: "签 到！" counts, "昨天忘了签到"
does not). Once per (group, member, local day): the rank of the day comes from the group's day
counter (decided in memory and written with the next flush by the database's one writer, incremented
in SQL when several accounts share the database), the streak from yesterday's check-in, the points
(base + streak bonus, capped) go to the points feature's ledger with it, and the reply gives the
rate (check-ins over the members present; `{yesterday_rate}`, and `{campaign}`: the other groups
sharing a tag). A second check-in that day answers "already" (`already: true`, no points) — once a
day, later ones are noted, not answered; the boards, repeated by a member within
`command_cooldown_seconds`, are answered once. One delivered after its day counts for its day and
continues the streaks of the days after it (`late: true`). An optional `checkin.window` (e.g.
05:00–10:00 早起打卡) answers outside it with its own reply. Boards: `签到榜`, `连续签到榜`, `签到率`. Rules
`checkin`, `checkin/window`, `checkin/board`, `checkin/streaks`, `checkin/rate`. Tables: `checkins`
(unique per group, member, local date) and `checkin_days` (the counters).
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.checkin import tables
from handlers.checkin.handler import HANDLER
from handlers.checkin.repository import CheckinRepository
from handlers.checkin.settings import CheckinSettings

FEATURE = Feature("checkin", handlers=(HANDLER,), settings={"checkin": (CheckinSettings, CheckinSettings())},
                  repository=CheckinRepository, tables=(tables.CHECKINS, tables.CHECKIN_DAYS))
