"""What the ads handler watches besides the text of one message: who joined minutes ago, flooding (too
many messages a minute from one member) and raids (several new members posting the same text), and
the reports these send to the operators."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.context import Context
from bot.events import Action, Event, Note, reply
from handlers.ads.folds import normalize_for_ads

FLOOD_REPEAT = timedelta(minutes=10)  # a new flood warning after ten minutes without flooding
MINUTE = timedelta(minutes=1)
SWEEP_EVERY = timedelta(minutes=2)  # how often the per-member tables drop what has expired
PRUNE_OVER = 20_000  # keys; past them, a table drops what has expired at every message


def short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"



def tell_operators(ctx: Context, rule: str, text: str, data: dict[str, Any]) -> list[Action]:
    return [Action(action="send", rule=rule, user=op, text=text, data=data) for op in operators(ctx)]



def operators(ctx: Context) -> tuple[str, ...]:
    """Who hears of ads: the group's operators, else its admins (else the defaults' operators)."""
    return ctx.settings.report_to or ctx.config.model.defaults.operators



async def is_new_member(event: Event, ctx: Context, *, ask_store: bool = True) -> bool:
    """Joined within `new_member_minutes`: from the joins this bot saw, else (with ask_store) the store."""
    minutes = ctx.settings.ads.new_member_minutes
    if minutes <= 0:
        return False
    assert event.group is not None and event.user is not None
    joined = recent_joins(ctx).get((event.group, event.user))
    if joined is None and ask_store:
        presence = await ctx.members.presence(event.group, event.user)
        joined = presence.joined_at if presence is not None else None
    return joined is not None and ctx.now - joined <= timedelta(minutes=minutes)


def prune(table: dict[Any, Any], keep: Any, limit: int = PRUNE_OVER) -> None:
    """Short-lived state stays small: past `limit` keys, drop the ones `keep` rejects."""
    if len(table) > limit:
        for key in [k for k, v in table.items() if not keep(v)]:
            del table[key]


def sweep_due(ctx: Context, name: str) -> bool:
    """Time to drop what has expired from `ctx.memory[name]` (once every SWEEP_EVERY of the bot's time):
    entries past their window answer nothing any more, and a busy day leaves thousands of them."""
    marks: dict[str, datetime] = ctx.memory.setdefault("swept", {})
    last = marks.get(name)
    if last is not None and ctx.now - last < SWEEP_EVERY:
        return False
    marks[name] = ctx.now
    return True



def recent_joins(ctx: Context) -> dict[tuple[str, str], datetime]:
    return ctx.memory.setdefault("joins", {})



def flood(event: Event, ctx: Context) -> tuple[list[Action], Note | None]:
    """More than N messages a minute from one member: one warning (and a report), then silence while the
    member keeps over the rate: the note returned says so and the ads handler stops the chain, so no
    handler answers (activity is still recorded). Each flooded message moves the warning's time on, so
    a new warning needs ten minutes without flooding first."""
    ads = ctx.settings.ads
    assert event.group is not None and event.user is not None
    key = (event.group, event.user)
    # the member's messages of the last minute, oldest first: a tuple (a deque weighs 600 bytes empty)
    rates: dict[tuple[str, str], tuple[datetime, ...]] = ctx.memory.setdefault("rate", {})
    earlier = rates.get(key, ())
    first = 0
    while first < len(earlier) and ctx.now - earlier[first] > MINUTE:
        first += 1
    times = rates[key] = (*earlier[first:], ctx.now)

    def recent(q: tuple[datetime, ...]) -> bool:
        return bool(q) and ctx.now - q[-1] <= MINUTE

    prune(rates, recent, limit=0 if sweep_due(ctx, "rate") else PRUNE_OVER)
    if len(times) <= ads.flood_messages_per_minute:
        return [], None
    warned: dict[tuple[str, str], datetime] = ctx.memory.setdefault("flood_warned", {})
    prune(warned, lambda ts: ctx.now - ts < FLOOD_REPEAT)
    last = warned.get(key)
    warned[key] = ctx.now
    count = len(times)
    if last is not None and ctx.now - last < FLOOD_REPEAT:
        return [], Note(rule="ads/flood", reason=f"刷屏：一分钟内第 {count} 条，已经提醒过，不再回复",
                        data={"count": count, "warned": last.isoformat()})
    evidence = short(getattr(event, "text", event.type))
    return [reply(event, "ads/flood", ctx.render(ads.flood_warning, count=count), mention=True, count=count),
            *tell_operators(ctx, "ads/flood", ctx.render(ads.flood_report, count=count, evidence=evidence),
                     {"event": event.id, "count": count})], None


async def raid(event: Event, ctx: Context, ad_like: Callable[[str], bool]) -> list[Action]:
    """Several new members posting the same ad-like text (some check found something: a link, a contact,
    a pitch word, the model) within the window: warn the group, tell operators. Newcomers who all say
    大家好，很高兴认识大家 are a welcome, not a raid."""
    ads = ctx.settings.ads
    assert event.type == "text" and event.group is not None and event.user is not None
    # only the joins seen by this process: a raid is a matter of minutes, and every text passes here
    if not await is_new_member(event, ctx, ask_store=False):
        return []
    key_text = normalize_for_ads(event.text)
    if len(key_text) < 4 or not ad_like(event.text):
        return []
    window = timedelta(minutes=ads.raid_window_minutes)
    posts: dict[tuple[str, str], dict[str, datetime]] = ctx.memory.setdefault("raid", {})
    prune(posts, lambda users: any(ctx.now - t <= window for t in users.values()))
    seen = posts.setdefault((event.group, key_text), {})
    seen[event.user] = ctx.now
    for user in [u for u, t in seen.items() if ctx.now - t > window]:
        del seen[user]
    if len(seen) != ads.raid_new_members:  # once, when the count is reached
        return []
    members = "、".join(sorted(seen))
    evidence = short(event.text)
    return [Action(action="send", rule="ads/raid", group=event.group,
                   text=ctx.render(ads.raid_warning, count=len(seen)), data={"event": event.id, "count": len(seen)}),
            *tell_operators(ctx, "ads/raid",
                            ctx.render(ads.raid_report, count=len(seen), evidence=evidence, members=members),
                     {"event": event.id, "count": len(seen), "members": sorted(seen)})]


CROSS_POST_MIN_CHARS = 12  # shorter texts (签到, 早上好, 收到) are posted everywhere by everyone
MAX_GROUPS_PER_TEXT = 50


def cross_posts(event: Event, ctx: Context, text: str, key: str | None = None) -> int:
    """In how many other groups the same text (normalised; `key` when it is known) was posted within
    `cross_group_minutes`: an advertiser pastes one ad into every group they are in, a member seldom
    does with a long text."""
    minutes = ctx.settings.ads.cross_group_minutes
    key = normalize_for_ads(text) if key is None else key
    if minutes <= 0 or len(key) < CROSS_POST_MIN_CHARS:
        return 0
    assert event.group is not None
    window = timedelta(minutes=minutes)
    # text -> group -> when, in the order of each text's latest post (oldest first)
    posts: dict[str, dict[str, datetime]] = ctx.memory.setdefault("cross_posts", {})
    prune(posts, lambda groups: any(ctx.now - t <= window for t in groups.values()))
    if sweep_due(ctx, "cross_posts"):  # what no group's window reaches (another group's may be longer)
        widest = max(window, timedelta(minutes=max(s.ads.cross_group_minutes for s in ctx.config.variants())))
        while posts:  # the expired texts are the oldest: the sweep stops at the first one still in reach
            oldest = next(iter(posts))
            if any(ctx.now - t <= widest for t in posts[oldest].values()):
                break
            del posts[oldest]
    text_key = key[:300]
    groups = posts.get(text_key, {})
    for group in [g for g, t in groups.items() if ctx.now - t > window]:
        del groups[group]
    others = sum(g != event.group for g in groups)
    if len(groups) < MAX_GROUPS_PER_TEXT or event.group in groups:
        groups[event.group] = ctx.now
        posts.pop(text_key, None)
        posts[text_key] = groups  # now the latest post
    return others
