"""Copy a qunbot database into another, SQLite to PostgreSQL or back (`qunbot copy-db FROM TO`).

- TO is brought to the newest schema with Alembic first, as `Store.open` does; FROM must be at it
  already (`qunbot migrate --db FROM` otherwise: a copy never writes to its source).
- Every table of the schema is copied, in dependency order (`Base.metadata.sorted_tables`), in
  batches of `batch` rows read from FROM by keyset on its primary key (`WHERE key > last ORDER BY key
  LIMIT n`: each batch is an index range, however big the table), each batch inserted and committed
  in one TO transaction. FROM is read in one snapshot (a read transaction; REPEATABLE READ on
  PostgreSQL), so one run copies one moment of it — stop the bot anyway: a rerun takes a new one.
- **Resumable by key, not by ON CONFLICT DO NOTHING.** Batches go in FROM's key order and commit
  whole, so after an interruption TO holds, per table, exactly FROM's first k rows (k = TO's count).
  A rerun checks that (FROM's first and k-th rows are in TO, equal) and goes on after FROM's k-th
  key. Only FROM ever orders the keys, so SQLite's byte order and a PostgreSQL collation never have
  to agree; nothing already copied is read again; and a key already in TO is an error (TO is not a
  copy of FROM) instead of a row silently skipped, as DO NOTHING would.
- A TO that holds rows and is not such a partial copy of FROM is refused before anything is written.
- Values travel as stored: times as naive UTC on both sides (`UTCDateTime`), JSON documents as their
  stored text (PostgreSQL's `json` type keeps text as given; SQL NULL stays apart from JSON null), so
  SQLite -> PostgreSQL -> SQLite gives the same bytes back. The tables SQLite keeps WITHOUT ROWID
  are made so by TO's migrations. A serial id's sequence on PostgreSQL is moved past the largest id.
- At the end every table is counted on both sides (`CopyReport.mismatched`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    String,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    tuple_,
    type_coerce,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import migrate
from storage.base import Base, UTCDateTime
from storage.dialect import make_engine

BATCH = 5000
VERSION_TABLE = "alembic_version"


class CopyRefused(Exception):
    """Nothing was written: why, in one line."""


class CopyFailed(Exception):
    """A batch could not be written to TO; what was committed before it stays (a rerun goes on)."""


class CopyProgress(Protocol):
    def begin(self, rows: int) -> None: ...  # rows this run will copy

    def table(self, name: str) -> None: ...

    def advance(self, rows: int) -> None: ...


@dataclass
class TableCopy:
    name: str
    source: int  # rows in FROM
    present: int  # rows already in TO when this run started
    copied: int = 0  # rows this run wrote
    target: int = 0  # rows in TO at the end

    @property
    def ok(self) -> bool:
        return self.target == self.source


@dataclass
class CopyReport:
    revision: str
    tables: list[TableCopy] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def copied(self) -> int:
        return sum(t.copied for t in self.tables)

    @property
    def present(self) -> int:
        return sum(t.present for t in self.tables)

    @property
    def mismatched(self) -> list[TableCopy]:
        return [t for t in self.tables if not t.ok]


# -- how each column is read and written ---------------------------------------------------------------


def _is_json(column: Any) -> bool:
    return isinstance(getattr(column.type, "impl_instance", column.type), JSON)


def _read(column: Any, dialect: str) -> Any:
    """The column as the copy carries it: JSON as its stored text, everything else as its type reads it
    (times as aware UTC)."""
    if _is_json(column):
        return (cast(column, Text) if dialect == "postgresql" else type_coerce(column, Text)).label(column.key)
    return column.label(column.key)


def _key(column: Any, dialect: str) -> Any:
    """A key column for ordering and keyset on FROM: as stored (SQLite's time text compared as text)."""
    if dialect == "sqlite" and isinstance(column.type, UTCDateTime):
        return type_coerce(column, String)
    return column


def _write(column: Any, dialect: str) -> Any:
    name = f"v_{column.key}"
    if _is_json(column):
        return cast(bindparam(name, type_=Text), JSON) if dialect == "postgresql" else bindparam(name, type_=Text)
    return bindparam(name, type_=column.type)


class _Plan:
    """One table's statements on FROM (its dialect) and TO (its dialect)."""

    def __init__(self, table: Table, source: str, target: str, batch: int) -> None:
        self.table = table
        self.columns = list(table.columns)
        self.pk = list(table.primary_key.columns)
        if not self.pk:
            raise CopyRefused(f"table {table.name} has no primary key: it cannot be copied by key")
        self.keys = [_key(c, source) for c in self.pk]
        self.reads_from = [_read(c, source) for c in self.columns]
        self.reads_to = [_read(c, target) for c in self.columns]
        self.key_labels = [f"k_{i}" for i in range(len(self.pk))]
        self.batch = batch
        self.insert = insert(table).values({c.name: _write(c, target) for c in self.columns})

    def page(self, after: tuple[Any, ...] | None, *, limit: int, offset: int = 0) -> Any:
        stmt = select(*self.reads_from, *(k.label(n) for k, n in zip(self.keys, self.key_labels, strict=True)))
        if after is not None:
            bound = [literal(v, k.type) for k, v in zip(self.keys, after, strict=True)]
            stmt = stmt.where(self.keys[0] > bound[0] if len(bound) == 1 else tuple_(*self.keys) > tuple_(*bound))
        return stmt.order_by(*self.keys).offset(offset or None).limit(limit)

    def split(self, row: Any) -> tuple[dict[str, Any], tuple[Any, ...]]:
        """A FROM row: its values by column key, and its key as stored (for the next keyset)."""
        mapping = row._mapping
        return {c.key: mapping[c.key] for c in self.columns}, tuple(mapping[n] for n in self.key_labels)

    def in_target(self, values: dict[str, Any]) -> Any:
        return select(*self.reads_to).where(and_(*(c == values[c.key] for c in self.pk)))

    def params(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{f"v_{k}": v for k, v in row.items()} for row in rows]


# -- the database on each side ----------------------------------------------------------------------------


def _same_database(a: str, b: str) -> bool:
    ua, ub = make_url(a), make_url(b)
    if ua.get_backend_name() == ub.get_backend_name() == "sqlite":
        return bool(ua.database) and ua.database != ":memory:" and \
            Path(ua.database).expanduser().resolve() == Path(ub.database or "").expanduser().resolve()
    return (ua.get_backend_name(), ua.host, ua.port, ua.database) == (ub.get_backend_name(), ub.host, ub.port,
                                                                      ub.database)


async def _tables(conn: AsyncConnection) -> set[str]:
    return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def _revision(conn: AsyncConnection, tables: set[str]) -> str | None:
    if VERSION_TABLE not in tables:
        return None
    return (await conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))).scalar()


async def _count_named(conn: AsyncConnection, name: str) -> int:
    quoted = conn.dialect.identifier_preparer.quote(name)
    return int((await conn.execute(text(f"SELECT count(*) FROM {quoted}"))).scalar() or 0)


async def _count(conn: AsyncConnection, table: Table) -> int:
    return int((await conn.execute(select(func.count()).select_from(table))).scalar() or 0)


async def _check_source(conn: AsyncConnection, tables: Sequence[Table], head: str) -> None:
    found = await _tables(conn)
    if not found:
        raise CopyRefused("FROM holds no tables: it is not a qunbot database (check the URL)")
    revision = await _revision(conn, found)
    if revision != head:
        raise CopyRefused(f"FROM is at schema revision {revision or 'none'}, this qunbot's newest is {head}: "
                          f"run `qunbot migrate --db FROM_URL` first (a copy never writes to its source)")
    known = {t.name for t in tables}
    missing = sorted(known - found)
    if missing:
        raise CopyRefused(f"FROM lacks tables of revision {head}: {', '.join(missing)}")
    unknown = [n for n in sorted(found - known - {VERSION_TABLE}) if await _count_named(conn, n)]
    if unknown:
        raise CopyRefused(f"FROM has rows in tables this qunbot does not know (they would not be copied): "
                          f"{', '.join(unknown)}")


async def _check_target_before_migrating(conn: AsyncConnection, tables: Sequence[Table], head: str) -> None:
    """Refuse a TO that holds rows unless it is at the newest schema (the partial copy is judged later)."""
    found = await _tables(conn) - {VERSION_TABLE}
    if not found:
        return
    known = {t.name for t in tables}
    filled = [n for n in sorted(found) if await _count_named(conn, n)]
    foreign = [n for n in filled if n not in known]
    if foreign:
        raise CopyRefused(f"TO is not empty and is not a qunbot database (rows in {', '.join(foreign[:5])}): "
                          f"copy into an empty database")
    revision = await _revision(conn, found | {VERSION_TABLE})
    if filled and revision != head:
        raise CopyRefused(f"TO is not empty (rows in {', '.join(filled[:5])}) and is not a partial copy of FROM "
                          f"(schema revision {revision or 'none'}, not {head}): copy into an empty database")


async def _resume_point(src: AsyncConnection, dst: AsyncConnection, plan: _Plan, source: int,
                        present: int) -> tuple[Any, ...] | None:
    """Where the copy of a table goes on: after FROM's `present`-th key, once TO is seen to hold exactly
    FROM's first `present` rows (its first and last of them, equal); None to start at the beginning."""
    if present == 0:
        return None
    name = plan.table.name
    refuse = (f"TO is not empty and is not a partial copy of FROM (table {name}: {present} rows in TO, {source} "
              f"in FROM")
    if present > source:
        raise CopyRefused(f"{refuse}): copy into an empty database")
    last_key = None
    for offset in sorted({0, present - 1}):
        row = (await src.execute(plan.page(None, limit=1, offset=offset))).first()
        assert row is not None
        values, last_key = plan.split(row)
        there = (await dst.execute(plan.in_target(values))).first()
        if there is None or dict(there._mapping) != values:
            raise CopyRefused(f"{refuse}, but not FROM's first {present}): copy into an empty database")
    return last_key


async def _fix_sequence(dst: AsyncConnection, table: Table) -> None:
    """PostgreSQL: a serial id's sequence continues after the largest id copied."""
    column = table.autoincrement_column
    if dst.dialect.name != "postgresql" or column is None:
        return
    quote = dst.dialect.identifier_preparer.quote
    await dst.execute(text(f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                           f"(SELECT coalesce(max({quote(column.name)}), 0) + 1 FROM {quote(table.name)}), false)"),
                      {"table": quote(table.name), "column": column.name})


async def _copy_table(src: AsyncConnection, dst: AsyncConnection, plan: _Plan, after: tuple[Any, ...] | None,
                      progress: CopyProgress | None) -> int:
    copied = 0
    while True:
        rows = (await src.execute(plan.page(after, limit=plan.batch))).all()
        if not rows:
            break
        values = []
        for row in rows:
            one, after = plan.split(row)
            values.append(one)
        try:
            await dst.execute(plan.insert, plan.params(values))
            await dst.commit()
        except DBAPIError as exc:
            await dst.rollback()
            first = {c.key: values[0][c.key] for c in plan.pk}
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
            if isinstance(exc, IntegrityError):
                reason = f"a key is already in TO, so TO is not a copy of FROM ({reason})"
            raise CopyFailed(f"table {plan.table.name}: {len(values)} rows from key {first} could not be written "
                             f"to TO: {reason}") from None
        copied += len(values)
        if progress is not None:
            progress.advance(len(values))
    await _fix_sequence(dst, plan.table)
    await dst.commit()
    return copied


async def _snapshot(conn: AsyncConnection) -> AsyncConnection:
    """Read FROM in one transaction: every batch and the final counts see the same moment."""
    if conn.dialect.name == "postgresql":
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        await conn.execute(text("SELECT 1"))
    else:  # pysqlite starts no transaction for a SELECT: start one, so the WAL snapshot holds
        await conn.exec_driver_sql("BEGIN")
    return conn


async def copy_database(source_url: str, target_url: str, *, tables: Sequence[Table] | None = None,
                        batch: int = BATCH, progress: CopyProgress | None = None) -> CopyReport:
    """Copy FROM (`source_url`) into TO (`target_url`); see the module's docstring. `tables`: the
    schema's tables (default: every table on `Base.metadata`, in dependency order; import the features
    first). Raises CopyRefused (nothing written) or CopyFailed; the report's `mismatched` lists the
    tables whose counts differ at the end."""
    began = time.monotonic()
    if _same_database(source_url, target_url):
        raise CopyRefused("FROM and TO are the same database")
    tables = list(tables if tables is not None else Base.metadata.sorted_tables)
    head = migrate.head_revision()
    source_engine, target_engine = make_engine(source_url), make_engine(target_url)
    try:
        plans = [_Plan(t, source_engine.dialect.name, target_engine.dialect.name, batch) for t in tables]
        async with source_engine.connect() as src:
            src = await _snapshot(src)
            await _check_source(src, tables, head)
            async with target_engine.connect() as dst:
                await _check_target_before_migrating(dst, tables, head)
                await dst.rollback()
            await migrate.upgrade(target_engine)
            report = CopyReport(head)
            async with target_engine.connect() as dst:
                resume = []
                for plan in plans:
                    entry = TableCopy(plan.table.name, await _count(src, plan.table), await _count(dst, plan.table))
                    resume.append(await _resume_point(src, dst, plan, entry.source, entry.present))
                    report.tables.append(entry)
                await dst.rollback()
                if progress is not None:
                    progress.begin(sum(max(t.source - t.present, 0) for t in report.tables))
                for plan, entry, after in zip(plans, report.tables, resume, strict=True):
                    if entry.present < entry.source:
                        if progress is not None:
                            progress.table(entry.name)
                        entry.copied = await _copy_table(src, dst, plan, after, progress)
                    else:
                        await _fix_sequence(dst, plan.table)
                        await dst.commit()
                for plan, entry in zip(plans, report.tables, strict=True):  # FROM's counts: the same snapshot
                    entry.target = await _count(dst, plan.table)
                await dst.rollback()
            await src.rollback()
    finally:
        await source_engine.dispose()
        await target_engine.dispose()
    report.seconds = time.monotonic() - began
    return report
