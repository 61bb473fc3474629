"""stats: the daily report (日报) to operators, with charts.

At `stats.time` (22:00): members (+joins / −leaves), messages, members who spoke, check-ins and rate,
red packets, ads caught, top talkers (`series.py`), and a PNG of messages by local hour over
`chart_days` days — the latest day as a line over the week's average per hour, Chinese labels in a
real CJK font (`charts.py`; a missing font is an error, never tofu). Mondays add a 28-day trend
(messages, speakers, check-ins per day). Rule `stats_report` (`data.chart`: `hourly` or `trend` on
images). One job per distinct time (`stats:22:00`). A recipient of `bot.report_digest_from` (10) or
more groups' reports at one run gets one digest (text + CSV, no charts) instead (`digest.py`, rule
`stats_report/digest`). Offline: `qunbot stats`. No tables of its own.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.stats.jobs import build
from handlers.stats.repository import StatsRepository
from handlers.stats.settings import StatsSettings

FEATURE = Feature("stats", settings={"stats": (StatsSettings, StatsSettings())}, jobs=build,
                  repository=StatsRepository)
