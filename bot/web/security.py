"""Sign-in for the web console: the token check, sessions, CSRF tokens and the failed sign-in limit.

The token comes from QUNBOT_WEB_TOKEN and is only ever compared (in constant time), never shown,
logged or put in a cookie: a session gets its own random id. Everything here is bounded: a client
cannot grow the session table or the failure log without limit.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

TOKEN_ENV = "QUNBOT_WEB_TOKEN"
MIN_TOKEN_CHARS = 16
MAX_SESSIONS = 1000  # the oldest session is signed out past this
MAX_CLIENTS = 10_000  # clients whose failed sign-ins are remembered
FAILURES_ALLOWED = 5  # failed sign-ins per client per window, then 429 until the window passes
FAILURE_WINDOW_SECONDS = 300.0


class TokenMissing(Exception):
    """QUNBOT_WEB_TOKEN is not set (or too short): the console refuses to start."""


def token_from_env(environ: dict[str, str] | None = None) -> str:
    """The sign-in token, or TokenMissing with the one line to print."""
    token = (environ if environ is not None else os.environ).get(TOKEN_ENV, "")
    if not token:
        raise TokenMissing(f"运营后台需要登录口令：请设置环境变量 {TOKEN_ENV}（至少 {MIN_TOKEN_CHARS} 个字符，"
                           f"例如 export {TOKEN_ENV}=$(openssl rand -hex 16)）")
    if len(token) < MIN_TOKEN_CHARS:
        raise TokenMissing(f"{TOKEN_ENV} 太短：至少 {MIN_TOKEN_CHARS} 个字符")
    return token


def token_matches(given: str, token: str) -> bool:
    """Constant-time comparison (on bytes, so any text can be given)."""
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


@dataclass
class Session:
    """A signed-in browser: its id (the cookie), its CSRF token and when it ends."""

    id: str
    csrf: str
    expires: float
    created: float = field(default_factory=time.time)


class Sessions:
    """The signed-in browsers, in memory (a restart signs everyone out), at most MAX_SESSIONS."""

    def __init__(self, lifetime_seconds: float, now: callable = time.time) -> None:  # type: ignore[valid-type]
        self.lifetime = lifetime_seconds
        self._now = now
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def create(self) -> Session:
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self._now() + self.lifetime)
        self._sessions[session.id] = session
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires <= self._now():
            del self._sessions[session_id]
            return None
        return session

    def end(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)


def csrf_matches(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode("utf-8"), expected.encode("utf-8"))


class SignInLimiter:
    """Failed sign-ins per client: FAILURES_ALLOWED per FAILURE_WINDOW_SECONDS, then refused until the
    oldest failure leaves the window. Bounded: the least recently failing clients are forgotten."""

    def __init__(self, allowed: int = FAILURES_ALLOWED, window: float = FAILURE_WINDOW_SECONDS,
                 now: callable = time.monotonic) -> None:  # type: ignore[valid-type]
        self.allowed, self.window, self._now = allowed, window, now
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        horizon = self._now() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def blocked_for(self, client: str) -> float:
        """Seconds until this client may try again (0: now)."""
        times = self._recent(client)
        if times is None or len(times) < self.allowed:
            return 0.0
        return max(0.0, times[0] + self.window - self._now())

    def failed(self, client: str) -> None:
        times = self._recent(client)
        if times is None:
            times = self._failures[client] = deque(maxlen=self.allowed)
        times.append(self._now())
        self._failures.move_to_end(client)
        while len(self._failures) > MAX_CLIENTS:
            self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
