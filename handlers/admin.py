"""admin: owner commands. `/why EVENT_ID` tells which handlers and rules acted on an event and why."""

from __future__ import annotations

from bot.context import Context
from bot.core import Band, Handler
from bot.events import Event, Note, Outcome, reply
from bot.explain import explain

WHY = ("/why", "/为什么")


def _command(text: str) -> tuple[str, str] | None:
    parts = text.strip().split(maxsplit=1)
    if not parts or parts[0].lower() not in WHY:
        return None
    return parts[0].lower(), parts[1].strip() if len(parts) > 1 else ""


async def handle(event: Event, ctx: Context) -> Outcome | None:
    assert event.type == "text"
    parsed = _command(event.text)
    if parsed is None:
        return None
    _cmd, arg = parsed
    if not ctx.is_admin:
        return Outcome(notes=(Note(rule="admin/why", reason="asked by a member who is not an admin"),), stop=True)
    if not arg:
        return Outcome(actions=(reply(event, "admin/why", "用法：/why 事件ID"),), stop=True)
    text = await explain(ctx.store, arg.split()[0])
    return Outcome(actions=(reply(event, "admin/why", text, asked=arg.split()[0]),), stop=True)


def _matches(event: Event, _ctx: Context) -> bool:
    return event.type == "text" and event.text.lstrip().startswith("/")


HANDLER = Handler("admin", Band.COMMAND, handle, matches=_matches)
