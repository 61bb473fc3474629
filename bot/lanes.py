"""Send queues: one lane per chat, the account's budget shared round-robin, slots taken at send time.

What the outbox asks: which chat sends next, and when. Each chat (a group, or a direct message to one
person) queues its actions in order. A chat may send `min_interval_seconds` after its previous message
and `per_group_per_minute` a minute; the account sends at most `per_account_per_minute` a minute, at
its pace (one message every 60/N seconds, `burst` back to back). When the account is what holds the
chats back, they take turns (round-robin: a chat joins the round at the back when it has something to
send, and goes to the back after each message), so a busy chat gets one message a round and never
delays another chat's answer by more than the pace times the number of chats with something to send
(plus a few paces when the minute's cap is reached after a burst). Otherwise what the account can
send at once goes in the order it was made. A slot is taken when a message goes (a merged burst
takes one), never when it is queued. A chat's queue holds `queue_per_group` messages (texts the
platform merges count as one); past that the oldest low-priority action is dropped (then the oldest
normal one), never a high-priority one (warnings, kicks, reports to operators). Pure bookkeeping on
the instants it is given: no clock, no I/O.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from bot.events import Action
from rules.schema import OutboxSettings

LOW, NORMAL, HIGH = 0, 1, 2
PRIORITY_NAMES = {"low": LOW, "normal": NORMAL, "high": HIGH}
NAMES = {v: k for k, v in PRIORITY_NAMES.items()}
SWEEP_FIRST = 256  # lanes kept before the first sweep of idle ones (1,000 groups: ~2.5 KB each, forever)
# rule globs, first match wins; `outbox.priority` in the config is read before these. Whatever the
# config says, kicks, direct messages (reports to operators) and the ads warnings are high, and an
# "already" reply (`data.already`) or a thank-you for a red packet (`data.excused`) is low.
BUILT_IN_PRIORITIES: tuple[tuple[str, str], ...] = (
    ("welcome/rename-reminder", "high"), ("announcements*", "high"), ("purge_report*", "high"),
    ("stats_report*", "high"), ("anomaly/*", "high"),
    ("checkin/board", "low"), ("checkin/streaks", "low"), ("checkin/rate", "low"), ("points/board-*", "low"),
    ("points/mine", "low"), ("points/ledger", "low"), ("levels/mine", "low"), ("welcome/rename-thanks", "low"),
    ("red_packet", "low"), ("red_packet/board-*", "low"), ("topic_hours", "low"), ("jielong/cancel", "low"),
)


def chat_of(action: Action) -> str:
    return action.group if action.group else f"dm:{action.user}"


def priority_of(action: Action, settings: OutboxSettings) -> int:
    """How much an action matters when its chat's queue is full (see BUILT_IN_PRIORITIES)."""
    if action.action != "send" or action.group is None:
        return HIGH
    if action.data.get("already") is True or action.data.get("excused") is True:
        return LOW
    if action.rule.startswith("ads/"):
        return HIGH
    for pattern, name in (*settings.priority.items(), *BUILT_IN_PRIORITIES):
        if fnmatchcase(action.rule, pattern):
            return PRIORITY_NAMES[name]
    return NORMAL


@dataclass(eq=False, slots=True)  # compared by identity: a queue removes exactly the item dropped
class Item:
    """A queued action: its audit id, the action, when it was ready to go, its priority."""

    id: str
    action: Action
    ready: datetime
    priority: int = NORMAL
    seq: int = 0  # the order of arrival (set when queued)


@dataclass(slots=True)
class Lane:
    """One chat's queue and what it sent in the last minute."""

    chat: str
    # lists, not deques: both stay short (the queue's cap, a minute's sends), and an empty deque costs 600
    # bytes, ten times an empty list (1,000 lanes after an announcement to every group)
    queue: list[Item] = field(default_factory=list)
    sent: list[datetime] = field(default_factory=list)
    turn: int = 0  # its place in the round: set when it has something to send again, and after each send
    busy: bool = False  # a live send is in flight (the next one waits for it)
    dropped: int = 0

    def earliest(self, s: OutboxSettings) -> datetime:
        due = self.queue[0].ready
        if self.sent:
            due = max(due, self.sent[-1] + timedelta(seconds=s.min_interval_seconds))
            if len(self.sent) >= s.per_group_per_minute:
                due = max(due, self.sent[-s.per_group_per_minute] + timedelta(minutes=1))
        return due


class Lanes:
    """The chats' queues and the account's budget (see the module doc)."""

    def __init__(self, settings: OutboxSettings, mergeable: Callable[[Action], bool] | None = None,
                 max_chars: int = 1500) -> None:
        self.settings = settings
        self.mergeable = mergeable  # texts the platform merges: a queue is measured in the messages it makes
        self.max_chars = max_chars
        self.pace = timedelta(seconds=60 / settings.per_account_per_minute)
        self._lanes: dict[str, Lane] = {}
        self._waiting: dict[str, Lane] = {}  # lanes with something queued
        self._account: deque[datetime] = deque()  # the account's sends in the last minute (at most N kept)
        self._tat: datetime | None = None  # the pace's theoretical arrival time (GCRA)
        self._order = itertools.count()
        self._arrivals = itertools.count()
        self._sweep_at = SWEEP_FIRST  # idle lanes are forgotten when there are this many (see `lane`)

    @property
    def queued(self) -> int:
        return sum(len(lane.queue) for lane in self._waiting.values())

    def lane(self, chat: str) -> Lane:
        lane = self._lanes.get(chat)
        if lane is None:
            if len(self._lanes) >= self._sweep_at:  # amortised: a sweep each time the lanes double
                self._forget_idle(keep_dropping=len(self._lanes) <= 20_000)
                self._sweep_at = max(SWEEP_FIRST, 2 * len(self._lanes))
            lane = self._lanes[chat] = Lane(chat)
        return lane

    def add(self, item: Item) -> list[Item]:
        """Queue an action; returns what the full queue dropped to make room (maybe the item itself)."""
        lane = self.lane(chat_of(item.action))
        item.seq = next(self._arrivals)
        lane.queue.append(item)
        if lane.chat not in self._waiting:  # it joins the round at the back
            lane.turn = next(self._order)
            self._waiting[lane.chat] = lane
        dropped: list[Item] = []
        cap = self.settings.queue_per_group
        while len(lane.queue) > cap and self._messages(lane.queue) > cap:
            victim = next((i for level in (LOW, NORMAL) for i in lane.queue if i.priority == level), None)
            if victim is None:
                break  # only high-priority actions: never dropped
            lane.queue.remove(victim)
            lane.dropped += 1
            dropped.append(victim)
        if not lane.queue:
            del self._waiting[lane.chat]
        return dropped

    def _messages(self, queue: list[Item]) -> int:
        """How many messages a queue makes (texts the platform merges go as one, as `take` takes them)."""
        if self.mergeable is None:
            return len(queue)
        count, first, size = 0, None, 0
        for item in queue:
            action = item.action
            size += len(action.text or "") + 1
            if first is None or not self.mergeable(first) or not self.mergeable(action) \
                    or action.user != first.user or size > self.max_chars:
                count, first, size = count + 1, action, len(action.text or "")
        return count

    def account_earliest(self) -> datetime | None:
        s = self.settings
        due = None
        if len(self._account) >= s.per_account_per_minute:
            due = self._account[-s.per_account_per_minute] + timedelta(minutes=1)
        if self._tat is not None:
            paced = self._tat - self.pace * (s.burst - 1)
            due = paced if due is None else max(due, paced)
        return due

    def next(self) -> tuple[datetime, Lane] | None:
        """The next send: its instant and the chat that gets it. When the account's budget is what holds
        the chats back, the one whose turn it is among those ready (round-robin); otherwise the one whose
        next action came first (so what the account can send at once goes out in the order it was made)."""
        if not self._waiting:
            return None
        s = self.settings
        ready = [(lane.earliest(s), lane) for lane in self._waiting.values() if not lane.busy]
        if not ready:
            return None
        at = min(t for t, _lane in ready)
        account = self.account_earliest()
        if account is not None and account > at:
            at = account
            turn = lambda lane: (lane.turn,)  # noqa: E731
        else:
            turn = lambda lane: (lane.queue[0].seq,)  # noqa: E731
        return at, min((lane for t, lane in ready if t <= at), key=turn)

    def take(self, lane: Lane, at: datetime) -> list[Item]:
        """Take the chat's next action (and the texts right behind it that the platform merges into one
        message) and record the slot at `at`."""
        first = lane.queue.pop(0)
        batch = [first]
        mergeable = self.mergeable
        if mergeable is not None and mergeable(first.action):
            size = len(first.action.text or "")
            while lane.queue:
                nxt = lane.queue[0]
                size += len(nxt.action.text or "") + 1
                if nxt.ready > at or not mergeable(nxt.action) or nxt.action.user != first.action.user \
                        or size > self.max_chars:
                    break
                batch.append(lane.queue.pop(0))
        if not lane.queue:
            self._waiting.pop(lane.chat, None)
        s = self.settings
        lane.sent.append(at)
        if len(lane.sent) > s.per_group_per_minute:
            del lane.sent[: len(lane.sent) - s.per_group_per_minute]
        self._account.append(at)
        while len(self._account) > s.per_account_per_minute:
            self._account.popleft()
        self._tat = max(self._tat or at, at) + self.pace
        lane.turn = next(self._order)  # to the back of the round
        return batch

    def _forget_idle(self, keep_dropping: bool = True) -> None:
        """Chats with nothing queued or in flight whose last send is a minute old hold no constraint
        (`keep_dropping`: but for those that dropped something, whose count the logs and audit go on)."""
        horizon = self._account[-1] - timedelta(minutes=1) if self._account else None
        self._lanes = {c: lane for c, lane in self._lanes.items()
                       if lane.queue or lane.busy or (keep_dropping and lane.dropped)
                       or (lane.sent and horizon is not None and lane.sent[-1] > horizon)}
