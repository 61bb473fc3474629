"""The application keys the console's pieces share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.web.console import WebConsole
    from bot.web.security import Session

CONSOLE: web.AppKey[WebConsole] = web.AppKey("console")
SESSION: web.RequestKey[Session | None] = web.RequestKey("session")
SESSION_COOKIE = "qunbot_session"
LOGIN_COOKIE = "qunbot_login"  # the sign-in form's own CSRF value (before there is a session)
