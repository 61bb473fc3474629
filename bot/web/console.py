"""What the web console works with: the config, its own store, the clock, and the way it writes.

The console reads through a store of its own (another connection to the bot's database, refreshed
before each request, so a page never waits behind the bot's writes). It writes in one of two ways:
- inside `qunbot run`: through the running bot (`Bot.apply_outside`), so there is one writer and a
  removal goes through the bot's outbox like any other action;
- alone (`qunbot web`): in its own store; actions (removals) are stored as pending with an id that
  starts with "web:", and a running bot picks them up (`pick_up_web_actions`) and sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.audit import action_rows
from bot.clock import Clock
from bot.events import Action
from bot.web.security import Sessions, SignInLimiter
from rules.config import Config
from rules.reload import ConfigHolder
from rules.schema import WebSettings
from storage.repository import Repository
from storage.store import Store

if TYPE_CHECKING:
    from bot.core import Bot
    from bot.outbox import Outbox

log = logging.getLogger("qunbot.web")
WEB_PREFIX = "web:"
PICKUP_SECONDS = 5.0

R = TypeVar("R", bound=Repository)
Work = Callable[[Store], Sequence[tuple[str, Action]]]


@dataclass
class WebConsole:
    """The console's services; one per served console."""

    holder: ConfigHolder
    store: Store
    clock: Clock
    token: str
    settings: WebSettings
    bot: Bot | None = None
    config_path: Path | None = None
    ops: Any = None  # the running bot's Operations (bot/web/operations.py): /healthz and /metrics
    sessions: Sessions = field(init=False)
    limiter: SignInLimiter = field(default_factory=SignInLimiter)
    memo: dict[str, Any] = field(default_factory=dict)  # pages' answers that change slowly (a few fixed keys)

    def __post_init__(self) -> None:
        self.sessions = Sessions(self.settings.session_hours * 3600)

    @property
    def config(self) -> Config:
        return self.holder.current

    def now(self) -> datetime:
        return self.clock.now()

    def repo(self, kind: type[R]) -> R:
        """A feature's repository on the console's store (for reading)."""
        return self.store.repository(kind)

    async def write(self, work: Work) -> None:
        """Run `work(store)`: it records writes (and audit rows of the actions it returns) in the store;
        they are committed, and the actions sent — by the running bot, now or when it picks them up."""
        if self.bot is not None:
            bot = self.bot
            await bot.apply_outside(lambda: work(bot.store))
        else:
            work(self.store)
            await self.store.commit()


def queue_actions(store: Store, actions: Sequence[Action], by: str, now: datetime) -> list[tuple[str, Action]]:
    """Audit rows for actions the console asks for (pending; `data.by` says who), with "web:" ids."""
    key = f"{WEB_PREFIX}{uuid.uuid4().hex[:16]}"
    stamped = [a.model_copy(update={"data": {**a.data, "by": by}, "ts": now}) for a in actions]
    ids = [f"{key}#{n}" for n in range(len(stamped))]
    store.audit.record_actions(action_rows(ids, stamped, None))
    return list(zip(ids, stamped, strict=True))


async def pick_up_web_actions(store: Store, outbox: Outbox, stop: asyncio.Event, every: float | None = None,
                              owns: Callable[[dict[str, Any]], Awaitable[bool]] | None = None) -> None:
    """In a running bot: send the actions a console in another process queued ("web:" ids, pending).
    With several accounts, only those `owns` gives this process (bot/fleet/: its groups' holder sends)."""
    every = every or PICKUP_SECONDS
    handed: set[str] = set()
    while not stop.is_set():
        try:
            rows = await store.audit.pending_with_prefix(WEB_PREFIX)
            fresh = [r for r in rows if r["id"] not in handed]
            if owns is not None:
                fresh = [r for r in fresh if await owns(r)]
            # only those still pending: bounded by the table's pending rows
            handed = {r["id"] for r in rows if r["id"] in handed} | {r["id"] for r in fresh}
            if fresh:
                log.info("sending %d action(s) queued by the web console", len(fresh))
                await outbox.submit([(r["id"], Action.model_validate(r["body"]).model_copy(update={"ts": None}))
                                     for r in fresh])
        except Exception as exc:  # the database away for a moment: try again at the next round
            log.warning("could not pick up the web console's actions: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


def describe(value: Any) -> str:
    """A short text for a value shown in a page (lists and dicts as YAML-like text)."""
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value) or "（空）"
    if isinstance(value, dict):
        return "；".join(f"{k}: {v}" for k, v in value.items()) or "（空）"
    return str(value)
