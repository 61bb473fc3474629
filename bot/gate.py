"""The commit gate: events share it; a commit takes it alone (see bot/core.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class CommitGate:
    """Events share the gate; a commit takes it alone (and new events wait while it wants it).

    The common case (no commit waiting) costs no await: events only touch a counter."""

    def __init__(self) -> None:
        self._active = 0
        self._committing = False
        self._cond = asyncio.Condition()

    async def enter_event(self) -> None:
        if self._committing:
            async with self._cond:
                await self._cond.wait_for(lambda: not self._committing)
        self._active += 1

    async def leave_event(self) -> None:
        self._active -= 1
        if self._committing and self._active == 0:
            async with self._cond:
                self._cond.notify_all()

    async def enter_commit(self) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: not self._committing)
            self._committing = True
            await self._cond.wait_for(lambda: self._active == 0)

    async def leave_commit(self) -> None:
        async with self._cond:
            self._committing = False
            self._cond.notify_all()

    @contextlib.asynccontextmanager
    async def committing(self) -> AsyncIterator[None]:
        """The gate taken alone for the block (`enter_commit` ... `leave_commit`)."""
        await self.enter_commit()
        try:
            yield
        finally:
            await self.leave_commit()
