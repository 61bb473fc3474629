"""This process's share of the groups when several accounts run on one database (the rules: bot/fleet/__init__.py)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.events import Action, Event
from bot.feature import JobContext, JobSpec
from bot.fleet.accounts import CURRENT_ACCOUNT, Account, choose_account, serves, settings_of
from bot.fleet.lock import ProcessLock
from bot.web.console import WEB_PREFIX
from rules.reload import ConfigHolder
from rules.schema import AccountSettings
from storage import leases
from storage.dialect import make_engine

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.app import Runtime

log = logging.getLogger("qunbot.fleet")
HOLD_FRACTION = 2 / 3  # of the lease: how long after a claim this process acts for the group
CLAIMS_KEPT = timedelta(days=2)  # job claims older than this are deleted (hourly)
FORGET_AFTER_SECONDS = 24 * 3600.0
CATCH_UP_DELAY = 2.0  # seconds: takeovers that come together share one catch-up of the scheduled jobs


async def join_fleet(holder: ConfigHolder, db_url: str, account: str | None = None) -> Fleet:
    """The process's place among the others on `db_url`: its lock taken (refused in one line when another
    process holds it), its account chosen (`account`, else `CURRENT_ACCOUNT`). Attach it to the runtime."""
    chosen = choose_account(holder.current, account or CURRENT_ACCOUNT.get())
    fleet = Fleet(holder, db_url, chosen)
    try:
        await fleet.lock.acquire()
    except BaseException:
        if fleet.engine is not None:
            await fleet.engine.dispose()
        raise
    await fleet.recall()
    return fleet


class Fleet:
    """Leases, event admission and job claims for one process (see the module doc). Without `accounts:`
    it only holds the process lock and changes nothing."""

    def __init__(self, holder: ConfigHolder, db_url: str, account: Account,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.holder = holder
        self.account = account
        self.me = account.id
        self.now = now
        self.lock = ProcessLock(db_url, account.id)
        self.engine: AsyncEngine | None = make_engine(db_url) if account.several else None
        self.runtime: Runtime | None = None
        self.held: dict[str, float] = {}  # group -> monotonic time until which this process acts for it
        self.seen: dict[str, str | None] = {}  # groups heard from -> their latest name
        self.heard: dict[str, float] = {}  # groups heard from -> monotonic time of the latest event
        self.refused: set[str] = set()  # held by another account at the latest claim (until the next round)
        self.counts: Counter[str] = Counter()
        self._settings: AccountSettings | None = settings_of(holder.current, account.id)
        self._loop: asyncio.Task[None] | None = None
        self._catch_up: asyncio.Task[None] | None = None
        self._taken: set[str] = set()  # groups taken over since the last catch-up
        self._bypass: set[int] = set()  # job specs this fleet prepared itself (take() leaves them as they are)
        self._pruned = 0.0
        self._before: set[str] = set()  # the groups whose lease named this account when it started

    # -- what the others ask ------------------------------------------------------------------------

    @property
    def lease_seconds(self) -> float:
        return float(self.holder.current.model.fleet.lease_seconds)

    def settings(self) -> AccountSettings | None:
        """The account's settings in the current config (the last known ones if a reload lost it)."""
        found = settings_of(self.holder.current, self.me)
        if found is not None:
            self._settings = found
        return self._settings

    def serves(self, group: str, name: str | None) -> bool:
        return serves(self.settings(), group, name)

    def forget_after(self) -> float:
        """Seconds without an event (a message, a member list) after which a group is no longer served:
        a day, or three rounds of Wechaty's member lists when they come less often."""
        return max(FORGET_AFTER_SECONDS, 3 * self.holder.current.model.wechaty.roster_interval_seconds)

    def holds(self, group: str) -> bool:
        until = self.held.get(group)
        return until is not None and time.monotonic() < until

    # -- start and stop -----------------------------------------------------------------------------

    async def recall(self) -> None:
        """Before the runtime starts: the groups this account served before (a restart)."""
        if self.engine is None:
            return
        try:
            self._before = set(await leases.leases_of(self.engine, self.me))
        except Exception as exc:  # a database without the tables yet (the store migrates it): none
            log.debug("no leases read (%s)", exc)

    def resends(self, row: dict[str, Any]) -> bool:
        """Is an action the last run left undelivered this process's to resend at start? With several
        accounts: those of the groups this account held when it stopped (not taken over meanwhile) and
        direct messages of its own job runs; another process may be sending the rest right now."""
        if not self.account.several:
            return True
        group = row.get("group_id")
        if group:
            return group in self._before
        return f"@{self.me}@" in row["id"] or f"@{self.me}+" in row["id"]

    async def attach(self, runtime: Runtime) -> None:
        """Wire into a started runtime (before the scheduler starts): claim the groups this account held
        before, then renew and take over in the background."""
        runtime.closers.append(self.close)
        if not self.account.several:
            return
        self.runtime = runtime
        runtime.store.not_alone()
        runtime.bot.fleet = self
        release = runtime.bot.release
        if release is not None:  # a console in this process: a group another account holds is its to send
            async def release_here(items: Sequence[tuple[str, Action]]) -> None:
                await release([(i, a) for i, a in items
                               if not (i.startswith(WEB_PREFIX) and a.group and not self.holds(a.group))])

            runtime.bot.release = release_here
        assert self.engine is not None
        mine = await leases.leases_of(self.engine, self.me)
        if mine:
            named = await runtime.store.members.groups_named()
            for group in mine:
                self.seen[group] = named.get(group)
                self.heard[group] = time.monotonic()
            got = await self._claim([g for g in mine if self.serves(g, self.seen[g])])
            log.info("account %s: %d group(s) served again after the restart", self.me, len(got))
            if self._catch_up is not None:  # the scheduler's own catch-up at start covers these
                self._catch_up.cancel()
                self._taken.clear()
        self._loop = asyncio.create_task(self._renew(), name="fleet-leases")

    async def close(self) -> None:
        """Stop renewing, give the leases up (the others take the groups at their next round), unlock."""
        for task in (self._loop, self._catch_up):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.engine is not None:
            try:
                if self.held:
                    await leases.release_leases(self.engine, list(self.held), self.me)
                    log.info("account %s: %d lease(s) given up", self.me, len(self.held))
            except Exception as exc:
                log.warning("leases not given up (%s); they run out in %.0fs", exc, self.lease_seconds)
            self.held.clear()
            await self.engine.dispose()
        await self.lock.release()

    # -- leases -------------------------------------------------------------------------------------

    async def _renew(self) -> None:
        while True:
            try:
                await self.round()
                await asyncio.sleep(self.lease_seconds / 3)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("account %s: leases not renewed (%s: %s); trying again", self.me, type(exc).__name__, exc)
                await asyncio.sleep(min(self.lease_seconds / 3, 2.0))

    async def round(self) -> set[str]:
        """One round: renew what is held, take what is free among the groups served, drop what the
        config no longer gives this account. Returns the groups held."""
        assert self.engine is not None
        silent = time.monotonic() - self.forget_after()
        for group in [g for g, at in self.heard.items() if at < silent]:  # removed from it, most likely
            log.info("account %s: nothing heard from %s for %.0f h; no longer served", self.me, group,
                     self.forget_after() / 3600)
            self.seen.pop(group, None)
            self.heard.pop(group, None)
        served = {g for g, name in self.seen.items() if self.serves(g, name)}
        dropped = [g for g in self.held if g not in served]
        if dropped:
            await leases.release_leases(self.engine, dropped, self.me)
            for group in dropped:
                self.held.pop(group, None)
            log.info("account %s: %d group(s) no longer served; leases given up", self.me, len(dropped))
        self.refused.clear()
        got = await self._claim(served)
        if time.monotonic() - self._pruned > 3600:
            self._pruned = time.monotonic()
            await leases.prune_claims(self.engine, self.now() - CLAIMS_KEPT)
        return got

    async def _claim(self, groups: list[str] | set[str]) -> set[str]:
        wanted = set(groups)
        if not wanted:
            return set()
        assert self.engine is not None
        started = time.monotonic()
        got = await leases.claim_leases(self.engine, wanted, self.me, self.now(), self.lease_seconds)
        until = started + self.lease_seconds * HOLD_FRACTION
        new = {g for g in got if not self.holds(g)}
        lost = sorted(g for g in wanted - got if self.holds(g))
        for group in got:
            self.held[group] = until
        for group in wanted - got:
            self.held.pop(group, None)
            self.refused.add(group)
        if lost:
            log.warning("account %s: another account holds %s although this one renewed in time (clocks apart?)",
                        self.me, ", ".join(lost[:10]))
            self.counts["lost"] += len(lost)
        if new:
            await self._taken_over(new)
        return got

    async def _taken_over(self, groups: set[str]) -> None:
        """New groups (or ones held again after a lapse): caches dropped, their pending timers adopted,
        a catch-up of the scheduled jobs planned."""
        self.counts["acquired"] += len(groups)
        log.info("account %s now serves %s", self.me, ", ".join(sorted(groups)[:10]) +
                 (f" (+{len(groups) - 10})" if len(groups) > 10 else ""))
        runtime = self.runtime
        if runtime is None:
            return
        from bot.timers import from_row

        runtime.store.forget_caches()
        for row in await runtime.store.timers.adopt():
            group = row.data.get("group")
            if isinstance(group, str) and group and not self.holds(group):
                runtime.store.timers.let_go(row.feature, row.key)
                continue
            timer = from_row(row)
            for listener in runtime.bot.timer_listeners:
                listener(timer)
        self._taken |= groups
        if self._catch_up is None or self._catch_up.done():
            self._catch_up = asyncio.create_task(self._run_catch_up(), name="fleet-catch-up")

    async def _run_catch_up(self) -> None:
        """The scheduled jobs whose latest instant passed within the misfire grace, for the groups taken
        over (those the previous holder served at that instant are claimed already)."""
        await asyncio.sleep(CATCH_UP_DELAY)
        runtime = self.runtime
        if runtime is None:
            return
        from scheduler.jobs import jobs_from_config
        from scheduler.live import MISFIRE_GRACE_SECONDS, latest_fire_time

        groups, self._taken = self._taken, set()
        bot = runtime.bot
        now = bot.clock.now()
        stamp = self.now().strftime("%Y%m%dT%H%M%S%f")
        for job in jobs_from_config(bot.config, bot.features):
            due = latest_fire_time(job.trigger, now, MISFIRE_GRACE_SECONDS)
            if due is None or due >= now:
                continue
            spec = dataclasses.replace(job, id=f"{job.id}@{self.me}+{stamp}",
                                       run=self._serving(job.id, due, job.run, only=groups))
            self._bypass.add(id(spec))
            try:
                await bot.run_job(spec, due)
            except Exception:
                log.exception("job %s (due %s) could not catch up for the groups taken over", job.id, due.isoformat())
            finally:
                self._bypass.discard(id(spec))

    # -- events, jobs, the console's actions --------------------------------------------------------

    async def admit(self, event: Event) -> bool:
        """Handle this event here? Only when this account holds its group (claimed now if it is free)."""
        group = event.group
        if group is None:
            return True
        name = event.group_name or self.seen.get(group)
        self.seen[group] = name
        self.heard[group] = time.monotonic()
        if not self.serves(group, name):
            return self._drop(event, "not_served")
        if self.holds(group):
            return True
        if group not in self.refused:
            attempt = 0
            while True:
                try:
                    await self._claim([group])
                    break
                except Exception as exc:  # the database away: the group's events wait, as for `_seen`
                    attempt += 1
                    log.error("lease of %s not claimed (%s); retry %d", group, exc, attempt)
                    await asyncio.sleep(min(10.0, 0.1 * 2 ** attempt))
            if self.holds(group):
                return True
        return self._drop(event, "held_elsewhere")

    def _drop(self, event: Event, why: str) -> bool:
        self.counts[why] += 1
        log.debug("event %s of %s: %s; dropped here", event.id, event.group,
                  "another account holds the group" if why == "held_elsewhere" else "not a group this account serves")
        return False

    async def take(self, job: JobSpec, due: datetime) -> JobSpec | None:
        """The job as this process runs it for `due`, or None when it does not run here (the core asks
        before each run)."""
        if id(job) in self._bypass:
            return job
        assert self.engine is not None and self.runtime is not None
        timer = job.timer
        if timer is None:  # a scheduled job: run here for the groups held, recorded under this account
            return dataclasses.replace(job, id=f"{job.id}@{self.me}", run=self._serving(job.id, due, job.run))
        group = timer.data.get("group")
        if isinstance(group, str) and group:
            if not self.holds(group) and group in self.seen and group not in self.refused \
                    and self.serves(group, self.seen[group]):
                await self._claim([group])
            if not self.holds(group):  # the group's holder fires it (it adopted it when taking the group)
                self.runtime.store.timers.let_go(timer.feature, timer.key)
                self.counts["timers_elsewhere"] += 1
                return None
        now = self.now()
        won = await leases.claim_job(self.engine, job.id, due, [""], self.me, now,
                                     retry_before=now - timedelta(seconds=self.lease_seconds))
        return job if won else None

    def _serving(self, job_id: str, due: datetime, run: Callable[[JobContext], Awaitable[list[Any]]],
                 only: set[str] | None = None) -> Callable[[JobContext], Awaitable[list[Any]]]:
        """`run` with `ctx.serve`: the groups it acts for are the ones held (and among `only`), each
        claimed as (job, due, group) once across processes."""
        engine = self.engine
        assert engine is not None

        async def serving(ctx: JobContext) -> list[Any]:
            won: set[str] = set()

            async def serve(groups: list[str]) -> set[str]:
                fresh = [g for g in groups if g not in won and self.holds(g) and (only is None or g in only)]
                if fresh:
                    won.update(await leases.claim_job(engine, job_id, due, fresh, self.me, self.now()))
                kept = won & set(groups)
                ctx.note(f"account {self.me} serves {len(kept)} of {len(groups)} group(s) at this instant")
                return kept

            ctx.serve = serve
            return await run(ctx)

        return serving

    async def owns_row(self, row: dict[str, Any]) -> bool:
        """Is an action queued by a console in another process (a removal) this process's to send? Its
        group's holder sends it; one without a group goes to the first process to claim it."""
        if not self.account.several:
            return True
        group = row.get("group_id")
        if group:
            return self.holds(group)
        assert self.engine is not None
        now = self.now()
        return bool(await leases.claim_job(self.engine, f"web:{row['id']}", row.get("ts") or now, [""], self.me, now))
