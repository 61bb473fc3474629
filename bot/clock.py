"""Clocks: the only source of "now". Live runs use SystemClock; replay and tests drive a DrivenClock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    """What handlers, the outbox and the scheduler know of time."""

    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Wait until `when` (returns at once when it has passed)."""
        ...

    @property
    def driven(self) -> bool:
        """True when time only moves when someone moves it (replay, tests)."""
        ...


class SystemClock:
    """Wall-clock time."""

    driven = False

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


class DrivenClock:
    """A clock that stands still until `set` or `advance` moves it; never goes backwards."""

    driven = True

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime(2026, 1, 1, tzinfo=UTC)).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Move to `when` if it is later than now (late events do not turn time back)."""
        if when.tzinfo is None:
            raise ValueError("a driven clock needs an aware datetime")
        when = when.astimezone(UTC)
        if when > self._now:
            self._now = when

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    async def sleep_until(self, when: datetime) -> None:
        # Time only moves when the driver moves it; pacing computes instants instead of waiting.
        return None


def local_date(instant: datetime, tz: tzinfo) -> date:
    """The calendar day of `instant` in the time zone `tz`."""
    return instant.astimezone(tz).date()


class OffsetClock(SystemClock):
    """Wall-clock time plus an offset that can be moved forward (the console's "advance the clock")."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
