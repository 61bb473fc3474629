"""A platform that writes each action as one JSON line (the replay output)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import TextIO

from bot.events import Action, Event
from bot.platform import Capabilities


class JsonlSink:
    """Writes actions to a text stream, one JSON object per line, flushed at once."""

    capabilities = Capabilities(kick=True, recall=True, send_image=True, send_file=True, merge_texts=False)

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.count = 0
        self.kinds: Counter[str] = Counter()  # actions written, by kind (send, kick …)

    async def events(self) -> AsyncIterator[Event]:  # pragma: no cover - a sink has no inbound side
        return
        yield

    async def send(self, action: Action) -> None:
        self.out.write(json.dumps(action.to_json(), ensure_ascii=False) + "\n")
        self.out.flush()
        self.count += 1
        self.kinds[action.action] += 1
