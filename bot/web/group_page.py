"""`/groups/{id}`: one group — activity by hour (today and the 7-day average), members per activity tier,
the points and today's check-in boards, and the purge list as the daily job computes it, with its CSV and
a removal (select, confirm, queued through the outbox as `kick` actions; the bot sends them).

A bounded number of queries per page whatever the group's size (never one per member)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from markupsafe import Markup

from bot.events import Action
from bot.feature import JobContext
from bot.web.console import WebConsole, queue_actions
from bot.web.keys import CONSOLE
from bot.web.templating import render
from handlers.checkin.repository import CheckinRepository
from handlers.levels.ladder import tier_of, tier_since
from handlers.levels.repository import LevelsRepository
from handlers.points.repository import PointsRepository
from handlers.purge.jobs import kick_actions as purge_kicks
from handlers.purge.listing import Candidate, purge_list, write_csv
from handlers.purge.repository import PurgeRepository
from handlers.stats.repository import StatsRepository
from handlers.stats.series import hourly_series
from rules.schema import GroupSettings
from scheduler.common import safe_name

routes = web.RouteTableDef()

AVERAGE_DAYS = 7
POINTS_BOARD = 20
CHECKIN_BOARD = 50
RULE = "purge_report/web"
BY = "web console"


async def find_group(console: WebConsole, group: str) -> tuple[str, GroupSettings, int]:
    """The group's name (its id when unknown), its settings (as the daily job and the CLI resolve them)
    and the members present; 404 when the bot has never seen the group."""
    found = (await console.store.members.group_sizes([group])).get(group)
    if found is None:
        raise web.HTTPNotFound(text="没有这个群")
    name, members = found
    return name or group, console.config.group(group, name).settings, members


def _group_id(request: web.Request) -> str:
    return request.match_info["id"][:200]


def group_url(group: str) -> str:
    return "/groups/" + quote(group, safe="")


# -- the figures ----------------------------------------------------------------------------------


async def hourly(console: WebConsole, group: str, settings: GroupSettings) -> tuple[list[int], list[float]]:
    """Messages by local hour today (up to now) and the average of the `AVERAGE_DAYS` days before."""
    now, tz = console.now(), console.config.tz
    series = await hourly_series(console.repo(StatsRepository), group, now.astimezone(tz).date(),
                                 AVERAGE_DAYS + 1, tz, until=now, stats=settings.stats)
    today = series[-1][1]
    average = [round(sum(day[1][h] for day in series[:-1]) / AVERAGE_DAYS, 1) for h in range(24)]
    return today, average


async def tier_counts(console: WebConsole, group: str, settings: GroupSettings) -> list[dict[str, Any]]:
    """Members present per activity tier over `levels.tier_days` (as the levels feature tells a member
    theirs), highest tier first: three queries for the whole group."""
    levels = settings.levels
    activity = await console.repo(LevelsRepository).member_activity(group, tier_since(console.now(), levels))
    present = await console.store.members.roster(group)
    counts = dict.fromkeys(levels.tiers, 0)
    idle = tier_of((0, 0, 0), levels)
    for user, _name in present:
        counts[tier_of(activity[user], levels) if user in activity else idle] += 1
    total = sum(counts.values())
    order = sorted(levels.tiers.items(), key=lambda kv: -kv[1])
    return [{"name": name, "minimum": minimum, "count": counts[name], "share": counts[name] / total if total else None}
            for name, minimum in order]


async def candidates(console: WebConsole, group: str, settings: GroupSettings) -> list[Candidate]:
    """The purge list as of now, exactly as the daily job and `qunbot purge-list` compute it."""
    return await purge_list(console.repo(PurgeRepository), console.config, group, settings, console.now())


async def pending_kicks(console: WebConsole, group: str) -> set[str]:
    """Members of the group whose removal is queued and not yet sent (not asked for a second time)."""
    return await console.store.audit.pending_kicks(group)


Row = tuple[str, str, str, str, int, int, int, str, bool]


def purge_rows(listed: list[Candidate], tz: Any, never: str, pending: set[str]) -> list[Row]:
    """The list's table rows as plain tuples with local dates and whether a removal is already queued
    (thousands of rows: the template only unpacks them)."""
    def day(t: datetime) -> str:
        return t.astimezone(tz).isoformat()[:10]

    return [(c.user_id, c.display_name or c.user_id, day(c.joined_at), day(c.last_active_at) if c.last_active_at
             else never, c.days_silent, c.messages, c.points, c.tier, c.user_id in pending) for c in listed]


def hourly_svg(today: list[int], average: list[float], width: int = 720, height: int = 220) -> Markup:
    """Two series of 24 bars as an inline SVG with labelled axes (numbers and fixed labels only)."""
    left, right, top, bottom = 40, 8, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([*today, *average, 1])
    scale = _nice_ceiling(peak)
    slot = plot_w / 24
    bar = slot * 0.38
    parts = [f'<svg class="hourly" width="100%" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="按小时的消息数：今天共 {sum(today)} 条，前 {AVERAGE_DAYS} 天平均每天 '
             f'{round(sum(average))} 条" preserveAspectRatio="xMidYMid meet">']
    for tick in (0, scale / 2, scale):
        y = top + plot_h - tick / scale * plot_h
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#656d76">'
                     f'{_number(tick)}</text>')
    for h in range(24):
        x = left + h * slot + slot * 0.1
        for n, (value, colour) in enumerate(((today[h], "#1a7f37"), (average[h], "#8c959f"))):
            bar_h = value / scale * plot_h
            parts.append(f'<rect x="{x + n * bar:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar:.1f}" '
                         f'height="{bar_h:.1f}" fill="{colour}"><title>{h} 时 {"今天" if n == 0 else "平均"} '
                         f'{_number(value)}</title></rect>')
        if h % 3 == 0:
            parts.append(f'<text x="{left + (h + 0.5) * slot:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
                         f'font-size="11" fill="#656d76">{h}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#656d76"/>'
                 f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" font-size="12" '
                 f'fill="#656d76">时（本地时间）</text>'
                 f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" font-size="12" fill="#656d76" '
                 f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">消息数</text></svg>')
    return Markup("".join(parts))


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^k (k ≥ 0) not below `value`: the top of the axis."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


# -- the page -------------------------------------------------------------------------------------


def _count(request: web.Request, key: str) -> int | None:
    value = request.query.get(key, "")
    return int(value) if value.isdigit() and len(value) < 9 else None


@routes.get("/groups/{id}")
async def group_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    group = _group_id(request)
    try:
        name, settings, members = await find_group(console, group)
    except web.HTTPNotFound:
        return render(request, "group.html", status=404, group=None, group_id=group)
    now, tz = console.now(), console.config.tz
    day = now.astimezone(tz).date().isoformat()
    today, average = await hourly(console, group, settings)
    checkins = console.repo(CheckinRepository)
    rows = purge_rows(await candidates(console, group, settings), tz, settings.purge.csv_never,
                      await pending_kicks(console, group))
    return render(
        request, "group.html", group=group, group_id=group, name=name, members=members, url=group_url(group),
        chart=hourly_svg(today, average), today_total=sum(today), average_total=round(sum(average)),
        average_days=AVERAGE_DAYS, tiers=await tier_counts(console, group, settings),
        tier_days=settings.levels.tier_days,
        points=await console.repo(PointsRepository).points_board(group, None, POINTS_BOARD),
        checkins=await checkins.checkin_board(group, day, CHECKIN_BOARD),
        checkin_total=(await checkins.checkin_counts([group], day)).get(group, 0), day=day,
        purge=settings.purge, rows=rows, selectable=sum(1 for row in rows if not row[-1]),
        queued=_count(request, "queued"), ignored=_count(request, "ignored"))


@routes.get("/groups/{id}/purge.csv")
async def purge_csv(request: web.Request) -> web.Response:
    """The purge list as `qunbot purge-list --csv` writes it (same columns, UTF-8 with a BOM)."""
    console = request.app[CONSOLE]
    group = _group_id(request)
    _name, settings, _members = await find_group(console, group)
    rows = await candidates(console, group, settings)
    with tempfile.TemporaryDirectory(prefix="qunbot-purge-") as folder:  # a fixed name in a fresh folder
        path = write_csv(rows, Path(folder) / "purge.csv", console.config.tz, header=settings.purge.csv_header,
                         never=settings.purge.csv_never)
        body = path.read_bytes()
    filename = f"purge-{safe_name(group)}-{console.now().astimezone(console.config.tz).date()}.csv"
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return web.Response(body=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"})


# -- removal: select, confirm, queue --------------------------------------------------------------


def _split(chosen: Iterable[str], listed: list[Candidate], pending: set[str]) -> tuple[list[Candidate], list[str]]:
    """The chosen members still on the list whose removal is not queued yet (in the list's order), and
    the others (ignored)."""
    wanted = set(chosen)
    on_list = [c for c in listed if c.user_id in wanted and c.user_id not in pending]
    kept = {c.user_id for c in on_list}
    return on_list, sorted(wanted - kept)


def _named(form: Any) -> list[str]:
    """The member ids a form names: `member` fields (the checkboxes) and `members`, a JSON list in one
    field (the confirmation page's: a long list in one field, not thousands)."""
    ids = [str(v)[:200] for v in form.getall("member", [])]
    try:
        listed = json.loads(str(form.get("members") or "[]"))
    except ValueError:
        listed = []
    if isinstance(listed, list):
        ids += [str(v)[:200] for v in listed if isinstance(v, str)]
    return ids


async def _chosen(request: web.Request, console: WebConsole, group: str, settings: GroupSettings, *,
                  allow_all: bool) -> tuple[list[Candidate], list[str]]:
    """The members the form names (`all`: the whole list, when allowed) on the current list, split by
    `_split`."""
    form = await request.post()
    listed, pending = await candidates(console, group, settings), await pending_kicks(console, group)
    if allow_all and form.get("all") == "1":
        return [c for c in listed if c.user_id not in pending], []
    return _split(_named(form), listed, pending)


@routes.post("/groups/{id}/remove")
async def remove(request: web.Request) -> web.Response:
    """The confirmation page: who would be removed (nothing is queued yet)."""
    console = request.app[CONSOLE]
    group = _group_id(request)
    name, settings, _members = await find_group(console, group)
    chosen, ignored = await _chosen(request, console, group, settings, allow_all=True)
    return render(request, "purge_confirm.html", group=group, name=name, url=group_url(group), chosen=chosen,
                  ignored=ignored, never=settings.purge.csv_never,
                  members=json.dumps([c.user_id for c in chosen], ensure_ascii=False))


def kick_actions(console: WebConsole, group: str, name: str, settings: GroupSettings,
                 chosen: list[Candidate]) -> list[Action]:
    """One `kick` per member, made as the purge job's auto-kick makes them (handlers/purge)."""
    ctx = JobContext(config=console.config, clock=console.clock, due=console.now(), members=console.store.members)
    return purge_kicks(ctx, group, name, settings, chosen, RULE)


@routes.post("/groups/{id}/remove/confirm")
async def remove_confirmed(request: web.Request) -> web.StreamResponse:
    """Queue the removals of the confirmed members still on the list; back to the group page."""
    console = request.app[CONSOLE]
    group = _group_id(request)
    name, settings, _members = await find_group(console, group)
    # only the members named on the confirmation page, and only those still on the list now
    chosen, ignored = await _chosen(request, console, group, settings, allow_all=False)
    if chosen:
        kicks = kick_actions(console, group, name, settings, chosen)
        at: datetime = console.now()
        await console.write(lambda store: queue_actions(store, kicks, BY, at))
    raise web.HTTPSeeOther(f"{group_url(group)}?queued={len(chosen)}&ignored={len(ignored)}")

