"""The outbox: actions leave paced per group and per account, retried, and never block handling.

Pacing runs on the clock: each action gets a send instant (at least `min_interval_seconds` after the
previous one to the same chat, at most `per_group_per_minute` a minute per chat and
`per_account_per_minute` for the whole account). Live, a sender task per chat waits for that instant;
with a driven clock (replay, tests) the action is delivered at once, stamped with that instant, so
replay is fast and still shows real timestamps. Delivery is recorded in the store (status sent or
failed); actions the platform cannot do are turned into a message to the operators.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.audit import action_rows
from bot.clock import Clock
from bot.events import Action
from bot.platform import Platform, Unsupported
from rules.schema import OutboxSettings
from storage.store import Store

log = logging.getLogger("qunbot.outbox")

Fallback = Callable[[Action, str], list[Action]]
MERGE_MAX_CHARS = 1500  # a merged burst stays one readable message


class Pacer:
    """Computes send instants from a per-chat and a per-account budget."""

    def __init__(self, settings: OutboxSettings) -> None:
        self.settings = settings
        self._chat: dict[str, deque[datetime]] = {}
        self._account: deque[datetime] = deque()

    def reserve(self, chat: str, not_before: datetime) -> datetime:
        """The earliest instant at or after `not_before` at which a message to `chat` may go."""
        s = self.settings
        sent = self._chat.setdefault(chat, deque())
        due = not_before
        if sent:
            due = max(due, sent[-1] + timedelta(seconds=s.min_interval_seconds))
        if len(sent) >= s.per_group_per_minute:
            due = max(due, sent[-s.per_group_per_minute] + timedelta(minutes=1))
        if len(self._account) >= s.per_account_per_minute:
            due = max(due, self._account[-s.per_account_per_minute] + timedelta(minutes=1))
        sent.append(due)
        self._account.append(due)
        while len(sent) > s.per_group_per_minute:
            sent.popleft()
        while len(self._account) > s.per_account_per_minute:
            self._account.popleft()
        if len(self._chat) > 50_000:  # forget idle chats
            self._chat = {k: v for k, v in self._chat.items() if v and v[-1] > due - timedelta(minutes=1)}
        return due


def chat_of(action: Action) -> str:
    return action.group if action.group else f"dm:{action.user}"


class Outbox:
    """Paces, delivers and records actions (see the module doc)."""

    def __init__(self, platform: Platform, clock: Clock, settings: OutboxSettings, store: Store,
                 fallback: Fallback | None = None) -> None:
        self.platform = platform
        self.clock = clock
        self.settings = settings
        self.store = store
        self.fallback = fallback
        self.pacer = Pacer(settings)
        self._queues: dict[str, asyncio.Queue[tuple[str, Action]]] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}
        self.delivered = 0
        self.failed = 0

    async def submit(self, items: Sequence[tuple[str, Action]]) -> None:
        """Hand over actions (id, action) in order; returns without waiting for live sends."""
        for action_id, action in items:
            due = self.pacer.reserve(chat_of(action), action.ts or self.clock.now())
            action = action.model_copy(update={"ts": due})
            if self.clock.driven:
                await self._deliver([(action_id, action)])
            else:
                chat = chat_of(action)
                queue = self._queues.setdefault(chat, asyncio.Queue())
                queue.put_nowait((action_id, action))
                sender = self._senders.get(chat)
                if sender is None or sender.done():
                    self._senders[chat] = asyncio.create_task(self._send_loop(chat, queue), name=f"send:{chat}")

    async def _send_loop(self, chat: str, queue: asyncio.Queue[tuple[str, Action]]) -> None:
        while not queue.empty():
            action_id, action = queue.get_nowait()
            assert action.ts is not None
            await self.clock.sleep_until(action.ts)
            batch = [(action_id, action)]
            if self.settings.merge_texts and self.platform.capabilities.merge_texts and _mergeable(action):
                size = len(action.text or "")
                while not queue.empty():
                    nxt_id, nxt = queue._queue[0]  # type: ignore[attr-defined]
                    size += len(nxt.text or "") + 1
                    if not (_mergeable(nxt) and nxt.user == action.user) or size > MERGE_MAX_CHARS:
                        break
                    queue.get_nowait()
                    batch.append((nxt_id, nxt))
            await self._deliver(batch)
        self._senders.pop(chat, None)

    async def _deliver(self, batch: list[tuple[str, Action]]) -> None:
        first = batch[0][1]
        if len(batch) > 1:
            text = "\n".join(a.text or "" for _i, a in batch)
            mentions = tuple(dict.fromkeys(m for _i, a in batch for m in a.mentions))
            action = first.model_copy(update={"text": text, "mentions": mentions})
        else:
            action = first
        ids = [i for i, _a in batch]
        attempt = 0
        while True:
            try:
                await self.platform.send(action)
                self.delivered += len(batch)
                self.store.audit.mark_delivered(ids, "sent", self.clock.now())
                return
            except Unsupported as exc:
                log.warning("platform cannot %s (%s); telling the operators instead", action.action, exc)
                self.store.audit.mark_delivered(ids, "failed", self.clock.now())
                if self.fallback is not None:
                    try:
                        extra = [a.model_copy(update={"ts": self.clock.now()}) for a in self.fallback(action, str(exc))]
                    except Exception:
                        log.exception("the fallback for %s failed", action.action)
                        extra = []
                    if extra:
                        items = [(f"{ids[0]}/fallback{n}", a) for n, a in enumerate(extra)]
                        rows = action_rows([i for i, _a in items], extra, action.data.get("event"))
                        self.store.audit.record_actions(rows)
                        await self.submit(items)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                if attempt >= self.settings.max_attempts:
                    log.error("giving up on %s to %s after %d attempts: %s", action.action, chat_of(action),
                              attempt, exc)
                    self.failed += len(batch)
                    self.store.audit.mark_delivered(ids, "failed", self.clock.now())
                    return
                delay = min(60.0, 0.5 * 2 ** attempt) * random.uniform(0.5, 1.5)
                log.warning("sending %s to %s failed (%s); retry %d in %.1fs", action.action, chat_of(action),
                            exc, attempt, delay)
                if self.clock.driven:
                    await asyncio.sleep(0)
                else:
                    await asyncio.sleep(delay)

    async def drain(self, seconds: float = 5.0) -> None:
        """Wait (up to `seconds`) for queued live sends to go out."""
        tasks = [t for t in self._senders.values() if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=seconds)

    async def close(self) -> None:
        for task in self._senders.values():
            task.cancel()
        await asyncio.gather(*self._senders.values(), return_exceptions=True)


def _mergeable(action: Action) -> bool:
    return action.action == "send" and action.text is not None
