"""Timers that handlers set: a job of their own, run once at their due instant.

A handler returns `Outcome(timers=(Timer(name=…, key=…, due=…, data=…),))` (a job or a timer function
may add to `ctx.timers`); the core gives the timer its feature, keeps it in the shared `timers` table
(in the commit of the event that set it) and tells the scheduler. Setting a key that is pending keeps
the pending timer. At its due instant the feature's `timers[name](ctx, timer)` runs as the job
"timer:<feature>:<key>" for that instant: recorded like any job run (so it runs once, across restarts
and replays), its row deleted and its actions recorded in one commit. Schedulers: live, an APScheduler
date job (pending timers are scheduled again at start, overdue ones run at once); with the bot's clock
(console, --clock-start), as the clock passes them; in replay, in time order with the cron jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from apscheduler.triggers.date import DateTrigger

from bot.audit import observed_note
from bot.events import Action, Timer
from bot.feature import Feature, JobContext, JobSpec
from storage.timers import PendingTimer

log = logging.getLogger("qunbot.timers")


def stamp(timers: Iterable[Timer], feature: str) -> list[Timer]:
    """Timers with their feature filled in (the feature of the handler or job that set them)."""
    return [t if t.feature else t.model_copy(update={"feature": feature}) for t in timers]


def from_row(row: PendingTimer) -> Timer:
    return Timer(name=row.name, key=row.key, due=row.due, data=row.data, feature=row.feature)


def timer_job(features: Sequence[Feature], timer: Timer) -> JobSpec:
    """The job that fires `timer`: its feature's timer function, with actions into groups in
    `mode: observe` turned into notes (kept with the run)."""
    feature = next((f for f in features if f.name == timer.feature), None)
    fn = feature.timers.get(timer.name) if feature is not None else None

    async def run(ctx: JobContext) -> list[Action]:
        if fn is None:
            ctx.note(f"no timer {timer.name!r} in feature {timer.feature!r}: dropped")
            return []
        actions = await fn(ctx, timer)
        names = await ctx.members.group_names({a.group for a in actions if a.group})
        kept = []
        for action in actions:
            if action.group and ctx.config.group(action.group, names.get(action.group)).settings.mode == "observe":
                ctx.note(observed_note(action).reason)
            else:
                kept.append(action)
        return kept

    return JobSpec(timer.job_id, DateTrigger(run_date=timer.due), run, feature=timer.feature, timer=timer)
