"""announcements: scheduled posts in the groups, at a time ("09:00"), a crontab line, or `peak` — the
group's busiest local hour of the last `peak_days` days, chosen once a day (with fewer than
`peak_min_messages` messages it falls back to `peak_fallback`, and `data.why` says which and why) —
on some `days`, with `texts` rotating by day. Groups silent for `silent_days` get nothing unless
`send_when_silent` (the skip is noted with the job's run).

One job per distinct (time, days) across the config (`announce:09:00|*` …), plus one hourly job for
`peak` entries (`announce:peak`); at each due instant a job serves every known group whose effective
settings hold that entry. Rules `announcements`, `announcements/peak`. No tables of its own.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.announcements.jobs import build
from handlers.announcements.settings import Announcement
from storage.repository import SharedTables

FEATURE = Feature("announcements", settings={"announcements": (tuple[Announcement, ...], ())}, jobs=build,
                  repository=SharedTables)
