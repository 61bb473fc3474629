"""Who is present in each group, as the member table says, kept in memory by the database's one writer.

A member row's presence (not left) and join time move only with joins, leaves, first sightings and
the platform's roster, and this process writes them all when it is its database's one writer
(`Journal.alone`). `PresenceMemory` follows each of those writes as the members and roster upserts
apply them (storage/members.py), so the handlers that ask whether a member is new or still here (the
check-in rate, the ads' new-member threshold) need no query per message. Names are not kept: an
erasure run beside the bot rewrites them, so what shows a name reads it from the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from storage.member_map import MemberMap

if TYPE_CHECKING:
    from storage.members import MemberInfo

MAX_KEPT = 500_000
UNKNOWN = object()  # what `get` answers for a member memory knows nothing of
Key = tuple[str, str]  # (group, member)


@dataclass(frozen=True, slots=True)
class Presence:
    """What the member table says of a member: present (not left), and when they joined (None: never
    seen joining; the roster or a message made them known)."""

    present: bool
    joined_at: datetime | None

    @classmethod
    def of(cls, member: MemberInfo | None) -> Presence | None:
        """The presence of a stored member row (None: no row)."""
        return None if member is None else presence(member.left_at is None, member.joined_at)


_NEVER_JOINED = {True: Presence(True, None), False: Presence(False, None)}


def presence(present: bool, joined_at: datetime | None) -> Presence:
    """A Presence; the two without a join time are shared (most members: 35,000 of them a day)."""
    return _NEVER_JOINED[present] if joined_at is None else Presence(present, joined_at)


class PresenceMemory:
    """(group, member) -> Presence, or None for "no row"; `complete`: a miss means "no row" (a database
    that started empty). Bounded: past MAX_KEPT members it starts again, incomplete.

    A member read from the table is remembered with `asked` / `answered`: a join or leave that comes
    while the question is on its way makes the answer old, and it is not kept."""

    def __init__(self) -> None:
        self._kept: MemberMap[Presence | None] = MemberMap(MAX_KEPT)
        self.complete = False
        self._asking: dict[Key, int] = {}  # questions on their way, per member
        self._moved: set[Key] = set()  # members moved while a question about them was on its way

    def clear(self) -> None:
        self._kept.clear()
        self.complete = False

    def get(self, key: Key) -> Presence | object | None:
        """The member's presence, None (no row), or UNKNOWN."""
        found = self._kept.get(*key, UNKNOWN)
        return None if found is UNKNOWN and self.complete else found

    def remember(self, key: Key, value: Presence | None) -> None:
        if self._kept.set(*key, value):
            self.complete = False

    def asked(self, key: Key) -> None:
        """A question about the member goes to the table now."""
        self._asking[key] = self._asking.get(key, 0) + 1

    def answered(self, key: Key, value: Presence | None, *, keep: bool = True) -> None:
        """The table's answer (None: no row); `keep` False: the question failed, nothing is kept."""
        left = self._asking.pop(key, 1) - 1
        if left:
            self._asking[key] = left
        stale = key in self._moved
        if not left:
            self._moved.discard(key)
        if keep and not stale:
            self.remember(key, value)

    def move(self, key: Key, ts: datetime, *, joined: bool = False, left: bool = False, listed: bool = False) -> None:
        """Follow a member row's upsert: a join sets presence and the time, a leave or the roster the
        presence, a first sighting makes a present row; a member it knows nothing of stays unknown
        (but for a join, which says everything)."""
        if key in self._asking:
            self._moved.add(key)
        before = self.get(key)
        if before is UNKNOWN:
            if joined:
                self.remember(key, presence(True, ts))
            return
        was = before if isinstance(before, Presence) else None
        if joined:
            now = presence(True, ts)
        elif left or listed:
            now = presence(listed, was.joined_at if was else None)
        elif was is None:
            now = presence(True, None)
        else:
            return
        self.remember(key, now)
