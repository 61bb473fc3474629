"""One bot process per SQLite file, and one process per account on PostgreSQL.

SQLite: `qunbot run` holds an exclusive `flock` on "<db file>.lock" for its whole life; a second
`qunbot run` on the same file is refused in one line (the lock dies with the process, even on kill -9).
`qunbot web` and the offline commands take no lock: they may share the file with the running bot.
PostgreSQL: the process holds a session advisory lock named after its account on a connection of its
own, so a second process of the same account is refused the same way (several accounts run side by
side). If that connection drops, the lock goes with it (it is not taken again).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.cli_args import UsageError, sqlite_file
from storage.dialect import make_engine

log = logging.getLogger("qunbot.fleet")


class AlreadyRunning(UsageError):
    """Another process holds the lock: one line for the user, exit status 2."""


def advisory_key(account: str) -> int:
    """The 64-bit advisory lock key of an account (signed, as PostgreSQL takes it)."""
    return int.from_bytes(hashlib.sha1(f"qunbot account {account}".encode()).digest()[:8], "big", signed=True)


class ProcessLock:
    """Held from `acquire` to `release` (or the process's end)."""

    def __init__(self, db_url: str, account: str) -> None:
        self.db_url = db_url
        self.account = account
        self._file: IO[str] | None = None
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> ProcessLock:
        path = sqlite_file(self.db_url)
        if path is not None:
            self._flock(path)
        elif make_url(self.db_url).get_backend_name() == "postgresql":
            await self._advisory()
        return self

    def _flock(self, db: Path) -> None:
        lock = db.with_name(db.name + ".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock, "a+", encoding="utf-8")  # held for the process's life
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip()
            handle.close()
            raise AlreadyRunning(f"{db} is in use by another qunbot run{f' (pid {pid})' if pid else ''}: SQLite "
                                 f"serves one bot process; several accounts need PostgreSQL (README: Several "
                                 f"accounts on one PostgreSQL)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    async def _advisory(self) -> None:
        engine = make_engine(self.db_url)
        conn = await engine.connect()
        try:
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": advisory_key(self.account)}))
            won = bool(got.scalar())
            await conn.commit()  # a session lock outlives the transaction; no transaction stays open
        except BaseException:
            await conn.close()
            await engine.dispose()
            raise
        if not won:
            await conn.close()
            await engine.dispose()
            raise AlreadyRunning(f"account {self.account!r} already runs against this database (another process "
                                 f"holds its lock); start each account once")
        self._conn = conn

    async def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key(self.account)})
                await conn.commit()
            with contextlib.suppress(Exception):
                await conn.close()
            with contextlib.suppress(Exception):
                await conn.engine.dispose()
