"""`why`: tell which handlers and rules acted on an event and why, from the audit log."""

from __future__ import annotations

import json

from storage.audit import AuditLog
from storage.events import EventLog

REMOVED = {"retention": "（内容已过保留期限删除）", "erasure": "（内容已应成员要求删除）"}  # handlers/retention
STATUS = {"pending": "待发送", "sent": "已发送", "failed": "未能发送", "expired": "已过期未发",
          "dropped": "发送队列已满，已丢弃未发"}  # dropped: bot/outbox.py, with an outbox/dropped note


def _short(text: str, limit: int = 60) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def explain(events: EventLog, audit: AuditLog, event_id: str) -> str:
    """A few lines in Chinese-friendly plain text: the event, then each action and note recorded for it."""
    payload = await events.event_payload(event_id)
    if payload is None:
        return f"没有找到事件 {event_id}（未处理过，或记录已清理）"
    who = payload.get("user_name") or payload.get("user") or "-"
    what = payload.get("text") or payload.get("url") or payload.get("title") or payload.get("path") or ""
    gone = REMOVED.get(payload.get("removed"), "")
    lines = [f"事件 {event_id}：{payload.get('type')}，{who}，{payload.get('ts')}"
             + (f"：{_short(what)}" if what else "") + gone]
    rows = await audit.audit_of_event(event_id)
    if not rows:
        lines.append("- 没有规则对它采取动作")
    for row in rows:
        if row["action"] == "note":
            data = dict(row["data"])
            reason = data.pop("reason", "")
            extra = f" {json.dumps(data, ensure_ascii=False)}" if data else ""
            lines.append(f"- {row['rule']}：{reason}{extra}")
            continue
        body = row["body"] or {}
        facts = {k: v for k, v in (row["data"] or {}).items() if k != "event"}
        target = body.get("group") or body.get("user") or ""
        said = f"「{_short(body['text'])}」" if body.get("text") else ""
        lines.append(f"- {row['rule']} → {row['action']} {target} {said}".rstrip()
                     + (f" {json.dumps(facts, ensure_ascii=False)}" if facts else "")
                     + f"（{STATUS.get(row['status'], row['status'])}）")
    return "\n".join(lines)
