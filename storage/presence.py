"""Who is present in each group, as the member table says, kept in memory by the database's one writer.

A member row's presence (not left), join time and display name move only with joins, leaves, first
sightings, names given with events, the platform's roster and an erasure, and this process writes them
all when it is its database's one writer (`Journal.alone`). `PresenceMemory` follows each of those
writes as the members and roster upserts apply them (storage/members.py), so the handlers that ask
whether a member is new or still here (check-in rates, the ads' new-member threshold, the batched
welcomes) need no query per message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.members import MemberInfo

MAX_KEPT = 500_000
UNKNOWN = object()  # what `get` answers for a member memory knows nothing of
Key = tuple[str, str]  # (group, member)


@dataclass(frozen=True)
class Presence:
    """What the member table says of a member: present (not left), when they joined (None: never seen
    joining; the roster or a message made them known) and their display name."""

    present: bool
    joined_at: datetime | None
    display_name: str | None

    @classmethod
    def of(cls, member: MemberInfo | None) -> Presence | None:
        """The presence of a stored member row (None: no row)."""
        return None if member is None else cls(member.left_at is None, member.joined_at, member.display_name)


class PresenceMemory:
    """(group, member) -> Presence, or None for "no row"; `complete`: a miss means "no row" (a database
    that started empty). Bounded: past MAX_KEPT members it starts again, incomplete."""

    def __init__(self) -> None:
        self._kept: dict[Key, Presence | None] = {}
        self.complete = False

    def clear(self) -> None:
        self._kept.clear()
        self.complete = False

    def get(self, key: Key) -> Presence | object | None:
        """The member's presence, None (no row), or UNKNOWN."""
        found = self._kept.get(key, UNKNOWN)
        return None if found is UNKNOWN and self.complete else found

    def remember(self, key: Key, value: Presence | None) -> None:
        if len(self._kept) >= MAX_KEPT and key not in self._kept:
            self.clear()
        self._kept[key] = value

    def move(self, key: Key, ts: datetime, name: str | None, *, joined: bool = False, left: bool = False,
             listed: bool = False) -> None:
        """Follow a member row's upsert: a join sets presence and the time, a leave or the roster the
        presence, a first sighting makes a present row, a name given replaces the name; a member it
        knows nothing of stays unknown (but for a join with a name, which says everything)."""
        before = self.get(key)
        if before is UNKNOWN:
            if joined and name is not None:
                self.remember(key, Presence(True, ts, name))
            return
        was = before if isinstance(before, Presence) else None
        shown = name if name is not None else (was.display_name if was else None)
        if joined:
            now = Presence(True, ts, shown)
        elif left or listed:
            now = Presence(listed, was.joined_at if was else None, shown)
        elif was is None:
            now = Presence(True, None, shown)
        else:
            now = Presence(was.present, was.joined_at, shown)
        if now != was:
            self.remember(key, now)

    def renamed(self, key: Key, name: str) -> None:
        """The stored display name was rewritten (an erasure)."""
        known = self._kept.get(key)
        if known is not None:
            self._kept[key] = Presence(known.present, known.joined_at, name)
