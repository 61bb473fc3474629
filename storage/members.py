"""Groups and their members (the roster): first seen, joined, left, last active, message counts, and
the platform's member list. Shared by every feature (check-in rates, purge lists, reports)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, case, func, null, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import dialect
from storage.journal import BulkWrite, Rows
from storage.presence import UNKNOWN, Presence, PresenceMemory
from storage.repository import Repository
from storage.tables import GROUPS, MEMBERS, ROSTER_LEAVE

if TYPE_CHECKING:
    from storage.store import Store

MAX_CACHED_NAMES = 100_000
SIZE_TTL = timedelta(hours=1)  # cached group sizes (moved by joins and leaves) are re-read this often
MAX_CACHED_SIZES = 100_000
MAX_SIZES_ALONG = 400  # groups refreshed along with one whose size expired


@dataclass(frozen=True)
class MemberInfo:
    group_id: str
    user_id: str
    display_name: str | None
    first_seen_at: datetime
    joined_at: datetime | None
    left_at: datetime | None
    last_active_at: datetime | None
    message_count: int
    reminded_on: str | None


def free_text(text: str) -> str:
    """Text as every backend stores it (PostgreSQL refuses NUL characters)."""
    return text.replace("\x00", "") if "\x00" in text else text


def cut_name(name: str | None) -> str | None:
    """A display or group name cut to its column (256; PostgreSQL enforces the length)."""
    return None if name is None else free_text(name)[:256]


def later(new: Any, old: Any) -> Any:
    """The later of two nullable timestamps, in portable SQL."""
    return case((old.is_(None), new), (new.is_(None), old), (new > old, new), else_=old)


def _merge_groups(rows: Rows) -> Rows:
    """One row per group (one upsert may not touch a row twice on every backend)."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen = out.get(row["id"])
        if seen is None:
            out[row["id"]] = dict(row)
            continue
        seen["name"] = row["name"] or seen["name"]
        seen["last_active_at"] = max(seen["last_active_at"], row["last_active_at"])
    return list(out.values())


def _merge_members(rows: Rows) -> Rows:
    """One row per member, keeping the effect of the rows in order (see the members upsert)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["group_id"], row["user_id"])
        a = out.get(key)
        if a is None:
            out[key] = dict(row)
            continue
        if row["display_name"] is not None:  # as the upsert's coalesce: an empty name is a name
            a["display_name"] = row["display_name"]
        a["joined_at"] = row["joined_at"] or a["joined_at"]
        if row["joined_at"] is not None and row["left_at"] is None:
            a["left_at"] = None
        elif row["left_at"] is not None:
            a["left_at"] = row["left_at"]
        if a["last_active_at"] is None or (row["last_active_at"] and row["last_active_at"] > a["last_active_at"]):
            a["last_active_at"] = row["last_active_at"] or a["last_active_at"]
        a["message_count"] += row["message_count"]
    return list(out.values())


def summed_per_key(field: str, *keys: str) -> Any:
    """A merge keeping one row per key: `field` added up, the other fields of the latest row."""
    def merge(rows: Rows) -> Rows:
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows:
            key = tuple(row[k] for k in keys)
            seen = out.get(key)
            out[key] = dict(row) if seen is None else {**row, field: seen[field] + row[field]}
        return list(out.values())

    return merge


def last_per_key(*keys: str) -> Any:
    """A merge keeping the last row of each key."""
    def merge(rows: Rows) -> Rows:
        return list({tuple(r[k] for k in keys): r for r in rows}.values())

    return merge


def _groups_upsert(engine: AsyncEngine) -> Any:
    g = dialect.upsert(engine, GROUPS)
    return g.on_conflict_do_update(
        index_elements=[GROUPS.c.id],
        set_={"name": func.coalesce(g.excluded.name, GROUPS.c.name),
              "last_active_at": later(g.excluded.last_active_at, GROUPS.c.last_active_at)})


def _members_upsert(engine: AsyncEngine) -> Any:
    m = dialect.upsert(engine, MEMBERS)
    ex = m.excluded
    return m.on_conflict_do_update(
        index_elements=[MEMBERS.c.group_id, MEMBERS.c.user_id],
        set_={
            "display_name": func.coalesce(ex.display_name, MEMBERS.c.display_name),
            "joined_at": func.coalesce(ex.joined_at, MEMBERS.c.joined_at),
            # a join clears left_at; a leave sets it; anything else keeps it
            "left_at": case((and_(ex.joined_at.is_not(None), ex.left_at.is_(None)), None),
                            else_=func.coalesce(ex.left_at, MEMBERS.c.left_at)),
            "last_active_at": later(ex.last_active_at, MEMBERS.c.last_active_at),
            "message_count": MEMBERS.c.message_count + ex.message_count,
        })


def _roster_upsert(engine: AsyncEngine) -> Any:
    ro = dialect.upsert(engine, MEMBERS)
    return ro.on_conflict_do_update(
        index_elements=[MEMBERS.c.group_id, MEMBERS.c.user_id],
        set_={"display_name": func.coalesce(ro.excluded.display_name, MEMBERS.c.display_name), "left_at": null()})


class Members(Repository):
    """Groups and members: who is present, since when, how active."""

    writes = (BulkWrite("groups", 10, _groups_upsert, _merge_groups),
              BulkWrite("members", 20, _members_upsert, _merge_members),
              BulkWrite("roster", 30, _roster_upsert, last_per_key("group_id", "user_id")))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._events = store.events
        self._groups, self._members = store.buffer("groups"), store.buffer("members")
        self._member = select(MEMBERS).where(and_(MEMBERS.c.group_id == bindparam("g"),
                                                  MEMBERS.c.user_id == bindparam("u")))
        self._among = select(MEMBERS).where(and_(MEMBERS.c.group_id == bindparam("g"),
                                                 MEMBERS.c.user_id.in_(bindparam("us", expanding=True))))
        # group -> (read at, name, members present), moved by joins and leaves
        self._sizes: dict[str, tuple[datetime, str | None, int]] = {}
        self._names: dict[str, str | None] = {}  # group -> its last known name (events and reads)
        self._presence = PresenceMemory()  # for the database's one writer (storage/presence.py)

    def opened(self, empty: bool) -> None:
        self._presence.complete = empty

    def forget(self) -> None:
        self._sizes.clear()
        self._names.clear()
        self._presence.clear()

    def _remember_name(self, group: str, name: str | None) -> None:
        if len(self._names) >= MAX_CACHED_NAMES and group not in self._names:
            self._names.clear()
        self._names[group] = name

    # -- facts ------------------------------------------------------------------------------------

    def note_activity(self, group: str, group_name: str | None, user: str | None, user_name: str | None,
                      ts: datetime, *, message: bool, joined: bool = False, left: bool = False) -> None:
        """Keep group and member stats: first seen, last active, message count, joins and leaves."""
        group_name, user_name = cut_name(group_name), cut_name(user_name)
        if group_name is not None:  # a name is kept until a new one comes (as the stored row keeps it)
            self._remember_name(group, group_name)
        self._groups.append({"id": group, "name": group_name, "first_seen_at": ts, "last_active_at": ts})
        if user is None:
            return
        if joined or left:
            self._move_size(group, 1 if joined else -1)
        self._presence.move((group, user), ts, joined=joined, left=left)
        self._members.append({
            "group_id": group, "user_id": user, "display_name": user_name, "first_seen_at": ts,
            "joined_at": ts if joined else None, "left_at": ts if left else None,
            "last_active_at": ts if message else None, "message_count": 1 if message else 0,
        })

    async def sync_roster(self, group: str, group_name: str | None, members: Sequence[tuple[str, str | None]],
                          ts: datetime, *, complete: bool) -> int:
        """The group's member list as the platform reports it: listed members are present (names
        updated, first seen now if new); with `complete`, present members not listed have left (and
        a leave event is recorded for each, at the roster's time). Returns how many were marked as left."""
        self._sizes.pop(group, None)
        self.note_activity(group, group_name, None, None, ts, message=False)
        listed = {user: cut_name(name) for user, name in members}
        self.journal.seal()  # in time order with the member rows before and after it (joins, leaves)
        roster = self.journal.buffer("roster")
        for user, name in listed.items():
            roster.append({"group_id": group, "user_id": user, "display_name": name, "first_seen_at": ts,
                           "message_count": 0})
            self._presence.move((group, user), ts, listed=True)
        self.journal.seal(("roster",))
        if not complete:
            return 0
        result = await self.journal.read(select(MEMBERS.c.user_id).where(and_(
            MEMBERS.c.group_id == group, MEMBERS.c.left_at.is_(None))), only=("members", "roster"))
        gone = [u for (u,) in result if u not in listed]
        for start in range(0, len(gone), 500):
            chunk = gone[start:start + 500]
            await self.journal.write_now(update(MEMBERS).where(and_(
                MEMBERS.c.group_id == group, MEMBERS.c.user_id.in_(chunk),
                MEMBERS.c.left_at.is_(None))).values(left_at=ts), {})
            for user in chunk:  # a leave the platform never announced: recorded, so the reports count it
                self._presence.move((group, user), ts, left=True)
                key = hashlib.sha1(f"{group}\n{user}\n{ts.isoformat()}".encode()).hexdigest()[:32]
                self._events.record_event(ROSTER_LEAVE + key, ts, group, user, "leave", {"via": "roster"}, ts)
        return len(gone)

    # -- questions --------------------------------------------------------------------------------

    async def member(self, group: str, user: str) -> MemberInfo | None:
        result = await self.journal.read(self._member, {"g": group, "u": user}, only=("members", "roster"))
        row = result.first()
        return MemberInfo(**row._mapping) if row else None

    async def presence(self, group: str, user: str) -> Presence | None:
        """The member's presence as the table has it (None: no row), from memory for the one writer."""
        key = (group, user)
        if not self.decides_in_memory:
            return Presence.of(await self.member(group, user))
        known = self._presence.get(key)
        if known is not UNKNOWN:
            return known if isinstance(known, Presence) else None
        self._presence.asked(key)
        try:
            found = Presence.of(await self.member(group, user))
        except BaseException:
            self._presence.answered(key, None, keep=False)
            raise
        self._presence.answered(key, found)
        return found

    async def members_among(self, group: str, users: Sequence[str]) -> dict[str, MemberInfo]:
        """The stored records of these members of the group (those the roster knows), by id."""
        found: dict[str, MemberInfo] = {}
        for start in range(0, len(users), 500):
            result = await self.journal.read(self._among, {"g": group, "us": list(users[start:start + 500])},
                                             only=("members", "roster"))
            found.update((row.user_id, MemberInfo(**row._mapping)) for row in result)
        return found

    async def find_members(self, group: str, name: str, limit: int = 2) -> list[str]:
        """The ids of the members present in the group (not left) whose display name is exactly `name`
        (at most `limit`: two are enough to know a name is not one person's)."""
        result = await self.journal.read(select(MEMBERS.c.user_id).where(and_(
            MEMBERS.c.group_id == group, MEMBERS.c.display_name == name, MEMBERS.c.left_at.is_(None)))
            .order_by(MEMBERS.c.user_id).limit(limit), only=("members",))
        return [row[0] for row in result]

    async def group_sizes(self, groups: Sequence[str]) -> dict[str, tuple[str | None, int]]:
        """Each group's name and its members present now (seen, not left)."""
        result = await self.journal.read(
            select(GROUPS.c.id, GROUPS.c.name, func.count(MEMBERS.c.user_id))
            .select_from(GROUPS.outerjoin(MEMBERS, and_(MEMBERS.c.group_id == GROUPS.c.id,
                                                        MEMBERS.c.left_at.is_(None))))
            .where(GROUPS.c.id.in_(list(groups))).group_by(GROUPS.c.id, GROUPS.c.name),
            only=("groups", "members"))
        return {g: (name, int(n)) for g, name, n in result}

    async def recent_sizes(self, groups: Sequence[str], now: datetime) -> dict[str, tuple[str | None, int]]:
        """`group_sizes` read at most SIZE_TTL of clock time ago, moved by joins and leaves since (a rate
        need not be exact to the minute, and a count per check-in would read every member of a big group)."""
        cache = self._sizes
        if len(cache) > MAX_CACHED_SIZES:
            cache.clear()  # before the misses are counted: every group asked for is then read again
        missing = [g for g in groups if g not in cache or now - cache[g][0] > SIZE_TTL]
        if missing:
            # the groups read more than half the time ago come along: one read an hour, not one per group
            wanted = set(missing)
            missing += [g for g, (at, _n, _c) in cache.items()
                        if now - at > SIZE_TTL / 2 and g not in wanted][:MAX_SIZES_ALONG]
            found = await self.group_sizes(missing)
            for g in missing:
                name, n = found.get(g, (None, 0))
                cache[g] = (now, name, n)
        return {g: (cache[g][1], cache[g][2]) for g in groups}

    def count_newcomer(self, group: str) -> None:
        """A member the table does not know yet (it learns of them after the handlers) is present now."""
        self._move_size(group, 1)

    def _move_size(self, group: str, change: int) -> None:
        if group in self._sizes:
            at, name, n = self._sizes[group]
            self._sizes[group] = (at, name, max(0, n + change))

    async def roster(self, group: str) -> list[tuple[str, str | None]]:
        """(id, display name) of every member present in the group (the roster and who spoke; not left),
        longest known first (who has not signed a 接龙 or answered a 扣1)."""
        result = await self.journal.read(
            select(MEMBERS.c.user_id, MEMBERS.c.display_name)
            .where(and_(MEMBERS.c.group_id == group, MEMBERS.c.left_at.is_(None)))
            .order_by(MEMBERS.c.first_seen_at, MEMBERS.c.user_id), only=("members", "roster"))
        return [(u, name) for u, name in result]

    async def present_members(self, group: str, limit: int = 500) -> list[tuple[str, str | None]]:
        """(id, display name) of members present in the group (not left), the most recently active first,
        at most `limit` (the web console's member pickers)."""
        result = await self.journal.read(
            select(MEMBERS.c.user_id, MEMBERS.c.display_name).where(and_(
                MEMBERS.c.group_id == group, MEMBERS.c.left_at.is_(None)))
            .order_by(MEMBERS.c.last_active_at.is_(None), MEMBERS.c.last_active_at.desc(), MEMBERS.c.user_id)
            .limit(limit), only=("members", "roster"))
        return [(u, name) for u, name in result]

    async def groups_named(self) -> dict[str, str | None]:
        """Every group the bot has seen, with its last known name."""
        result = await self.journal.read(select(GROUPS.c.id, GROUPS.c.name), only=("groups",))
        return {g: name for g, name in result}

    async def group_names(self, groups: Iterable[str]) -> dict[str, str | None]:
        """The last known name of each of these groups (None: unknown), from memory where it can."""
        wanted = set(groups)
        missing = [g for g in wanted if g not in self._names]
        if missing:
            result = await self.journal.read(select(GROUPS.c.id, GROUPS.c.name).where(GROUPS.c.id.in_(missing)),
                                             only=("groups",))
            found = {g: name for g, name in result}
            for g in missing:
                if g in found:  # an unknown group is not remembered: its first event names it
                    self._remember_name(g, found[g])
            return {g: self._names.get(g, found.get(g)) for g in wanted}
        return {g: self._names[g] for g in wanted}

    async def groups_overview(self, since: datetime) -> list[dict[str, Any]]:
        """Every group the bot has seen: id, name, last_active_at, members present and members active
        since `since` (a message, check-in or red packet), in one pass over the roster's index."""
        present = func.sum(case((MEMBERS.c.left_at.is_(None), 1), else_=0))
        active = func.sum(case((and_(MEMBERS.c.left_at.is_(None), MEMBERS.c.last_active_at >= since), 1), else_=0))
        per = (select(MEMBERS.c.group_id, present.label("members"), active.label("active"))
               .group_by(MEMBERS.c.group_id).subquery())
        result = await self.journal.read(
            select(GROUPS.c.id, GROUPS.c.name, GROUPS.c.last_active_at, per.c.members, per.c.active)
            .select_from(GROUPS.outerjoin(per, per.c.group_id == GROUPS.c.id)), only=("groups", "members"))
        return [{"id": g, "name": name, "last_active_at": last, "members": int(m or 0), "active": int(a or 0)}
                for g, name, last, m, a in result]

    async def group_last_message(self, group: str) -> datetime | None:
        """The time of the group's latest message, check-in or red packet (None: none yet)."""
        result = await self.journal.read(select(func.max(MEMBERS.c.last_active_at))
                                         .where(MEMBERS.c.group_id == group), only=("members",))
        return result.scalar()
