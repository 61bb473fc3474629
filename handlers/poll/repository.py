"""The poll's repository: the open poll of each group (known in memory once loaded), the votes (a later vote
of a member marks the earlier one replaced), the tally of the votes that count, confirmations, the result.

Every write is sealed into the journal as it is made, so a vote, its replacement and its confirmation
reach the database in the order they happened even within one commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.poll.tables import POLLS, VOTES
from storage.journal import BulkWrite
from storage.repository import Repository

if TYPE_CHECKING:
    from storage.store import Store

_POLL_BUFFERS = ("poll_open", "poll_close")
_VOTE_BUFFERS = ("poll_replace", "poll_vote", "poll_confirmed")


class Poll(NamedTuple):
    """An open poll."""

    id: str
    group: str
    title: str
    options: tuple[str, ...]
    deadline: datetime
    created_by: str


class Unconfirmed(NamedTuple):
    """A vote not confirmed in the group yet."""

    user: str
    event_id: str


def _poll_insert(_engine: AsyncEngine) -> Any:
    return POLLS.insert()


def _poll_close(_engine: AsyncEngine) -> Any:
    return (update(POLLS).where(and_(POLLS.c.id == bindparam("b_id"), POLLS.c.status == bindparam("b_was")))
            .values(status=bindparam("b_status"), closed_at=bindparam("b_at"), closed_by=bindparam("b_by"),
                    counts=bindparam("b_counts"), winner=bindparam("b_winner")))


def _vote_replace(_engine: AsyncEngine) -> Any:
    return (update(VOTES).where(and_(VOTES.c.poll_id == bindparam("b_poll"), VOTES.c.user_id == bindparam("b_user"),
                                     VOTES.c.replaced_by.is_(None)))
            .values(replaced_by=bindparam("b_by")))


def _vote_insert(_engine: AsyncEngine) -> Any:
    return VOTES.insert()


def _vote_confirmed(_engine: AsyncEngine) -> Any:
    return update(VOTES).where(VOTES.c.event_id == bindparam("b_event")).values(confirmed=bindparam("b_confirmed"))


class PollRepository(Repository):
    """Polls and votes."""

    writes = (BulkWrite("poll_open", 150, _poll_insert), BulkWrite("poll_replace", 151, _vote_replace),
              BulkWrite("poll_vote", 152, _vote_insert), BulkWrite("poll_confirmed", 153, _vote_confirmed),
              BulkWrite("poll_close", 154, _poll_close))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.audit = store.audit  # who was refused before
        self._buffers = {name: store.buffer(name) for name in (*_POLL_BUFFERS, *_VOTE_BUFFERS)}
        self._open: dict[str, Poll] = {}  # group -> its open poll (every open poll, once loaded)
        self._loaded = False
        self._voted: set[str] = set()  # groups with a vote since their unconfirmed votes were last taken

    def forget(self) -> None:
        self._open.clear()
        self._loaded = False

    def _write(self, name: str, row: dict[str, Any]) -> None:
        self._buffers[name].append(row)
        self.journal.seal((name,))

    # -- polls --------------------------------------------------------------------------------------

    async def load(self) -> None:
        """Know every open poll (once; again after the journal dropped the caches)."""
        if not self._loaded:
            result = await self.journal.read(
                select(POLLS.c.id, POLLS.c.group_id, POLLS.c.title, POLLS.c.options, POLLS.c.deadline_at,
                       POLLS.c.created_by).where(POLLS.c.status == "open"), only=_POLL_BUFFERS)
            self._open = {g: Poll(i, g, t, tuple(o), d, c) for i, g, t, o, d, c in result}
            self._loaded = True

    async def open_poll(self, group: str) -> Poll | None:
        """The group's open poll (None: none)."""
        await self.load()
        return self._open.get(group)

    def is_open(self, poll: Poll) -> bool:
        """Is this poll still the group's open one (no await: checked right before a vote is written)?"""
        return self._loaded and self._open.get(poll.group) == poll

    def start(self, poll: Poll, at: datetime) -> None:
        """Open a poll (the caller checked that none is open in its group)."""
        self._open[poll.group] = poll
        self._write("poll_open", {"id": poll.id, "group_id": poll.group, "title": poll.title,
                                  "options": list(poll.options), "created_by": poll.created_by, "created_at": at,
                                  "deadline_at": poll.deadline, "status": "open", "closed_at": None,
                                  "closed_by": None, "counts": None, "winner": None})

    async def open_by_id(self, poll_id: str) -> Poll | None:
        """The poll of this id if it is open (None: closed, or no such poll)."""
        await self.load()
        return next((p for p in self._open.values() if p.id == poll_id), None)

    async def take_open(self, poll_id: str) -> Poll | None:
        """The poll if it is still open, now closed in memory (so a deadline and an admin's 结束投票
        arriving together close it once); None when it is not open."""
        found = await self.open_by_id(poll_id)
        if found is not None:
            del self._open[found.group]
        return found

    def closed(self, poll: Poll, at: datetime, by: str | None, counts: dict[str, int], winner: str | None) -> None:
        """Write the result of a poll taken with `take_open`."""
        self._write("poll_close", {"b_id": poll.id, "b_was": "open", "b_status": "closed", "b_at": at, "b_by": by,
                                   "b_counts": counts, "b_winner": winner})

    # -- votes --------------------------------------------------------------------------------------

    async def current_choice(self, poll: Poll, user: str) -> int | None:
        """The option number of the member's vote that counts (None: not voted)."""
        result = await self.journal.read(select(VOTES.c.choice).where(and_(
            VOTES.c.poll_id == poll.id, VOTES.c.user_id == user, VOTES.c.replaced_by.is_(None))), only=_VOTE_BUFFERS)
        return result.scalar()

    def vote(self, poll: Poll, user: str, choice: int, event_id: str, ts: datetime, *, confirmed: bool) -> None:
        """Record a vote (option number `choice`); the member's earlier vote in the poll is replaced by it."""
        self._write("poll_replace", {"b_poll": poll.id, "b_user": user, "b_by": event_id})
        self._write("poll_vote", {"event_id": event_id, "poll_id": poll.id, "group_id": poll.group, "user_id": user,
                                  "choice": choice, "option": poll.options[choice - 1], "ts": ts,
                                  "replaced_by": None, "confirmed": 1 if confirmed else 0})
        if not confirmed:
            self._voted.add(poll.group)

    async def tally(self, poll: Poll) -> dict[int, int]:
        """Votes that count, by option number (each member's last vote)."""
        result = await self.journal.read(select(VOTES.c.choice, func.count()).where(and_(
            VOTES.c.poll_id == poll.id, VOTES.c.replaced_by.is_(None))).group_by(VOTES.c.choice), only=_VOTE_BUFFERS)
        return {int(choice): int(n) for choice, n in result}

    async def take_unconfirmed(self, poll: Poll) -> list[Unconfirmed]:
        """The poll's votes not confirmed yet, first vote first; they count as confirmed from now on."""
        self._voted.discard(poll.group)
        result = await self.journal.read(select(VOTES.c.user_id, VOTES.c.event_id).where(and_(
            VOTES.c.poll_id == poll.id, VOTES.c.confirmed == 0)).order_by(VOTES.c.ts, VOTES.c.event_id),
            only=_VOTE_BUFFERS)
        taken = [Unconfirmed(u, e) for u, e in result]
        for vote in taken:  # by event: a vote made while this was read stays for the next message
            self._write("poll_confirmed", {"b_event": vote.event_id, "b_confirmed": 1})
        return taken

    def voted_since_take(self, group: str) -> bool:
        """Was a vote to confirm recorded in the group after its unconfirmed votes were last taken?"""
        return group in self._voted

    async def votes_of(self, poll_id: str) -> list[dict[str, Any]]:
        """Every vote of a poll, replaced ones included, in the order they were made (the audit)."""
        result = await self.journal.read(select(VOTES).where(VOTES.c.poll_id == poll_id)
                                         .order_by(VOTES.c.ts, VOTES.c.event_id), only=_VOTE_BUFFERS)
        return [dict(r._mapping) for r in result]

    async def stored(self, poll_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored rows of these polls, by id."""
        result = await self.journal.read(select(POLLS).where(POLLS.c.id.in_(list(poll_ids))), only=_POLL_BUFFERS)
        return {r.id: dict(r._mapping) for r in result}
