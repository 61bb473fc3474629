"""Due jobs for a driven clock (replay, tests): the instants APScheduler's triggers compute, in order,
and the timers handlers set while the transcript runs (`add`), in the same order."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from bot.feature import JobSpec


def _utc(when: datetime) -> datetime:
    """The instant in UTC: two wall times of one zone that differ only by `fold` (the hour repeated in
    autumn) compare equal as they are, though they are an hour apart."""
    return when.astimezone(UTC)


class DueJobs:
    """Yields (due instant, job) for every fire time in (start, until], earliest first.

    Ties are broken by the job's place in the list, then by the order timers were added, so the
    order is stable. A job added with `add` (a timer) fires once at its instant, even when that
    instant has passed (at the next `due_until`). Instants are ordered in UTC (see `_utc`).
    """

    def __init__(self, jobs: Sequence[JobSpec], start: datetime) -> None:
        self._heap: list[tuple[datetime, int, datetime, JobSpec]] = []
        self._seq = itertools.count(len(jobs))
        for n, job in enumerate(jobs):
            first = job.trigger.get_next_fire_time(None, start)
            if first is not None and _utc(first) <= _utc(start):
                first = job.trigger.get_next_fire_time(first, start)
            if first is not None:
                heapq.heappush(self._heap, (_utc(first), n, first, job))

    def add(self, job: JobSpec, due: datetime) -> None:
        """A job that fires once at `due` (a timer set by a handler)."""
        heapq.heappush(self._heap, (_utc(due), next(self._seq), due, job))

    def due_until(self, until: datetime) -> Iterator[tuple[datetime, JobSpec]]:
        while self._heap and self._heap[0][0] <= _utc(until):
            at, n, due, job = heapq.heappop(self._heap)
            if job.timer is None:
                following = job.trigger.get_next_fire_time(due, due)
                while following is not None and _utc(following) <= at:
                    following = job.trigger.get_next_fire_time(following, due)
                if following is not None:
                    heapq.heappush(self._heap, (_utc(following), n, following, job))
            yield due, job
