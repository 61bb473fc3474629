"""The router: every event goes through the handler chain; actions leave only once durable.

- Handlers run in priority bands (GUARD < MODERATION < COMMAND < AUTO_REPLY < OBSERVE). A handler may
  stop the chain; OBSERVE handlers (activity recording) run anyway. A handler that raises is logged
  with the event id and skipped.
- An event id seen before is a no-op; the bot's own messages are ignored.
- Writes go to the store's journal; commits are grouped (many events per commit). The actions of an
  event are handed to the outbox only after the commit that made the event durable.
- Live: events of one group are handled in order by that group's worker; groups run concurrently.
- Timers that handlers (and jobs) set are kept with the event's writes and handed to the scheduler
  (`timer_listeners`); they fire as jobs (`run_timer`), see bot/timers.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.audit import action_rows, note_rows, observed_note
from bot.clock import Clock
from bot.context import Context
from bot.events import Action, Event, Note, Timer
from bot.feature import Feature, Handler, JobContext, JobSpec, as_features
from bot.gate import CommitGate
from bot.logs import EVENT_ID
from bot.metrics import CoreStats
from bot.timers import stamp, timer_job
from rules.config import Config
from rules.reload import ConfigHolder
from storage.base import RawJSON
from storage.dialect import is_transient
from storage.store import Store

log = logging.getLogger("qunbot.core")
MAX_PENDING_CHARS = 1_000_000  # a batch of events is committed once their payloads hold this much text
PERMANENT_FAILURE_RETRIES = 3  # a commit error that is not transient (a bug, bad data) is retried this often


Release = Callable[[Sequence[tuple[str, Action]]], Awaitable[None]]


class Bot:
    """The core: routes events through handlers, records them, and releases actions after commit."""

    def __init__(self, config: Config | ConfigHolder, store: Store, clock: Clock,
                 features: Iterable[Feature | Handler], release: Release | None = None) -> None:
        self.holder = config if isinstance(config, ConfigHolder) else ConfigHolder(config)
        self.store = store
        self.clock = clock
        self.features = as_features(features)
        # each feature's repository and short-lived memory, handed to its handlers and jobs
        self.bindings: dict[str, tuple[Any, dict[str, Any]]] = {
            f.name: (f.build_repository(store), {}) for f in self.features}
        chain = [(h, *self.bindings[f.name], f.name) for f in self.features for h in f.handlers]
        self.chain = sorted(chain, key=lambda c: (c[0].band, c[0].order, c[0].name))
        self.release = release
        self._gate = CommitGate()
        self._in_flight: set[str] = set()
        self._ready: list[tuple[str, Action]] = []
        self._pending_events = 0
        self._pending_chars = 0  # of the pending events' payloads
        self._first_pending: float | None = None
        self._commit_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._queues: dict[str, asyncio.Queue[Event]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._prefetched_new: set[str] = set()
        self.latencies: list[float] | None = None  # set to a list to record handling latency (bench)
        self.stats = CoreStats(store)  # for /metrics (bot/metrics.py): plain counters, no locks
        self._commit_task: asyncio.Task[None] | None = None
        self._commit_scheduled = False
        self._since_yield = 0
        self.timer_listeners: list[Callable[[Timer], None]] = []  # the scheduler: told of each new timer
        self.fleet: Any = None  # several accounts on one database (bot/fleet/): admits events, takes jobs

    @property
    def config(self) -> Config:
        return self.holder.current

    # -- one event ----------------------------------------------------------------------------------

    async def prefetch_seen(self, event_ids: Sequence[str]) -> set[str]:
        """Look up many ids at once (replay); the ids not seen skip their own look-up later."""
        seen = await self.store.events.seen_events(event_ids)
        self._prefetched_new.update(i for i in event_ids if i not in seen)
        return seen

    async def process(self, event: Event) -> bool:
        """Handle one event unless it was seen before. Returns False for a duplicate or an own message."""
        config = self.config
        if event.user is not None and event.user == config.bot_id:
            return False
        if self.fleet is not None and not await self.fleet.admit(event):
            return False  # another account serves the group
        if event.id in self._in_flight:
            log.info("event %s: a second delivery while the first is handled; skipped", event.id)
            return False
        self._in_flight.add(event.id)
        logged = EVENT_ID.set(event.id)  # JSON log lines written meanwhile carry it (bot/logs.py)
        try:
            if event.id in self._prefetched_new:
                self._prefetched_new.discard(event.id)
            elif await self._seen(event.id):
                log.debug("event %s seen before; no-op", event.id)
                return False
            started = time.perf_counter()
            await self._gate.enter_event()
            try:
                await self._handle(event, config)
            finally:
                await self._gate.leave_event()
            self.stats.handled(event.type, started, elapsed := time.perf_counter() - started)
            if self.latencies is not None:
                self.latencies.append(elapsed)
        finally:
            EVENT_ID.reset(logged)
            self._in_flight.discard(event.id)
        await self._maybe_commit()
        return True

    async def _seen(self, event_id: str) -> bool:
        """Was this event handled before? Waits out a database that is locked or gone (the event
        is kept, and the group's later events wait behind it)."""
        attempt = 0
        while True:
            try:
                return bool(await self.store.events.seen_events([event_id]))
            except Exception as exc:
                attempt += 1
                delay = min(30.0, 0.05 * 2 ** attempt) * random.uniform(0.5, 1.0)
                log.error("database unavailable while checking event %s (%s: %s); retry %d in %.1fs",
                          event_id, type(exc).__name__, exc, attempt, delay)
                await asyncio.sleep(delay)
                with contextlib.suppress(Exception):
                    await self.store.recover()

    async def _handle(self, event: Event, config: Config) -> None:
        group = config.group(event.group, event.group_name) if event.group else None
        ctx = Context(event=event, config=config, group=group, members=self.store.members, clock=self.clock)
        actions: list[Action] = []
        notes: list[Note] = []
        timers: list[Timer] = []
        stopped = False
        for handler, repo, memory, feature in self.chain:
            if stopped and not handler.always:
                continue
            ctx.repo, ctx.memory = repo, memory
            try:
                if handler.matches is not None and not handler.matches(event, ctx):
                    continue
                began = time.perf_counter()
                outcome = await handler.handle(event, ctx)
                self.stats.handler_seconds[handler.name].observe(time.perf_counter() - began)
            except Exception as exc:
                self.stats.handler_failed(handler.name)
                log.exception("handler %s failed on event %s; skipped", handler.name, event.id)
                notes.append(Note(rule=handler.name, reason=f"handler failed: {type(exc).__name__}: {exc}"))
                continue
            if outcome is None:
                continue
            actions.extend(outcome.actions)
            notes.extend(outcome.notes)
            timers.extend(stamp(outcome.timers, feature))
            stopped = stopped or outcome.stop
        if actions and ctx.settings.mode == "observe":
            notes.extend(observed_note(a) for a in actions)
            actions = []
        now = self.clock.now()
        stamped = [a.model_copy(update={"ts": now}) for a in actions]
        ids = [f"{event.id}#{n}" for n in range(len(stamped))]
        self.store.audit.record_actions(action_rows(ids, stamped, event.id))
        if notes:
            self.store.audit.record_actions(note_rows(event.id, notes, now, event.group))
        payload = event.model_dump_json(exclude_none=True)
        self.store.events.record_event(event.id, event.ts, event.group, event.user, event.type, RawJSON(payload), now)
        self._ready.extend(zip(ids, stamped, strict=True))
        self.set_timers(timers)
        self._pending_events += 1
        self._pending_chars += len(payload)
        if self._first_pending is None:
            self._first_pending = time.monotonic()
            self._wake.set()

    # -- scheduled jobs -----------------------------------------------------------------------------

    def set_timers(self, timers: Iterable[Timer]) -> None:
        """Keep new timers with the pending writes and tell the scheduler (a pending key keeps its timer)."""
        for t in timers:
            if self.store.timers.set(t.feature, t.key, t.name, t.due, t.data, self.clock.now()):
                for listener in self.timer_listeners:
                    listener(t)

    async def run_timer(self, timer: Timer) -> bool:
        """Fire a timer: its feature's timer function as the job "timer:<feature>:<key>" for its due instant."""
        return await self.run_job(timer_job(self.features, timer), timer.due)

    async def run_job(self, job: JobSpec, due: datetime, *, commit: bool = True) -> bool:
        """Run a job for its due instant unless it already ran for it (True when it ran); its actions go
        out after the commit that follows at once, or with the batch's when `commit` is False."""
        if self.fleet is not None and (job := await self.fleet.take(job, due)) is None:
            return False  # claimed by another process, or its group is served by another account
        timer = job.timer
        if await self.store.audit.job_ran(job.id, due):
            if timer is not None and self.store.timers.is_pending(timer.feature, timer.key, due):
                self.store.timers.fired(timer.feature, timer.key, due)  # a row its run left behind
            return False
        repo, memory = self.bindings.setdefault(job.feature, (None, {}))
        jctx = JobContext(self.config, self.clock, due, self.store.members, repo, memory)
        await self._gate.enter_event()
        try:
            try:
                actions = await job.run(jctx)
                note = "; ".join(jctx.notes)[:4000] or None
                self.stats.job(job, "ok")
            except Exception as exc:
                if is_transient(exc):  # the database was away: not recorded, so a later try runs it
                    log.error("job %s (due %s) could not read the database (%s); not recorded as run",
                              job.id, due.isoformat(), exc, extra={"job_id": job.id})
                    return False
                self.stats.job(job, "failed")
                log.exception("job %s (due %s) failed", job.id, due.isoformat(), extra={"job_id": job.id})
                actions, note = [], f"failed: {type(exc).__name__}: {exc}"
            now = self.clock.now()
            stamped = [a.model_copy(update={"ts": now}) for a in actions]
            key = f"job:{job.id}@{due.isoformat()}"
            ids = [f"{key}#{n}" for n in range(len(stamped))]
            self.store.audit.record_actions(action_rows(ids, stamped, None))
            self.store.audit.record_job_run(job.id, due, now, note)
            if timer is not None:  # its row goes in the commit of its run
                self.store.timers.fired(timer.feature, timer.key, due)
            self.set_timers(stamp(jctx.timers, job.feature))
            self._ready.extend(zip(ids, stamped, strict=True))
            self._pending_events += 1
        finally:
            await self._gate.leave_event()
        await (self.commit() if commit else self._maybe_commit())  # replay: the writes join the batch
        return True

    # -- group commit -------------------------------------------------------------------------------

    async def _maybe_commit(self) -> None:
        """A full batch is committed in the background (one at a time), so handling goes on meanwhile."""
        task = self._commit_task
        self._since_yield += 1
        if task is not None and not task.done() and self._since_yield >= 32:
            # let the commit in flight take its next step (a caller that never waits would starve it)
            self._since_yield = 0
            await asyncio.sleep(0)
        full = (self._pending_events >= self.config.model.batch.max_events
                or self._pending_chars >= MAX_PENDING_CHARS)  # long messages: a batch bounded in size too
        if full and not self._commit_scheduled:
            previous = self._commit_task
            if previous is not None and not previous.done():
                await asyncio.shield(previous)  # backpressure: at most one batch in flight
            self._commit_scheduled = True  # until the new commit has detached this batch
            self._commit_task = asyncio.create_task(self.commit(), name="commit")
            await asyncio.sleep(0)  # it detaches the batch now

    async def commit(self) -> None:
        """Make all handled events durable, then release their actions in handling order.

        The batch is detached under the commit gate (no event half-handled), then written while new
        events are handled. A failed commit is retried with capped exponential backoff: the batch
        goes back in front of the journal and runs again, so no handled event is lost; an error that
        is not transient (a bug, bad data) stops the bot after a few tries.
        """
        task = self._commit_task
        if task is not None and task is not asyncio.current_task():
            if not task.done():
                await asyncio.shield(task)
            elif not task.cancelled() and task.exception() is not None:
                self._commit_task = None
                raise task.exception()  # type: ignore[misc]
        async with self._commit_lock:
            self._commit_scheduled = False  # whatever this call finds, the scheduled one has run
            attempt = 0
            while True:
                if not self._pending_events and not self._ready and not self.store.dirty:
                    return
                await self._gate.enter_commit()
                try:
                    batch = await self.store.begin_commit()
                    ready, self._ready = self._ready, []
                    pending, self._pending_events = self._pending_events, 0
                    self._pending_chars = 0
                    self._first_pending = None
                finally:
                    await self._gate.leave_commit()
                try:
                    await self.store.finish_commit(batch)
                    break
                except Exception as exc:
                    self._ready = ready + self._ready
                    self._pending_events += pending
                    self._first_pending = self._first_pending or time.monotonic()
                    attempt += 1
                    if not is_transient(exc) and attempt > PERMANENT_FAILURE_RETRIES:
                        log.critical("database commit keeps failing with %s: %s; stopping (the %d "
                                     "uncommitted event(s) were not acted on)", type(exc).__name__, exc,
                                     self._pending_events)
                        raise
                    delay = min(30.0, 0.05 * 2 ** attempt) * random.uniform(0.5, 1.0)
                    log.error("database commit failed (%s: %s); %d event(s) wait; retry %d in %.1fs",
                              type(exc).__name__, exc, self._pending_events, attempt, delay)
                    await asyncio.sleep(delay)
                    try:
                        await self.store.recover()
                    except Exception as exc2:
                        log.error("database reconnect failed: %s", exc2)
            # driven, the outbox sends what the clock has reached even when nothing new comes
            if self.release is not None and (ready or self.clock.driven):
                await self.release(ready)
                if self.clock.driven and self.store.dirty:
                    # delivered at once: make the delivery marks durable now, so a crash right after
                    # resends (almost) nothing; taken out under the gate, so no event is made durable by
                    # halves, and written after it, so events go on meanwhile (as for a batch above)
                    async with self._gate.committing():
                        marks = await self.store.begin_commit()
                    try:
                        await self.store.finish_commit(marks)
                    except Exception as exc:
                        log.warning("delivery marks not committed yet (%s); they go with the next batch", exc)

    async def run_committer(self, stop: asyncio.Event) -> None:
        """Live runs: commit at most `batch.max_delay_ms` after the first pending event, and commit
        other pending writes (delivery marks) within half a second."""
        while not stop.is_set():
            self._wake.clear()
            if self._first_pending is None:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=0.5)
                except TimeoutError:
                    if self.store.dirty:
                        await self.commit()
                continue
            delay = self.config.model.batch.max_delay_ms / 1000
            left = self._first_pending + delay - time.monotonic()
            if left > 0:
                await asyncio.sleep(left)
            try:
                await self.commit()
            except Exception:
                log.critical("the database cannot take commits any more; stopping the bot")
                stop.set()
                raise
        await self.commit()

    # -- live dispatch: one ordered worker per group ------------------------------------------------

    def dispatch(self, event: Event) -> None:
        """Queue an event for its group's worker (events of one group stay in order)."""
        key = event.group or f"user:{event.user}"
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
        queue.put_nowait(event)
        worker = self._workers.get(key)
        if worker is None or worker.done():
            self._workers[key] = asyncio.create_task(self._worker(key, queue), name=f"group:{key}")

    async def _worker(self, key: str, queue: asyncio.Queue[Event]) -> None:
        # A worker lives while its group has events waiting and ends with its queue: 1,000 quiet groups
        # hold no task, queue or timer (`dispatch` starts one again; nothing awaits between the last
        # empty() and the pops, so no event can slip in unseen).
        while not queue.empty():
            event = queue.get_nowait()
            try:
                await self.process(event)
            except Exception:
                log.exception("event %s could not be handled", event.id, extra={"event_id": event.id})
            finally:
                queue.task_done()
        if self._workers.get(key) is asyncio.current_task():
            self._workers.pop(key, None)
        if self._queues.get(key) is queue:
            self._queues.pop(key, None)

    async def apply_outside(self, work: Callable[[], Sequence[tuple[str, Action]]]) -> None:
        """Writes from outside the event flow (the web console): `work` records them in the store's
        journal under the commit gate and returns actions to send; they are committed and released
        like an event's (so there is one writer, and a kick goes through the outbox)."""
        await self._gate.enter_event()
        try:
            self._ready.extend(work())
            self._pending_events += 1
        finally:
            await self._gate.leave_event()
        await self.commit()

    async def drain(self) -> None:
        """Wait until every queued event is handled, then commit."""
        for queue in list(self._queues.values()):
            await queue.join()
        await self.commit()
