"""Pages from Jinja2 templates (bot/web/templates), autoescaped: whatever members wrote (names, group
names, messages) appears as text, never as markup."""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import cache
from typing import Any

import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from bot.web.keys import CONSOLE, SESSION

NAV = (("/", "总览"), ("/moderation", "广告审核"), ("/config", "配置"), ("/playground", "规则试验"),
       ("/audit", "审计日志"))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("bot.web", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["sparkline"] = sparkline
    env.filters["pct"] = lambda v: "-" if v is None else f"{100 * v:.0f}%"
    return env


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    """A page: `template` with the context, the CSRF token of the session and the navigation."""
    session = request.get(SESSION)
    console = request.app[CONSOLE]
    tz = console.config.tz
    html = environment().get_template(template).render(
        csrf=session.csrf if session else "", nav=NAV, path=request.path, signed_in=session is not None,
        bot_name=console.config.model.bot.name, local=lambda t, fmt="%m-%d %H:%M": local_time(t, tz, fmt),
        **context)
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


def local_time(value: datetime | None, tz: tzinfo, fmt: str = "%m-%d %H:%M") -> str:
    return "-" if value is None else value.astimezone(tz).strftime(fmt)


def sparkline(values: list[int], width: int = 120, height: int = 24) -> Markup:
    """Numbers as a small inline SVG line (numbers only go in: nothing a member wrote)."""
    if not values:
        return Markup("")
    top = max(values) or 1
    step = width / max(1, len(values) - 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))
    label = escape("、".join(str(int(v)) for v in values))
    return Markup(f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                  f'role="img" aria-label="{label}"><polyline fill="none" stroke="currentColor" stroke-width="1.5" '
                  f'points="{points}"/></svg>')
