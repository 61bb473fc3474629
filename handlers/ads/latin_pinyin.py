"""Pinyin written in Latin letters, read as the sounds it spells: the classifier's pinyin view holds the
syllables of a message's Chinese characters, and a message written in pinyin (zhao wo mai cha ye, flattened
to zhaowomaichaye) says the same syllables, so a model that reads Latin pinyin (`AdModel.latin`: the chat
model) reads both alike."""

from __future__ import annotations

import re
from functools import lru_cache

from handlers.ads.sounds import reading_table

MIN_SYLLABLES = 3  # fewer is a name or an id (ranren, kangxia), not a sentence
MAX_LETTERS = 600  # a longer run of letters is not read (splitting is linear, but a budget is a budget)
CACHED_LETTERS = 60  # runs this short are remembered (the cache is keyed by what members send: short keys)
_LETTERS = re.compile(r"[a-z]{6,}")  # the flat form has no spaces: a run of letters is a phrase or a word


def split_syllables(letters: str) -> tuple[str, ...]:
    """The fewest whole pinyin syllables that spell `letters` (zhaowomaichaye -> zhao wo mai cha ye), or () when
    none do (meetingroom) or the run is over MAX_LETTERS."""
    if len(letters) > MAX_LETTERS:
        return ()
    return _split_cached(letters) if len(letters) <= CACHED_LETTERS else _split(letters)


@lru_cache(maxsize=2048)
def _split_cached(letters: str) -> tuple[str, ...]:
    return _split(letters)


def _split(letters: str) -> tuple[str, ...]:
    known = reading_table().known
    n = len(letters)
    fewest = [0] + [n + 1] * n  # syllables to spell letters[:end]; n + 1: none do
    back = [0] * (n + 1)  # where the last of them starts
    for end in range(1, n + 1):
        for start in range(max(0, end - 6), end):
            if fewest[start] + 1 < fewest[end] and letters[start:end] in known:
                fewest[end], back[end] = fewest[start] + 1, start
    if fewest[n] > n:
        return ()
    out: list[str] = []
    end = n
    while end:
        out.append(letters[back[end]:end])
        end = back[end]
    return tuple(reversed(out))


def latin_syllables(flat: str) -> list[tuple[str, ...]]:
    """The runs of `flat`'s Latin letters that spell MIN_SYLLABLES pinyin syllables or more, split."""
    return [s for m in _LETTERS.finditer(flat) if len(s := split_syllables(m.group(0))) >= MIN_SYLLABLES]
