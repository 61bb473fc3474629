"""The journal: one writer connection, writes buffered and committed in groups.

Repositories (storage/members.py, storage/events.py, storage/audit.py and each feature's own) never
hold a connection; they add rows to the journal's buffers and ask it questions. All work happens in
one open transaction on one connection:

- a repository registers its buffered statements (`BulkWrite`) with an order: buffers are sealed into
  the journal in that order (the writes commute but for it: a member row before its reminder, an
  offence before its excuse), so the rows of one statement travel in one executemany; on SQLite they
  are sent straight to the driver, already converted (storage/dialect.py);
- a question first flushes the journal into the open transaction, so it sees every earlier write
  (questions whose pending answers a repository keeps in memory skip the flush);
- `begin_commit()` detaches the journal and `finish_commit()` writes and commits it while new writes
  start a fresh journal: the events of a batch become durable together (group commit);
- when a commit fails (database locked or gone), the batch goes back in front of the journal and
  `recover()` rolls back, so the next commit executes it again and nothing is lost. Every repository's
  caches are dropped then (`forget`), and questions flush first until the next commit.
- a repository that erases (retention, a member's erasure) asks for a `Scrub` after the commit of
  its writes: the commit is followed by `dialect.scrub`, so no copy of the erased content stays in
  the database's free space or log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import dialect

log = logging.getLogger("qunbot.store")
T = TypeVar("T")
Run = Callable[[Any, dict[str, Any]], Awaitable[list[Any]]]
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class BulkWrite:
    """A buffered statement: rows added with `Journal.buffer(name)` run in one executemany.

    `order` places it among the other buffers when they are sealed; `merge` folds rows of the same
    key into one (one upsert may not touch a row twice on every backend); `before_writes`: its rows
    are sealed before any immediate write (`write_steps`), which may move the same rows."""

    name: str
    order: int
    build: Callable[[AsyncEngine], Any]
    merge: Callable[[Rows], Rows] | None = None
    before_writes: bool = False


@dataclass(frozen=True)
class Scrub:
    """After a commit, leave no copy of what it overwrote or deleted (see `dialect.scrub`): `tables`
    touched; `vacuum` the whole SQLite file (else a checkpoint only); `full`: VACUUM FULL on PostgreSQL."""

    tables: frozenset[str]
    vacuum: bool = False
    full: bool = False

    def __or__(self, other: Scrub | None) -> Scrub:
        if other is None:
            return self
        return Scrub(self.tables | other.tables, self.vacuum or other.vacuum, self.full or other.full)


@dataclass(frozen=True)
class Detached:
    """Writes taken out of the journal to be committed (see Journal.begin_commit)."""

    journal: list[tuple[Any, Rows]]
    flushed: int  # entries already executed in the open transaction
    event_ids: set[str]
    probe: tuple[str, Any] | None = None  # a row only this batch writes: ("event", id) or ("job", (id, due))
    scrub: Scrub | None = None  # asked for by the batch's writes, done after its commit


@dataclass(frozen=True)
class _Now:
    """A journal entry executed at once because its caller needs its result (RETURNING)."""

    stmt: Any
    params: dict[str, Any]


class Journal:
    """One writer connection with a journal of pending writes (see the module doc)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._journal: list[tuple[Any, Rows]] = []
        self._flushed = 0  # journal entries already executed in the open transaction
        self._writes: dict[str, BulkWrite] = {}
        self._stmt: dict[str, Any] = {}
        self._driver: dict[tuple[str, tuple[str, ...]], dialect.DriverBulk | None] = {}
        self._bulk: dict[str, Rows] = {}
        self._order: tuple[str, ...] = ()
        self._before_writes: tuple[str, ...] = ()  # see BulkWrite.before_writes
        self._pending_event_ids: set[str] = set()
        self._probe: tuple[str, Any] | None = None  # see Detached.probe
        self._uncertain: tuple[Detached, int] | None = None  # a batch whose commit failed, and its size
        self._forgetters: list[Callable[[], None]] = []
        self._scrub: Scrub | None = None  # asked for by the writes since the last commit
        self.scrubbed: list[str] = []  # what the last scrub did (for the log and the command line)
        self.recovered = False  # a rollback reset the caches: flush before every read until the next commit
        self.alone = True  # no other process writes to this database (see Store.not_alone)

    # -- what repositories register ---------------------------------------------------------------

    def register(self, write: BulkWrite) -> None:
        """Add a buffered statement (once per name)."""
        if write.name in self._writes:
            raise ValueError(f"bulk write {write.name!r} is registered twice")
        self._writes[write.name] = write
        self._stmt[write.name] = write.build(self.engine)
        self._bulk[write.name] = []
        self._order = tuple(sorted(self._writes, key=lambda n: (self._writes[n].order, n)))
        self._before_writes = tuple(n for n in self._order if self._writes[n].before_writes)

    def buffer(self, name: str) -> Rows:
        """The buffer of a registered write: append rows to it (the same list for the journal's life)."""
        return self._bulk[name]

    def on_forget(self, forget: Callable[[], None]) -> None:
        """Call `forget` whenever the caches must go (after a rollback, or when one grew too big)."""
        self._forgetters.append(forget)

    def forget_caches(self) -> None:
        """Drop every repository's caches; until the next commit, questions flush first, since the
        dropped entries may have been the only record of pending answers."""
        for forget in self._forgetters:
            forget()
        self.recovered = True

    def pending_event(self, event_id: str) -> None:
        """An event handled in this batch (its id is a duplicate until committed, and may probe it)."""
        self._pending_event_ids.add(event_id)
        self._probe = self._probe or ("event", event_id)

    def is_pending(self, event_id: str) -> bool:
        return event_id in self._pending_event_ids

    def pending_job(self, job_id: str, due: Any) -> None:
        self._probe = self._probe or ("job", (job_id, due))

    async def probe_exists(self, probe: tuple[str, Any]) -> bool:
        """Whether a batch's probe row is in the database (the Store knows the tables)."""
        raise NotImplementedError

    def scrub_after_commit(self, scrub: Scrub) -> None:
        """After the commit of the writes so far, leave no copy of what they overwrote or deleted."""
        self._scrub = scrub | self._scrub

    @property
    def dirty(self) -> bool:
        """True when there are writes not yet committed."""
        return bool(self._journal) or any(self._bulk.values())

    # -- the connection ---------------------------------------------------------------------------

    async def _connect(self) -> None:
        self._conn = await self.engine.connect()
        await self._conn.begin()

    async def _connection(self) -> AsyncConnection:
        """The writer connection, reconnecting when a failure left none (errors here are transient)."""
        if self._conn is None:
            await self._connect()
        assert self._conn is not None
        return self._conn

    async def close(self) -> None:
        """Commit what is pending and release the database."""
        if self._conn is not None:
            try:
                await self.commit()
            finally:
                await self._conn.close()
                self._conn = None
        await self.engine.dispose()

    # -- the journal ------------------------------------------------------------------------------

    def seal(self, names: tuple[str, ...] | None = None) -> None:
        """Move buffered rows into the journal (all buffers, or only `names`, which must commute with the rest)."""
        for name in self._order if names is None else names:
            rows = self._bulk.get(name)  # a buffer of a feature this store was built without holds nothing
            if rows:
                merge = self._writes[name].merge
                batch = merge(rows) if merge is not None else rows.copy()
                rows.clear()
                self._journal.append((self._driver_stmt(name, batch[0]) or self._stmt[name], batch))

    def _driver_stmt(self, name: str, sample: dict[str, Any]) -> dialect.DriverBulk | None:
        """The statement compiled for the driver, for rows shaped like `sample` (None: use SQLAlchemy)."""
        key = (name, tuple(sample))
        if key not in self._driver:
            self._driver[key] = dialect.DriverBulk.compile(self.engine, self._stmt[name], list(sample))
        return self._driver[key]

    async def _flush(self, only: tuple[str, ...] | None = None) -> None:
        """Execute journal entries not yet executed (caller holds the lock)."""
        self.seal(only)
        await self._connection()
        while self._flushed < len(self._journal):  # a repository may seal more meanwhile (seal takes no lock)
            entries = self._journal[self._flushed:]
            await self._execute(entries)  # on failure the caller rolls back: all runs again
            self._flushed += len(entries)

    async def _execute(self, entries: list[tuple[Any, Rows]]) -> None:
        """Execute journal entries in order; statements compiled for the driver go in groups, in one trip."""
        assert self._conn is not None
        driver: list[tuple[str, list[Any]]] = []
        for stmt, rows in entries:
            if isinstance(stmt, dialect.DriverBulk):
                driver.append((stmt.sql, stmt.rows(rows)))
                continue
            await dialect.execute_driver(self._conn, driver)
            driver = []
            if isinstance(stmt, _Now):
                await self._conn.execute(stmt.stmt, stmt.params)
            else:
                await self._conn.execute(stmt, rows)
        await dialect.execute_driver(self._conn, driver)

    async def commit(self) -> None:
        """Make every write so far durable (raises on failure; then call `recover`)."""
        batch = await self.begin_commit()
        await self.finish_commit(batch)

    async def begin_commit(self) -> Detached:
        """Take the store (its lock) and every write so far out of the journal, for `finish_commit`.

        New writes go to a fresh journal meanwhile, so events can be handled while the detached
        batch is written; a question waits for the lock, so it sees the batch once it is committed.
        """
        await self._lock.acquire()
        try:
            self.seal()
        except BaseException:
            self._lock.release()
            raise
        batch = Detached(self._journal, self._flushed, self._pending_event_ids, self._probe, self._scrub)
        self._journal, self._flushed, self._pending_event_ids, self._probe = [], 0, set(), None
        self._scrub = None
        return batch

    async def finish_commit(self, batch: Detached) -> None:
        """Write and commit a detached batch, then release the store. On failure the batch goes back
        in front of the journal (to run again after `recover`) and the error is raised."""
        try:
            if batch.journal:
                conn = await self._connection()
                await self._execute(batch.journal[batch.flushed:])
                await conn.commit()
                await conn.begin()
            self.recovered = False
        except BaseException:
            self._journal = batch.journal + self._journal
            self._pending_event_ids |= batch.event_ids
            self._scrub = batch.scrub | self._scrub if batch.scrub else self._scrub
            # The COMMIT may have reached the database although the call failed: `recover` looks for
            # the batch's probe row before the batch runs again (its increments must not run twice).
            self._uncertain = (batch, len(batch.journal))
            self._probe = batch.probe or self._probe
            await self._roll_back()
            raise
        else:
            if batch.scrub is not None:
                await self._run_scrub(batch.scrub)
        finally:
            self._lock.release()

    async def _run_scrub(self, scrub: Scrub) -> None:
        """`dialect.scrub` right after a commit (caller holds the lock; nothing is flushed yet). Its
        failure is logged, never raised: the batch is committed and must not run again."""
        conn = await self._connection()
        try:
            await conn.commit()  # nothing pending: only so that no transaction is open
            self.scrubbed = await dialect.scrub(conn, scrub.tables, vacuum=scrub.vacuum, full=scrub.full)
            log.log(logging.INFO if scrub.vacuum or scrub.full else logging.DEBUG, "scrubbed after a commit: %s",
                    "; ".join(self.scrubbed))
            await conn.rollback()
            await conn.begin()
        except Exception as exc:
            self.scrubbed = [f"scrub failed: {type(exc).__name__}: {exc}"]
            log.error("could not scrub the database after an erasure: %s", self.scrubbed[0])
            await self._roll_back()  # a fresh connection for what comes next

    async def _roll_back(self) -> None:
        """After a failed write (caller holds the lock): undo the open transaction at once, so no read
        or flush runs on it; every pending write runs again from the start of the journal, and the
        caches that may hold answers of the undone writes stop answering until the next commit."""
        self._flushed = 0
        self.forget_caches()
        if self._conn is not None:
            # Invalidate: the driver connection is closed, which discards its transaction for real
            # (after a failed COMMIT, SQLAlchemy's own rollback may not reach the driver).
            try:
                await self._conn.invalidate()
            except Exception as exc:
                log.warning("dropping the connection after a failed write: %s", exc)
            try:
                await self._conn.close()
            except Exception:
                pass
            self._conn = None

    async def recover(self) -> None:
        """After a failed commit: start on a fresh connection; the journal runs again on the next commit,
        unless the failed batch turns out to be committed after all (then only what came after runs)."""
        async with self._lock:
            await self._roll_back()
            await self._connect()
            uncertain, self._uncertain = self._uncertain, None
            if uncertain is not None and uncertain[0].probe is not None:
                batch, size = uncertain
                if await self.probe_exists(batch.probe):
                    log.warning("the failed commit was applied after all; its %d write(s) are not repeated", size)
                    self._journal = self._journal[size:]
                    self._pending_event_ids -= batch.event_ids
                    if self._probe == batch.probe:
                        self._probe = None

    # -- questions and immediate writes -----------------------------------------------------------

    async def read(self, stmt: Any, params: dict[str, Any] | None = None, *, flush: bool = True,
                   only: tuple[str, ...] | None = None) -> Any:
        """Run a query in the open transaction. `flush=False` is for questions whose pending answers
        a repository tracks in memory (it still flushes after a recovery, when those caches were reset);
        `only` flushes just those buffers (for questions about tables no other write touches)."""
        async with self._lock:
            try:
                if self.recovered:
                    await self._flush()
                elif flush:
                    await self._flush(only)
                conn = await self._connection()
                return await conn.execute(stmt, params or {})
            except Exception:
                await self._roll_back()  # a failed statement leaves the transaction unusable
                raise

    async def rows(self, stmt: Any, *, only: tuple[str, ...] | None = None) -> list[Any]:
        """`read` for long lists: every row as a plain tuple (see `dialect.fetch_rows`)."""
        async with self._lock:
            try:
                if self.recovered:
                    await self._flush()
                else:
                    await self._flush(only)
                return await dialect.fetch_rows(await self._connection(), stmt)
            except Exception:
                await self._roll_back()
                raise

    async def write_now(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        """Execute one write at once in the open transaction and return its rows (RETURNING)."""
        async def one(run: Run) -> list[Any]:
            return await run(stmt, params)

        return await self.write_steps(one)

    async def write_steps(self, steps: Callable[[Run], Awaitable[T]]) -> T:
        """Execute writes at once, in the open transaction, that belong together (`steps` calls
        `run(stmt, params)` for each and gets its rows back).

        They join the journal as executed entries: if the commit fails, the journal runs again from
        the last commit in the same order, so each statement meets the same rows and does the same.
        If one of them fails, all of them are taken out again (none is half done) and it raises."""
        async with self._lock:
            added: list[tuple[Any, Rows]] = []
            try:
                await self._flush(None if self.recovered else self._before_writes)
                conn = await self._connection()

                async def run(stmt: Any, params: dict[str, Any]) -> list[Any]:
                    item: tuple[Any, Rows] = (_Now(stmt, params), [])
                    self._journal.insert(self._flushed, item)  # at the end of the executed part
                    self._flushed += 1
                    added.append(item)
                    result = await conn.execute(stmt, params)
                    return result.all() if result.returns_rows else []

                return await steps(run)
            except Exception:
                self._journal = [e for e in self._journal if not any(e is a for a in added)]
                await self._roll_back()
                raise

