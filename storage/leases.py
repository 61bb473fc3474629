"""Leases and job claims for several processes on one database (bot/fleet/): the SQL.

Each call is a transaction of its own on a connection apart from the journal's, committed before it
returns: a claim must be visible to the other processes at once, whatever the journal has pending.
Claims are single statements (INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING, or DO NOTHING), so
two processes racing for the same row cannot both win; rows are claimed in key order, so two
processes claiming many rows at once never wait on each other in a circle. Works on SQLite 3.35+ and
PostgreSQL. Times are the callers' (UTC, aware).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import dialect
from storage.tables import GROUP_LEASES, JOB_CLAIMS

CHUNK = 500  # rows per statement


def _chunks(items: Iterable[str]) -> list[list[str]]:
    ordered = sorted(set(items))
    return [ordered[i:i + CHUNK] for i in range(0, len(ordered), CHUNK)]


async def claim_leases(engine: AsyncEngine, groups: Iterable[str], account: str, now: datetime,
                       seconds: float) -> set[str]:
    """Claim or renew the leases of `groups` for `account` until `now + seconds`: a group whose lease
    is free, expired (before `now`) or already this account's. Returns the groups the account holds."""
    expires = now + timedelta(seconds=seconds)
    held: set[str] = set()
    async with engine.begin() as conn:
        for chunk in _chunks(groups):
            stmt = dialect.upsert(engine, GROUP_LEASES).values(
                [{"group_id": g, "account": account, "expires_at": expires, "renewed_at": now} for g in chunk])
            stmt = stmt.on_conflict_do_update(
                index_elements=[GROUP_LEASES.c.group_id],
                set_={"account": stmt.excluded.account, "expires_at": stmt.excluded.expires_at,
                      "renewed_at": stmt.excluded.renewed_at},
                where=or_(GROUP_LEASES.c.expires_at < now, GROUP_LEASES.c.account == account),
            ).returning(GROUP_LEASES.c.group_id)
            held.update(row[0] for row in await conn.execute(stmt))
    return held


async def release_leases(engine: AsyncEngine, groups: Iterable[str], account: str) -> int:
    """Give up the account's leases of `groups` (a clean stop: others take them at their next round)."""
    gone = 0
    async with engine.begin() as conn:
        for chunk in _chunks(groups):
            result = await conn.execute(delete(GROUP_LEASES).where(and_(
                GROUP_LEASES.c.account == account, GROUP_LEASES.c.group_id.in_(chunk))))
            gone += result.rowcount or 0
    return gone


async def leases_of(engine: AsyncEngine, account: str) -> list[str]:
    """The groups whose lease names this account, expired or not (what it served before a restart)."""
    async with engine.connect() as conn:
        result = await conn.execute(select(GROUP_LEASES.c.group_id).where(GROUP_LEASES.c.account == account))
        return sorted(row[0] for row in result)


async def lease_holders(engine: AsyncEngine) -> dict[str, tuple[str, datetime]]:
    """Every lease: group -> (account, expires_at)."""
    async with engine.connect() as conn:
        result = await conn.execute(select(GROUP_LEASES.c.group_id, GROUP_LEASES.c.account,
                                           GROUP_LEASES.c.expires_at))
        return {g: (a, e) for g, a, e in result}


async def claim_job(engine: AsyncEngine, job_id: str, due: datetime, scopes: Iterable[str], account: str,
                    now: datetime, retry_before: datetime | None = None) -> set[str]:
    """Claim the job's instant `due` for each scope (a group id, or "" for the whole job) before it runs.
    Returns the scopes this call won. A scope claimed before is won again only with `retry_before`:
    by the same account, or by another once the claim is older than `retry_before` (its claimer died
    before finishing; the caller checks that no run was recorded)."""
    won: set[str] = set()
    async with engine.begin() as conn:
        for chunk in _chunks(scopes):
            stmt = dialect.upsert(engine, JOB_CLAIMS).values(
                [{"job_id": job_id, "due_at": due, "scope": s, "account": account, "claimed_at": now} for s in chunk])
            keys = [JOB_CLAIMS.c.job_id, JOB_CLAIMS.c.due_at, JOB_CLAIMS.c.scope]
            if retry_before is None:
                stmt = stmt.on_conflict_do_nothing(index_elements=keys)
            else:
                stmt = stmt.on_conflict_do_update(
                    index_elements=keys,
                    set_={"account": stmt.excluded.account, "claimed_at": stmt.excluded.claimed_at},
                    where=or_(JOB_CLAIMS.c.claimed_at < retry_before, JOB_CLAIMS.c.account == account))
            won.update(row[0] for row in await conn.execute(stmt.returning(JOB_CLAIMS.c.scope)))
    return won


async def prune_claims(engine: AsyncEngine, before: datetime) -> int:
    """Forget claims made before `before` (they only matter while a job's instant may still run)."""
    async with engine.begin() as conn:
        result = await conn.execute(delete(JOB_CLAIMS).where(JOB_CLAIMS.c.claimed_at < before))
        return result.rowcount or 0
