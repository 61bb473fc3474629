"""The retention feature's repository: the rows whose texts go (old ones, or one member's), and the
writes that take the texts out while the rows stay (counts, charts and idempotency read the columns).

No tables of its own: it rewrites events' payloads and audit rows (buffered, in one executemany each),
and blanks the texts other features keep (ad evidence and samples, ledger notes, display names, the
welcome queue). Every read pages by (time, id), so a long backlog is read in pieces and the bot goes on
between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, and_, bindparam, case, cast, delete, false, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.ads.tables import AD_OFFENCES, AD_SAMPLES
from handlers.points.tables import LEDGER
from handlers.welcome.tables import WELCOME_QUEUE
from storage.base import JsonDoc
from storage.journal import BulkWrite, Scrub
from storage.repository import Repository
from storage.tables import ACTIONS, EVENTS, MEMBERS

if TYPE_CHECKING:
    from storage.store import Store

PAGE = 1000
TOUCHED = frozenset({"events", "actions", "ad_samples", "ad_offences", "points_ledger", "members", "welcome_queue"})
After = tuple[datetime, str] | None  # the (time, id) of the last row of the previous page


def _payload_update(_engine: AsyncEngine) -> Any:
    return update(EVENTS).where(EVENTS.c.id == bindparam("b_id")).values(
        payload=bindparam("b_payload", type_=JsonDoc()))


def _action_update(_engine: AsyncEngine) -> Any:
    # an action not delivered yet is not sent any more: what it would say is gone
    return update(ACTIONS).where(ACTIONS.c.id == bindparam("b_id")).values(
        body=bindparam("b_body", type_=JsonDoc()), data=bindparam("b_data", type_=JsonDoc()),
        status=case((ACTIONS.c.status == literal_column("'pending'"), literal_column("'expired'")),
                    else_=ACTIONS.c.status))


def _name_update(_engine: AsyncEngine) -> Any:
    return update(MEMBERS).where(and_(MEMBERS.c.group_id == bindparam("b_group"),
                                      MEMBERS.c.user_id == bindparam("b_user"))).values(
        display_name=bindparam("b_name"))


def _in_group(column: Any, group: str | None) -> Any:
    """Rows of one group; None: rows of no group (direct messages)."""
    return column.is_(None) if group is None else column == group


def _paged(table: Any, cond: Any, after: After) -> Any:
    """`cond` and past the (time, id) of the previous page, written so that an index on the time serves
    it (the rows of one instant are sorted by id on their own)."""
    if after is not None:
        cond = and_(cond, table.c.ts >= after[0], or_(table.c.ts > after[0], table.c.id > after[1]))
    return cond


def _members_events(user: str, scopes: Sequence[str | None]) -> Any:
    """The member's events in these groups (None: direct messages), each an index range of its group."""
    return or_(*(and_(_in_group(EVENTS.c.group_id, g), EVENTS.c.user_id == user) for g in scopes)) if scopes \
        else false()


def _not_removed(column: Any, how: str | None = None) -> Any:
    """Rows whose JSON has no `removed` mark (or, with `how`, not that one)."""
    mark = column["removed"].as_string()
    return mark.is_(None) if how is None else or_(mark.is_(None), mark != how)


class RetentionRepository(Repository):
    """Reads the rows whose texts go; rewrites them without their texts."""

    writes = (BulkWrite("erased_name", 35, _name_update), BulkWrite("trimmed_event", 55, _payload_update),
              BulkWrite("trimmed_action", 65, _action_update))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.audit, self.members, self.events = store.audit, store.members, store.events
        self._events, self._actions = store.buffer("trimmed_event"), store.buffer("trimmed_action")
        self._names = store.buffer("erased_name")

    # -- writes -----------------------------------------------------------------------------------

    def set_payload(self, event_id: str, payload: dict[str, Any]) -> None:
        self._events.append({"b_id": event_id, "b_payload": payload})

    def set_action(self, action_id: str, body: dict[str, Any], data: dict[str, Any]) -> None:
        self._actions.append({"b_id": action_id, "b_body": body, "b_data": data})

    def rename_member(self, group: str, user: str, name: str) -> None:
        self._names.append({"b_group": group, "b_user": user, "b_name": name})

    def scrub_after_commit(self, *, vacuum: bool, full: bool = False) -> None:
        self.journal.scrub_after_commit(Scrub(TOUCHED, vacuum, full))

    async def _count(self, stmt: Any) -> int:
        return len(await self.journal.write_now(stmt, {}))

    # -- retention --------------------------------------------------------------------------------

    async def old_events(self, group: str | None, before: datetime, since: datetime | None, after: After,
                         *, images: bool = False) -> list[tuple[str, datetime, dict[str, Any]]]:
        """A page of the group's events in [since, before) whose payload still has its texts; with
        `images`, only images whose file is still named."""
        cond = and_(_in_group(EVENTS.c.group_id, group), EVENTS.c.ts < before, _not_removed(EVENTS.c.payload))
        if since is not None:
            cond = and_(cond, EVENTS.c.ts >= since)
        if images:
            cond = and_(cond, EVENTS.c.type == "image", EVENTS.c.payload["path"].as_string() != "")
        result = await self.journal.read(select(EVENTS.c.id, EVENTS.c.ts, EVENTS.c.payload)
                                         .where(_paged(EVENTS, cond, after)).order_by(EVENTS.c.ts, EVENTS.c.id)
                                         .limit(PAGE))
        return [(i, ts, p) for i, ts, p in result]

    async def action_rules(self, group: str | None) -> list[str]:
        """The rules with audit rows in the group (the old rows are read rule by rule, in time order)."""
        result = await self.journal.read(select(ACTIONS.c.rule).where(_in_group(ACTIONS.c.group_id, group))
                                         .distinct())
        return sorted(r for (r,) in result)

    async def old_actions(self, group: str | None, rule: str, before: datetime, since: datetime | None, after: After
                          ) -> list[tuple[str, datetime, dict[str, Any], dict[str, Any]]]:
        """A page of the group's audit rows of one rule in [since, before) not trimmed yet."""
        cond = and_(_in_group(ACTIONS.c.group_id, group), ACTIONS.c.rule == rule, ACTIONS.c.ts < before,
                    _not_removed(ACTIONS.c.body))
        if since is not None:
            cond = and_(cond, ACTIONS.c.ts >= since)
        result = await self.journal.read(select(ACTIONS.c.id, ACTIONS.c.ts, ACTIONS.c.body, ACTIONS.c.data)
                                         .where(_paged(ACTIONS, cond, after)).order_by(ACTIONS.c.ts, ACTIONS.c.id)
                                         .limit(PAGE))
        return [(i, ts, b, d) for i, ts, b, d in result]

    async def trim_details(self, group: str, before: datetime) -> int:
        """Blank the ad evidence and the owners' ledger notes of the group older than `before`."""
        self.journal.seal()  # after the rows buffered so far
        n = await self._count(update(AD_OFFENCES).where(and_(
            AD_OFFENCES.c.group_id == group, AD_OFFENCES.c.ts < before, AD_OFFENCES.c.evidence != ""))
            .values(evidence="").returning(AD_OFFENCES.c.event_id))
        return n + await self._count(update(LEDGER).where(and_(
            LEDGER.c.group_id == group, LEDGER.c.ts < before, LEDGER.c.note.is_not(None)))
            .values(note=None).returning(LEDGER.c.id))

    # -- erasure ----------------------------------------------------------------------------------

    async def member_events(self, user: str, group: str | None, after: After
                            ) -> list[tuple[str, datetime, dict[str, Any]]]:
        """A page of the member's events in one group (None: direct messages) not erased yet."""
        cond = and_(_members_events(user, [group]), _not_removed(EVENTS.c.payload, "erasure"))
        result = await self.journal.read(select(EVENTS.c.id, EVENTS.c.ts, EVENTS.c.payload)
                                         .where(_paged(EVENTS, cond, after)).order_by(EVENTS.c.ts, EVENTS.c.id)
                                         .limit(PAGE))
        return [(i, ts, p) for i, ts, p in result]

    async def rosters(self, group: str, after: After) -> list[tuple[str, datetime, dict[str, Any]]]:
        """A page of the group's member lists that still carry names."""
        cond = and_(EVENTS.c.group_id == group, EVENTS.c.type == "roster", _not_removed(EVENTS.c.payload))
        result = await self.journal.read(select(EVENTS.c.id, EVENTS.c.ts, EVENTS.c.payload)
                                         .where(_paged(EVENTS, cond, after)).order_by(EVENTS.c.ts, EVENTS.c.id)
                                         .limit(PAGE))
        return [(i, ts, p) for i, ts, p in result]

    async def actions_about(self, user: str, group: str | None, scopes: Sequence[str | None], needles: Sequence[str],
                            after: str | None) -> list[tuple[str, dict[str, Any], dict[str, Any], bool]]:
        """A page (by id) of audit rows not erased that concern the member in the group (None:
        everywhere): rows about their events in `scopes` or addressed to them (flagged: wholly theirs),
        and rows whose stored text holds one of `needles` (their id, their names)."""
        to_them = ACTIONS.c.user_id == user
        text = or_(*(cast(c, Text).contains(n, autoescape=True) for c in (ACTIONS.c.body, ACTIONS.c.data)
                     for n in needles)) if needles else false()
        if group is not None:
            to_them, text = and_(to_them, ACTIONS.c.group_id == group), and_(ACTIONS.c.group_id == group, text)
        theirs = or_(ACTIONS.c.event_id.in_(select(EVENTS.c.id).where(_members_events(user, scopes))), to_them)
        cond = and_(or_(theirs, text), _not_removed(ACTIONS.c.body, "erasure"))
        if after is not None:
            cond = and_(cond, ACTIONS.c.id > after)
        result = await self.journal.read(select(ACTIONS.c.id, ACTIONS.c.body, ACTIONS.c.data, theirs)
                                         .where(cond).order_by(ACTIONS.c.id).limit(PAGE))
        return [(i, b, d, bool(w)) for i, b, d, w in result]

    async def member_rows(self, user: str, group: str | None) -> list[tuple[str, str | None]]:
        """(group, display name) of each group the member is known in (the group, or everywhere)."""
        cond = MEMBERS.c.user_id == user if group is None else and_(MEMBERS.c.user_id == user,
                                                                    MEMBERS.c.group_id == group)
        result = await self.journal.read(select(MEMBERS.c.group_id, MEMBERS.c.display_name).where(cond))
        return [(g, n) for g, n in result]

    async def event_groups(self, user: str) -> list[str | None]:
        """Every group the member has events in (None: direct messages); one pass over the events."""
        result = await self.journal.read(select(EVENTS.c.group_id).where(EVENTS.c.user_id == user).distinct())
        return sorted((g for (g,) in result), key=lambda g: (g is None, g or ""))

    async def member_ids(self, wanted: str, group: str | None) -> list[str]:
        """The member `wanted` names (in the group, or anywhere): their id when it is one the bot has
        seen, else the ids of members with that display name."""
        where = [] if group is None else [EVENTS.c.group_id == group]
        seen = await self.journal.read(select(EVENTS.c.user_id).where(and_(EVENTS.c.user_id == wanted, *where))
                                       .limit(1))
        if seen.first() is not None:
            return [wanted]
        cond = [MEMBERS.c.user_id == wanted] if group is None else [MEMBERS.c.user_id == wanted,
                                                                     MEMBERS.c.group_id == group]
        if (await self.journal.read(select(MEMBERS.c.user_id).where(and_(*cond)).limit(1))).first() is not None:
            return [wanted]
        by_name = [MEMBERS.c.display_name == wanted] + ([] if group is None else [MEMBERS.c.group_id == group])
        result = await self.journal.read(select(MEMBERS.c.user_id).where(and_(*by_name)).distinct())
        return sorted(u for (u,) in result)

    async def erase_details(self, user: str, group: str | None, scopes: Sequence[str | None]) -> dict[str, int]:
        """Delete the owners' ad samples of the member's messages; blank their ad evidence, the owners'
        notes on their points and their name in the welcome queue. Counts of rows touched."""
        def where(table: Any) -> Any:
            cond = table.c.user_id == user
            return cond if group is None else and_(cond, table.c.group_id == group)

        self.journal.seal()  # after the rows buffered so far

        async def steps(run: Any) -> dict[str, int]:
            ids = select(EVENTS.c.id).where(_members_events(user, scopes))
            return {
                "samples": len(await run(delete(AD_SAMPLES).where(AD_SAMPLES.c.event_id.in_(ids))
                                         .returning(AD_SAMPLES.c.event_id), {})),
                "evidence": len(await run(update(AD_OFFENCES).where(and_(where(AD_OFFENCES), AD_OFFENCES.c.evidence
                                                                          != "")).values(evidence="")
                                          .returning(AD_OFFENCES.c.event_id), {})),
                "notes": len(await run(update(LEDGER).where(and_(where(LEDGER), LEDGER.c.note.is_not(None)))
                                       .values(note=None).returning(LEDGER.c.id), {})),
                "queue": len(await run(update(WELCOME_QUEUE).where(and_(where(WELCOME_QUEUE),
                                                                        WELCOME_QUEUE.c.user_name.is_not(None)))
                                       .values(user_name=None).returning(WELCOME_QUEUE.c.user_id), {})),
            }

        return await self.journal.write_steps(steps)
