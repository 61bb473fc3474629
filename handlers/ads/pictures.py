"""Emoji that stand for a character by their Chinese name (🥚 蛋 for 单, 🍐 梨 for 利, 🪙 硬币 for 币): the table
(handlers/ads/emoji_chars.json, scripts/build_emoji_chars.py) and the readings the detector weighs, keeping
one only where it makes more ad words."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from handlers.ads.charsets import ASTRAL, any_of


@lru_cache(maxsize=1)
def _emoji_table() -> dict[str, str]:
    return json.loads(resources.files("handlers.ads").joinpath("emoji_chars.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _bmp_emoji() -> re.Pattern[str]:
    return any_of(ord(k) for k in _emoji_table() if len(k) == 1 and k < "\U00010000")


def emoji_words(light: str) -> dict[str, str]:
    """The emoji of `light` that have a word."""
    if light.isascii() or (_bmp_emoji().search(light) is None and ASTRAL.search(light) is None):
        return {}  # none of them there (most are past the BMP, as few characters of chat are)
    table = _emoji_table()
    return {ch: table[ch] for ch in set(light) if ch in table}


def picture_readings(light: str) -> list[str]:
    """The other ways to read `light` with its emoji as their word, its last or its first character (🪙: 硬币,
    币, 硬), each once; [] when it has no emoji with a word. The caller keeps the one that makes the most ad
    words (刷🥚返🍐 -> 刷单返利), if any makes more than `light` itself."""
    found = emoji_words(light)
    if not found:
        return []
    reads = ("".join(pick(found[ch]) if ch in found else ch for ch in light)
             for pick in (lambda w: w, lambda w: w[-1], lambda w: w[0]))
    return list(dict.fromkeys(r for r in reads if r != light))
