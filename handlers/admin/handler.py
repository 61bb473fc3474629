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
    if not arg:
        return Outcome(actions=(reply(event, "admin/why", "用法：/why 事件ID"),), stop=True)
    text = await explain(ctx.repo.events, ctx.repo.audit, arg.split()[0])
    return Outcome(actions=(reply(event, "admin/why", text, asked=arg.split()[0]),), stop=True)


def _matches(event: Event, _ctx: Context) -> bool:
    return event.type == "text" and event.text.lstrip().startswith("/")


HANDLER = Handler("admin", Band.COMMAND, handle, matches=_matches)


async def _label(event: Event, ctx: Context, cmd: str, arg: str) -> Outcome:
    label = LABELS[cmd]
    target = arg.split()[0] if arg else ""
    payload = await ctx.repo.events.event_payload(target) if target else None
    if payload is None or not payload.get("text"):
        text = f"用法：{cmd} 事件ID（文字消息的事件ID，可用 /why 查到）" if not target else f"没有找到文字消息 {target}"
        return Outcome(actions=(reply(event, "admin/label", text),), stop=True)
    ctx.repo.ads.record_ad_sample(target, payload["text"], label, payload.get("group"), event.user, ctx.now)
    word = "广告" if label == "ad" else "正常消息"
    text = f"已记下：{target} 是{word}，重新训练后生效（qunbot train-ads）"
    return Outcome(actions=(reply(event, "admin/label", text, label=label, sample=target),), stop=True)
