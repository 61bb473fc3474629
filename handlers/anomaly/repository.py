"""The anomaly feature's repository: the shared logs and the ads feature's offences."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.ads.repository import AdsRepository
from storage.repository import SharedTables

if TYPE_CHECKING:
    from storage.store import Store


class AnomalyRepository(SharedTables):
    """Joins, leaves, messages and ads, against the group's own baseline."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.ads = store.repository(AdsRepository)
