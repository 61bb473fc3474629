"""checkin: the daily 签到 — rank of the local day, streak, points and the group's rate — and the
boards 签到榜 (today's order), 连续签到榜 (current streaks) and 签到率 (today, yesterday, campaign).

The day is the local calendar day (bot.timezone) of the message's time. Ranks, streaks and the
once-a-day rule are the store's (SQL counter and unique key); the reply only reports them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot.context import Context
from bot.core import Band, Handler
from bot.events import Event, Outcome, reply
from handlers.levels import level_up
from rules.normalize import command_form, command_words
from rules.schema import CheckinSettings
from rules.templates import template_fields

SIZE_TTL = timedelta(hours=1)  # group sizes (also moved by joins and leaves) and campaigns are re-read this often


def points_for(settings: CheckinSettings, streak: int) -> int:
    """Base points plus the streak bonus (per day after the first), capped."""
    return settings.base_points + min(settings.streak_bonus * (streak - 1), settings.streak_bonus_cap)


def percent(count: int, members: int) -> str:
    if members <= 0:
        return "—"
    return f"{round(100 * min(count, members) / members)}%"


def _local_day(ctx: Context, when: datetime) -> date:
    return when.astimezone(ctx.config.tz).date()


async def _sizes(ctx: Context, groups: list[str]) -> dict[str, tuple[str | None, int]]:
    """Group names and member counts, cached for SIZE_TTL of clock time (a rate need not be exact to
    the minute, and a count per check-in would read every member row of a big group)."""
    cache: dict[str, tuple[datetime, str | None, int]] = ctx.memory.setdefault("checkin.sizes", {})
    now = ctx.now
    missing = [g for g in groups if g not in cache or now - cache[g][0] > SIZE_TTL]
    if missing:
        found = await ctx.store.group_sizes(missing)
        for g in missing:
            name, n = found.get(g, (None, 0))
            cache[g] = (now, name, n)
    return {g: (cache[g][1], cache[g][2]) for g in groups}


async def _campaign(ctx: Context, group: str) -> list[str]:
    """The other groups sharing a tag with this one (known groups, in name order)."""
    tags = set(ctx.settings.tags)
    if not tags:
        return []
    cache: dict[Any, tuple[datetime, list[str]]] = ctx.memory.setdefault("checkin.campaign", {})
    key = (id(ctx.config), group)
    hit = cache.get(key)
    if hit is not None and ctx.now - hit[0] <= SIZE_TTL:
        return hit[1]
    named = await ctx.store.groups_named()
    peers = sorted((g for g, name in named.items()
                    if g != group and tags & set(ctx.config.group(g, name).settings.tags)),
                   key=lambda g: (named[g] or g))
    if len(cache) > 10_000:
        cache.clear()
    cache[key] = (ctx.now, peers)
    return peers


def note_membership(memory: dict[str, Any], group: str, change: int | None) -> None:
    """A join (+1) or leave (-1) moves the cached group size; None (a roster) drops it."""
    cache: dict[str, tuple[datetime, str | None, int]] = memory.get("checkin.sizes", {})
    if group in cache:
        if change is None:
            del cache[group]
        else:
            at, name, n = cache[group]
            cache[group] = (at, name, max(0, n + change))


async def rate_fields(ctx: Context, group: str, day: date, wanted: set[str], *,
                      newcomer: bool = False, count: int | None = None) -> dict[str, Any]:
    """Template fields about the check-in rate: rate, count, members, yesterday_rate, campaign.
    `newcomer`: the asker is not in the member table yet (it learns of them after the handlers);
    `count`: today's check-ins in the group when the caller knows it (the rank just given)."""
    settings = ctx.settings.checkin
    peers = await _campaign(ctx, group) if "campaign" in wanted else []
    groups = [group, *peers]
    sizes = await _sizes(ctx, groups)
    if newcomer:
        cache = ctx.memory["checkin.sizes"]
        at, name, n = cache[group]
        cache[group] = (at, name, n + 1)
        sizes[group] = (name, n + 1)
    counts = ({group: count} if count is not None and not peers
              else await ctx.store.checkin_counts(groups, day.isoformat()))
    members = max(sizes[group][1], counts.get(group, 0))
    fields: dict[str, Any] = {"count": counts.get(group, 0), "members": members,
                              "rate": percent(counts.get(group, 0), members)}
    if "yesterday_rate" in wanted:
        before = await ctx.store.checkin_counts([group], (day - timedelta(days=1)).isoformat())
        fields["yesterday_rate"] = percent(before.get(group, 0), members)
    if "campaign" in wanted:
        fields["campaign"] = "、".join(
            ctx.render(settings.campaign_item, name=sizes[g][0] or g,
                       rate=percent(counts.get(g, 0), max(sizes[g][1], counts.get(g, 0))))
            for g in peers)
    return fields


def _in_window(ctx: Context, when: datetime) -> bool:
    window = ctx.settings.checkin.window
    if window is None:
        return True
    hhmm = when.astimezone(ctx.config.tz).strftime("%H:%M")
    if window.start <= window.end:
        return window.start <= hhmm < window.end
    return hhmm >= window.start or hhmm < window.end  # a window across midnight


async def check_in(event: Event, ctx: Context) -> Outcome:
    assert event.group is not None and event.user is not None
    settings = ctx.settings.checkin
    if not _in_window(ctx, event.ts):
        assert settings.window is not None
        text = ctx.render(settings.window.outside_reply, start=settings.window.start, end=settings.window.end)
        return Outcome(actions=(reply(event, "checkin/window", text, mention=True, outside=True),), stop=True)
    day = _local_day(ctx, event.ts)
    late = day < _local_day(ctx, ctx.now)  # delivered after its day: later days continue its streak
    result = await ctx.store.check_in(event.group, event.user, day.isoformat(), (day - timedelta(days=1)).isoformat(),
                                      event.ts, event.id, lambda streak: points_for(settings, streak), late=late)
    template = settings.already_reply if result.already else settings.reply
    # a member who checked in yesterday is known; only a first check-in (or one after a gap) asks
    newcomer = False
    if not result.already and result.streak == 1:
        member = await ctx.member()
        newcomer = member is None or member.left_at is not None
    fields = await rate_fields(ctx, event.group, day, template_fields(template),
                               newcomer=newcomer,
                               count=None if result.already else result.rank)
    text = ctx.render(template, rank=result.rank, streak=result.streak, points=result.points,
                      balance=result.balance, **fields)
    actions = [reply(event, "checkin", text, mention=True, rank=result.rank, streak=result.streak,
                     points=result.points, balance=result.balance, already=result.already, day=day.isoformat(),
                     **({"late": True} if late else {}))]
    if not result.already:
        up = await level_up(ctx, event, event.user, event.user_name, result.balance - result.points, result.balance)
        if up is not None:
            actions.append(up)
    return Outcome(actions=tuple(actions), stop=True)


async def board(event: Event, ctx: Context) -> Outcome:
    assert event.group is not None
    settings = ctx.settings.checkin
    day = _local_day(ctx, event.ts)
    rows = await ctx.store.checkin_board(event.group, day.isoformat(), settings.board_size)
    if not rows:
        return Outcome(actions=(reply(event, "checkin/board", ctx.render(settings.board_empty), count=0),), stop=True)
    fields = await rate_fields(ctx, event.group, day, {"rate"})
    lines = [ctx.render(settings.board_title, count=fields["count"], members=fields["members"], rate=fields["rate"])]
    lines += [ctx.render(settings.board_line, rank=r["rank"], name=r["display_name"] or r["user_id"],
                         at=r["ts"].astimezone(ctx.config.tz).strftime("%H:%M"), streak=r["streak"]) for r in rows]
    return Outcome(actions=(reply(event, "checkin/board", "\n".join(lines), count=fields["count"],
                                  members=[r["user_id"] for r in rows]),), stop=True)


async def streaks(event: Event, ctx: Context) -> Outcome:
    assert event.group is not None
    settings = ctx.settings.checkin
    day = _local_day(ctx, event.ts)
    rows = await ctx.store.streak_board(event.group, day.isoformat(), (day - timedelta(days=1)).isoformat(),
                                        settings.board_size)
    if not rows:
        return Outcome(actions=(reply(event, "checkin/streaks", ctx.render(settings.streak_empty)),), stop=True)
    lines = [ctx.render(settings.streak_title)]
    lines += [ctx.render(settings.streak_line, place=n, name=r["display_name"] or r["user_id"], streak=r["streak"])
              for n, r in enumerate(rows, 1)]
    return Outcome(actions=(reply(event, "checkin/streaks", "\n".join(lines),
                                  members=[[r["user_id"], r["streak"]] for r in rows]),), stop=True)


async def rates(event: Event, ctx: Context) -> Outcome:
    assert event.group is not None
    settings = ctx.settings.checkin
    day = _local_day(ctx, event.ts)
    template = settings.rate_campaign_reply if ctx.settings.tags else settings.rate_reply
    fields = await rate_fields(ctx, event.group, day, template_fields(template))
    text = ctx.render(template, **fields)
    return Outcome(actions=(reply(event, "checkin/rate", text, count=fields["count"], members=fields["members"]),),
                   stop=True)


async def handle(event: Event, ctx: Context) -> Outcome | None:
    settings = ctx.settings.checkin
    form = command_form(event.text)
    if form in command_words(settings.triggers):
        return await check_in(event, ctx)
    if form in command_words(settings.board_words):
        return await board(event, ctx)
    if form in command_words(settings.streak_words):
        return await streaks(event, ctx)
    if form in command_words(settings.rate_words):
        return await rates(event, ctx)
    return None


def _matches(event: Event, ctx: Context) -> bool:
    if event.type != "text" or event.group is None or event.user is None or ctx.group is None:
        return False
    settings = ctx.settings.checkin
    if not settings.enabled or len(event.text) > 40:
        return False
    form = command_form(event.text)
    return any(form in command_words(words) for words in
               (settings.triggers, settings.board_words, settings.streak_words, settings.rate_words))


HANDLER = Handler("checkin", Band.COMMAND, handle, matches=_matches, order=10)
