"""What a feature is made of: handlers in priority bands, settings, a repository, scheduled jobs, timers.

A feature is one package under handlers/ that exports `FEATURE`; handlers/__init__.py lists them
all, and the handler chain, the group settings and the scheduled jobs are assembled from that list.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.context import Context
    from bot.events import Action, Event, Outcome, Timer
    from rules.config import Config
    from rules.schema import GroupSettings
    from storage.members import Members
    from storage.repository import Repository
    from storage.store import Store

log = logging.getLogger("qunbot.jobs")


class Band(IntEnum):
    """Priority bands: lower runs first."""

    GUARD = 0
    MODERATION = 100
    COMMAND = 200
    AUTO_REPLY = 300
    OBSERVE = 900


HandleFn = Callable[["Event", "Context"], Awaitable["Outcome | None"]]
MatchFn = Callable[["Event", "Context"], bool]


@dataclass(frozen=True)
class Handler:
    """One capability in the chain. `matches` is a cheap sync filter in front of `handle`."""

    name: str
    band: Band
    handle: HandleFn
    matches: MatchFn | None = None
    order: int = 0  # within a band

    @property
    def always(self) -> bool:
        return self.band >= Band.OBSERVE


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: `run(ctx)` returns the actions for one due instant. `feature` names the
    feature whose repository and memory the job gets (set when the jobs are gathered). A job made for
    a timer (bot/timers.py) carries it in `timer`: its row goes in the commit of the run."""

    id: str
    trigger: Any  # an APScheduler trigger
    run: Callable[[JobContext], Awaitable[list[Action]]]
    feature: str = ""
    timer: Timer | None = None


@dataclass
class JobContext:
    """What a job gets: the config, its feature's repository and memory, the groups and members
    (`members`), the clock (set to the due instant) and the due time. A job explains what it did or
    skipped in `notes` (kept with the job's run, for the audit), and may set timers of its feature
    (`timers`, as a handler does in its Outcome)."""

    config: Config
    clock: Clock
    due: datetime
    members: Members
    repo: Any = None
    memory: dict[str, Any] = field(default_factory=dict)  # the feature's short-lived state (daily baselines …)
    notes: list[str] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    # several accounts on one database (bot/fleet/): of these groups, the ones this process acts for at
    # this instant (it holds them, and claimed them for this run); None: every group
    serve: Callable[[list[str]], Awaitable[set[str]]] | None = None

    def note(self, text: str) -> None:
        log.debug("job at %s: %s", self.due.isoformat(), text)
        self.notes.append(text)


JobBuilder = Callable[["Config"], list[JobSpec]]
# events a replay will handle next (it reads its transcript ahead): start slow, pure work on them meanwhile;
# called with no events when the replay ends (stop that work)
ReadAhead = Callable[[Sequence["Event"], "Config"], None]
# what runs when a timer of the feature fires: its actions (the context's clock is at the timer's due time)
TimerFn = Callable[[JobContext, "Timer"], Awaitable[list["Action"]]]
Compile = Callable[["GroupSettings"], Any]


@dataclass(frozen=True)
class Feature:
    """One feature: its name, handlers, the group settings it adds (field name -> (type, default)),
    what it compiles from them once per config and group (`compile`, read back as
    `ctx.group.compiled[name]`; it must read only the feature's own settings, since a group whose
    overrides leave those alone shares the defaults' result), its scheduled jobs, its repository (a
    class built once per store), its tables, and the placeholders it offers every template of a group
    (`fields`: name -> value from the group's settings, e.g. welcome's {name_format}), and what runs
    when one of its timers fires (`timers`: timer name -> TimerFn; a handler sets a timer with
    `Outcome(timers=(Timer(name=…, key=…, due=…, data=…),))`), and what it may start on events a replay
    will handle next (`read_ahead`, e.g. the ad scores of their texts in a worker process). Handlers, jobs
    and timers get the repository as `ctx.repo` and their own `ctx.memory`."""

    name: str
    handlers: tuple[Handler, ...] = ()
    settings: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    compile: Compile | None = None
    jobs: JobBuilder | None = None
    repository: Callable[[Store], Any] | type[Repository] | None = None
    tables: tuple[Any, ...] = ()
    fields: Mapping[str, Callable[[GroupSettings], str]] = field(default_factory=dict)
    timers: Mapping[str, TimerFn] = field(default_factory=dict)
    read_ahead: ReadAhead | None = None

    def build_repository(self, store: Store) -> Any:
        """This feature's repository on `store` (a Repository class is built once per store)."""
        from storage.repository import Repository

        if self.repository is None:
            return None
        if isinstance(self.repository, type) and issubclass(self.repository, Repository):
            return store.repository(self.repository)
        return self.repository(store)


def as_features(items: Any) -> list[Feature]:
    """Features, with any bare Handler wrapped as a feature of its own (tests build chains this way)."""
    return [item if isinstance(item, Feature) else Feature(item.name, handlers=(item,)) for item in items]
