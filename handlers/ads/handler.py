"""The ads handler: decide whether a message is an ad (text checks, shared links, mini-programs,
contact cards, QR codes in images), prompt for a red packet, count warnings and remove or report
repeat offenders; a red packet settles the open offence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from bot.context import Context
from bot.events import OTHERWISE, THEN, Action, Event, Note, Outcome, reply
from bot.feature import Band, Handler
from handlers.ads.ahead import AHEAD, Spec
from handlers.ads.detector import CheckResult, TextDetector
from handlers.ads.folds import normalize_for_ads
from handlers.ads.guards import cross_posts, flood, is_new_member, prune, raid, recent_joins, short, tell_operators
from handlers.ads.model import load_model
from handlers.ads.patterns import RE_PROMO
from handlers.ads.qrcode import QR_KINDS, qr_kind, scan_image
from handlers.ads.settings import AdsSettings
from rules.config import Config
from rules.names import ad_like_name


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
    cache = ctx.config.cache
    fast = ("ads.detector.of", id(ads))  # the settings object lives as long as the config (and its cache)
    found = cache.get(fast)
    if found is None:
        key = ("ads.detector", tuple(sorted(ads.pitch_words.items())), ads.allow_domains, ads.chat_model)
        found = cache.get(key)
        if found is None:
            found = cache[key] = TextDetector(ads.pitch_words, ads.allow_domains,
                                              load_model(ctx.config.model.bot.ad_model), chat=ads.chat_model)
        cache[fast] = found
    return found


def _spec(config: Config, ads: AdsSettings) -> Spec:
    """What a worker needs to build the same detector as `detector` (see ahead.py)."""
    key = ("ads.spec.of", id(ads))
    found = config.cache.get(key)
    if found is None:
        found = config.cache[key] = (tuple(sorted(ads.pitch_words.items())), tuple(ads.allow_domains),
                                     config.model.bot.ad_model, ads.chat_model)
    return found


def read_ahead(events: Sequence[Event], config: Config) -> None:
    """Have the texts of the events a replay handles next scored by the worker meanwhile (ahead.py);
    no events: the replay is over, the worker stops."""
    if not events:
        AHEAD.close()
        return
    texts: dict[Spec, list[str]] = {}
    for event in events:
        if event.type == "text" and event.group is not None:
            ads = config.group(event.group, event.group_name).settings.ads
            if ads.enabled:
                texts.setdefault(_spec(config, ads), []).append(event.text)
    for spec, batch in texts.items():
        AHEAD.submit(spec, batch)


def _score(ctx: Context, text: str) -> tuple[float, str | None, list[CheckResult], str | None]:
    """The detector's (total, kind, results), and the normal form when the worker gave it."""
    ahead = AHEAD.take(_spec(ctx.config, ctx.settings.ads), text)
    if ahead is not None:
        return ahead[0], ahead[1], list(ahead[2]), ahead[3]
    return (*detector(ctx).score(text), None)


def _exempt(event: Event, ctx: Context) -> bool:
    ads = ctx.settings.ads
    return ctx.is_admin or event.user in ads.allow_members


def _domain_allowed(url: str, ads: AdsSettings) -> bool:
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in (x.lower().lstrip(".") for x in ads.allow_domains))


async def _text_verdict(event: Event, ctx: Context, text: str, notes: list[Note]) -> Verdict | None:
    ads = ctx.settings.ads
    total, kind, results, key = _score(ctx, text)
    others = cross_posts(event, ctx, text, key) if event.type == "text" else 0
    if others and total > 0:
        # the same text pasted into several groups within minutes: strong, but never a verdict alone
        extra = ads.cross_group_weight * min(others, 2)
        total = round(total + extra, 3)
        notes.append(Note(rule="ads/cross_group", reason=f"同样的内容 {ads.cross_group_minutes} 分钟内也发在另外 "
                                                         f"{others} 个群", data={"score": extra, "groups": others}))
    if total > 0 and ads.ad_name_weight and ad_like_name(event.user_name):
        # an ad for a name (兼职日结加V…) next to a message that already looks like one: more so
        total = round(total + ads.ad_name_weight, 3)
        notes.append(Note(rule="ads/name", reason="昵称像广告（联系方式或推销词）", data={"score": ads.ad_name_weight}))
    if total <= 0:
        return None
    for r in results:
        if r.score > 0:
            notes.append(Note(rule=f"ads/{r.check}", reason=r.reason, data={"score": round(r.score, 3),
                                                                             "evidence": r.evidence[:200]}))
    threshold = ads.threshold
    if total < threshold and total >= ads.new_member_threshold and await is_new_member(event, ctx):
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
        codes = [t for t in scan.texts if not ads.qrcode.allows(t)]
        if scan.texts and not codes:
            notes.append(Note(rule="ads/qrcode", reason="allowed QR code (qrcode.allow_urls)",
                              data={"qr": scan.texts[0][:200]}))
        if codes:
            kind = qr_kind(codes[0])
            notes.append(Note(rule="ads/qrcode", reason=f"QR code: {QR_KINDS[kind]}", data={"qr_kind": kind}))
            return Verdict(check="qrcode", kind="qrcode", evidence=codes[0][:300])
    return None


async def _offence(event: Event, ctx: Context, verdict: Verdict) -> list[Action]:
    ads = ctx.settings.ads
    assert event.group is not None and event.user is not None
    since = ctx.now - timedelta(days=ads.warning_days)
    warnings = await ctx.repo.ad_warnings(event.group, event.user, since) + 1
    ctx.repo.record_ad_offence(event.id, event.group, event.user, event.ts, verdict.kind, verdict.check,
                                verdict.evidence)
    rule = f"ads/{verdict.check}"
    facts = {"kind": verdict.kind, "warnings": warnings, "score": round(verdict.score, 3)}
    if warnings < ads.max_warnings:
        template = ads.final_warning if warnings == ads.max_warnings - 1 else ads.prompt
        text = ctx.render(template, kind=verdict.kind, warnings=warnings, max_warnings=ads.max_warnings)
        return [reply(event, rule, text, mention=True, **facts)]
    evidence = verdict.evidence if verdict.kind != "text" else short(getattr(event, "text", verdict.evidence))

    def report(action: str) -> list[Action]:
        text = ctx.render(ads.report, kind=verdict.kind, warnings=warnings, evidence=evidence, action=action)
        return tell_operators(ctx, rule, text, {"event": event.id, **facts})

    if ads.on_limit != "kick":
        return report("请管理员处理")
    # what the group and the operators hear is decided by the platform's answer to the removal
    removed = [reply(event, rule, ctx.render(ads.removal_notice, warnings=warnings), **facts),
               *report(ads.removed_action)]
    failed = [reply(event, rule, ctx.render(ads.removal_failed_notice, warnings=warnings), removed=False, **facts),
              *report(ads.removal_failed_action)]
    return [Action(action="kick", rule=rule, group=event.group, user=event.user,
                   reason=f"广告 {warnings} 次（{verdict.kind}）",
                   data={"event": event.id, **facts, "user_name": event.user_name, "group_name": event.group_name,
                         THEN: [a.model_dump(mode="json", exclude_none=True) for a in removed],
                         OTHERWISE: [a.model_dump(mode="json", exclude_none=True) for a in failed]})]


async def _red_packet(event: Event, ctx: Context) -> Outcome | None:
    ads = ctx.settings.ads
    assert event.group is not None and event.user is not None
    since = ctx.now - timedelta(minutes=ads.red_packet_window_minutes)
    open_offence = await ctx.repo.open_ad_offence(event.group, event.user, since)
    if open_offence is None:
        return None
    ctx.repo.excuse_ad_offence(open_offence["event_id"], event.id)
    warnings = await ctx.repo.ad_warnings(event.group, event.user, ctx.now - timedelta(days=ads.warning_days))
    text = ctx.render(ads.thanks)
    return Outcome(actions=(reply(event, f"ads/{open_offence['check']}", text, mention=True,
                                  kind=open_offence["kind"], excused=True, offence=open_offence["event_id"],
                                  warnings=warnings),))


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.group is not None and event.user is not None
    if event.type == "join":
        joins = recent_joins(ctx)
        joins[(event.group, event.user)] = event.ts
        horizon = ctx.now - timedelta(minutes=ctx.settings.ads.new_member_minutes)
        prune(joins, lambda ts: ts >= horizon)
        return None
    if event.type == "red_packet":
        return await _red_packet(event, ctx)
    if _exempt(event, ctx):
        return None
    notes: list[Note] = []
    verdict = await _verdict(event, ctx, notes)
    if verdict is not None:
        notes.append(Note(rule=f"ads/{verdict.check}", reason=f"ad ({verdict.kind}): {short(verdict.evidence, 80)}"))
        return Outcome(actions=tuple(await _offence(event, ctx, verdict)), notes=tuple(notes), stop=True)
    actions, flooding = flood(event, ctx)
    if flooding is not None:  # warned already: no handler answers the rest of the flood
        return Outcome(notes=(*notes, flooding), stop=True)
    if event.type == "text":
        actions += await raid(event, ctx, lambda text: RE_PROMO.search(normalize_for_ads(text)) is not None
                              or _score(ctx, text)[0] > 0)
    return Outcome(actions=tuple(actions), notes=tuple(notes), stop=bool(actions))


_WATCHED = frozenset({"text", "image", "link", "mini_program", "contact_card", "red_packet", "join"})


def _matches(event: Event, ctx: Context) -> bool:
    return (event.type in _WATCHED and event.group is not None and ctx.group is not None
            and ctx.settings.ads.enabled)


HANDLER = Handler("ads", Band.MODERATION, handle, matches=_matches)
