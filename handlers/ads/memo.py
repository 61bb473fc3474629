"""A bounded memo of verdicts on short texts: they recur (签到, 收到, 好的), and a verdict on a text is a
pure function of the text and the detector's settings."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
MEMO_CHARS = 64  # texts up to this long are kept...
MEMO_SIZE = 4096  # ...this many of them, the least recently used out first


class ShortTextMemo(Generic[T]):
    """`get(text, compute)`: the remembered answer for a short text, else `compute(text)` (kept if short)."""

    def __init__(self, size: int = MEMO_SIZE, chars: int = MEMO_CHARS) -> None:
        self.size, self.chars = size, chars
        self._kept: OrderedDict[str, T] = OrderedDict()

    def get(self, text: str, compute: Callable[[str], T]) -> T:
        if len(text) > self.chars:
            return compute(text)
        kept = self._kept
        found = kept.get(text)
        if found is None:
            found = kept[text] = compute(text)
            if len(kept) > self.size:
                kept.popitem(last=False)
        else:
            kept.move_to_end(text)
        return found
