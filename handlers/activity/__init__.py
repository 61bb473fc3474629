"""activity: records every member event and keeps group and member stats (always runs).

Every event of a group moves its row in `groups` and the member's in `members` (first seen, joined,
left, last active, message count); a `roster` event (the platform's member list) makes members who
never spoke known, and members gone from the list are marked as left with a leave event. The event
itself is recorded by the core, whatever the handlers did. No settings, tables or jobs of its own:
its repository is the shared `storage.members.Members`.
"""

from __future__ import annotations

from bot.feature import Feature
from handlers.activity.handler import HANDLER
from storage.members import Members
from storage.store import Store


def _members(store: Store) -> Members:
    return store.members


FEATURE = Feature("activity", handlers=(HANDLER,), repository=_members)
