"""The check-in rate: today's and yesterday's, and the other groups of a campaign (groups sharing a tag)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot.context import Context

CAMPAIGN_TTL = timedelta(hours=1)  # the groups of a campaign are looked up again this often
MAX_CACHED_CAMPAIGNS = 10_000


def percent(count: int, members: int) -> str:
    if members <= 0:
        return "—"
    return f"{round(100 * min(count, members) / members)}%"


async def _campaign(ctx: Context, group: str) -> list[str]:
    """The other groups sharing a tag with this one (known groups, in name order)."""
    tags = set(ctx.settings.tags)
    if not tags:
        return []
    cache: dict[Any, tuple[datetime, list[str]]] = ctx.memory.setdefault("campaign", {})
    key = (id(ctx.config), group)
    hit = cache.get(key)
    if hit is not None and ctx.now - hit[0] <= CAMPAIGN_TTL:
        return hit[1]
    named = await ctx.members.groups_named()
    peers = sorted((g for g, name in named.items()
                    if g != group and tags & set(ctx.config.group(g, name).settings.tags)),
                   key=lambda g: (named[g] or g))
    if len(cache) > MAX_CACHED_CAMPAIGNS:
        cache.clear()
    cache[key] = (ctx.now, peers)
    return peers


async def rate_fields(ctx: Context, group: str, day: date, wanted: set[str], *,
                      newcomer: bool = False, count: int | None = None) -> dict[str, Any]:
    """Template fields about the check-in rate: rate, count, members, yesterday_rate, campaign.
    `newcomer`: the asker is not in the member table yet (it learns of them after the handlers);
    `count`: today's check-ins in the group when the caller knows it (the rank just given)."""
    settings = ctx.settings.checkin
    peers = await _campaign(ctx, group) if "campaign" in wanted else []
    groups = [group, *peers]
    sizes = await ctx.members.recent_sizes(groups, ctx.now)
    if newcomer:
        ctx.members.count_newcomer(group)
        name, n = sizes[group]
        sizes[group] = (name, n + 1)
    counts = ({group: count} if count is not None and not peers
              else await ctx.repo.checkin_counts(groups, day.isoformat()))
    members = max(sizes[group][1], counts.get(group, 0))
    fields: dict[str, Any] = {"count": counts.get(group, 0), "members": members,
                              "rate": percent(counts.get(group, 0), members)}
    if "yesterday_rate" in wanted:
        before = await ctx.repo.checkin_counts([group], (day - timedelta(days=1)).isoformat())
        fields["yesterday_rate"] = percent(before.get(group, 0), members)
    if "campaign" in wanted:
        fields["campaign"] = "、".join(
            ctx.render(settings.campaign_item, name=sizes[g][0] or g,
                       rate=percent(counts.get(g, 0), max(sizes[g][1], counts.get(g, 0))))
            for g in peers)
    return fields


