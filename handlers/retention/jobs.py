"""The daily retention job (`retention:04:00`): texts older than `texts_days`, images older than
`media_days` and reports older than `reports_days` go; counts, charts and ledgers stay.

For each group served at this time: events older than its `texts_days` lose their texts (payload
trimmed, see scrub.py), audit rows of the group lose what they said, ad evidence and owners' ledger
notes are blanked, and so are the texts the community tools keep (repository.py `trim_tools`: the
lines, names and example lines of 接龙 chains that ended before then, 扣1 quotes, names in the
red-packet queue; the rows stay, so 接龙统计's count does); images of its events older than
`media_days` are deleted (inside `bot.media_dir` only) and the event says so. The job at the
defaults' time also does what belongs to no group: direct messages to the bot, images no event names
(older than the longest `media_days` of any group), and the reports folder (each report by its
group's `reports_days`, from its file name). After the commit, a checkpoint truncates the WAL (its
old frames held the texts) — see storage/journal.py.

A run trims at most `BATCH_ROWS` old events and audit rows: the journal keeps every rewritten row
until the run's commit (a day of 1,000 groups is some 150,000 rows, 170 MB). The groups it does not
finish go on a minute later, each in a run of its own (timer `more`, key "more:<group>"; the fleet
gives it to the group's holder), a batch at a time, until the day's `MAX_ROWS` are spent: a backlog
(the first run on a database a year old) then goes on the next day, and the note says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.events import Action, Timer
from bot.feature import JobContext, JobSpec
from handlers.retention import files
from handlers.retention.repository import After
from handlers.retention.scrub import scrubbed_action, trimmed_payload
from rules.config import Config
from scheduler.common import daily_jobs, safe_name, served_groups

BATCH_ROWS = 5_000  # events and audit rows one run trims: the journal holds them (~1.3 KB each) until its commit
MAX_ROWS = 200_000  # rows trimmed a day, over all runs (a backlog takes several days)
AGAIN_AFTER = timedelta(minutes=1)
Page = Callable[[After], Awaitable[list[Any]]]


def build(config: Config) -> list[JobSpec]:
    return daily_jobs(config, "retention", lambda s: s.retention, run)


class _Budget:
    """The rows this run may trim: a batch, and no more than what is left of the day's MAX_ROWS."""

    def __init__(self, ctx: JobContext) -> None:
        day = ctx.clock.now().astimezone(ctx.config.tz).date().isoformat()
        self.today: dict[str, Any] = ctx.memory.setdefault("rows_today", {})
        if self.today.get("day") != day:
            self.today.update(day=day, left=MAX_ROWS)
        self.left = min(BATCH_ROWS, self.today["left"])

    @property
    def spent(self) -> bool:
        return self.left <= 0

    @property
    def day_spent(self) -> bool:
        return self.today["left"] <= 0

    def take(self, rows: int) -> None:
        self.left -= rows
        self.today["left"] -= rows


async def _pages(page: Page, handle: Callable[[list[Any]], None], budget: _Budget) -> tuple[int, bool]:
    """Read pages until none is left (or the budget is spent): (rows handled, finished)."""
    after: After = None
    done = 0
    while not budget.spent:
        rows = await page(after)
        if not rows:
            return done, True
        handle(rows)
        done += len(rows)
        budget.take(len(rows))
        after = (rows[-1][1], rows[-1][0])
    return done, False


async def _trim_texts(ctx: JobContext, group: str | None, before: datetime, budget: _Budget
                      ) -> tuple[int, int, bool]:
    """Trim the group's events and audit rows older than `before` (from where the last complete pass
    stopped, kept in memory; a restart reads from the start once): (events, audit rows, finished)."""
    repo = ctx.repo
    marks: dict[Any, datetime] = ctx.memory.setdefault("trimmed_until", {})
    since = marks.get(("texts", group))
    if since is not None and since >= before:
        return 0, 0, True

    def events(rows: list[Any]) -> None:
        for event_id, _ts, payload in rows:
            repo.set_payload(event_id, trimmed_payload(payload, "retention"))

    def actions(rows: list[Any]) -> None:
        for action_id, _ts, body, data in rows:
            repo.set_action(action_id, *scrubbed_action(body, data, "retention"))

    n_events, done = await _pages(lambda after: repo.old_events(group, before, since, after), events, budget)
    n_actions = 0
    for rule in await repo.action_rules(group):  # by rule: the group's audit rows are indexed by rule and time
        n, finished = await _pages(lambda after, r=rule: repo.old_actions(group, r, before, since, after), actions,
                                   budget)
        n_actions += n
        done = done and finished
    if done:
        marks[("texts", group)] = before
    return n_events, n_actions, done


async def _expire_images(ctx: JobContext, group: str, before: datetime, budget: _Budget) -> tuple[int, bool]:
    """Delete the images of the group's events older than `before`; their events name no file any more."""
    repo, folder = ctx.repo, ctx.config.model.bot.media_dir
    marks: dict[Any, datetime] = ctx.memory.setdefault("trimmed_until", {})
    since = marks.get(("media", group))
    if since is not None and since >= before:
        return 0, True
    gone = 0

    def images(rows: list[Any]) -> None:
        nonlocal gone
        for event_id, _ts, payload in rows:
            gone += files.remove(payload.get("path") or "", folder)
            repo.set_payload(event_id, {**payload, "path": "", "media_removed": "retention"})

    _n, finished = await _pages(lambda after: repo.old_events(group, before, since, after, images=True),
                                images, budget)
    if finished:
        marks[("media", group)] = before
    return gone, finished


async def _old_rows(ctx: JobContext, group: str | None, r: Any, budget: _Budget, totals: dict[str, int]) -> bool:
    """The budgeted part of a group's (None: the direct messages') day: texts, then images. Finished?"""
    now = ctx.clock.now()
    n_events, n_actions, done = await _trim_texts(ctx, group, now - timedelta(days=r.texts_days), budget)
    totals["events"] += n_events
    totals["actions"] += n_actions
    if group is not None:
        gone, finished = await _expire_images(ctx, group, now - timedelta(days=r.media_days), budget)
        totals["media"] += gone
        done = done and finished
    return done


def _again(ctx: JobContext, group: str | None, at: str) -> None:
    """Go on with the group in a run of its own, after this run's commit (a timer: the fleet gives it to
    the group's holder)."""
    ctx.timers.append(Timer(name="more", key=f"more:{group or ''}", due=ctx.clock.now() + AGAIN_AFTER,
                            data={"group": group, "at": at}))


async def run(at: str, ctx: JobContext) -> list[Action]:
    now = ctx.clock.now()
    budget = _Budget(ctx)
    defaults = ctx.config.model.defaults.retention
    served = await served_groups(ctx)
    groups = [(g, s.retention) for g, _name, s in served]
    chain_days = {g: s.jielong.expire_days for g, _name, s in served}
    totals = {"events": 0, "actions": 0, "details": 0, "jielong": 0, "roll_calls": 0, "media": 0, "files": 0}
    later: list[str | None] = []
    for group, r in groups:
        if not r.enabled or r.time != at:
            continue
        if budget.spent or not await _old_rows(ctx, group, r, budget, totals):
            later.append(group)
        totals["details"] += await ctx.repo.trim_details(group, now - timedelta(days=r.texts_days))
        tools = await ctx.repo.trim_tools(group, now - timedelta(days=r.texts_days), chain_days[group])
        totals["jielong"] += tools["jielong"]
        totals["roll_calls"] += tools["roll_calls"]
        totals["details"] += tools["red_packets"]
    if defaults.enabled and defaults.time == at:
        if budget.spent or not await _old_rows(ctx, None, defaults, budget, totals):
            later.append(None)
        if all(r.enabled for _g, r in groups):
            totals["files"] += _sweep_media(ctx)
        else:
            ctx.note("retention: a group keeps its data (retention.enabled: false): images no event names are kept")
        totals["files"] += _sweep_reports(ctx, groups)
    ctx.note("retention: " + ", ".join(f"{k} {v}" for k, v in totals.items()) + _going_on(ctx, later, at, budget))
    ctx.repo.scrub_after_commit(vacuum=False)
    return []


async def more(ctx: JobContext, timer: Timer) -> list[Action]:
    """A group's old rows that its daily run left (the run's batch was full), in runs of BATCH_ROWS."""
    group, at = timer.data["group"], timer.data["at"]
    budget = _Budget(ctx)
    if group is None:
        r = ctx.config.model.defaults.retention
    else:
        r = ctx.config.group(group, (await ctx.members.groups_named()).get(group)).settings.retention
    if not r.enabled:
        return []
    totals = {"events": 0, "actions": 0, "media": 0}
    later = [] if budget.spent or await _old_rows(ctx, group, r, budget, totals) else [group]
    ctx.note(f"retention of {group or 'direct messages'}: " + ", ".join(f"{k} {v}" for k, v in totals.items())
             + _going_on(ctx, later, at, budget))
    if any(totals.values()):
        ctx.repo.scrub_after_commit(vacuum=False)
    return []


def _going_on(ctx: JobContext, later: list[str | None], at: str, budget: _Budget) -> str:
    """The groups not finished go on in runs of their own, unless the day's rows are spent; what the note says."""
    if not later:
        return ""
    if budget.day_spent:
        return f"; stopped after {MAX_ROWS} rows, the rest goes in the next runs"
    for group in later:
        _again(ctx, group, at)
    return f"; {len(later)} group(s) go on in runs of their own"


def _sweep_media(ctx: JobContext) -> int:
    """Images older than the longest `media_days` of any group: past every group's limit, whether an
    event names them or not (a file whose event was never stored)."""
    longest = max(s.retention.media_days for s in ctx.config.variants())
    return files.expire(ctx.config.model.bot.media_dir, lambda _p: longest)


def _sweep_reports(ctx: JobContext, groups: list[tuple[str, Any]]) -> int:
    """Reports older than their group's `reports_days` (the group from the file name, else the
    defaults'); a group with `enabled: false` keeps its reports."""
    days = {safe_name(g): (r.reports_days if r.enabled else float("inf")) for g, r in groups}
    default = ctx.config.model.defaults.retention.reports_days

    def days_of(path: Path) -> float:
        group = files.report_group(path)
        return days.get(group, default) if group is not None else default

    return files.expire(ctx.config.model.bot.reports_dir, days_of)
