"""The console's aiohttp application: sign-in, the guard in front of every page, and serving it.

Every page but /login needs a session: pages redirect to /login, CSV/JSON answers 401. Every POST
carries the session's CSRF token (the sign-in form its own), else 403. Answers carry a strict
Content-Security-Policy (no script but our own files, none inline) and are not cached.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from bot.web import audit_page, config_page, group_page, moderation, overview, playground
from bot.web.console import WebConsole
from bot.web.keys import CONSOLE, LOGIN_COOKIE, SESSION, SESSION_COOKIE
from bot.web.security import csrf_matches, token_matches
from bot.web.templating import render

log = logging.getLogger("qunbot.web")

LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
MAX_BODY = 2 * 1024 * 1024  # a config file or a pasted message; images are limited by the playground
MAX_FIELDS = 50_000  # a purge list of a big group, one checkbox a member (the body limit still holds)
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
PUBLIC_PATHS = frozenset({"/login", "/favicon.ico", "/healthz", "/metrics"})  # the last two: operations.py
DATA_SUFFIXES = (".csv", ".json", ".png", ".svg")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _wants_data(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return request.path.endswith(DATA_SUFFIXES) or ("application/json" in accept and "text/html" not in accept)


def _local_path(value: str | None) -> str:
    """Where to go after signing in: only a path of this site (never //host or a scheme)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException):
        raise response
    return response


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    console = request.app[CONSOLE]
    session = console.sessions.get(request.cookies.get(SESSION_COOKIE))
    request[SESSION] = session
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    if session is None:
        if _wants_data(request) or request.method != "GET":
            raise web.HTTPUnauthorized(text="请先登录运营后台")
        raise web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))
    if request.method == "POST":
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise web.HTTPRequestEntityTooLarge(MAX_BODY, text=f"提交的内容超过 {MAX_BODY // (1024 * 1024)} MB 的上限："
                                                                "图片请压缩后再试，配置请精简") from None
        if not csrf_matches(form.get("csrf"), session.csrf):  # type: ignore[arg-type]
            raise web.HTTPForbidden(text="请求缺少有效的 CSRF 令牌：请刷新页面后重试")
    await console.store.refresh()
    return await handler(request)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An unexpected error is logged (without the request body) and shown as one plain line."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("web console: %s %s failed", request.method, request.path)
        return web.Response(status=500, text="出错了：这个页面没能打开，详情见机器人日志。", charset="utf-8")


routes = web.RouteTableDef()


@routes.get("/login")
async def login_form(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    import secrets

    value = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", status=status, error=error,
                      next=_local_path(request.query.get("next")), login_csrf=value)
    response.set_cookie(LOGIN_COOKIE, value, httponly=True, samesite="Strict", path="/login",
                        secure=request.app[CONSOLE].settings.secure_cookie)
    return response


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    form = await request.post()
    if not csrf_matches(form.get("csrf"), request.cookies.get(LOGIN_COOKIE, "")):  # type: ignore[arg-type]
        raise web.HTTPForbidden(text="登录表单已过期：请刷新页面后重试")
    client = request.remote or "?"
    wait = console.limiter.blocked_for(client)
    if wait > 0:
        return await login_form(request, error=f"失败次数太多，请 {int(wait) + 1} 秒后再试", status=429)
    if not token_matches(str(form.get("token", "")), console.token):
        console.limiter.failed(client)
        log.warning("web console: a failed sign-in from %s", client)
        return await login_form(request, error="口令不对", status=401)
    console.limiter.succeeded(client)
    session = console.sessions.create()
    response = web.HTTPFound(_local_path(str(form.get("next", "/"))))
    response.set_cookie(SESSION_COOKIE, session.id, httponly=True, samesite="Strict", path="/",
                        max_age=int(console.sessions.lifetime), secure=console.settings.secure_cookie)
    response.del_cookie(LOGIN_COOKIE, path="/login")
    raise response


@routes.get("/favicon.ico")
async def favicon(_request: web.Request) -> web.Response:
    return web.Response(status=204)  # no icon: browsers ask anyway


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    request.app[CONSOLE].sessions.end(request.cookies.get(SESSION_COOKIE))
    response = web.HTTPFound("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def make_app(console: WebConsole) -> web.Application:
    """The console as an aiohttp application."""
    app = web.Application(middlewares=[headers, errors, guard], client_max_size=MAX_BODY,
                          client_max_fields=MAX_FIELDS)
    app[CONSOLE] = console
    app.add_routes(routes)
    for page in (overview, group_page, moderation, config_page, playground, audit_page):
        app.add_routes(page.routes)
    if console.ops is not None:  # inside `qunbot run`: /healthz, and /metrics with the token (or a session)
        from bot.web.operations import add_routes

        add_routes(app, console.ops, console.token)
    else:  # `qunbot web` alone: no bot here to measure, only whether its database answers
        app.router.add_get("/healthz", console_healthz)
    return app


async def console_healthz(request: web.Request) -> web.Response:
    from bot.web.operations import database_health

    healthy, body = await database_health(request.app[CONSOLE].store)
    return web.json_response(body, status=200 if healthy else 503)


def check_bind(host: str, public: bool) -> str | None:
    """The refusal when `host` is not local and `public` was not given (None: fine)."""
    if host in LOCAL_HOSTS or public:
        return None
    return (f"运营后台默认只在本机（127.0.0.1）提供；要在 {host} 上提供请加 --public（或 web.public: true），"
            f"并放在带 TLS 的反向代理后面")


async def start_site(app: web.Application, host: str, port: int, public: bool) -> web.AppRunner:
    """Serve `app` on host:port (the caller checked the bind); returns the runner to `cleanup()`."""
    runner = web.AppRunner(app, access_log=logging.getLogger("qunbot.web.access"))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    where = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    if public and host not in LOCAL_HOSTS:
        log.warning("web console on %s — reachable from other machines: serve it behind a TLS reverse proxy", where)
    else:
        log.info("web console on %s", where)
    return runner
