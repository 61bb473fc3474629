"""The purge list (清理名单) as data and as a CSV: members silent for `inactive_days` days who joined at
least `grace_days` ago, minus admins, operators, the whitelist and the bot; longest inactive first."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from bot.spreadsheet import csv_file, text_cell
from handlers.levels.ladder import tier_of
from handlers.purge.repository import PurgeRepository
from rules.config import Config
from rules.schema import GroupSettings
from storage.gcpause import paused_gc

CSV_COLUMNS = ("member_id", "display_name", "joined", "last_active", "days_silent", "messages", "points", "tier")


class Candidate(NamedTuple):
    """A member proposed for removal (a tuple: tens of thousands are built for a big group)."""

    user_id: str
    display_name: str | None
    joined_at: datetime
    last_active_at: datetime | None
    days_silent: int
    messages: int
    points: int
    tier: str


async def purge_list(repo: PurgeRepository, config: Config, group: str, settings: GroupSettings, now: datetime, *,
                     days: int | None = None) -> list[Candidate]:
    """The members to propose for removal in `group` as of `now` (see the module doc)."""
    # Collections started by tens of thousands of new rows walk the whole heap and find nothing;
    # paused for the whole list (its reads included), not only while the rows are built.
    with paused_gc():
        return await _purge_list(repo, config, group, settings, now, days or settings.purge.inactive_days)


async def _purge_list(repo: PurgeRepository, config: Config, group: str, settings: GroupSettings, now: datetime,
                      days: int) -> list[Candidate]:
    purge = settings.purge
    exclude = {*settings.admins, *settings.operators, *purge.whitelist, config.bot_id}
    rows = await repo.inactive_members(group, now - timedelta(days=days), now - timedelta(days=purge.grace_days),
                                        exclude)
    tier_since, silent_since = now - timedelta(days=settings.levels.tier_days), now - timedelta(days=days)
    # only members last active between the two can have counted activity (the rest: the lowest tier)
    activity = (await repo.silent_activity(group, tier_since, silent_since)
                if rows and tier_since < silent_since else {})
    levels = settings.levels
    idle = tier_of((0, 0, 0), levels)
    tiers = {user: tier_of(counts, levels) for user, counts in activity.items()}
    return [Candidate(user, name, joined, last, max(0, (now - (last or joined)).days), count, points,
                      tiers.get(user, idle))
            for user, name, joined, last, count, points in rows]


def write_csv(candidates: list[Candidate], path: Path, tz: Any, *, header: tuple[str, ...] = (),
              never: str = "") -> Path:
    """The list as CSV, UTF-8 with a BOM (Excel and WPS then read the Chinese names), local times;
    names that look like formulas are quoted as text."""
    with csv_file(path, header or CSV_COLUMNS) as writer, paused_gc():
        writer.writerows(csv_rows(candidates, tz, never))
    return path


def csv_rows(candidates: Iterable[Candidate], tz: Any, never: str = "", *lead: str) -> Iterator[tuple[Any, ...]]:
    """The CSV rows of the candidates (`lead` cells first: the digest's group id and name)."""
    first = tuple(text_cell(x) for x in lead)

    def when(t: datetime | None) -> str:
        return t.astimezone(tz).isoformat(" ", "minutes")[:16] if t else ""  # strftime's "%Y-%m-%d %H:%M", faster

    for c in candidates:
        yield (*first, text_cell(c.user_id), text_cell(c.display_name or ""), when(c.joined_at),
               when(c.last_active_at) or never, c.days_silent, c.messages, c.points, text_cell(c.tier))
