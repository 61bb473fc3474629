"""The retention feature's repository: the rows whose texts go (old ones, or one member's), and the
writes that take the texts out while the rows stay (counts, charts and idempotency read the columns).

No tables of its own: it rewrites events' payloads and audit rows (buffered, in one executemany each),
and blanks the texts other features keep (ad evidence and samples, ledger notes, display names, the
welcome queue, 接龙 lines, names and example lines, 扣1 quotes, the red-packet queue's names; the rows
stay: counts and contract facts read their other columns). Every read pages by (time, id), so a long
backlog is read in pieces and the bot goes on between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, and_, bindparam, case, cast, delete, false, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.ads.tables import AD_OFFENCES, AD_SAMPLES
from handlers.jielong.tables import CHAINS, ENTRIES
from handlers.points.tables import LEDGER
from handlers.red_packet.tables import RED_PACKET_QUEUE
from handlers.roll_call.repository import RollCallRepository
from handlers.roll_call.tables import ROLL_CALLS
from handlers.welcome.repository import WelcomeRepository
from handlers.welcome.tables import WELCOME_QUEUE
from storage.base import JsonDoc
from storage.journal import BulkWrite, Scrub
from storage.repository import Repository
from storage.tables import ACTIONS, EVENTS, MEMBERS

if TYPE_CHECKING:
    from storage.store import Store

PAGE = 1000
TOUCHED = frozenset({"events", "actions", "ad_samples", "ad_offences", "points_ledger", "members", "welcome_queue",
                     "jielong_entries", "jielong_chains", "roll_calls", "red_packet_queue"})
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


def _in_group(column: Any, group: Any) -> Any:
    """Rows of one group; None: rows of no group (direct messages)."""
    return column.is_(None) if group is None else column == group


def _paged(table: Any, cond: Any, after: tuple[Any, Any] | None) -> Any:
    """`cond` and past the (time, id) of the previous page, written so that an index on the time serves
    it (the rows of one instant are sorted by id on their own)."""
    if after is not None:
        cond = and_(cond, table.c.ts >= after[0], or_(table.c.ts > after[0], table.c.id > after[1]))
    return cond


def _members_events(user: str, scopes: Sequence[str | None]) -> Any:
    """The member's events in these groups (None: direct messages), each an index range of its group."""
    return or_(*(and_(_in_group(EVENTS.c.group_id, g), EVENTS.c.user_id == user) for g in scopes)) if scopes \
        else false()


def _of_group(table: Any, group: str | None) -> list[Any]:
    """The condition that rows of `table` are the group's (none for None: every group)."""
    return [] if group is None else [table.c.group_id == group]


def _lines_of_group(group: str | None) -> list[Any]:
    """The condition that 接龙 lines are in the group's chains (none for None: every group)."""
    return [] if group is None else [ENTRIES.c.chain_id.in_(select(CHAINS.c.id).where(CHAINS.c.group_id == group))]


def _not_blank() -> Any:
    """接龙 lines that still have a text or a name."""
    return or_(ENTRIES.c.content != "", ENTRIES.c.user_name.is_not(None))


def _blank_lines(cond: Any) -> Any:
    """Blank the text and the name of the 接龙 lines `cond` picks (their member, place and status stay:
    the count and the contract facts of 接龙统计 read those)."""
    return (update(ENTRIES).where(and_(cond, _not_blank())).values(content="", user_name=None)
            .returning(ENTRIES.c.chain_id))


def _not_removed(column: Any, how: str | None = None) -> Any:
    """Rows whose JSON has no `removed` mark (or, with `how`, not that one)."""
    mark = column["removed"].as_string()
    return mark.is_(None) if how is None else or_(mark.is_(None), mark != how)


# The pages of old rows, built once per shape (group or direct messages; since; after a page) with bound
# parameters (b_group, b_before, b_since, b_after_ts, b_after_id, b_rule, b_limit): a job reads thousands of pages.
def _page_of(table: Any, columns: Sequence[Any], cond: Any, since: bool, after: bool) -> Any:
    if since:
        cond = and_(cond, table.c.ts >= bindparam("b_since"))
    cond = _paged(table, cond, (bindparam("b_after_ts"), bindparam("b_after_id")) if after else None)
    return select(*columns).where(cond).order_by(table.c.ts, table.c.id).limit(bindparam("b_limit"))


def _group_of(column: Any, no_group: bool) -> Any:
    return _in_group(column, None if no_group else bindparam("b_group"))


@cache
def _old_events(no_group: bool, since: bool, after: bool, images: bool) -> Any:
    cond = and_(_group_of(EVENTS.c.group_id, no_group), EVENTS.c.ts < bindparam("b_before"),
                _not_removed(EVENTS.c.payload))
    if images:
        cond = and_(cond, EVENTS.c.type == "image", EVENTS.c.payload["path"].as_string() != "")
    return _page_of(EVENTS, (EVENTS.c.id, EVENTS.c.ts, EVENTS.c.payload), cond, since, after)


@cache
def _old_actions(no_group: bool, since: bool, after: bool) -> Any:
    cond = and_(_group_of(ACTIONS.c.group_id, no_group), ACTIONS.c.rule == bindparam("b_rule"),
                ACTIONS.c.ts < bindparam("b_before"), _not_removed(ACTIONS.c.body))
    return _page_of(ACTIONS, (ACTIONS.c.id, ACTIONS.c.ts, ACTIONS.c.body, ACTIONS.c.data), cond, since, after)


def _page_params(group: str | None, before: datetime, since: datetime | None, after: After) -> dict[str, Any]:
    params: dict[str, Any] = {"b_group": group, "b_before": before, "b_since": since, "b_limit": PAGE}
    if after is not None:
        params["b_after_ts"], params["b_after_id"] = after
    return params


# The daily trims, built once with bound parameters (b_group, b_before, b_started): the journal keeps
# every statement a job executes until its commit, and a statement built per group weighs kilobytes.
_BEFORE, _GROUP = bindparam("b_before"), bindparam("b_group")
_TRIM_EVIDENCE = (update(AD_OFFENCES).where(and_(AD_OFFENCES.c.group_id == _GROUP, AD_OFFENCES.c.ts < _BEFORE,
                                                 AD_OFFENCES.c.evidence != ""))
                  .values(evidence="").returning(AD_OFFENCES.c.event_id))
_TRIM_NOTES = (update(LEDGER).where(and_(LEDGER.c.group_id == _GROUP, LEDGER.c.ts < _BEFORE,
                                         LEDGER.c.note.is_not(None)))
               .values(note=None).returning(LEDGER.c.id))
_ENDED = and_(CHAINS.c.group_id == _GROUP, or_(CHAINS.c.closed_at < _BEFORE,
                                               CHAINS.c.started_at < bindparam("b_started")))
_TRIM_LINES = _blank_lines(ENTRIES.c.chain_id.in_(select(CHAINS.c.id).where(_ENDED)))
_TRIM_EXAMPLES = (update(CHAINS).where(and_(_ENDED, CHAINS.c.example.is_not(None))).values(example=None)
                  .returning(CHAINS.c.id))
_TRIM_QUOTES = (update(ROLL_CALLS).where(and_(ROLL_CALLS.c.group_id == _GROUP, ROLL_CALLS.c.ends_at < _BEFORE,
                                              ROLL_CALLS.c.text != ""))
                .values(text="").returning(ROLL_CALLS.c.id))
_TRIM_QUEUE = (update(RED_PACKET_QUEUE).where(and_(RED_PACKET_QUEUE.c.group_id == _GROUP,
                                                   RED_PACKET_QUEUE.c.queued_at < _BEFORE,
                                                   RED_PACKET_QUEUE.c.user_name.is_not(None)))
               .values(user_name=None).returning(RED_PACKET_QUEUE.c.event_id))


class RetentionRepository(Repository):
    """Reads the rows whose texts go; rewrites them without their texts."""

    writes = (BulkWrite("erased_name", 35, _name_update), BulkWrite("trimmed_event", 55, _payload_update),
              BulkWrite("trimmed_action", 65, _action_update))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.audit, self.members, self.events = store.audit, store.members, store.events
        self._events, self._actions = store.buffer("trimmed_event"), store.buffer("trimmed_action")
        self._names = store.buffer("erased_name")
        self.roll_calls = store.repository(RollCallRepository)  # its cache of open roll calls keeps their text
        self.welcome = store.repository(WelcomeRepository)  # its memory of the queue keeps the names

    # -- writes -----------------------------------------------------------------------------------

    def set_payload(self, event_id: str, payload: dict[str, Any]) -> None:
        self._events.append({"b_id": event_id, "b_payload": payload})

    def set_action(self, action_id: str, body: dict[str, Any], data: dict[str, Any]) -> None:
        self._actions.append({"b_id": action_id, "b_body": body, "b_data": data})

    def rename_member(self, group: str, user: str, name: str) -> None:
        self._names.append({"b_group": group, "b_user": user, "b_name": name})

    def scrub_after_commit(self, *, vacuum: bool, full: bool = False) -> None:
        self.journal.scrub_after_commit(Scrub(TOUCHED, vacuum, full))

    # -- retention --------------------------------------------------------------------------------

    async def old_events(self, group: str | None, before: datetime, since: datetime | None, after: After,
                         *, images: bool = False) -> list[tuple[str, datetime, dict[str, Any]]]:
        """A page of the group's events in [since, before) whose payload still has its texts; with
        `images`, only images whose file is still named."""
        stmt = _old_events(group is None, since is not None, after is not None, images)
        result = await self.journal.read(stmt, _page_params(group, before, since, after))
        return [(i, ts, p) for i, ts, p in result]

    async def action_rules(self, group: str | None) -> list[str]:
        """The rules with audit rows in the group (the old rows are read rule by rule, in time order)."""
        result = await self.journal.read(select(ACTIONS.c.rule).where(_in_group(ACTIONS.c.group_id, group))
                                         .distinct())
        return sorted(r for (r,) in result)

    async def old_actions(self, group: str | None, rule: str, before: datetime, since: datetime | None, after: After
                          ) -> list[tuple[str, datetime, dict[str, Any], dict[str, Any]]]:
        """A page of the group's audit rows of one rule in [since, before) not trimmed yet."""
        stmt = _old_actions(group is None, since is not None, after is not None)
        result = await self.journal.read(stmt, {**_page_params(group, before, since, after), "b_rule": rule})
        return [(i, ts, b, d) for i, ts, b, d in result]

    async def trim_details(self, group: str, before: datetime) -> int:
        """Blank the ad evidence and the owners' ledger notes of the group older than `before`."""
        self.journal.seal()  # after the rows buffered so far
        params = {"b_group": group, "b_before": before}
        return len(await self.journal.write_now(_TRIM_EVIDENCE, params)) + len(
            await self.journal.write_now(_TRIM_NOTES, params))

    async def trim_tools(self, group: str, before: datetime, chain_days: int) -> dict[str, int]:
        """Blank what the group's community tools keep of members' texts older than `before`: the lines,
        names and example lines of 接龙 chains that ended before it (closed, or started `chain_days` —
        jielong.expire_days — earlier), the quotes of 扣1 roll calls whose window ended before it, and
        the names in the red-packet queue. Counts of rows touched."""
        self.journal.seal()  # after the rows buffered so far
        params = {"b_group": group, "b_before": before, "b_started": before - timedelta(days=chain_days)}

        async def steps(run: Any) -> dict[str, int]:
            lines = len(await run(_TRIM_LINES, params))
            examples = len(await run(_TRIM_EXAMPLES, params))
            return {"jielong": lines + examples, "roll_calls": len(await run(_TRIM_QUOTES, params)),
                    "red_packets": len(await run(_TRIM_QUEUE, params))}

        return await self.journal.write_steps(steps)

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

    async def jielong_lines(self, user: str, group: str | None) -> list[tuple[str, str | None]]:
        """(text, display name) of the member's 接龙 lines in the group (None: everywhere) not blanked yet."""
        result = await self.journal.read(select(ENTRIES.c.content, ENTRIES.c.user_name).where(and_(
            ENTRIES.c.user_id == user, *_lines_of_group(group), _not_blank())))
        return [(c, n) for c, n in result]

    async def erase_details(self, user: str, group: str | None, scopes: Sequence[str | None]) -> dict[str, int]:
        """Delete the owners' ad samples of the member's messages; blank their ad evidence, the owners'
        notes on their points, their name in the welcome and red-packet queues, their 接龙 lines (text
        and name; the lines stay, counted) and the example lines of the chains they started, and the
        quotes of the 扣1 roll calls they opened. Counts of rows touched."""
        def where(table: Any) -> Any:
            cond = table.c.user_id == user
            return cond if group is None else and_(cond, table.c.group_id == group)

        self.journal.seal()  # after the rows buffered so far

        async def steps(run: Any) -> dict[str, int]:
            ids = select(EVENTS.c.id).where(_members_events(user, scopes))
            lines = await run(_blank_lines(and_(ENTRIES.c.user_id == user, *_lines_of_group(group))), {})
            examples = await run(update(CHAINS).where(and_(
                CHAINS.c.started_by == user, CHAINS.c.example.is_not(None), *_of_group(CHAINS, group)))
                .values(example=None).returning(CHAINS.c.id), {})
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
                "jielong": len(lines) + len(examples),
                "roll_calls": len(await run(update(ROLL_CALLS).where(and_(
                    ROLL_CALLS.c.opened_by == user, ROLL_CALLS.c.text != "", *_of_group(ROLL_CALLS, group)))
                    .values(text="").returning(ROLL_CALLS.c.id), {})),
                "red_packets": len(await run(update(RED_PACKET_QUEUE).where(and_(
                    where(RED_PACKET_QUEUE), RED_PACKET_QUEUE.c.user_name.is_not(None))).values(user_name=None)
                    .returning(RED_PACKET_QUEUE.c.event_id), {})),
            }

        counts = await self.journal.write_steps(steps)
        if counts["roll_calls"]:
            self.roll_calls.forget()  # an open roll call of theirs is read again, without its quote
        if counts["queue"]:
            self.welcome.forget_queue()  # the queued rows are read again, without their name
        return counts
