"""`/playground`: try a message (or an image) as a member of a group, and see which handlers ran, the
actions they would take with their texts, and every check's reason (the notes `qunbot why` shows) —
with nothing stored and nothing sent.

A trial runs the real handler chain: a throwaway `Bot` (handlers.FEATURES, no release, so nothing is
sent, and commits switched off) with a driven clock at the console's now, over a throwaway store on
the console's database. It handles one synthetic event ("playground:<uuid>"); the action and note rows
it recorded are read back from the store's pending writes (a question sees them), then every pending
write is discarded (`Store.discard`: the transaction rolled back, the journal dropped) and the store
closed. The trial store is the console's own, apart from a running bot's store (another connection with
its own journal), so a trial never touches the bot's pending writes; it is not even the console's
long-lived store, so its discarded writes, caches and memory cannot mix with another page's.
An uploaded image is written to a temporary folder for the run only (the ads feature reads QR codes
from the event's `path`) and deleted after it.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from bot.clock import DrivenClock
from bot.context import Context
from bot.core import Bot
from bot.events import Event, Outcome, parse_event
from bot.feature import Handler
from bot.web.config_page import group_options
from bot.web.console import WebConsole
from bot.web.keys import CONSOLE
from bot.web.templating import render
from storage.store import Store

routes = web.RouteTableDef()

MAX_IMAGE_BYTES = 2 * 1024 * 1024  # the app's body limit (server.MAX_BODY) bounds the upload too
MAX_TEXT_CHARS = 10_000
MAX_ROSTER = 500
IMAGE_TYPES = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"), (b"GIF87a", ".gif"), (b"GIF89a", ".gif"),
               (b"BM", ".bmp"))


class Refused(ValueError):
    """A trial that cannot run as asked; the message says why, in Chinese."""


@dataclass
class Ran:
    """One handler that was asked (its `matches` let the event through): what it answered."""

    name: str
    feature: str
    actions: int = 0
    notes: int = 0
    stop: bool = False
    failed: bool = False


@dataclass
class Trial:
    """What a trial found: the handlers asked, the actions (with texts) and the notes it recorded."""

    event_id: str
    ran: list[Ran] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    handled: bool = True


class TrialBot(Bot):
    """A Bot that never commits (a full batch would otherwise commit it): its writes are discarded."""

    async def commit(self) -> None:
        return None


def image_suffix(data: bytes) -> str | None:
    """The file suffix of an image the QR reader takes (None: not one of them)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return next((suffix for magic, suffix in IMAGE_TYPES if data.startswith(magic)), None)


def _traced(handler: Handler, feature: str, ran: list[Ran]) -> Handler:
    """The handler with its answers noted in `ran` (the chain calls `handle` only when it matched)."""

    async def handle(event: Event, ctx: Context) -> Outcome | None:
        entry = Ran(handler.name, feature)
        ran.append(entry)
        try:
            outcome = await handler.handle(event, ctx)
        except Exception:
            entry.failed = True
            raise
        if outcome is not None:
            entry.actions, entry.notes, entry.stop = len(outcome.actions), len(outcome.notes), outcome.stop
        return outcome

    return dataclasses.replace(handler, handle=handle)


def _order(row: dict[str, Any]) -> tuple[int, int]:
    """Actions (<event>#n) before notes (<event>#note<n>), each in the order made."""
    tail = str(row["id"]).rsplit("#", 1)[-1]
    return (1, int(tail[4:] or 0)) if tail.startswith("note") else (0, int(tail or 0))


async def run_trial(console: WebConsole, event: Event) -> Trial:
    """Handle `event` on a throwaway store and bot, read what it recorded, and discard it all."""
    from handlers import FEATURES

    url = console.store.engine.url.render_as_string(hide_password=False)
    store = Store.from_url(url)
    await store.open()
    trial = Trial(event.id)
    try:
        bot = TrialBot(console.config, store, DrivenClock(console.now()), FEATURES, release=None)
        bot.chain = [(_traced(h, feature, trial.ran), repo, memory, feature) for h, repo, memory, feature in bot.chain]
        trial.handled = await bot.process(event)
        rows = sorted(await store.audit.audit_of_event(event.id), key=_order)
        trial.actions = [r for r in rows if r["action"] != "note"]
        trial.notes = [r for r in rows if r["action"] == "note"]
    finally:
        await store.discard()
        await store.close()
    return trial


def describe_action(row: dict[str, Any], groups: dict[str, str | None]) -> dict[str, Any]:
    """What the page shows of an action row: rule, kind, where to, text and facts."""
    body = row["body"] or {}
    where = body.get("group") or ""
    where = groups.get(where) or where if where else f"私信 {body.get('user') or ''}".strip()
    facts = {k: v for k, v in (row["data"] or {}).items() if k != "event"}
    text = body.get("text") or body.get("caption") or body.get("reason") or body.get("path") or ""
    return {"rule": row["rule"], "action": row["action"], "where": where, "text": text,
            "mentions": body.get("mentions") or [], "facts": facts}


def describe_note(row: dict[str, Any]) -> dict[str, Any]:
    data = dict(row["data"] or {})
    reason = data.pop("reason", "")
    return {"rule": row["rule"], "reason": reason, "facts": data}


# -- the page ----------------------------------------------------------------------------------------


def _field(form: Any, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


async def _member(console: WebConsole, group: str, picked: str, typed: str) -> tuple[str, str | None]:
    """The member to speak as: the one typed (an id, or a display name of one present member), else the one
    picked from the roster."""
    members = console.store.members
    wanted = typed or picked
    if not wanted:
        raise Refused("请选一位成员，或填写成员 id / 群昵称")
    known = await members.member(group, wanted)
    if known is not None:
        return wanted, known.display_name
    if typed:
        found = await members.find_members(group, typed)
        if len(found) > 1:
            raise Refused(f"群里有不止一位叫「{typed}」的成员：请从名单里选，或填写成员 id")
        if found:
            return found[0], typed
    return wanted, None  # a member the roster does not know (yet): a newcomer's first message


async def _image(form: Any) -> bytes | None:
    upload = form.get("image")
    if upload is None or isinstance(upload, str) or not getattr(upload, "filename", ""):
        return None
    data = upload.file.read(MAX_IMAGE_BYTES + 1)
    if not data:
        return None
    if len(data) > MAX_IMAGE_BYTES:
        raise Refused(f"图片太大：最多 {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if image_suffix(data) is None:
        raise Refused("只能上传 JPG、PNG、GIF、WEBP 或 BMP 图片")
    return data


async def _context(console: WebConsole, group: str) -> dict[str, Any]:
    named = await console.store.members.groups_named()
    groups = group_options(named)
    roster = await console.store.members.present_members(group, MAX_ROSTER) if group in named else []
    roster = sorted(roster, key=lambda m: (m[1] or m[0]))
    return {"groups": groups, "named": named, "group": group if group in named else "", "roster": roster,
            "roster_limit": MAX_ROSTER}


@routes.get("/playground")
async def playground(request: web.Request) -> web.Response:
    console: WebConsole = request.app[CONSOLE]
    context = await _context(console, request.query.get("group", ""))
    empty = {"member": "", "who": "", "name": "", "text": ""}
    return render(request, "playground.html", form=empty, trial=None, error=None, **context)


@routes.post("/playground")
async def try_message(request: web.Request) -> web.Response:
    console: WebConsole = request.app[CONSOLE]
    form = await request.post()
    context = await _context(console, _field(form, "group"))
    kept = {"member": _field(form, "member", 128), "who": _field(form, "who", 128), "name": _field(form, "name"),
            "text": form.get("text") if isinstance(form.get("text"), str) else ""}
    kept["text"] = str(kept["text"]).replace("\r\n", "\n")
    trial: Trial | None = None
    error: str | None = None
    folder: Path | None = None
    try:
        group = context["group"]
        if not group:
            raise Refused("请先选一个群")
        user, known_name = await _member(console, group, kept["member"], kept["who"])
        image = await _image(form)
        text = kept["text"]
        if image is not None and text.strip():
            raise Refused("一次只试一样：文字或图片")
        if image is None and not text.strip():
            raise Refused("请输入一条消息，或上传一张图片")
        if len(text) > MAX_TEXT_CHARS:
            raise Refused(f"消息太长：最多 {MAX_TEXT_CHARS} 字")
        base = {"id": f"playground:{uuid.uuid4()}", "ts": console.now(), "group": group,
                "group_name": context["named"].get(group), "user": user,
                "user_name": kept["name"] or known_name or user}
        if image is not None:
            folder = Path(tempfile.mkdtemp(prefix="qunbot-playground-"))
            path = folder / f"upload{image_suffix(image)}"
            path.write_bytes(image)
            event = parse_event({**base, "type": "image", "path": str(path)})
        else:
            event = parse_event({**base, "type": "text", "text": text})
        trial = await run_trial(console, event)
    except Refused as exc:
        error = str(exc)
    except ValidationError as exc:
        error = "这条消息不能作为事件：" + "；".join(str(e["msg"]) for e in exc.errors(include_url=False))[:300]
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    shown = None
    if trial is not None:
        shown = {"trial": trial, "actions": [describe_action(r, context["named"]) for r in trial.actions],
                 "notes": [describe_note(r) for r in trial.notes]}
    return render(request, "playground.html", status=400 if error else 200, form=kept, trial=shown, error=error,
                  **context)
