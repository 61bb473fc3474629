"""ads: catch ads and ask for a red packet instead of scolding; warn, then remove repeat offenders.

Checks (each reports its verdict and why; `why EVENT_ID` shows them): the text pipeline of
rules/ad_text.py (links, contact ids with a pitch, pitch words, a classifier) on normalised text;
`link`, `mini_program` and `contact_card` shares by per-group policy; QR codes in images
(handlers/qrcode.py). A member who joined minutes ago is judged with a lower threshold.

The response: a prompt that @mentions the sender (rule `ads/<check>`, data kind, event, warnings);
a red packet from them within the window excuses it (data excused: true); unexcused prompts count
as warnings, and at `max_warnings` within `warning_days` the member is removed (or reported to the
operators where the bot cannot remove them). Admins, operators and `allow_members` are never
prompted. Flooding (too many messages a minute) and raids (several new members posting the same
text) get a warning in the group and a report to the operators.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bot.context import Context
from bot.core import Band, Handler
from bot.events import Action, Event, Note, Outcome, reply
from handlers.qrcode import scan_image
from rules.ad_text import TextDetector, load_model
from rules.normalize import normalize_for_ads
from rules.schema import AdsSettings

FLOOD_REPEAT = timedelta(minutes=10)  # one flood warning per member per ten minutes
INVITE_QR = ("https://weixin.qq.com/g/", "http://weixin.qq.com/g/")


@dataclass(frozen=True)
class Verdict:
    """Why a message is an ad: the deciding check, the kind (replay-format), the evidence."""

    check: str
    kind: str
    evidence: str
    score: float = 1.0


def detector(ctx: Context) -> TextDetector:
    """The text detector of this group's settings, built once per config."""
    ads = ctx.settings.ads
    key = ("ads.detector", tuple(sorted(ads.pitch_words.items())), ads.allow_domains)
    cache = ctx.config.cache
    found = cache.get(key)
    if found is None:
        found = cache[key] = TextDetector(ads.pitch_words, ads.allow_domains, load_model(ctx.config.model.bot.ad_model))
    return found


def _exempt(event: Event, ctx: Context) -> bool:
    ads = ctx.settings.ads
    return ctx.is_admin or event.user in ads.allow_members


def _domain_allowed(url: str, ads: AdsSettings) -> bool:
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in (x.lower().lstrip(".") for x in ads.allow_domains))


def _recent_joins(ctx: Context) -> dict[tuple[str, str], datetime]:
    return ctx.memory.setdefault("ads.joins", {})


def _prune(table: dict[Any, Any], keep: Any, limit: int = 20_000) -> None:
    """Short-lived state stays small: past `limit` keys, drop the ones `keep` rejects."""
    if len(table) > limit:
        for key in [k for k, v in table.items() if not keep(v)]:
            del table[key]


async def _is_new_member(event: Event, ctx: Context, *, ask_store: bool = True) -> bool:
    """Joined within `new_member_minutes`: from the joins this bot saw, else (with ask_store) the store."""
    minutes = ctx.settings.ads.new_member_minutes
    if minutes <= 0:
        return False
    assert event.group is not None and event.user is not None
    joined = _recent_joins(ctx).get((event.group, event.user))
    if joined is None and ask_store:
        member = await ctx.member()
        joined = member.joined_at if member is not None else None
    return joined is not None and ctx.now - joined <= timedelta(minutes=minutes)


async def _text_verdict(event: Event, ctx: Context, text: str, notes: list[Note]) -> Verdict | None:
    ads = ctx.settings.ads
    total, kind, results = detector(ctx).score(text)
    if total <= 0:
        return None
    for r in results:
        if r.score > 0:
            notes.append(Note(rule=f"ads/{r.check}", reason=r.reason, data={"score": round(r.score, 3),
                                                                             "evidence": r.evidence[:200]}))
    threshold = ads.threshold
    if total < threshold and total >= ads.new_member_threshold and await _is_new_member(event, ctx):
        threshold = ads.new_member_threshold
        notes.append(Note(rule="ads", reason=f"new member: threshold {threshold}"))
    if total < threshold:
        notes.append(Note(rule="ads", reason=f"score {total:.2f} below threshold {threshold}"))
        return None
    top = max(results, key=lambda r: r.score)
    return Verdict(check=top.check, kind=kind or "text", evidence=top.evidence or text[:200], score=total)


async def _verdict(event: Event, ctx: Context, notes: list[Note]) -> Verdict | None:
    ads = ctx.settings.ads
    if event.type == "text":
        return await _text_verdict(event, ctx, event.text, notes)
    if event.type == "link":
        if _domain_allowed(event.url, ads):
            notes.append(Note(rule="ads/link", reason=f"allowed domain: {event.url}"))
            return None
        if ads.links == "allow":
            return await _text_verdict(event, ctx, " ".join(filter(None, [event.title, event.description])), notes)
        return Verdict(check="link", kind="link", evidence=event.url)
    if event.type == "mini_program":
        if ads.mini_programs == "allow":
            return None
        return Verdict(check="mini_program", kind="mini_program", evidence=event.title)
    if event.type == "contact_card":
        if ads.contact_cards == "allow":
            return None
        return Verdict(check="card", kind="card", evidence=event.card_name)
    if event.type == "image" and ads.qrcode.enabled:
        scan = await scan_image(event.path, ads.qrcode.max_bytes, ads.qrcode.max_pixels)
        if scan.skipped:
            notes.append(Note(rule="ads/qrcode", reason=f"image skipped: {scan.skipped}"))
            return None
        codes = [t for t in scan.texts if not _qr_allowed(t, ads)]
        if scan.texts and not codes:
            notes.append(Note(rule="ads/qrcode", reason="allowed QR code", data={"qr": scan.texts[0][:200]}))
        if codes:
            return Verdict(check="qrcode", kind="qrcode", evidence=codes[0][:300])
    return None


def _qr_allowed(text: str, ads: AdsSettings) -> bool:
    if any(text.startswith(prefix) for prefix in ads.qrcode.allow):
        return True
    return ads.qrcode.allow_group_invite and text.startswith(INVITE_QR)


def _operators(ctx: Context) -> tuple[str, ...]:
    return ctx.settings.operators or ctx.config.model.defaults.operators


def _report(ctx: Context, rule: str, text: str, data: dict[str, Any]) -> list[Action]:
    return [Action(action="send", rule=rule, user=op, text=text, data=data) for op in _operators(ctx)]


async def _offence(event: Event, ctx: Context, verdict: Verdict) -> list[Action]:
    ads = ctx.settings.ads
    assert event.group is not None and event.user is not None
    since = ctx.now - timedelta(days=ads.warning_days)
    warnings = await ctx.store.ad_warnings(event.group, event.user, since) + 1
    ctx.store.record_ad_offence(event.id, event.group, event.user, event.ts, verdict.kind, verdict.check,
                                verdict.evidence)
    rule = f"ads/{verdict.check}"
    facts = {"kind": verdict.kind, "warnings": warnings, "score": round(verdict.score, 3)}
    if warnings < ads.max_warnings:
        template = ads.final_warning if warnings == ads.max_warnings - 1 else ads.prompt
        text = ctx.render(template, kind=verdict.kind, warnings=warnings, max_warnings=ads.max_warnings)
        return [reply(event, rule, text, mention=True, **facts)]
    action = "移出群" if ads.on_limit == "kick" else "请管理员处理"
    evidence = verdict.evidence if verdict.kind != "text" else _short(getattr(event, "text", verdict.evidence))
    report = ctx.render(ads.report, kind=verdict.kind, warnings=warnings, evidence=evidence, action=action)
    out = _report(ctx, rule, report, {"event": event.id, **facts})
    if ads.on_limit == "kick":
        out.insert(0, Action(action="kick", rule=rule, group=event.group, user=event.user,
                             reason=f"广告 {warnings} 次（{verdict.kind}）", data={"event": event.id, **facts}))
        out.insert(1, reply(event, rule, ctx.render(ads.removal_notice, warnings=warnings), **facts))
    return out


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _red_packet(event: Event, ctx: Context) -> Outcome | None:
    ads = ctx.settings.ads
    assert event.group is not None and event.user is not None
    since = ctx.now - timedelta(minutes=ads.red_packet_window_minutes)
    open_offence = await ctx.store.open_ad_offence(event.group, event.user, since)
    if open_offence is None:
        return None
    ctx.store.excuse_ad_offence(open_offence["event_id"], event.id)
    warnings = await ctx.store.ad_warnings(event.group, event.user, ctx.now - timedelta(days=ads.warning_days))
    text = ctx.render(ads.thanks)
    return Outcome(actions=(reply(event, f"ads/{open_offence['check']}", text, mention=True,
                                  kind=open_offence["kind"], excused=True, offence=open_offence["event_id"],
                                  warnings=warnings),))


def _flood(event: Event, ctx: Context) -> list[Action]:
    """More than N messages a minute from one member: one warning and report per ten minutes."""
    ads = ctx.settings.ads
    assert event.group is not None and event.user is not None
    key = (event.group, event.user)
    rates: dict[tuple[str, str], deque[datetime]] = ctx.memory.setdefault("ads.rate", {})
    times = rates.setdefault(key, deque())
    times.append(ctx.now)
    while times and ctx.now - times[0] > timedelta(minutes=1):
        times.popleft()
    _prune(rates, lambda q: bool(q) and ctx.now - q[-1] <= timedelta(minutes=1))
    if len(times) <= ads.flood_messages_per_minute:
        return []
    warned: dict[tuple[str, str], datetime] = ctx.memory.setdefault("ads.flood_warned", {})
    _prune(warned, lambda ts: ctx.now - ts < FLOOD_REPEAT)
    last = warned.get(key)
    if last is not None and ctx.now - last < FLOOD_REPEAT:
        return []
    warned[key] = ctx.now
    count = len(times)
    evidence = _short(getattr(event, "text", event.type))
    return [reply(event, "ads/flood", ctx.render(ads.flood_warning, count=count), mention=True, count=count),
            *_report(ctx, "ads/flood", ctx.render(ads.flood_report, count=count, evidence=evidence),
                     {"event": event.id, "count": count})]


async def _raid(event: Event, ctx: Context) -> list[Action]:
    """Several new members posting the same text within the window: warn the group, tell operators."""
    ads = ctx.settings.ads
    assert event.type == "text" and event.group is not None and event.user is not None
    key_text = normalize_for_ads(event.text)
    # only the joins seen by this process: a raid is a matter of minutes, and every text passes here
    if len(key_text) < 4 or not await _is_new_member(event, ctx, ask_store=False):
        return []
    window = timedelta(minutes=ads.raid_window_minutes)
    posts: dict[tuple[str, str], dict[str, datetime]] = ctx.memory.setdefault("ads.raid", {})
    _prune(posts, lambda users: any(ctx.now - t <= window for t in users.values()))
    seen = posts.setdefault((event.group, key_text), {})
    seen[event.user] = ctx.now
    for user in [u for u, t in seen.items() if ctx.now - t > window]:
        del seen[user]
    if len(seen) != ads.raid_new_members:  # once, when the count is reached
        return []
    members = "、".join(sorted(seen))
    evidence = _short(event.text)
    return [Action(action="send", rule="ads/raid", group=event.group,
                   text=ctx.render(ads.raid_warning, count=len(seen)), data={"event": event.id, "count": len(seen)}),
            *_report(ctx, "ads/raid", ctx.render(ads.raid_report, count=len(seen), evidence=evidence, members=members),
                     {"event": event.id, "count": len(seen), "members": sorted(seen)})]


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.group is not None and event.user is not None
    if event.type == "join":
        joins = _recent_joins(ctx)
        joins[(event.group, event.user)] = event.ts
        horizon = ctx.now - timedelta(minutes=ctx.settings.ads.new_member_minutes)
        _prune(joins, lambda ts: ts >= horizon)
        return None
    if event.type == "red_packet":
        return await _red_packet(event, ctx)
    if _exempt(event, ctx):
        return None
    notes: list[Note] = []
    verdict = await _verdict(event, ctx, notes)
    if verdict is not None:
        notes.append(Note(rule=f"ads/{verdict.check}", reason=f"ad ({verdict.kind}): {_short(verdict.evidence, 80)}"))
        return Outcome(actions=tuple(await _offence(event, ctx, verdict)), notes=tuple(notes), stop=True)
    actions = _flood(event, ctx)
    if event.type == "text":
        actions += await _raid(event, ctx)
    return Outcome(actions=tuple(actions), notes=tuple(notes), stop=bool(actions))


_WATCHED = frozenset({"text", "image", "link", "mini_program", "contact_card", "red_packet", "join"})


def _matches(event: Event, ctx: Context) -> bool:
    return (event.type in _WATCHED and event.group is not None and ctx.group is not None
            and ctx.settings.ads.enabled)


HANDLER = Handler("ads", Band.MODERATION, handle, matches=_matches)
