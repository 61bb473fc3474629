"""Pinyin written in Latin letters, read as the sounds it spells: the classifier's pinyin view holds the
syllables of a message's Chinese characters, and a message written in pinyin (zhao wo mai cha ye, flattened
to zhaowomaichaye) says the same syllables, so the models read both alike."""

from __future__ import annotations

import re
from functools import lru_cache

from handlers.ads.sounds import reading_table

MIN_SYLLABLES = 3  # fewer is a name or an id (ranren, kangxia), not a sentence
_LETTERS = re.compile(r"[a-z]{6,60}")  # the flat form has no spaces: a run of letters is a phrase or a word


@lru_cache(maxsize=2048)
def split_syllables(letters: str) -> tuple[str, ...]:
    """The fewest whole pinyin syllables that spell `letters` (zhaowomaichaye -> zhao wo mai cha ye), or () when
    none do (meetingroom)."""
    known = reading_table().known
    n = len(letters)
    best: list[tuple[str, ...] | None] = [()] + [None] * n
    for end in range(1, n + 1):
        for start in range(max(0, end - 6), end):
            before = best[start]
            if before is not None and letters[start:end] in known:
                if best[end] is None or len(before) + 1 < len(best[end] or ()):
                    best[end] = (*before, letters[start:end])
    return best[n] or ()


def latin_syllables(flat: str) -> list[tuple[str, ...]]:
    """The runs of `flat`'s Latin letters that spell MIN_SYLLABLES pinyin syllables or more, split."""
    return [s for m in _LETTERS.finditer(flat) if len(s := split_syllables(m.group(0))) >= MIN_SYLLABLES]
