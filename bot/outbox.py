"""The outbox: actions leave fair and paced, are retried, recorded, and never block handling.

Each chat (group or direct message) has a queue; the account's budget goes round the chats with
something to send, and a slot is taken when a message actually goes (bot/lanes.py: the pacing, the
round-robin, the per-chat cap with priorities). A full queue drops its oldest low-priority action:
its audit row is marked `dropped` and a note (`outbox/dropped`) is filed under its event, so `why`
tells. Live, one dispatcher waits for the next slot and hands the send to a task of its chat (a chat
retrying a failed send holds up only itself). With a driven clock (replay, tests) nothing waits:
sends happen as the clock passes their instants — at each hand-over, what was due before the new
actions arrived goes first — and `drain` lets the outbox's clock run on until every queue is empty;
each action is stamped with the instant it went. Delivery is recorded in the store (sent, failed,
dropped); actions the platform cannot do are turned into a message to the operators.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bot.audit import action_rows
from bot.clock import Clock
from bot.events import OTHERWISE, THEN, Action
from bot.lanes import NAMES, Item, Lane, Lanes, chat_of, priority_of
from bot.metrics import OutboxStats
from bot.platform import Platform, Unsupported
from rules.schema import OutboxSettings
from storage.store import Store

log = logging.getLogger("qunbot.outbox")

Fallback = Callable[[Action, str], list[Action]]
MERGE_MAX_CHARS = 1500  # a merged burst stays one readable message
FOREVER = datetime.max.replace(tzinfo=UTC)

__all__ = ["Outbox", "chat_of"]


class Outbox:
    """Queues, paces, delivers and records actions (see the module doc)."""

    def __init__(self, platform: Platform, clock: Clock, settings: OutboxSettings, store: Store,
                 fallback: Fallback | None = None) -> None:
        self.platform = platform
        self.clock = clock
        self.settings = settings
        self.store = store
        self.fallback = fallback
        merge = settings.merge_texts and platform.capabilities.merge_texts
        self.lanes = Lanes(settings, _mergeable if merge else None, MERGE_MAX_CHARS)
        self.delivered = 0
        self.failed = 0
        self.dropped = 0
        self.stats = OutboxStats()  # for /metrics (bot/metrics.py): actions by kind and status, waits
        self._pumping = False
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._dispatcher: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def submit(self, items: Sequence[tuple[str, Action]]) -> None:
        """Hand over actions (id, action) in order; returns without waiting for live sends."""
        driven = self.clock.driven
        for action_id, action in items:
            ready = action.ts or self.clock.now()
            if driven:
                await self._pump(ready, before=True)  # what went before these arrived
            item = Item(action_id, action, ready, priority_of(action, self.settings))
            for victim in self.lanes.add(item):
                self._drop(victim)
        if driven:
            await self._pump(self.clock.now())
            return
        self._idle.clear()
        self._wake.set()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="outbox")

    # -- driven: sends happen as the clock passes their instants ----------------------------------------

    async def _pump(self, until: datetime, *, before: bool = False) -> None:
        """Send what is due at `until` (or, with `before`, strictly before it), in the order of the slots."""
        if self._pumping:  # a fallback submitted from inside a send: the running pump takes it
            return
        self._pumping = True
        try:
            while (nxt := self.lanes.next()) is not None:
                at, lane = nxt
                if at > until or (before and at == until):
                    break
                await self._deliver(self.lanes.take(lane, at), at)
        finally:
            self._pumping = False

    # -- live: one dispatcher, a task per send ----------------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            self._wake.clear()
            nxt = self.lanes.next()
            now = self.clock.now()
            if nxt is None:
                if not self._sending and not self.lanes.queued:
                    self._idle.set()
                await self._wake.wait()
                continue
            at, lane = nxt
            if at > now:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), (at - now).total_seconds())
                continue
            batch = self.lanes.take(lane, now)
            lane.busy = True
            task = asyncio.create_task(self._send_one(lane, batch, now), name=f"send:{lane.chat}")
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send_one(self, lane: Lane, batch: list[Item], at: datetime) -> None:
        try:
            await self._deliver(batch, at)
        finally:
            lane.busy = False
            self._sending.discard(asyncio.current_task())  # type: ignore[arg-type]
            self._wake.set()

    # -- dropping -----------------------------------------------------------------------------------------

    def _drop(self, item: Item) -> None:
        """A full queue let go of `item`: its audit row says so, with a note under its event, and a log line."""
        action = item.action
        chat = chat_of(action)
        lane = self.lanes.lane(chat)
        self.dropped += 1
        self.stats.ended(action.action, "dropped")
        now = self.clock.now()
        cap = self.settings.queue_per_group
        self.store.audit.mark_delivered([item.id], "dropped", now)
        reason = (f"发送队列已满（{cap} 条），丢弃了最早的{'低' if NAMES[item.priority] == 'low' else '普通'}优先级消息"
                  f"（{action.rule}）；这个会话已丢弃 {lane.dropped} 条")
        self.store.audit.record_actions([{
            "id": f"{item.id}/dropped", "ts": now, "event_id": action.data.get("event"), "action": "note",
            "rule": "outbox/dropped", "group_id": action.group or action.data.get("group"), "user_id": None,
            "data": {"reason": reason, "dropped": item.id, "dropped_rule": action.rule,
                     "priority": NAMES[item.priority], "queue": cap, "dropped_in_chat": lane.dropped},
            "body": {}, "status": "note", "sent_at": None}])
        if str(lane.dropped).strip("0") == "1":  # the 1st, 10th, 100th … drop of a chat
            log.warning("%s: send queue full (%d); dropped %s (%s, %s priority); %d dropped in this chat so far",
                        chat, cap, item.id, action.rule, NAMES[item.priority], lane.dropped)

    # -- delivery -----------------------------------------------------------------------------------------

    async def _deliver(self, batch: list[Item], at: datetime) -> None:
        first = batch[0].action
        update: dict[str, object] = {"ts": at}
        if len(batch) > 1:
            update["text"] = "\n".join(i.action.text or "" for i in batch)
            update["mentions"] = tuple(dict.fromkeys(m for i in batch for m in i.action.mentions))
        action = first.model_copy(update=update)
        ids = [i.id for i in batch]
        attempt = 0
        while True:
            try:
                await self.platform.send(action)
                self.delivered += len(batch)
                self.stats.sent(action.action, batch, at)
                self.store.audit.mark_delivered(ids, "sent", at)
                await self._follow(action, ids[0], THEN)
                return
            except Unsupported as exc:
                log.warning("platform cannot %s (%s); telling the operators instead", action.action, exc)
                self.stats.ended(action.action, "unsupported", len(batch))
                self.store.audit.mark_delivered(ids, "failed", at)
                if not await self._follow(action, ids[0], OTHERWISE):
                    await self._fall_back(action, ids[0], str(exc))
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                if attempt >= self.settings.max_attempts:
                    log.error("giving up on %s to %s after %d attempts: %s", action.action, chat_of(action),
                              attempt, exc)
                    self.failed += len(batch)
                    self.stats.ended(action.action, "failed", len(batch))
                    self.store.audit.mark_delivered(ids, "failed", self.clock.now())
                    if not await self._follow(action, ids[0], OTHERWISE):
                        await self._fall_back(action, ids[0], str(exc))
                    return
                self.stats.retried(action.action)
                delay = min(60.0, 0.5 * 2 ** attempt) * random.uniform(0.5, 1.5)
                log.warning("sending %s to %s failed (%s); retry %d in %.1fs", action.action, chat_of(action),
                            exc, attempt, delay)
                await asyncio.sleep(0 if self.clock.driven else delay)

    async def _follow(self, action: Action, action_id: str, outcome: str) -> bool:
        """Send the actions `action` carries for this outcome (events.THEN / OTHERWISE): a removal notice
        goes out only once the platform removed the member, a "could not" one when it refused. Returns
        whether the action had any for it."""
        raw = action.data.get(outcome)
        if not raw:
            return False
        try:
            extra = [Action.model_validate(a).model_copy(update={"ts": action.ts}) for a in raw]
        except Exception:
            log.exception("the %s actions of %s could not be read", outcome, action.action)
            return False
        items = [(f"{action_id}/{outcome}{n}", a) for n, a in enumerate(extra)]
        self.store.audit.record_actions(action_rows([i for i, _a in items], extra, action.data.get("event")))
        await self.submit(items)
        return True

    async def _fall_back(self, action: Action, action_id: str, why: str) -> None:
        if self.fallback is None:
            return
        try:
            extra = [a.model_copy(update={"ts": action.ts}) for a in self.fallback(action, why)]
        except Exception:
            log.exception("the fallback for %s failed", action.action)
            extra = []
        if extra:
            items = [(f"{action_id}/fallback{n}", a) for n, a in enumerate(extra)]
            self.store.audit.record_actions(action_rows([i for i, _a in items], extra, action.data.get("event")))
            await self.submit(items)

    async def drain(self, seconds: float = 5.0) -> None:
        """Send what is queued: driven, at once (the outbox's clock runs on until every queue is empty);
        live, wait up to `seconds` for the paced sends to go out."""
        if self.clock.driven:
            await self._pump(FOREVER)
            return
        if self._dispatcher is None or self._dispatcher.done():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), seconds)

    async def close(self) -> None:
        tasks = [t for t in (self._dispatcher, *self._sending) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _mergeable(action: Action) -> bool:
    return action.action == "send" and action.text is not None
