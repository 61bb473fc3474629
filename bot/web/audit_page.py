"""`/audit`: the audit log (actions and notes), newest first, 100 a page (keyset on (ts, id): a page costs
the same deep in a big table), filtered by group, rule prefix ("ads", "purge_report/web"), member (the
action's target or the event's sender) and a range of local dates (in the bot's time zone, both included).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.explain import STATUS
from bot.web.keys import CONSOLE
from bot.web.templating import render

routes = web.RouteTableDef()

PAGE = 100
ACTIONS = {"note": "备注", "send": "发消息", "send_image": "发图片", "send_file": "发文件", "kick": "移出群",
           "recall": "撤回", "notify_admins": "通知管理员"}
STATES = {**STATUS, "note": "-"}


def shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _date(value: str, label: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{label}日期看不懂：请用 年-月-日，例如 2026-11-05")
        return None


def _cursor(value: str) -> tuple[datetime, str] | None:
    """A page's start: the (ts, id) of the previous page's last row, as "ISO time|id"."""
    ts, sep, action_id = value.partition("|")
    try:
        when = datetime.fromisoformat(ts)
    except ValueError:
        return None
    return (when, action_id) if sep and action_id and when.tzinfo is not None else None


@dataclass
class Filters:
    """The log's filter and page start, read from the query string (wrong dates are reported, not used)."""

    group: str = ""
    rule: str = ""
    member: str = ""
    start: date | None = None
    end: date | None = None
    before: tuple[datetime, str] | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, query: Mapping[str, str]) -> Filters:
        errors: list[str] = []
        start = _date(query.get("from", "").strip(), "开始", errors)
        end = _date(query.get("to", "").strip(), "结束", errors)
        return cls(query.get("group", "").strip()[:128], query.get("rule", "").strip()[:200],
                   query.get("member", "").strip()[:128], start, end, _cursor(query.get("before", "")), errors)

    def bounds(self, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
        """[since, until): from the start of the first local day to the end of the last one."""
        since = datetime.combine(self.start, time.min, tz) if self.start else None
        until = datetime.combine(self.end + timedelta(days=1), time.min, tz) if self.end else None
        return since, until

    def url(self, before: str | None = None) -> str:
        values = {"group": self.group, "rule": self.rule, "member": self.member,
                  "from": self.start.isoformat() if self.start else "", "to": self.end.isoformat() if self.end else "",
                  "before": before or ""}
        query = urlencode({k: v for k, v in values.items() if v})
        return "/audit" + (f"?{query}" if query else "")

    @property
    def filtered(self) -> bool:
        return bool(self.group or self.rule or self.member or self.start or self.end)


def describe_row(row: dict[str, Any]) -> dict[str, Any]:
    """What the table shows of an audit row (text as text: the template escapes it)."""
    data, body = row["data"] or {}, row["body"] or {}
    if row["action"] == "note":
        text = str(data.get("reason", ""))
    else:
        text = str(body.get("text") or body.get("reason") or data.get("reason") or body.get("path") or "")
    return {**row, "action_label": ACTIONS.get(row["action"], row["action"]),
            "state": STATES.get(row["status"], row["status"]), "text": shorten(text),
            "group_label": row["group_name"] or row["group_id"] or "-", "by": data.get("by")}


@routes.get("/audit")
async def audit(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    f = Filters.read(request.query)
    since, until = f.bounds(console.config.tz)
    rows = await console.store.audit.search(group=f.group or None, rule=f.rule or None, member=f.member or None,
                                            since=since, until=until, before=f.before, limit=PAGE + 1)
    older = None
    if len(rows) > PAGE:
        rows = rows[:PAGE]
        last = rows[-1]
        older = f.url(before=f"{last['ts'].isoformat()}|{last['id']}")
    groups = await console.store.members.groups_named()
    return render(request, "audit.html", rows=[describe_row(r) for r in rows], f=f, older=older,
                  newest=f.url() if f.before else None,
                  groups=sorted(((g, n or g) for g, n in groups.items()), key=lambda x: x[1]))
