"""`/moderation`: the messages the bot flagged as ads (ad offences), newest first, 50 a page, filtered by
group and kind. Each row: the message (as text), the checks' scores and reasons (the audit rows `qunbot why`
shows), whether a red packet excused it or the console undid it, and an owner's label.

Buttons: 是广告 / 不是广告 record a sample as /ad and /notad do (what `qunbot train-ads` learns from);
撤销警告 marks the offence excused by "web:undo", so it no longer counts as a warning (the warning count and
the red packet both look only at offences no one excused). Every write leaves an audit note (rule
admin/web) and answers with a redirect to the same filtered page. Four queries a page, whatever its size.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.events import Action
from bot.explain import REMOVED, STATUS
from bot.web.console import WebConsole
from bot.web.keys import CONSOLE
from bot.web.templating import render
from handlers.ads.repository import AdsRepository
from storage.store import Store

routes = web.RouteTableDef()

PAGE = 50
MAX_PAGES = 10_000
KINDS = {"text": "文字", "link": "链接", "qrcode": "二维码", "card": "名片", "mini_program": "小程序"}
LABELS = {"ad": "广告", "ham": "不是广告"}
BY = "web console"  # decided_by of the console's samples, data.by of its notes
UNDONE = "web:undo"  # excused_by of an offence the console undid (otherwise the red packet's event id)
RULE = "admin/web"
DONE = {"ad": "已记为广告，重新训练后生效（qunbot train-ads）",
        "ham": "已记为不是广告，重新训练后生效（qunbot train-ads）",
        "undo": "已撤销这次警告：它不再计入该成员的广告次数", "already": "这条已经不计入警告了",
        "gone": "没有找到这条广告记录", "no_text": "这条不是文字消息（或内容已删除），不能作为训练样本"}


@dataclass(frozen=True)
class Filters:
    """The queue's filter and page, read from a query string or a form."""

    group: str = ""
    kind: str = ""
    page: int = 1

    @classmethod
    def read(cls, source: Mapping[str, Any]) -> Filters:
        kind = str(source.get("kind", ""))
        try:
            page = min(MAX_PAGES, max(1, int(str(source.get("page", "1")))))
        except ValueError:
            page = 1
        return cls(str(source.get("group", "")).strip()[:128], kind if kind in KINDS else "", page)

    def url(self, **changes: Any) -> str:
        """The queue's address with these filters (and `changes`: another page, a `done` message)."""
        values = {"group": self.group, "kind": self.kind, "page": self.page, **changes}
        query = urlencode({k: v for k, v in values.items() if v and not (k == "page" and v == 1)})
        return "/moderation" + (f"?{query}" if query else "")


def shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message_text(payload: dict[str, Any] | None, evidence: str) -> str:
    """What the member sent, as plain text (an image or card: what the bot found in it)."""
    if payload is None:
        return f"（事件记录已清理）{shorten(evidence)}"
    if payload.get("removed"):
        return REMOVED.get(payload["removed"], "（内容已删除）")
    what = payload.get("text") or payload.get("url") or payload.get("title") or payload.get("card_name") or ""
    if payload.get("type") == "image" or not what:
        what = f"[{payload.get('type', '?')}] {evidence}"
    return shorten(str(what))


def checks(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit rows of an event as lines: first the notes (each check's rule, score and reason), then the
    actions (rule, what, delivery state, the warning's number)."""
    notes: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for row in rows:
        data = row["data"] or {}
        if row["action"] == "note":
            notes.append({"rule": row["rule"], "score": data.get("score"),
                          "reason": shorten(str(data.get("reason", ""))), "by": data.get("by")})
            continue
        facts = [f"第 {data['warnings']} 次警告"] if "warnings" in data else []
        facts += [f"总分 {data['score']}"] if "score" in data else []
        what = f"→ {row['action']}（{STATUS.get(row['status'], row['status'])}）" + "".join(f"，{x}" for x in facts)
        actions.append({"rule": row["rule"], "score": None, "reason": what, "by": data.get("by")})
    return notes + actions


def web_note(event_id: str, group: str | None, user: str | None, now: datetime, reason: str,
             **data: Any) -> dict[str, Any]:
    """An audit note (the shape of bot.audit.note_rows) about what the console did to an event."""
    return {"id": f"{event_id}#web-{uuid.uuid4().hex[:12]}", "ts": now, "event_id": event_id, "action": "note",
            "rule": RULE, "group_id": group, "user_id": user, "data": {"reason": reason, "by": BY, **data},
            "body": {}, "status": "note", "sent_at": None}


def state(excused_by: str | None) -> str:
    if excused_by is None:
        return "计入警告"
    return "已撤销（后台）" if excused_by == UNDONE else "红包已抵"


async def queue_rows(console: WebConsole, f: Filters) -> tuple[list[dict[str, Any]], int]:
    """A page of the queue (one query), its events' audit rows (one query) and how many match (one)."""
    ads = console.repo(AdsRepository)
    total = await ads.offence_count(f.group or None, f.kind or None)
    rows = await ads.offence_page(f.group or None, f.kind or None, limit=PAGE, offset=(f.page - 1) * PAGE)
    audit = await console.store.audit.audit_of_events([r["event_id"] for r in rows])
    for r in rows:
        payload = r["payload"] if isinstance(r["payload"], dict) else None
        r["group_name"] = r["group_name"] or r["group_id"]
        r["member"] = r["display_name"] or (payload or {}).get("user_name") or r["user_id"]
        r["message"] = message_text(payload, r["evidence"])
        r["labellable"] = bool(payload and payload.get("text") and not payload.get("removed"))
        r["checks"] = checks(audit.get(r["event_id"], []))
        r["state"] = state(r["excused_by"])
        r["kind_label"] = KINDS.get(r["kind"], r["kind"])
    return rows, total


@routes.get("/moderation")
async def moderation(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    f = Filters.read(request.query)
    groups = await console.store.members.groups_named()
    rows, total = await queue_rows(console, f)
    pages = max(1, -(-total // PAGE))
    return render(request, "moderation.html", rows=rows, total=total, f=f, kinds=KINDS, labels=LABELS,
                  groups=sorted(((g, n or g) for g, n in groups.items()), key=lambda x: x[1]),
                  done=DONE.get(request.query.get("done", "")), pages=pages,
                  newer=f.url(page=f.page - 1) if f.page > 1 else None,
                  older=f.url(page=f.page + 1) if f.page < pages else None)


def _back(f: Filters, done: str, event_id: str) -> web.HTTPFound:
    return web.HTTPFound(f"{f.url(done=done)}#e-{quote(event_id, safe='')}")


async def _form(request: web.Request) -> tuple[Filters, str, Mapping[str, Any]]:
    form = await request.post()
    return Filters.read(form), str(form.get("event", ""))[:256], form


@routes.post("/moderation/label")
async def label(request: web.Request) -> web.StreamResponse:
    """是广告 / 不是广告: an owner's sample, as /ad and /notad record it."""
    console = request.app[CONSOLE]
    f, event_id, form = await _form(request)
    decision = str(form.get("label", ""))
    if decision not in LABELS:
        raise web.HTTPBadRequest(text="label 只能是 ad 或 ham")
    payload = await console.store.events.event_payload(event_id) if event_id else None
    if not payload or not payload.get("text") or payload.get("removed"):
        raise _back(f, "no_text", event_id)
    now, text, group, user = console.now(), str(payload["text"]), payload.get("group"), payload.get("user")

    def work(store: Store) -> list[tuple[str, Action]]:
        store.repository(AdsRepository).record_ad_sample(event_id, text, decision, group, BY, now)
        store.audit.record_actions([web_note(event_id, group, user, now,
                                             f"labelled {'an ad' if decision == 'ad' else 'not an ad'} by web console "
                                             f"(a sample for train-ads)", label=decision)])
        return []

    await console.write(work)
    raise _back(f, decision, event_id)


@routes.post("/moderation/undo")
async def undo(request: web.Request) -> web.StreamResponse:
    """撤销警告: the offence stops counting as a warning (excused by "web:undo")."""
    console = request.app[CONSOLE]
    f, event_id, _ = await _form(request)
    offence = await console.repo(AdsRepository).ad_offence(event_id) if event_id else None
    if offence is None:
        raise _back(f, "gone", event_id)
    if offence["excused_by"] is not None:
        raise _back(f, "already", event_id)
    now = console.now()

    def work(store: Store) -> list[tuple[str, Action]]:
        store.repository(AdsRepository).excuse_ad_offence(event_id, UNDONE)
        store.audit.record_actions([web_note(event_id, offence["group_id"], offence["user_id"], now,
                                             "ad warning undone by web console: it no longer counts",
                                             kind=offence["kind"], check=offence["check"])])
        return []

    await console.write(work)
    raise _back(f, "undo", event_id)
