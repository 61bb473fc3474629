"""A map keyed by (group, member), held as group -> member -> value.

Keyed by the ids themselves (interned when events are parsed: bot/events.py), not by a (group, member)
tuple per entry: a tuple costs 72 bytes, and the caches of a day of 1,000 groups hold some 70,000 of them.
Bounded: past `limit` entries it starts again, empty (its owner treats a miss as "ask the database").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class MemberMap(Generic[T]):
    """(group, member) -> T, at most `limit` entries (then emptied on the next new one: `set` says so)."""

    __slots__ = ("_count", "_groups", "limit")

    def __init__(self, limit: int) -> None:
        self._groups: dict[str, dict[str, T]] = {}
        self._count = 0
        self.limit = limit

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: tuple[str, str]) -> bool:
        members = self._groups.get(key[0])
        return members is not None and key[1] in members

    def get(self, group: str, member: str, default: T | None = None) -> T | None:
        members = self._groups.get(group)
        return default if members is None else members.get(member, default)

    def set(self, group: str, member: str, value: T) -> bool:
        """Keep `value`; True when the map was full and started again (everything else forgotten)."""
        members = self._groups.get(group)
        emptied = False
        if members is None or member not in members:
            if self._count >= self.limit:
                self.clear()
                members, emptied = None, True
            if members is None:
                members = self._groups[group] = {}
            self._count += 1
        members[member] = value
        return emptied

    def clear(self) -> None:
        self._groups.clear()
        self._count = 0

    def values(self) -> Iterator[T]:
        for members in self._groups.values():
            yield from members.values()
