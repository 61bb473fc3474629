"""The admin handler: /why, /ad and /notad, for the group's admins and operators only."""

from __future__ import annotations

from bot.context import Context
from bot.events import Event, Note, Outcome, reply
from bot.explain import explain
from bot.feature import Band, Handler

WHY = ("/why", "/为什么")
LABELS = {"/ad": "ad", "/广告": "ad", "/notad": "ham", "/不是广告": "ham"}


def _command(text: str) -> tuple[str, str] | None:
    parts = text.strip().split(maxsplit=1)
    if not parts or (parts[0].lower() not in WHY and parts[0].lower() not in LABELS):
        return None
    return parts[0].lower(), parts[1].strip() if len(parts) > 1 else ""


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.type == "text"
    parsed = _command(event.text)
    if parsed is None:
        return None
    cmd, arg = parsed
    if not ctx.is_admin:
        return Outcome(notes=(Note(rule="admin", reason=f"{cmd} asked by a member who is not an admin"),), stop=True)
    if cmd in LABELS:
        return await _label(event, ctx, cmd, arg)
    target = arg.split()[0] if arg else await ctx.repo.audit.last_acted_event(event.group or "")
    if target is None:
        text = "本群还没有机器人处理过的消息。用法：/why [事件ID]"
        return Outcome(actions=(reply(event, "admin/why", text),), stop=True)
    refused = await _other_group(event, ctx, target)
    if refused is not None:
        return refused
    text = await explain(ctx.repo.events, ctx.repo.audit, target)
    if not arg:
        text = f"机器人在本群最近一次处理的消息：\n{text}\n（标记：/ad {target} 是广告，/notad {target} 不是广告）"
    return Outcome(actions=(reply(event, "admin/why", text, asked=target),), stop=True)


async def _other_group(event: Event, ctx: Context, target: str) -> Outcome | None:
    """An admin of this group may look into (and label) events of this group, or of groups where they
    are an admin too: never another group's messages into this one."""
    payload = await ctx.repo.events.event_payload(target)
    group = payload.get("group") if payload else None
    if group is None or group == event.group:
        return None
    settings = ctx.config.group(group, payload.get("group_name")).settings
    if event.user in settings.admins or event.user in settings.operators:
        return None
    return Outcome(actions=(reply(event, "admin/why", f"事件 {target} 不是本群的消息，你也不是那个群的管理员"),),
                   notes=(Note(rule="admin", reason=f"{event.user} asked about {target} of group {group}: refused"),),
                   stop=True)


def _matches(event: Event, _ctx: Context) -> bool:
    return event.type == "text" and event.text.lstrip().startswith("/")


HANDLER = Handler("admin", Band.COMMAND, handle, matches=_matches)


async def _label(event: Event, ctx: Context, cmd: str, arg: str) -> Outcome:
    label = LABELS[cmd]
    target = arg.split()[0] if arg else ""
    refused = await _other_group(event, ctx, target) if target else None
    if refused is not None:
        return refused
    payload = await ctx.repo.events.event_payload(target) if target else None
    if payload is None or not payload.get("text"):
        text = f"用法：{cmd} 事件ID（文字消息的事件ID，可用 /why 查到）" if not target else f"没有找到文字消息 {target}"
        return Outcome(actions=(reply(event, "admin/label", text),), stop=True)
    ctx.repo.ads.record_ad_sample(target, payload["text"], label, payload.get("group"), event.user, ctx.now)
    word = "广告" if label == "ad" else "正常消息"
    text = f"已记下：{target} 是{word}，重新训练后生效（qunbot train-ads）"
    return Outcome(actions=(reply(event, "admin/label", text, label=label, sample=target),), stop=True)
