"""Due jobs for a driven clock (replay, tests): the instants APScheduler's triggers compute, in order."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from datetime import datetime

from bot.feature import JobSpec


class DueJobs:
    """Yields (due instant, job) for every fire time in (start, until], earliest first.

    Ties are broken by the job's place in the list, so the order is stable.
    """

    def __init__(self, jobs: Sequence[JobSpec], start: datetime) -> None:
        self._heap: list[tuple[datetime, int, JobSpec]] = []
        for n, job in enumerate(jobs):
            first = job.trigger.get_next_fire_time(None, start)
            if first is not None and first <= start:
                first = job.trigger.get_next_fire_time(first, start)
            if first is not None:
                heapq.heappush(self._heap, (first, n, job))

    def due_until(self, until: datetime) -> Iterator[tuple[datetime, JobSpec]]:
        while self._heap and self._heap[0][0] <= until:
            due, n, job = heapq.heappop(self._heap)
            following = job.trigger.get_next_fire_time(due, due)
            while following is not None and following <= due:
                following = job.trigger.get_next_fire_time(following, due)
            if following is not None:
                heapq.heappush(self._heap, (following, n, job))
            yield due, job
