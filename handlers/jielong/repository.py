"""The 接龙 repository: a group's chains (by title, the open ones, the latest), a chain's lines, and
the writes an accepted copy, a 取消接龙 or a 结束接龙 makes; the members present in a group."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.jielong.chain import Entry
from handlers.jielong.tables import CHAINS, ENTRIES
from storage.journal import BulkWrite
from storage.members import cut_name
from storage.repository import Repository

if TYPE_CHECKING:
    from storage.store import Store

_OWN = ("jielong_chain", "jielong_entry", "jielong_entry_update", "jielong_touch", "jielong_close")


@dataclass(frozen=True)
class Chain:
    """A chain's row."""

    id: str
    group: str
    title: str
    title_key: str
    example: str | None
    started_by: str
    started_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closed_by: str | None

    def ended(self, now: datetime, expire_days: int) -> bool:
        """Closed, or started `expire_days` ago or more."""
        return self.closed_at is not None or now >= self.started_at + timedelta(days=expire_days)


def _chain_insert(_engine: AsyncEngine) -> Any:
    return CHAINS.insert()


def _entry_insert(_engine: AsyncEngine) -> Any:
    return ENTRIES.insert()


def _entry_update(_engine: AsyncEngine) -> Any:
    return (update(ENTRIES).where(and_(ENTRIES.c.chain_id == bindparam("b_chain"), ENTRIES.c.seq == bindparam("b_seq")))
            .values(pos=bindparam("b_pos"), content=bindparam("b_content"), status=bindparam("b_status"),
                    user_name=bindparam("b_name")))


def _touch(_engine: AsyncEngine) -> Any:
    return update(CHAINS).where(CHAINS.c.id == bindparam("b_chain")).values(updated_at=bindparam("b_at"))


def _close(_engine: AsyncEngine) -> Any:
    return (update(CHAINS).where(and_(CHAINS.c.id == bindparam("b_chain"), CHAINS.c.closed_at.is_(None)))
            .values(closed_at=bindparam("b_at"), closed_by=bindparam("b_by")))


class JielongRepository(Repository):
    """Chains and their lines; every write is buffered with the event that made it."""

    writes = (BulkWrite("jielong_chain", 160, _chain_insert), BulkWrite("jielong_entry", 161, _entry_insert),
              BulkWrite("jielong_entry_update", 162, _entry_update), BulkWrite("jielong_touch", 163, _touch),
              BulkWrite("jielong_close", 164, _close))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.members = store.members  # the shared roster: who is present
        self._chains, self._entries = store.buffer("jielong_chain"), store.buffer("jielong_entry")
        self._updates, self._touched = store.buffer("jielong_entry_update"), store.buffer("jielong_touch")
        self._closed = store.buffer("jielong_close")

    # -- questions --------------------------------------------------------------------------------

    async def chains(self, group: str, title_key: str | None = None, *, open_since: datetime | None = None,
                     limit: int = 200) -> list[Chain]:
        """The group's chains, the most recently updated first: those with this title (when given), or
        only those still open that started after `open_since` (when given)."""
        where = [CHAINS.c.group_id == group]
        if title_key is not None:
            where.append(CHAINS.c.title_key == title_key)
        if open_since is not None:
            where += [CHAINS.c.closed_at.is_(None), CHAINS.c.started_at > open_since]
        result = await self.journal.read(select(CHAINS).where(and_(*where))
                                         .order_by(CHAINS.c.updated_at.desc(), CHAINS.c.started_at.desc(),
                                                   CHAINS.c.id).limit(limit), only=_OWN)
        return [Chain(r.id, r.group_id, r.title, r.title_key, r.example, r.started_by, r.started_at, r.updated_at,
                      r.closed_at, r.closed_by) for r in result]

    async def entries(self, chain: str) -> list[Entry]:
        """The chain's lines in list order (cancelled ones included)."""
        result = await self.journal.read(select(ENTRIES).where(ENTRIES.c.chain_id == chain)
                                         .order_by(ENTRIES.c.pos, ENTRIES.c.seq), only=_OWN)
        return [Entry(r.seq, r.pos, r.user_id, r.user_name, r.content, r.status, r.added_at, r.event_id)
                for r in result]

    # -- facts ------------------------------------------------------------------------------------

    def start(self, chain: str, group: str, title: str, title_key: str, example: str | None, user: str,
              at: datetime) -> None:
        """A new chain, from the first copy of its title the bot saw."""
        self._chains.append({"id": chain, "group_id": group, "title": title, "title_key": title_key,
                             "example": example, "started_by": user, "started_at": at, "updated_at": at,
                             "closed_at": None, "closed_by": None})

    def save(self, chain: str, added: Iterable[Entry], updated: Iterable[Entry], at: datetime) -> None:
        """New lines of the chain and the stored lines that changed (place, text, name or status)."""
        self._entries.extend({"chain_id": chain, "seq": e.seq, "pos": e.pos, "user_id": e.user,
                              "user_name": cut_name(e.user_name), "content": e.content, "status": e.status,
                              "added_at": e.added_at, "event_id": e.event_id} for e in added)
        self._updates.extend({"b_chain": chain, "b_seq": e.seq, "b_pos": e.pos, "b_content": e.content,
                              "b_status": e.status, "b_name": cut_name(e.user_name)} for e in updated)
        self._touched.append({"b_chain": chain, "b_at": at})

    def close(self, chain: str, at: datetime, by: str) -> None:
        """The chain ends now (an admin's 结束接龙, or too many open in the group)."""
        self._closed.append({"b_chain": chain, "b_at": at, "b_by": by})
