"""What the `qunbot` command accepts, checked before any work: database URLs, counts, instants; and the
one-line answers to what goes wrong (an unreachable database, a missing font) instead of tracebacks."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SYNC_TO_ASYNC = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg",
                 "postgresql+psycopg2": "postgresql+asyncpg"}
ASYNC_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class UsageError(Exception):
    """A mistake in what was asked for: printed as one line, exit status 2."""


def db_url(value: str) -> str:
    """A SQLAlchemy async URL. A bare file path (data/x.db) means SQLite there; sqlite:/// and
    postgresql:// are taken with their async drivers. Anything else is refused in one line."""
    text = value.strip()
    if "://" not in text:
        if not text:
            raise argparse.ArgumentTypeError("empty database URL")
        return f"sqlite+aiosqlite:///{text}"
    try:
        url = make_url(text)
    except ArgumentError:
        raise argparse.ArgumentTypeError(f"not a database URL: {value!r} (e.g. sqlite+aiosqlite:///data/qunbot.db "
                                         f"or postgresql+asyncpg://user@host/db)") from None
    driver = SYNC_TO_ASYNC.get(url.drivername, url.drivername)
    if driver not in ASYNC_DRIVERS:
        raise argparse.ArgumentTypeError(f"unsupported database {url.drivername!r}: use sqlite+aiosqlite:///FILE or "
                                         f"postgresql+asyncpg://…")
    return url.set(drivername=driver).render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def existing_db(url: str) -> str:
    """For commands that only read: a SQLite file that does not exist is a mistyped path, not a new
    database (`why --db typo.db` must not create an empty one and say nothing was found)."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise UsageError(f"没有这个数据库文件：{path}（检查 --db 或 bot.database）")
    return url


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return number


def instant(value: str) -> datetime:
    """An ISO 8601 date or time (2026-03-02, 2026-03-02T21:00+08:00); without an offset it is read in the
    bot's time zone by the command that uses it."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r} (e.g. 2026-03-02T21:00+08:00)") from None


def one_line(exc: BaseException) -> str | None:
    """What to print for an error a user can act on (None: a bug, keep the traceback)."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from handlers.stats.draw import FontMissing  # not charts: that would load matplotlib

    if isinstance(exc, UsageError):
        return str(exc)
    if isinstance(exc, FontMissing):
        return f"画图需要中文字体：{exc}"
    if isinstance(exc, OperationalError | DBAPIError | ConnectionError | TimeoutError) or (
            isinstance(exc, OSError) and exc.errno is not None):
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        return f"无法连接或打开数据库：{detail}"
    return None
