"""The stats feature's repository: the shared logs, the check-in counters and the ads caught."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.ads.repository import AdsRepository
from handlers.checkin.repository import CheckinRepository
from storage.repository import SharedTables

if TYPE_CHECKING:
    from storage.store import Store


class StatsRepository(SharedTables):
    """What the daily report counts."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.checkins = store.repository(CheckinRepository)
        self.ads = store.repository(AdsRepository)
