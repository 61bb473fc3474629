"""What the bot counts while it works, for /metrics (bot/web/operations.py turns it into Prometheus text).

The hot path only adds to plain ints, dicts and lists here: no locks (everything runs on the event
loop's one thread, and a scrape reads on that thread too), no objects of the metrics library, no
label look-ups beyond a dict. Histograms keep one count per bucket and a sum; the exposition makes
them cumulative. Each component owns its numbers: the router (`Bot.stats`: events, handlers,
commits, jobs) and the outbox (`Outbox.stats`: actions, waits, retries); what can be read at any
moment (queue depth, pending events, the platform's connection) is read at scrape time instead.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.feature import JobSpec
    from bot.lanes import Item
    from storage.store import Store

# upper bounds in seconds (Prometheus `le`); the last bucket (+Inf) is implied
HANDLER_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WAIT_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


class Histogram:
    """Counts per bucket (`counts[i]`: values <= bounds[i]; the last one: above every bound) and a sum."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, int]]:
        """(le, cumulative count) pairs as Prometheus wants them, ending with +Inf."""
        out, running = [], 0
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += n
            out.append(("+Inf" if bound == float("inf") else repr(bound), running))
        return out


class Histograms(dict[str, Histogram]):
    """A histogram per name, made on first use (`stats.handler_seconds[name].observe(s)`: one dict look-up)."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        super().__init__()
        self.bounds = bounds

    def __missing__(self, name: str) -> Histogram:
        found = self[name] = Histogram(self.bounds)
        return found


class CoreStats:
    """The router's numbers (bot/core.py), and its store's commits (told through `Store.on_commit`)."""

    def __init__(self, store: Store | None = None) -> None:
        self.events: dict[str, int] = {}  # handled, by event type
        self.event_seconds = Histogram(HANDLER_BUCKETS)  # one event through the whole chain
        self.handler_seconds = Histograms(HANDLER_BUCKETS)  # per handler, when it matched
        self.handler_errors: dict[str, int] = {}
        self.commit_seconds = Histogram(COMMIT_BUCKETS)
        self.committed_events = 0
        self.commit_failures = 0
        self.jobs: dict[tuple[str, str], int] = {}  # (feature, result) -> runs
        self.last_event: float | None = None  # time.perf_counter() when the last event was taken up
        if store is not None:
            store.on_commit = self.committed

    def handled(self, event_type: str, started: float, seconds: float) -> None:
        self.events[event_type] = self.events.get(event_type, 0) + 1
        self.event_seconds.observe(seconds)
        self.last_event = started

    def handler_failed(self, name: str) -> None:
        self.handler_errors[name] = self.handler_errors.get(name, 0) + 1

    def committed(self, seconds: float, events: int, ok: bool) -> None:
        if ok:
            self.committed_events += events
            self.commit_seconds.observe(seconds)
        else:
            self.commit_failures += 1

    def job(self, job: JobSpec, result: str) -> None:
        """A job run: `ok`, or `failed` (it raised; recorded as run, its note says why)."""
        key = (job.feature or job.id.partition(":")[0], result)
        self.jobs[key] = self.jobs.get(key, 0) + 1

    def last_event_age(self) -> float | None:
        return None if self.last_event is None else max(0.0, time.perf_counter() - self.last_event)


class OutboxStats:
    """The outbox's numbers (bot/outbox.py): actions by kind and how they ended, waits, retries."""

    def __init__(self) -> None:
        self.actions: dict[tuple[str, str], int] = {}  # (kind, status) -> actions
        self.wait_seconds = Histogram(WAIT_BUCKETS)  # from ready to sent (the pacing and queueing)
        self.retries: dict[str, int] = {}  # failed sends tried again, by kind

    def ended(self, kind: str, status: str, n: int = 1) -> None:
        """`n` actions of `kind` ended: sent, failed, unsupported or dropped."""
        key = (kind, status)
        self.actions[key] = self.actions.get(key, 0) + n

    def sent(self, kind: str, items: Iterable[Item], at: datetime) -> None:
        n = 0
        for item in items:
            self.wait_seconds.observe(max(0.0, (at - item.ready).total_seconds()))
            n += 1
        self.ended(kind, "sent", n)

    def retried(self, kind: str) -> None:
        self.retries[kind] = self.retries.get(kind, 0) + 1
