"""The platform protocol: what an adapter (console, replay, Wechaty) offers the core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from bot.events import Action, Event


@dataclass(frozen=True)
class Capabilities:
    """What the platform can do; the core answers for what it cannot (e.g. tells operators)."""

    kick: bool = True
    recall: bool = True
    send_image: bool = True
    send_file: bool = True
    merge_texts: bool = False


class PlatformFatal(Exception):
    """The platform cannot be used and no retry will help (missing extra, wrong token, wrong endpoint).

    Its message is one line for the user."""


class Unsupported(Exception):
    """The platform cannot do this action here (no such capability, or the bot lacks the right)."""


class Platform(Protocol):
    capabilities: Capabilities

    def events(self) -> AsyncIterator[Event]:
        """Events as they happen, until the platform closes."""
        ...

    async def send(self, action: Action) -> None:
        """Carry out one action (raise Unsupported when it cannot be done, anything else to retry)."""
        ...
