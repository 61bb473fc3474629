"""SQLAlchemy's aiosqlite adapter with statements that cost one trip to the driver's thread.

The stock adapter makes four trips per statement (open a cursor, execute, fetch the rows, close),
each a hand-off to aiosqlite's thread and back: 50-200 µs apiece on a busy 2-core machine, while a
small statement costs SQLite about 10 µs. A check-in makes several statements, so the trips were
most of its time (p99 of a check-in 11-18 ms before, about 5 ms after, in bench/replay_throughput.py
--parts mix). Here the cursor runs execute, fetch and close in one call on that thread; rows are
buffered as the stock adapter buffers them, errors are translated by the adapter's own handler.

`dbapi(inline=True)` goes further, for a replay (one process working through a transcript, where
nothing else waits on the event loop): statements run on the calling thread itself, with no trip at
all (the connection is opened with check_same_thread=False; commits and the rest still go through
aiosqlite's thread, and the store's journal lock keeps one statement at a time on the connection).
A live bot keeps the trip, so that a long query never holds up the other groups' answers.

It relies on internals of SQLAlchemy 2.1's asyncio connector and of aiosqlite (the same ones
SQLAlchemy's adapter uses), so `dbapi()` returns None -- the stock adapter is used, with a log
line -- on any other SQLAlchemy series or when those internals are missing.
"""

from __future__ import annotations

import collections
import logging
import sqlite3
from typing import Any

log = logging.getLogger(__name__)

_DBAPI: dict[bool, Any] = {}  # inline or not -> the adapted module (False: the stock adapter)


def _run(conn: sqlite3.Connection, many: bool, operation: str, parameters: Any) -> tuple[Any, ...]:
    """On the driver's thread: the whole statement, rows included."""
    cur = conn.cursor()
    try:
        if many:
            cur.executemany(operation, parameters)
        elif parameters is None:
            cur.execute(operation)
        else:
            cur.execute(operation, parameters)
        description = cur.description
        rows = cur.fetchall() if description else ()
        return description, rows, cur.rowcount, cur.lastrowid
    finally:
        cur.close()


def _run_all(conn: sqlite3.Connection, statements: list[tuple[str, list[Any]]]) -> None:
    """On the driver's thread: several executemany in a row (a journal's writes)."""
    for operation, rows in statements:
        try:
            conn.executemany(operation, rows)
        except sqlite3.Error as error:
            error.statement = operation  # type: ignore[attr-defined]  # for the caller's SQLAlchemy error
            raise


async def _nothing() -> None:
    return None


_ADAPTED = "qunbot.adapted_connection"  # key of the driver connection in a pooled connection's `info`


async def run_writes(connection: Any, statements: list[tuple[str, list[Any]]]) -> bool:
    """Execute `statements` (SQL, rows for executemany) on the driver connection under `connection`
    (a SQLAlchemy AsyncConnection) in one trip to the driver's thread, or none when inline: a group of
    writes then holds the journal's lock for the database's time only, not for one wait on the busy
    event loop per statement. False, with nothing done, when the connection is not one of this module's."""
    adapt = connection.info.get(_ADAPTED)  # kept with the pooled connection: asking for it each flush is a trip
    if adapt is None:
        adapt = connection.info[_ADAPTED] = (await connection.get_raw_connection()).dbapi_connection
    inline = getattr(adapt, "one_trip_inline", None)
    if inline is None:
        return False
    driver = adapt._connection
    try:
        if inline:
            _run_all(driver._conn, statements)
        else:
            async with adapt._execute_mutex:
                await driver._execute(_run_all, driver._conn, statements)
    except sqlite3.Error as error:  # as SQLAlchemy itself raises it (IntegrityError, OperationalError ...)
        from sqlalchemy.exc import DBAPIError

        raise DBAPIError.instance(getattr(error, "statement", None), None, error, sqlite3.Error) from error
    except Exception as error:
        adapt._handle_exception(error)
    return True


def dbapi(inline: bool = False) -> Any:
    """The adapted DB-API module for `create_async_engine(..., module=...)`, or None; `inline`: no trip."""
    if inline not in _DBAPI:
        _DBAPI[inline] = _build(inline) or False
    return _DBAPI[inline] or None


def _build(inline: bool) -> Any:
    import aiosqlite
    import sqlalchemy

    if not sqlalchemy.__version__.startswith("2.1."):
        log.info("sqlite: SQLAlchemy %s: the stock aiosqlite adapter is used", sqlalchemy.__version__)
        return None
    try:
        from sqlalchemy.dialects.sqlite.aiosqlite import (
            AsyncAdapt_aiosqlite_connection,
            AsyncAdapt_aiosqlite_cursor,
            AsyncAdapt_aiosqlite_dbapi,
        )
        from sqlalchemy.util.concurrency import await_
    except ImportError:
        log.info("sqlite: SQLAlchemy's aiosqlite adapter moved: the stock adapter is used")
        return None
    if not (hasattr(aiosqlite.Connection, "_execute") and hasattr(AsyncAdapt_aiosqlite_connection, "_cursor_cls")
            and hasattr(AsyncAdapt_aiosqlite_connection, "_handle_exception")):
        log.info("sqlite: unexpected aiosqlite or SQLAlchemy internals: the stock adapter is used")
        return None

    class OneTripCursor(AsyncAdapt_aiosqlite_cursor):  # type: ignore[misc]
        __slots__ = ("_description", "_lastrowid", "_rowcount")

        def __init__(self, adapt_connection: Any) -> None:  # no trip: the sqlite3 cursor lives in _run
            self._adapt_connection = adapt_connection
            self._connection = adapt_connection._connection
            self._cursor = None
            self._soft_closed_memoized = {}
            self._rows = collections.deque()
            self._description = None
            self._rowcount = -1
            self._lastrowid = None

        @property
        def description(self) -> Any:
            return self._description

        @property
        def rowcount(self) -> int:
            return self._rowcount

        @property
        def lastrowid(self) -> Any:
            return self._lastrowid

        @property
        def arraysize(self) -> int:
            return 1

        async def _async_soft_close(self) -> None:
            return None

        def close(self) -> None:
            self._rows.clear()

        def _go(self, many: bool, operation: Any, parameters: Any) -> None:
            adapt, driver = self._adapt_connection, self._connection

            async def one_trip() -> tuple[Any, ...]:
                async with adapt._execute_mutex:
                    return await driver._execute(_run, driver._conn, many, operation, parameters)

            try:
                if inline:
                    await_(_nothing())  # the async engine wants every statement to await something
                    description, rows, rowcount, lastrowid = _run(driver._conn, many, operation, parameters)
                else:
                    description, rows, rowcount, lastrowid = await_(one_trip())
            except Exception as error:
                adapt._handle_exception(error)
            self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
            self._rows = collections.deque(rows)

        def execute(self, operation: Any, parameters: Any = None) -> None:
            self._go(False, operation, parameters)

        def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
            self._go(True, operation, seq_of_parameters)

    class OneTripConnection(AsyncAdapt_aiosqlite_connection):  # type: ignore[misc]
        __slots__ = ()
        _cursor_cls = OneTripCursor
        one_trip_inline = inline  # see run_writes

    class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):  # type: ignore[misc]
        def connect(self, *arg: Any, **kw: Any) -> Any:
            conn = super().connect(*arg, **kw)
            return OneTripConnection(self, conn._connection)

    return OneTripDBAPI(aiosqlite, sqlite3)
