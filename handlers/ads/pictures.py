"""Emoji that stand for a character by their Chinese name (🥚 蛋 for 单, 🍐 梨 for 利, 🪙 硬币 for 币): the table
(handlers/ads/emoji_chars.json, scripts/build_emoji_chars.py) and the reading that keeps them only where
they make ad words."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _emoji_table() -> dict[str, str]:
    return json.loads(resources.files("handlers.ads").joinpath("emoji_chars.json").read_text(encoding="utf-8"))


def emoji_words(light: str) -> dict[str, str]:
    """The emoji of `light` that have a word."""
    if light.isascii():
        return {}
    table = _emoji_table()
    return {ch: table[ch] for ch in set(light) if ch in table}


def read_pictures(light: str, ad_words: Callable[[str], int]) -> tuple[str, bool]:
    """`light` with its emoji read as their word, its last or its first character (🪙: 硬币, 币, 硬), whichever
    makes the most ad words (`ad_words` counts them, by sound too: 刷🥚返🍐 -> 刷单返利), and whether it
    changed; `light` as it was when no reading makes more."""
    found = emoji_words(light)
    if not found:
        return light, False
    best, best_count = light, ad_words(light)
    for pick in (lambda w: w, lambda w: w[-1], lambda w: w[0]):
        read = "".join(pick(found[ch]) if ch in found else ch for ch in light)
        count = ad_words(read)
        if count > best_count:
            best, best_count = read, count
    return best, best is not light
