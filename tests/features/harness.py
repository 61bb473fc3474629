"""Call one feature's handler with an event and a context, on a fresh store, and look at its Outcome.

    h = await FeatureHarness.open(checkin.FEATURE, db_url, clock)
    outcome = await h.call(make_event(text="签到"))
    assert outcome.actions[0].data["rank"] == 1

No router, no outbox: the handler gets the context the router would give it (its feature's
repository and memory, the shared roster, the clock); `run_job` does the same for a scheduled job and
`fire(timer)` for a timer the handler set (`outcome.timers`).
`seen(event)` records an event the way the core does after the chain (the event log and the roster),
so the next call sees its member; `settle(event, outcome)` also records what the Outcome did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.app import open_store
from bot.audit import action_rows, note_rows
from bot.clock import DrivenClock
from bot.context import Context
from bot.events import MESSAGE_TYPES, Action, Event, Outcome, Timer
from bot.feature import Feature, Handler, JobContext
from rules.config import Config
from storage.base import RawJSON
from storage.store import Store
from tests.conftest import BASIC_CONFIG


@dataclass
class FeatureHarness:
    """A feature, its repository on an open store, and the clock its handlers read."""

    feature: Feature
    store: Store
    config: Config
    clock: DrivenClock
    memory: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def open(cls, feature: Feature, db_url: str, clock: DrivenClock, config_text: str = BASIC_CONFIG
                   ) -> FeatureHarness:
        store = open_store(db_url, [feature])
        await store.open()
        return cls(feature, store, Config.from_text(config_text), clock)

    @property
    def repo(self) -> Any:
        return self.feature.build_repository(self.store)

    def context(self, event: Event) -> Context:
        group = self.config.group(event.group, event.group_name) if event.group else None
        return Context(event=event, config=self.config, group=group, members=self.store.members, clock=self.clock,
                       repo=self.repo, memory=self.memory)

    def handler(self, name: str | None = None) -> Handler:
        """The feature's handler called `name` (its only or first one by default)."""
        found = [h for h in self.feature.handlers if name is None or h.name == name]
        assert found, f"{self.feature.name} has no handler {name!r}"
        return found[0]

    async def call(self, event: Event, handler: str | None = None) -> Outcome | None:
        """The handler's Outcome for `event` at the event's time (None: it does not match or says nothing)."""
        self.clock.set(event.ts)
        chosen = self.handler(handler)
        ctx = self.context(event)
        if chosen.matches is not None and not chosen.matches(event, ctx):
            return None
        return await chosen.handle(event, ctx)

    async def run_job(self, job_id: str, due: datetime) -> tuple[list[Action], list[str]]:
        """Run one of the feature's jobs for its instant `due`: its actions (recorded in the audit log, as
        the core records them) and the notes it left."""
        jobs = {j.id: j for j in self.feature.jobs(self.config)} if self.feature.jobs else {}
        assert job_id in jobs, f"{self.feature.name} has no job {job_id!r} (it has {sorted(jobs)})"
        self.clock.set(due)
        ctx = JobContext(self.config, self.clock, due, self.store.members, self.repo, self.memory)
        actions = [a.model_copy(update={"ts": due}) for a in await jobs[job_id].run(ctx)]
        key = f"job:{job_id}@{due.isoformat()}"
        self.store.audit.record_actions(action_rows([f"{key}#{n}" for n in range(len(actions))], actions, None))
        return actions, ctx.notes

    async def fire(self, timer: Timer) -> tuple[list[Action], list[str], list[Timer]]:
        """Run the feature's function for `timer` at its due time: its actions (recorded in the audit log,
        as the core records them), the notes it left and the timers it set."""
        fn = self.feature.timers.get(timer.name)
        assert fn is not None, f"{self.feature.name} has no timer {timer.name!r} (it has {sorted(self.feature.timers)})"
        self.clock.set(timer.due)
        ctx = JobContext(self.config, self.clock, timer.due, self.store.members, self.repo, self.memory)
        actions = [a.model_copy(update={"ts": self.clock.now()}) for a in await fn(ctx, timer)]
        key = f"job:timer:{self.feature.name}:{timer.key}@{timer.due.isoformat()}"
        self.store.audit.record_actions(action_rows([f"{key}#{n}" for n in range(len(actions))], actions, None))
        return actions, ctx.notes, ctx.timers

    def seen(self, *events: Event) -> None:
        """Record events as the core and the activity feature do after the chain."""
        for event in events:
            if event.group is not None:
                self.store.members.note_activity(
                    event.group, event.group_name, event.user, event.user_name, event.ts,
                    message=event.type in MESSAGE_TYPES, joined=event.type == "join", left=event.type == "leave")
            self.store.events.record_event(event.id, event.ts, event.group, event.user, event.type,
                                           RawJSON(event.model_dump_json(exclude_none=True)), event.ts)

    def settle(self, event: Event, outcome: Outcome | None) -> None:
        """Record the event and what its Outcome did (actions and notes in the audit log), as the core
        does after the chain: later cooldowns and "told before" questions see them."""
        actions = [a.model_copy(update={"ts": self.clock.now()}) for a in (outcome.actions if outcome else ())]
        self.store.audit.record_actions(action_rows([f"{event.id}#{n}" for n in range(len(actions))], actions,
                                                    event.id))
        if outcome and outcome.notes:
            self.store.audit.record_actions(note_rows(event.id, outcome.notes, self.clock.now(), event.group))
        self.seen(event)

    async def close(self) -> None:
        await self.store.close()


def texts(outcome: Outcome | None) -> list[str]:
    """The texts an Outcome would send."""
    return [a.text or "" for a in (outcome.actions if outcome else ()) if a.action == "send"]
