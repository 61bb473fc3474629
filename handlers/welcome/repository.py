"""The welcome feature's repository: each member's rename reminders in a group (how many, the first
and last local day, whether a fitting rename is still to be thanked), answered from memory once loaded;
and the queue of members to welcome or remind in the group's next batched message."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, bindparam, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.welcome.tables import RENAME_REMINDERS as R
from handlers.welcome.tables import WELCOME_QUEUE as Q
from storage import dialect
from storage.journal import BulkWrite
from storage.members import cut_name, last_per_key
from storage.repository import Repository

if TYPE_CHECKING:
    from storage.store import Store

MAX_CACHED = 500_000
MAX_FOLLOWUPS = 1_000  # follow-ups one group's daily reminder considers (a WeChat group holds at most 500)


class Reminders(NamedTuple):
    """A member's rename reminders in a group."""

    count: int
    first_on: str
    last_on: str
    open: bool


class Queued(NamedTuple):
    """A member queued for the group's next batched message."""

    user: str
    user_name: str | None
    welcome: bool
    remind: bool
    inviter: str | None
    event_id: str
    queued_at: datetime


def _queue_upsert(engine: AsyncEngine) -> Any:
    q = dialect.upsert(engine, Q)
    ex = q.excluded
    return q.on_conflict_do_update(index_elements=[Q.c.group_id, Q.c.user_id], set_={
        "welcome": case((ex.welcome > Q.c.welcome, ex.welcome), else_=Q.c.welcome),
        "remind": case((ex.remind > Q.c.remind, ex.remind), else_=Q.c.remind),
        "user_name": ex.user_name, "inviter": func.coalesce(Q.c.inviter, ex.inviter)})


def _queue_take(_engine: AsyncEngine) -> Any:
    return delete(Q).where(and_(Q.c.group_id == bindparam("b_g"), Q.c.user_id == bindparam("b_u")))


def _reminder_upsert(engine: AsyncEngine) -> Any:
    r = dialect.upsert(engine, R)
    return r.on_conflict_do_update(index_elements=[R.c.group_id, R.c.user_id], set_={
        "count": R.c.count + r.excluded.count, "last_on": r.excluded.last_on, "open": r.excluded.open,
        "first_on": func.coalesce(R.c.first_on, r.excluded.first_on)})


def _waiting(cutoff: str) -> Any:
    """Reminded once, on or before the local day `cutoff`, the follow-up still open."""
    return and_(R.c.count == 1, R.c.open == 1, R.c.first_on <= cutoff)


def _thanked_update(_engine: AsyncEngine) -> Any:
    return (update(R).where(and_(R.c.group_id == bindparam("b_g"), R.c.user_id == bindparam("b_u")))
            .values(open=bindparam("b_open")))


class WelcomeRepository(Repository):
    """Rename reminders (sent, then thanked), and the queue of the batched message."""

    writes = (BulkWrite("reminder", 40, _reminder_upsert), BulkWrite("reminder_thanked", 41, _thanked_update,
                                                                     last_per_key("b_g", "b_u")),
              BulkWrite("welcome_queue", 42, _queue_upsert), BulkWrite("welcome_taken", 43, _queue_take))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._sent, self._thanked = store.buffer("reminder"), store.buffer("reminder_thanked")
        self._queue, self._taken = store.buffer("welcome_queue"), store.buffer("welcome_taken")
        self._known: dict[tuple[str, str], Reminders] = {}
        self._all = False  # every member's reminders are in _known: a miss means "never reminded"
        # group -> member -> what was queued (1 welcome, 2 remind) since the group's queue was last taken
        self._queued: dict[str, dict[str, int]] = {}
        # group -> member -> the queue's row, as written, for the database's one writer (`Journal.alone`);
        # complete for the groups in _rows_known (all groups when the database started empty)
        self._rows: dict[str, dict[str, Queued]] = {}
        self._rows_known: set[str] = set()
        self._rows_all = False
        self._rows_wiped = 0  # how often the rows were dropped: a table read from before marks nothing known

    def opened(self, empty: bool) -> None:
        self._rows_all = empty

    def forget(self) -> None:
        self._known.clear()
        self._all = False
        self.forget_queue()

    def forget_queue(self) -> None:
        """The queue's rows changed behind this repository (an erasure blanked names): read them again."""
        self._rows.clear()
        self._rows_known.clear()
        self._rows_all = False
        self._rows_wiped += 1

    def reminded(self, group: str, user: str, day: str, before: Reminders | None) -> None:
        """A rename reminder went to the member on the local `day` (`before`: what `reminders` said)."""
        if len(self._known) > MAX_CACHED:
            self.journal.forget_caches()
        self._known[(group, user)] = Reminders((before.count if before else 0) + 1,
                                               before.first_on if before else day, day, True)
        self._sent.append({"group_id": group, "user_id": user, "first_on": day, "last_on": day, "count": 1,
                           "open": 1})

    def thanked(self, group: str, user: str, before: Reminders) -> None:
        """The member's name fits now and they were thanked: no thanks again until reminded again."""
        self._known[(group, user)] = before._replace(open=False)
        self._thanked.append({"b_g": group, "b_u": user, "b_open": 0})

    def closed(self, group: str, user: str, before: Reminders) -> None:
        """No follow-up for the member (they renamed unseen, or left): the row is closed as a thank-you closes it."""
        self.thanked(group, user, before)

    async def followup_groups(self, cutoff: str) -> list[str]:
        """The groups with a member reminded once, on or before the local day `cutoff`, and not closed since."""
        result = await self.journal.read(select(R.c.group_id).where(_waiting(cutoff)).distinct()
                                         .order_by(R.c.group_id), only=("reminder", "reminder_thanked"))
        return [row[0] for row in result]

    async def followups_due(self, group: str, cutoff: str) -> list[tuple[str, Reminders]]:
        """The group's members reminded once, on or before `cutoff`, and not closed since: longest waiting
        first, at most MAX_FOLLOWUPS (the others wait for the next day)."""
        result = await self.journal.read(
            select(R.c.user_id, R.c.count, R.c.first_on, R.c.last_on).where(and_(R.c.group_id == group,
                                                                                 _waiting(cutoff)))
            .order_by(R.c.first_on, R.c.user_id).limit(MAX_FOLLOWUPS), only=("reminder", "reminder_thanked"))
        return [(user, Reminders(int(count), first_on, last_on, True)) for user, count, first_on, last_on in result]

    async def reminders(self, group: str, user: str) -> Reminders | None:
        """The member's reminders in the group (None: never reminded)."""
        key = (group, user)
        found = self._known.get(key)
        if found is None and not self._all and not self.journal.recovered:
            await self._load()
            found = self._known.get(key)
        if found is not None or (self._all and not self.journal.recovered):
            return found
        result = await self.journal.read(select(R.c.count, R.c.first_on, R.c.last_on, R.c.open).where(
            and_(R.c.group_id == group, R.c.user_id == user)), only=("reminder", "reminder_thanked"))
        row = result.first()
        if row is None:
            return None
        found = self._known[key] = Reminders(int(row[0]), row[1], row[2], bool(row[3]))
        return found

    async def _load(self) -> None:
        """Load every member's reminders once (so later misses need no query)."""
        result = await self.journal.read(select(R.c.group_id, R.c.user_id, R.c.count, R.c.first_on, R.c.last_on,
                                                R.c.open), only=("reminder", "reminder_thanked"))
        rows = result.all()
        if len(rows) > MAX_CACHED:
            return
        for group, user, count, first_on, last_on, is_open in rows:
            self._known.setdefault((group, user), Reminders(int(count), first_on, last_on, bool(is_open)))
        self._all = True

    # -- the queue of the batched message (rows sealed as they come: queue, take, queue again keep their order)

    def queue(self, group: str, user: str, user_name: str | None, *, welcome: bool, remind: bool,
              inviter: str | None, event_id: str, at: datetime) -> bool:
        """Queue the member for the group's next message (one row per member: flags add up); False when
        it was queued already with these flags (nothing written)."""
        flags = (1 if welcome else 0) | (2 if remind else 0)
        known = self._queued.setdefault(group, {})
        had = known.get(user, 0)
        if had | flags == had:
            return False
        known[user] = had | flags
        row = Queued(user, cut_name(user_name), welcome, remind, cut_name(inviter) and cut_name(inviter)[:128],
                     event_id, at)
        self._queue.append({"group_id": group, "user_id": user, "user_name": row.user_name,
                            "welcome": 1 if welcome else 0, "remind": 1 if remind else 0,
                            "inviter": row.inviter, "event_id": event_id, "queued_at": at})
        self.journal.seal(("welcome_queue",))
        rows = self._rows.setdefault(group, {})
        was = rows.get(user)
        if was is not None:  # as the upsert: flags add up, the name is the latest, the rest stays
            row = was._replace(user_name=row.user_name, welcome=was.welcome or welcome, remind=was.remind or remind,
                               inviter=was.inviter if was.inviter is not None else row.inviter)
        rows[user] = row
        return True

    async def take(self, group: str) -> list[Queued]:
        """The members queued in the group, first queued first; their rows go with this commit."""
        self._queued.pop(group, None)
        rows = self._rows.pop(group, {})
        wiped = self._rows_wiped
        if self.decides_in_memory and (self._rows_all or group in self._rows_known):
            taken = sorted(rows.values(), key=lambda q: (q.queued_at, q.user))
        else:
            result = await self.journal.read(
                select(Q.c.user_id, Q.c.user_name, Q.c.welcome, Q.c.remind, Q.c.inviter, Q.c.event_id, Q.c.queued_at)
                .where(Q.c.group_id == group).order_by(Q.c.queued_at, Q.c.user_id),
                only=("welcome_queue", "welcome_taken"))
            taken = [Queued(u, name, bool(w), bool(r), inviter, event, at)
                     for u, name, w, r, inviter, event, at in result]
        # the group's queue is empty now: memory follows it from here (unless a member was queued while
        # the question was asked, which memory cannot place)
        if (self.decides_in_memory and wiped == self._rows_wiped
                and not self._rows.get(group) and len(self._rows_known) < MAX_CACHED):
            self._rows_known.add(group)
        if taken:
            self._taken.extend({"b_g": group, "b_u": q.user} for q in taken)
            self.journal.seal(("welcome_taken",))
        return taken

    def queued_since_take(self, group: str) -> int:
        """What was queued in the group after its queue was last taken (while its message was made): 0
        nothing, else the members' flags together (1 a newcomer, 2 a reminder)."""
        flags = 0
        for queued in self._queued.get(group, {}).values():
            flags |= queued
        return flags
