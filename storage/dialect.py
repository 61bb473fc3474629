"""The one place that knows which SQL dialect is in use: engine options and upserts."""

from __future__ import annotations

import json
import operator
import sqlite3
from collections.abc import Iterable
from datetime import UTC as _UTC
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import String, Table, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage import sqlite_onehop
from storage.base import JsonDoc, RawJSON, UTCDateTime

SQLITE_BUSY_TIMEOUT_MS = 5000


def make_engine(url: str, *, inline: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys, a busy timeout and its folder created. `inline`
    (SQLite, a replay): statements run on the event loop's thread (see storage/sqlite_onehop.py)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            from pathlib import Path

            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        module = sqlite_onehop.dbapi(inline) if parsed.drivername == "sqlite+aiosqlite" else None
        inline = inline and module is not None
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                                        **({"check_same_thread": False} if inline else {})},
                                     **({"module": module} if module is not None else {}))

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if database and database != ":memory:":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL" if database != ":memory:" else "PRAGMA synchronous=OFF")
            cur.execute("PRAGMA foreign_keys=ON")
            # deleted and overwritten content is zeroed, not left in free space (see `scrub`)
            cur.execute("PRAGMA secure_delete=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True)


async def execute_driver(conn: AsyncConnection, statements: list[tuple[str, list[Any]]]) -> None:
    """Run statements compiled for the driver (`DriverBulk`), in one trip where the driver allows it
    (storage/sqlite_onehop.py)."""
    if statements and not await sqlite_onehop.run_writes(conn, statements):
        for sql, rows in statements:
            await conn.exec_driver_sql(sql, rows)


async def scrub(conn: AsyncConnection, tables: Iterable[str], *, vacuum: bool, full: bool = False) -> list[str]:
    """Leave no copy of what committed writes overwrote or deleted; `conn` has just committed (no
    transaction open). What was done, as lines for the log and the command line.

    SQLite (`secure_delete` is on for every connection, so freed cells and pages are zeroed): VACUUM
    rebuilds the whole file when `vacuum` (nothing of older, unscrubbed writes survives either), then a
    TRUNCATE checkpoint copies the WAL into the file and cuts the WAL to 0 bytes (its old frames held
    the pages as they were). PostgreSQL, when `vacuum` or `full`: VACUUM (or VACUUM FULL, which
    rewrites each table into a new file) of `tables`, on a connection of its own (VACUUM runs outside
    a transaction); what it does not reach (the WAL segments, base backups) is in the README."""
    tables = sorted(set(tables))
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("PRAGMA secure_delete=ON")
        done = ["secure_delete on"]
        if vacuum:
            await conn.exec_driver_sql("VACUUM")
            done.append("VACUUM")
        busy, frames, copied = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
        if busy or frames != copied:
            done.append(f"WAL NOT truncated: another connection is reading ({copied} of {frames} frames copied)")
        else:
            done.append("WAL checkpointed and truncated")
        return done
    if not (vacuum or full) or not tables:
        return ["left to autovacuum"]
    quote = conn.dialect.identifier_preparer.quote
    option = "(FULL, ANALYZE)" if full else "(ANALYZE)"
    async with conn.engine.connect() as other:
        auto = await other.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            await auto.exec_driver_sql(f"VACUUM {option} {quote(table)}")
    return [f"VACUUM {option} {', '.join(tables)}"]


def upsert(engine: AsyncEngine, table: Table) -> Any:
    """An INSERT builder with `.on_conflict_do_update` / `.on_conflict_do_nothing` for this dialect."""
    name = engine.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover
        raise RuntimeError(f"database dialect {name!r} is not supported (use SQLite or PostgreSQL)")
    return insert(table)


def quarter_bucket(engine: AsyncEngine, column: Any) -> Any:
    """An SQL expression for the UTC quarter hour a timestamp column falls in (see `bucket_start`).
    Quarters, not hours: local hours of zones with half- or quarter-hour offsets are whole quarters."""
    from sqlalchemy import Integer, cast, extract, func

    if engine.dialect.name == "sqlite":
        minute = cast(func.strftime("%M", column), Integer)
        return func.strftime("%Y-%m-%d %H:", column).op("||")(func.printf("%02d", minute - minute % 15))
    minute = cast(extract("minute", column), Integer)
    return func.to_char(column, "YYYY-MM-DD HH24:").op("||")(func.lpad(cast(minute - minute % 15, String), 2, "0"))


def raw_time(column: Any) -> Any:
    """`column` read as the driver gives it, without SQLAlchemy's per-value processing (for long
    lists, with `fetch_rows`); `utc_time` turns the value into an aware UTC datetime."""
    from sqlalchemy import type_coerce

    return type_coerce(column, String)


def utc_time(value: Any) -> Any:
    """An aware UTC datetime from a `raw_time` value: SQLite's naive UTC text or PostgreSQL's naive
    datetime. (Parsing the text with its offset is ~8x faster than `.replace(tzinfo=...)`.)"""
    if value is None:
        return None
    if isinstance(value, str):
        return _fromisoformat(value + "+00:00")
    return value.replace(tzinfo=_UTC)


async def fetch_rows(conn: AsyncConnection, stmt: Any) -> list[Any]:
    """Every row of a SELECT as plain tuples. On SQLite the statement goes straight to the driver:
    building SQLAlchemy's row objects costs more than the query itself on lists of 10^5 rows."""
    if conn.dialect.name != "sqlite":
        return [tuple(row) for row in (await conn.execute(stmt)).all()]
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = [_sqlite_param(compiled.params[name]) for name in compiled.positiontup or ()]
    raw = await conn.get_raw_connection()
    try:
        cursor = await raw.driver_connection.execute(compiled.string, params)
        try:
            return list(await cursor.fetchall())
        finally:
            await cursor.close()
    except sqlite3.Error as error:  # as SQLAlchemy would raise it (the store tells transient errors by these)
        raise DBAPIError.instance(compiled.string, params, error, sqlite3.Error) from error


def _sqlite_param(value: Any) -> Any:
    if isinstance(value, datetime):
        return _sqlite_datetime(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise TypeError(f"no driver form for a {type(value).__name__} parameter")


@lru_cache(maxsize=4096)  # a week of quarters is 672: the peak hour, the trend and the alerts read them per group
def bucket_start(value: str) -> Any:
    """The aware UTC datetime of a `quarter_bucket` value ("YYYY-MM-DD HH:MM")."""
    if len(value) != 16 or value[10] != " ":
        raise ValueError(f"not a quarter bucket: {value!r}")
    return datetime.fromisoformat(value).replace(tzinfo=_UTC)


_fromisoformat = datetime.fromisoformat


class DriverBulk:
    """A bulk statement compiled once to the driver's SQL, with rows turned into tuples by hand.

    SQLite only: SQLAlchemy's per-row bind processing costs several times what sqlite3's
    executemany does, and the journal sends hundreds of rows per statement. Values are converted
    exactly as SQLAlchemy stores them (UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff', JSON text).
    """

    def __init__(self, sql: str, converters: list[tuple[str, Any]]) -> None:
        self.sql = sql
        names = [name for name, _fn in converters]
        self._get = operator.itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))  # tuples
        self._convert = [(i, fn) for i, (_name, fn) in enumerate(converters) if fn is not None]

    @classmethod
    def compile(cls, engine: AsyncEngine, stmt: Any, keys: list[str]) -> DriverBulk | None:
        """The driver form of `stmt` for rows with `keys`, or None where the dialect is not SQLite."""
        if engine.dialect.name != "sqlite":
            return None
        compiled = stmt.compile(dialect=engine.dialect, column_keys=keys)
        order = compiled.positiontup
        if order is None:  # pragma: no cover - sqlite's paramstyle is positional
            return None
        converters = []
        for name in order:
            bind_type = compiled.binds[name].type
            if isinstance(bind_type, UTCDateTime):
                converters.append((name, _sqlite_datetime))
            elif isinstance(bind_type, JsonDoc):
                converters.append((name, _json))
            else:
                converters.append((name, None))
        return cls(compiled.string, converters)

    def rows(self, rows: list[dict[str, Any]]) -> list[Any]:
        get, convert = self._get, self._convert
        if not convert:
            return [get(row) for row in rows]
        out = []
        for row in rows:
            values = list(get(row))
            for i, fn in convert:
                values[i] = fn(values[i])
            out.append(tuple(values))
        return out


def _sqlite_datetime(value: Any) -> str | None:
    if value is None:
        return None
    return _sqlite_datetime_text(value, value.fold)


# one event's instant is written in several rows (event, group, member, audit); keyed with `fold` too,
# since two wall times of one zone that differ only by it (the hour repeated in autumn) compare equal
@lru_cache(maxsize=4096)
def _sqlite_datetime_text(value: datetime, _fold: int) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    if value.utcoffset():
        value = value.astimezone(_UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _json(value: Any) -> str:
    if value is None:
        return "null"  # as SQLAlchemy's JSON type stores None
    return value if isinstance(value, RawJSON) else json.dumps(value)


def is_transient(exc: BaseException) -> bool:
    """A database error worth retrying (locked, busy, gone, connection dropped), not a bug."""
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, OSError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sqlite3.OperationalError)
