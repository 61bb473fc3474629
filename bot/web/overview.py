"""`/`: every group at a glance — members, active today, today's check-in rate, ads caught in 7 days,
a 7-day messages sparkline and the last activity; sortable, filtered by name. A few grouped queries
for all groups at once (never one query per group)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.web.console import WebConsole
from bot.web.keys import CONSOLE
from bot.web.templating import render
from handlers.ads.repository import AdsRepository
from handlers.checkin.repository import CheckinRepository
from storage.tables import ACTIVITY_TYPES

routes = web.RouteTableDef()

SORTS = {"name": "名称", "members": "成员", "active": "今日活跃", "checkin_rate": "今日签到率", "ads": "7天广告",
         "messages": "7天消息", "last_active_at": "最近活动"}
DAYS = 7
PAST_DAYS_FOR = timedelta(minutes=10)  # the finished days' counts are read again after this (late events)


def local_midnights(now: datetime, tz: Any, days: int) -> list[datetime]:
    """The starts of the last `days` local days and of tomorrow, as aware datetimes (days + 1 bounds)."""
    today = now.astimezone(tz).date()
    return [datetime.combine(today - timedelta(days=days - 1 - i), datetime.min.time(), tz) for i in range(days + 1)]


async def overview_rows(console: WebConsole) -> list[dict[str, Any]]:
    """One row per group the bot has seen (see the module doc)."""
    config, now = console.config, console.now()
    bounds = local_midnights(now, config.tz, DAYS)
    today_start = bounds[-2]
    groups = await console.store.members.groups_overview(today_start)
    ids = [g["id"] for g in groups]
    day = today_start.date().isoformat()
    checkins = await console.repo(CheckinRepository).checkin_counts(ids, day) if ids else {}
    ads = await console.repo(AdsRepository).ads_by_group(now - timedelta(days=DAYS), now)
    daily = await daily_counts(console, ids, bounds) if ids else {}
    for g in groups:
        g["name"] = g["name"] or g["id"]
        g["checkins"] = checkins.get(g["id"], 0)
        g["checkin_rate"] = g["checkins"] / g["members"] if g["members"] else None
        g["ads"] = ads.get(g["id"], 0)
        g["daily"] = daily.get(g["id"], [0] * DAYS)
        g["messages"] = sum(g["daily"])
    return groups


async def daily_counts(console: WebConsole, ids: list[str], bounds: list[datetime]) -> dict[str, list[int]]:
    """Messages per group and local day: the finished days kept for a few minutes (they hardly change,
    and reading them is most of the page's cost), today read every time."""
    now, events = console.now(), console.store.events
    memo = console.memo.get("overview-days")
    if memo is None or memo[0] != bounds[0] or now - memo[1] > PAST_DAYS_FOR or not set(ids) <= memo[2].keys():
        past = await events.daily_counts_by_group(ids, ACTIVITY_TYPES, bounds[:-1])
        memo = console.memo["overview-days"] = (bounds[0], now, past)
    today = await events.daily_counts_by_group(ids, ACTIVITY_TYPES, bounds[-2:])
    return {g: memo[2][g] + today[g] for g in ids}


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    def value(row: dict[str, Any]) -> Any:
        v = row[key]
        if key == "name":
            return str(v)
        if isinstance(v, datetime):
            return v.timestamp()
        return -1 if v is None else v

    return sorted(rows, key=value, reverse=descending)


@routes.get("/")
async def overview(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    rows = await overview_rows(console)
    query = request.query.get("q", "").strip()[:100]
    if query:
        rows = [r for r in rows if query.casefold() in r["name"].casefold() or query == r["id"]]
    key = request.query.get("sort", "active")
    key = key if key in SORTS else "active"
    descending = request.query.get("dir", "asc" if key == "name" else "desc") != "asc"
    rows = sort_rows(rows, key, descending)
    totals = {"groups": len(rows), "members": sum(r["members"] for r in rows),
              "active": sum(r["active"] for r in rows), "ads": sum(r["ads"] for r in rows)}
    return render(request, "overview.html", rows=rows, sorts=SORTS, sort=key, descending=descending, q=query,
                  totals=totals, days=DAYS)
