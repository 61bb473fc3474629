"""anomaly: alerts to operators, checked hourly against the group's own trailing baseline
(`anomaly.baseline_days`): a day far quieter than usual by this hour, a join raid (many joins
within minutes), an ad spike (ads of the last 24 hours against a usual day), a mass leave. Each alert
gives the numbers (now against usual). A quiet day is reported once a day, an ad spike once per 24
hours; a raid or a mass leave once per burst (a burst across the hour boundary is seen whole).

Rules `anomaly/quiet`, `anomaly/join_raid`, `anomaly/ad_spike`, `anomaly/mass_leave`, sent to the
operators by direct message by one hourly job (`anomaly:hourly`). No tables of its own.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.anomaly.jobs import build
from handlers.anomaly.repository import AnomalyRepository
from handlers.anomaly.settings import AnomalySettings

FEATURE = Feature("anomaly", settings={"anomaly": (AnomalySettings, AnomalySettings())}, jobs=build,
                  repository=AnomalyRepository)
