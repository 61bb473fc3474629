"""`qunbot replay`: feed a transcript through the real bot with the clock driven by event times.

See replay-format.md: before an event at time T is handled, every scheduled job due at or before T
runs in time order with the clock set to its due instant; timers that handlers set (and those a
previous run left pending in the database) are jobs too and fire the same way; after the last event
the clock advances to `--until` and due jobs run the same way. Bad lines are reported on stderr as `LINE: reason` and
skipped.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from bot.adapters.jsonl_sink import JsonlSink
from bot.app import start_runtime
from bot.clock import DrivenClock
from bot.core import Bot, JobSpec
from bot.events import EVENT_TYPES, Event, Timer, parse_event
from bot.feature import Feature
from bot.timers import from_row, timer_job
from handlers import FEATURES
from rules.config import Config
from rules.reload import ConfigHolder
from scheduler.driven import DueJobs
from scheduler.jobs import jobs_from_config

log = logging.getLogger("qunbot.replay")
MAX_LINE_BYTES = 16 * 1024 * 1024
CHUNK = 500  # events read ahead (their ids looked up at once)...
CHUNK_CHARS = 500_000  # ...or fewer, when their texts are long


@dataclass
class ReplayStats:
    """What a replay did so far, for a progress bar and the summary line (bot/long_work.py): events read,
    bytes of the transcript read, actions written by kind; `on_read(stats)` after each chunk handled."""

    events: int = 0
    position: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    on_read: Callable[[ReplayStats], None] | None = None


def _take(events: Iterator[Event]) -> list[Event]:
    """The next events to handle: up to CHUNK of them, holding at most about CHUNK_CHARS of text."""
    chunk: list[Event] = []
    size = 0
    for event in events:
        chunk.append(event)
        size += len(getattr(event, "text", "") or "")
        if len(chunk) >= CHUNK or size >= CHUNK_CHARS:
            break
    return chunk


def describe_validation_error(exc: ValidationError) -> str:
    """A short reason: the first few problems as `field: message`."""
    parts = []
    for err in exc.errors(include_url=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"][1:] or err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)


def read_transcript(lines: Iterator[str], base: Path, errors: TextIO) -> Iterator[Event]:
    """Parse transcript lines into events; report bad ones on `errors` as `LINE: reason`."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_BYTES:
            print(f"{number}: line longer than {MAX_LINE_BYTES} bytes", file=errors)
            continue
        try:
            obj: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"{number}: not JSON ({exc.msg} at column {exc.colno})", file=errors)
            continue
        if not isinstance(obj, dict):
            print(f"{number}: an event must be a JSON object", file=errors)
            continue
        kind = obj.get("type")
        if kind not in EVENT_TYPES:
            print(f"{number}: unknown event type {kind!r} (known: {', '.join(EVENT_TYPES)})", file=errors)
            continue
        if kind == "image" and isinstance(obj.get("path"), str) and not Path(obj["path"]).is_absolute():
            obj["path"] = str(base / obj["path"])
        try:
            yield parse_event(obj)
        except ValidationError as exc:
            print(f"{number}: {describe_validation_error(exc)}", file=errors)


def start_ahead(features: Sequence[Feature], config: Config, events: list[Event]) -> None:
    """Tell the features that read ahead (`Feature.read_ahead`) which events come next (none: the end)."""
    for feature in features:
        if feature.read_ahead is not None:
            try:
                feature.read_ahead(events, config)
            except Exception:  # reading ahead only saves time: the events are handled all the same
                log.exception("reading ahead failed in %s; the events are handled as usual", feature.name)


async def run_jobs_until(bot: Bot, clock: DrivenClock, due_jobs: DueJobs | None, until: datetime) -> None:
    """Run every job due at or before `until`, in time order, with the clock at each due instant."""
    if due_jobs is None:
        return
    for due, job in due_jobs.due_until(until):
        clock.set(due)
        await bot.run_job(job, due, commit=False)  # committed with the events around it


async def replay(config: Config, transcript: Path, *, db_url: str | None, until: datetime | None,
                 out: TextIO, errors: TextIO = sys.stderr, jobs: list[JobSpec] | None = None,
                 stats: ReplayStats | None = None, read_ahead: bool = False) -> int:
    """Replay a transcript; returns the exit status (0 when the transcript was read). `read_ahead`: the
    features may start on the next chunk of events meanwhile (`Feature.read_ahead`: the ads feature
    scores its texts in a worker process, which imports the program's main module as every spawned
    Python process does; the command line asks for it, a program calling this guards its main module)."""
    tmp = None
    if db_url is None:
        # a dry run leaves nothing behind: its database, reports and media live in a temporary folder
        tmp = tempfile.TemporaryDirectory(prefix="qunbot-replay-")
        db_url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'replay.db'}"
        config = config.with_bot(reports_dir=str(Path(tmp.name) / "reports"), media_dir=str(Path(tmp.name) / "media"))
    clock = DrivenClock()
    sink = JsonlSink(out)
    if stats is not None:
        sink.kinds = stats.actions
    holder = ConfigHolder(config)
    handle = None
    try:
        handle = transcript.open(encoding="utf-8", errors="replace")
        events = read_transcript(iter(handle), transcript.parent, errors)
        chunk = _take(events)
        coming = _take(events) if chunk else []
        if coming and read_ahead:  # a long transcript: the features start on it while the store opens
            start_ahead(FEATURES, config, chunk)
        # one event at a time, nothing else waiting on the loop: SQLite statements need no trip to a thread
        runtime = await start_runtime(holder, db_url, clock, sink, FEATURES, resend_all=True, inline_sqlite=True)
    except BaseException:
        if handle is not None:
            handle.close()
        if read_ahead:
            start_ahead(FEATURES, config, [])
        if tmp is not None:
            tmp.cleanup()
        raise
    bot = runtime.bot
    job_list = jobs if jobs is not None else jobs_from_config(config, bot.features)
    due_jobs: DueJobs | None = None
    waiting = [from_row(row) for row in runtime.store.timers.pending()]  # timers until the jobs start

    def on_timer(timer: Timer) -> None:
        if due_jobs is None:
            waiting.append(timer)
        else:
            due_jobs.add(timer_job(bot.features, timer), timer.due)

    def start_jobs(start: datetime) -> DueJobs:
        started = DueJobs(job_list, start)
        for timer in waiting:
            started.add(timer_job(bot.features, timer), timer.due)
        waiting.clear()
        return started

    bot.timer_listeners.append(on_timer)
    try:
        with handle:
            while chunk:
                if coming and read_ahead:  # the features may start on the next chunk while this one is handled
                    start_ahead(bot.features, bot.config, coming)
                await bot.prefetch_seen([e.id for e in chunk])
                for event in chunk:
                    if due_jobs is None:
                        clock.set(event.ts)
                        due_jobs = start_jobs(clock.now())
                    await run_jobs_until(bot, clock, due_jobs, event.ts)
                    clock.set(event.ts)
                    await bot.process(event)
                if stats is not None:
                    stats.events += len(chunk)
                    stats.position = handle.buffer.tell()
                    if stats.on_read is not None:
                        stats.on_read(stats)
                chunk, coming = coming, (_take(events) if coming else [])
        await bot.commit()
        if until is not None:
            if due_jobs is None:
                due_jobs = start_jobs(until)
            await run_jobs_until(bot, clock, due_jobs, until)
            clock.set(until)
        await runtime.close()
    finally:
        if read_ahead:
            start_ahead(bot.features, bot.config, [])  # the features stop what they started ahead
        if tmp is not None:
            tmp.cleanup()
    return 0
