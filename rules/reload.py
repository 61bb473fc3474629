"""Hot reload: watch config.yaml, swap in a new config that validates, keep the last good one otherwise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from rules.config import Config
from rules.guardrails import Risk, new_risks, refuse_if_strict
from rules.loader import ConfigError

log = logging.getLogger("qunbot.config")


class ConfigHolder:
    """Holds the config in force. Readers take `holder.current` once per event; reload swaps it."""

    def __init__(self, config: Config, path: str | Path | None = None) -> None:
        self.current = config
        self.path = Path(path) if path else None
        self.listeners: list[Callable[[Config], None]] = []
        # told of the risky settings a reload turns on (rules/guardrails.py): the runtime tells operators
        self.risk_listeners: list[Callable[[list[Risk]], None]] = []

    def reload(self) -> bool:
        """Read the file again; swap it in when it validates. Returns True when swapped."""
        if self.path is None:
            return False
        try:
            new = Config.from_file(self.path)
            refuse_if_strict(new, self.current)
        except ConfigError as exc:
            log.error("config %s has %d error(s); the last good config keeps serving:\n%s",
                      self.path, len(exc.issues), exc)
            return False
        except OSError as exc:
            log.error("config %s cannot be read (%s); the last good config keeps serving", self.path, exc)
            return False
        turned_on = new_risks(new, self.current)
        self.current = new
        log.info("config %s reloaded", self.path)
        for risk in turned_on:
            log.warning("config %s turns on a risky setting: %s", self.path, risk)
        for notify in self.risk_listeners if turned_on else ():
            try:
                notify(turned_on)
            except Exception:
                log.exception("a risk listener failed")
        for listener in self.listeners:
            try:
                listener(new)
            except Exception:
                log.exception("a config listener failed")
        return True

    async def watch(self, stop: asyncio.Event | None = None) -> None:
        """Reload on every change of the file until `stop` is set (uses watchfiles)."""
        if self.path is None:
            return
        from watchfiles import awatch

        target = self.path.resolve()
        async for changes in awatch(target.parent, stop_event=stop, debounce=300, recursive=False):
            if any(Path(p) == target for _kind, p in changes):
                self.reload()
