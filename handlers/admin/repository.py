"""The admin feature's repository: the event log and audit log (for /why) and the ads feature's
samples (for /ad and /notad)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.ads.repository import AdsRepository
from storage.repository import Repository

if TYPE_CHECKING:
    from storage.store import Store


class AdminRepository(Repository):
    """What the owners' commands read and write."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.events, self.audit = store.events, store.audit
        self.ads = store.repository(AdsRepository)
