"""The 扣1 repository: a group's open roll call (kept in memory once asked, so members' 1s cost no
query), its answers, the latest one, and the members present in the group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.roll_call.tables import ANSWERS, ROLL_CALLS
from storage import dialect
from storage.journal import BulkWrite, Rows
from storage.repository import Repository

if TYPE_CHECKING:
    from storage.store import Store

_OWN = ("roll_call", "roll_call_answer", "roll_call_close")
MAX_CACHED = 100_000


@dataclass(frozen=True)
class Call:
    """A roll call's row."""

    id: str
    group: str
    opened_by: str
    opened_at: datetime
    ends_at: datetime
    closed_at: datetime | None
    text: str

    def open_at(self, now: datetime) -> bool:
        return self.closed_at is None and now < self.ends_at


def _call_insert(_engine: AsyncEngine) -> Any:
    return ROLL_CALLS.insert()


def _answer_insert(engine: AsyncEngine) -> Any:
    return dialect.upsert(engine, ANSWERS).on_conflict_do_nothing(index_elements=[ANSWERS.c.call_id, ANSWERS.c.user_id])


def _first_answers(rows: Rows) -> Rows:
    """One row per member and call, the first (one statement may not touch a row twice)."""
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        first.setdefault((row["call_id"], row["user_id"]), row)
    return list(first.values())


def _close(_engine: AsyncEngine) -> Any:
    return (update(ROLL_CALLS).where(and_(ROLL_CALLS.c.id == bindparam("b_call"), ROLL_CALLS.c.closed_at.is_(None)))
            .values(closed_at=bindparam("b_at")))


def _call(row: Any) -> Call:
    return Call(row.id, row.group_id, row.opened_by, row.opened_at, row.ends_at, row.closed_at, row.text)


class RollCallRepository(Repository):
    """Roll calls and their answers; writes buffered with the event (or timer) that made them."""

    writes = (BulkWrite("roll_call", 170, _call_insert),
              BulkWrite("roll_call_answer", 171, _answer_insert, _first_answers),
              BulkWrite("roll_call_close", 172, _close))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.members = store.members  # the shared roster: who is present
        self._calls, self._answers = store.buffer("roll_call"), store.buffer("roll_call_answer")
        self._closed = store.buffer("roll_call_close")
        self._open: dict[str, Call | None] = {}  # group -> its latest roll call not closed (None: none)

    def forget(self) -> None:
        self._open.clear()

    # -- questions --------------------------------------------------------------------------------

    async def open_call(self, group: str, now: datetime) -> Call | None:
        """The group's roll call open at `now` (None: none)."""
        if group not in self._open or self.journal.recovered:
            if len(self._open) > MAX_CACHED:
                self._open.clear()
            result = await self.journal.read(
                select(ROLL_CALLS).where(and_(ROLL_CALLS.c.group_id == group, ROLL_CALLS.c.closed_at.is_(None)))
                .order_by(ROLL_CALLS.c.opened_at.desc(), ROLL_CALLS.c.id).limit(1), only=_OWN)
            row = result.first()
            self._open[group] = _call(row) if row else None
        found = self._open[group]
        return found if found is not None and found.open_at(now) else None

    async def latest(self, group: str) -> Call | None:
        """The group's latest roll call, open or ended."""
        result = await self.journal.read(select(ROLL_CALLS).where(ROLL_CALLS.c.group_id == group)
                                         .order_by(ROLL_CALLS.c.opened_at.desc(), ROLL_CALLS.c.id).limit(1), only=_OWN)
        row = result.first()
        return _call(row) if row else None

    async def call(self, call: str) -> Call | None:
        result = await self.journal.read(select(ROLL_CALLS).where(ROLL_CALLS.c.id == call), only=_OWN)
        row = result.first()
        return _call(row) if row else None

    async def answered(self, call: str) -> list[str]:
        """Who answered, first answer first (each once)."""
        result = await self.journal.read(select(ANSWERS.c.user_id).where(ANSWERS.c.call_id == call)
                                         .order_by(ANSWERS.c.answered_at, ANSWERS.c.user_id), only=_OWN)
        return [u for (u,) in result]

    async def has_answered(self, call: str, user: str) -> bool:
        result = await self.journal.read(select(ANSWERS.c.user_id).where(and_(
            ANSWERS.c.call_id == call, ANSWERS.c.user_id == user)), only=_OWN)
        return result.first() is not None

    # -- facts ------------------------------------------------------------------------------------

    def open(self, call: Call) -> None:
        """A roll call opens in its group."""
        self._open[call.group] = call
        self._calls.append({"id": call.id, "group_id": call.group, "opened_by": call.opened_by,
                            "opened_at": call.opened_at, "ends_at": call.ends_at, "closed_at": None,
                            "text": call.text})

    def answer(self, call: str, user: str, at: datetime, event_id: str | None) -> None:
        """A member answered (a second answer changes nothing)."""
        self._answers.append({"call_id": call, "user_id": user, "answered_at": at, "event_id": event_id})

    def close(self, call: Call, at: datetime) -> None:
        """The window closed (its summary goes with this write)."""
        if (cached := self._open.get(call.group)) is not None and cached.id == call.id:
            self._open[call.group] = None
        self._closed.append({"b_call": call.id, "b_at": at})
