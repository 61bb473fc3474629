"""The ads feature's repository: offences (warnings until a red packet excuses them) and the owners'
labelled samples for retraining the classifier."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.ads.tables import AD_OFFENCES, AD_SAMPLES
from storage import dialect
from storage.journal import BulkWrite
from storage.members import free_text, last_per_key
from storage.repository import Repository
from storage.tables import EVENTS, GROUPS, MEMBERS

if TYPE_CHECKING:
    from storage.store import Store

_TABLES = ("ad_offence", "excuse")  # only ads questions read them; they commute with every other write
MAX_PAGE = 200  # offences one page of the web console shows at most
MAX_OFFENDERS = 200_000  # members with an unexcused offence kept in memory (past it, every question asks)


def _offence_insert(engine: AsyncEngine) -> Any:
    return dialect.upsert(engine, AD_OFFENCES).on_conflict_do_nothing(index_elements=[AD_OFFENCES.c.event_id])


def _excuse_update(_engine: AsyncEngine) -> Any:
    return (update(AD_OFFENCES).where(AD_OFFENCES.c.event_id == bindparam("b_id"))
            .values(excused_by=bindparam("b_by")))


def _sample_upsert(engine: AsyncEngine) -> Any:
    s = dialect.upsert(engine, AD_SAMPLES)
    return s.on_conflict_do_update(
        index_elements=[AD_SAMPLES.c.event_id],
        set_={"label": s.excluded.label, "decided_by": s.excluded.decided_by, "ts": s.excluded.ts})


def _open_offences(*columns: Any) -> Any:
    """The member's offences since a time that no red packet excused (group `g`, user `u`, `since`)."""
    return select(*columns).where(and_(
        AD_OFFENCES.c.group_id == bindparam("g"), AD_OFFENCES.c.user_id == bindparam("u"),
        AD_OFFENCES.c.ts >= bindparam("since"), AD_OFFENCES.c.excused_by.is_(None)))


# built once: the handler asks them for every ad and every red packet of a member with an open offence
_WARNINGS = _open_offences(func.count()).select_from(AD_OFFENCES)
_LATEST_OPEN = _open_offences(AD_OFFENCES).order_by(AD_OFFENCES.c.ts.desc()).limit(1)


class AdsRepository(Repository):
    """Ad offences and samples (an offence before its excuse)."""

    writes = (BulkWrite("ad_offence", 100, _offence_insert), BulkWrite("excuse", 110, _excuse_update),
              BulkWrite("ad_sample", 120, _sample_upsert, last_per_key("event_id")))

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._offences, self._excuses = store.buffer("ad_offence"), store.buffer("excuse")
        self._samples = store.buffer("ad_sample")
        # (group, member) of every offence no red packet excused when loaded, and of every one since
        # (None: not loaded); a member not in it has no open offence and no warning
        self._offenders: set[tuple[str, str]] | None = None
        self._recorded: set[tuple[str, str]] = set()  # offences recorded while the set was not loaded
        self._too_many = False

    def forget(self) -> None:
        self._offenders = None  # (what was recorded meanwhile stays in _recorded: it is in the journal)
        self._too_many = False

    async def _may_have_offences(self, group: str, user: str) -> bool:
        """False when the member surely has no unexcused offence (known to the database's one writer)."""
        if not self.decides_in_memory or self._too_many:
            return True
        if self._offenders is None:
            result = await self.journal.read(select(AD_OFFENCES.c.group_id, AD_OFFENCES.c.user_id).where(
                AD_OFFENCES.c.excused_by.is_(None)).distinct().limit(MAX_OFFENDERS + 1), only=_TABLES)
            # a load answered while another was on its way, or after offences were recorded meanwhile
            # (they may be newer than the answer), adds to what memory holds: nothing is ever dropped
            found = {(g, u) for g, u in result} | self._recorded | (self._offenders or set())
            if len(found) > MAX_OFFENDERS:
                self._too_many = True
                return True
            self._offenders, self._recorded = found, set()
        return (group, user) in self._offenders

    def record_ad_offence(self, event_id: str, group: str, user: str, ts: datetime, kind: str, check: str,
                          evidence: str) -> None:
        """The member was prompted about an ad (a warning until a red packet excuses it)."""
        known = self._offenders if self._offenders is not None else self._recorded
        if len(known) >= MAX_OFFENDERS:
            self._offenders, self._too_many = None, True
            self._recorded.clear()
        else:
            known.add((group, user))
        self._offences.append({"event_id": event_id, "group_id": group, "user_id": user, "ts": ts, "kind": kind,
                               "check": check, "evidence": evidence[:2000], "excused_by": None})

    def excuse_ad_offence(self, offence_event_id: str, red_packet_event_id: str) -> None:
        """A red packet settled the ad: it no longer counts as a warning."""
        self._excuses.append({"b_id": offence_event_id, "b_by": red_packet_event_id})

    def record_ad_sample(self, event_id: str, text: str, label: str, group: str | None, decided_by: str | None,
                         ts: datetime) -> None:
        """An owner's /ad or /notad decision on a message (the latest decision wins)."""
        self._samples.append({"event_id": event_id, "text": free_text(text), "label": label,
                              "group_id": group, "decided_by": decided_by, "ts": ts})

    async def ad_warnings(self, group: str, user: str, since: datetime) -> int:
        """Offences of the member in the group since `since` that no red packet excused."""
        if not await self._may_have_offences(group, user):
            return 0
        result = await self.journal.read(_WARNINGS, {"g": group, "u": user, "since": since}, only=_TABLES)
        return int(result.scalar() or 0)

    async def open_ad_offence(self, group: str, user: str, since: datetime) -> dict[str, Any] | None:
        """The member's latest offence since `since` that is not excused yet."""
        if not await self._may_have_offences(group, user):
            return None
        result = await self.journal.read(_LATEST_OPEN, {"g": group, "u": user, "since": since}, only=_TABLES)
        row = result.first()
        return dict(row._mapping) if row else None

    async def ad_samples(self) -> list[dict[str, Any]]:
        """Every owner decision (text, label), oldest first."""
        result = await self.journal.read(select(AD_SAMPLES).order_by(AD_SAMPLES.c.ts))
        return [dict(r._mapping) for r in result]

    async def ads_caught(self, group: str, since: datetime, until: datetime) -> int:
        """Ads the bot prompted about in [since, until) (excused or not)."""
        result = await self.journal.read(select(func.count()).select_from(AD_OFFENCES).where(and_(
            AD_OFFENCES.c.group_id == group, AD_OFFENCES.c.ts >= since, AD_OFFENCES.c.ts < until)), only=_TABLES)
        return int(result.scalar() or 0)

    async def ads_by_group(self, since: datetime, until: datetime) -> dict[str, int]:
        """Ads prompted about per group in [since, until)."""
        result = await self.journal.read(select(AD_OFFENCES.c.group_id, func.count()).where(and_(
            AD_OFFENCES.c.ts >= since, AD_OFFENCES.c.ts < until)).group_by(AD_OFFENCES.c.group_id), only=_TABLES)
        return {g: int(n) for g, n in result}

    # -- the web console's moderation queue ---------------------------------------------------------

    @staticmethod
    def _queue_filter(group: str | None, kind: str | None) -> list[Any]:
        return [*([AD_OFFENCES.c.group_id == group] if group else []), *([AD_OFFENCES.c.kind == kind] if kind else [])]

    async def offence_page(self, group: str | None = None, kind: str | None = None, *, limit: int = 50,
                           offset: int = 0) -> list[dict[str, Any]]:
        """Offences, newest first, in one query with what the queue shows of each: the event's payload,
        the group's name, the member's display name and an owner's label (label, decided_by; None if none)."""
        o = AD_OFFENCES
        # the page's offences first, from ad_offences alone; only those are joined (joining every
        # offence to its event before sorting reads rows scattered through the events table)
        page = (select(o.c.event_id, o.c.ts).where(*self._queue_filter(group, kind))
                .order_by(o.c.ts.desc(), o.c.event_id.desc())
                .limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset)).subquery())
        stmt = (select(o, AD_SAMPLES.c.label, AD_SAMPLES.c.decided_by, EVENTS.c.payload,
                       GROUPS.c.name.label("group_name"), MEMBERS.c.display_name)
                .select_from(page.join(o, o.c.event_id == page.c.event_id)
                             .outerjoin(AD_SAMPLES, AD_SAMPLES.c.event_id == o.c.event_id)
                             .outerjoin(EVENTS, EVENTS.c.id == o.c.event_id)
                             .outerjoin(GROUPS, GROUPS.c.id == o.c.group_id)
                             .outerjoin(MEMBERS, and_(MEMBERS.c.group_id == o.c.group_id,
                                                      MEMBERS.c.user_id == o.c.user_id)))
                .order_by(page.c.ts.desc(), page.c.event_id.desc()))
        result = await self.journal.read(stmt, only=(*_TABLES, "ad_sample", "events", "groups", "members"))
        return [dict(r._mapping) for r in result]

    async def offence_count(self, group: str | None = None, kind: str | None = None) -> int:
        """Offences matching the queue's filter (excused or not)."""
        result = await self.journal.read(select(func.count()).select_from(AD_OFFENCES)
                                         .where(*self._queue_filter(group, kind)), only=_TABLES)
        return int(result.scalar() or 0)

    async def ad_offence(self, event_id: str) -> dict[str, Any] | None:
        """One offence by its event id (None: the bot recorded none for that event)."""
        result = await self.journal.read(select(AD_OFFENCES).where(AD_OFFENCES.c.event_id == event_id),
                                         only=_TABLES)
        row = result.first()
        return dict(row._mapping) if row else None
