"""Recompose characters that advertisers split into components: 亻言 -> 信, 彳山攵 -> 微, 力口 -> 加.

`recompose(text)` returns the text with each split sequence replaced by its character, and the list of
(what was written, what it became). `python -m handlers.ads.components "text"` prints both.

The table (components.json, built by scripts/build_components.py from 汉语拆字字典 / kfcd/chaizi, CC BY 3.0)
only produces characters of ad vocabulary (微 信 加 找 现 结 聊 钱 贷 ...). Rule, so ordinary text is never
rewritten:
- a "composition" (亻言, 讠仑, 纟吉, 钅戋, 扌戈, 彳山攵 ...) contains at least one bound component, a side
  form or rare component that ordinary writing does not use as a character (亻 讠 彳 攵 扌 纟 钅 氵 ...),
  or a CJK radical-supplement code point (⺅ ⻈ ⺘ ...); it is always applied;
- a "context" entry (力口 -> 加, 王见 -> 现, 耳卯 -> 聊 ...) is made of free characters, which also meet
  by chance in real text (老王见了, 努力口语, 耳卯 seldom, but still); it is applied only when the same
  message also has a composition, or when one context entry's rebuilt character forms one of that
  entry's ad words with its neighbours (加我, 加 + an ASCII id, 套现, 私聊, 进群 ...; spaces are skipped;
  现金 and 现结 after 王见 do not count: 老王见金价). One split that is surely an ad licenses the
  others in the message (耳卯耳卯天 -> 聊聊天);
- matching runs left to right and takes the longest sequence (彳山攵亻言 -> 微信, not 彳山 + ...).
A message without any bound component or context sequence is returned at once (one regex search).
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

DATA_PATH = Path(__file__).with_name("components.json")

# CJK radical-supplement forms (U+2E80-U+2EF3) -> the form the table uses. Every code point of the block
# counts as bound: ordinary writing does not use them.
_SUPPLEMENT = dict(zip(
    "⺀⺁⺅⺆⺇⺉⺊⺋⺖⺗⺘⺡⺣⺤⺥⺨⺩⺫⺬⺮⺯⺰⺲⺳⺹⺺⺻⺼⺾⺿⻀⻂⻃⻄⻅⻈⻉⻊⻋⻌⻍⻎⻏⻐⻓⻔⻖⻗⻚⻛⻜⻝⻞⻟⻠⻢⻥⻦",
    "冫厂亻冂几刂卜㔾忄心扌氵灬爫爫犭王罒礻竹糹纟罒罒耂肀聿月艹艹艹衤覀西见讠贝足车辶辶辶阝钅长门阝雨页风飞食食食饣马鱼鸟",
    strict=True,
))
_SUPPLEMENT_RANGE = "\u2e80-\u2eff"
# Kangxi radicals (U+2F00-U+2FD5) are what PDF copy-paste yields for ordinary characters: they are read as
# their NFKC character (⼈ -> 人) and are bound only when that character is.
_KANGXI_RANGE = "\u2f00-\u2fdf"
# Katakana that look like a component and are typed for it on a Japanese keyboard layout (イ言 for 信).
_KATAKANA = {"イ": "亻", "ヨ": "彐", "ム": "厶"}


class _Tables(NamedTuple):
    compositions: dict[str, str]
    context: dict[str, tuple[str, tuple[tuple[int, str, bool], ...]]]  # key -> (character, word slots)
    first: frozenset[str]  # first characters of all keys, in the table's forms
    longest: int
    trigger: re.Pattern[str]  # anything that could start a recomposition
    fold: dict[int, str]  # str.translate map: supplement and Kangxi forms -> table forms


@lru_cache(maxsize=1)
def _tables(path: str | None = None) -> _Tables:
    data = json.loads(Path(path or DATA_PATH).read_text(encoding="utf-8"))
    compositions: dict[str, str] = data["compositions"]
    context = {key: (char, _word_slots(char, words)) for key, (char, words) in data["context"].items()}
    fold = {ord(k): v for k, v in (*_SUPPLEMENT.items(), *_KATAKANA.items())}
    for code in range(0x2F00, 0x2FD6):
        fold[code] = unicodedata.normalize("NFKC", chr(code))
    keys = list(compositions) + list(context)
    bound = re.escape(data["bound"])
    alternatives = "|".join(sorted(map(re.escape, context), key=len, reverse=True))
    trigger = re.compile(f"[{bound}{''.join(_KATAKANA)}{_SUPPLEMENT_RANGE}{_KANGXI_RANGE}]|{alternatives}")
    return _Tables(compositions, context, frozenset(k[0] for k in keys), max(map(len, keys)), trigger, fold)


def _supplement(char: str) -> bool:
    return "\u2e80" <= char <= "\u2eff"


def _licensed(squeezed: str, pos: int, words: tuple[tuple[int, str, bool], ...]) -> bool:
    """Does the character at `pos` of the whitespace-free, lower-cased text form one of `words` with its
    neighbours? A word is (offset of the character in it, the word, whether an ASCII letter/digit follows)."""
    for offset, word, alnum_after in words:
        start = pos - offset
        if start >= 0 and squeezed.startswith(word, start):
            if not alnum_after:
                return True
            after = start + len(word)
            if after < len(squeezed) and squeezed[after].isascii() and squeezed[after].isalnum():
                return True
    return False


def _word_slots(char: str, words: list[str]) -> tuple[tuple[int, str, bool], ...]:
    """(offset of `char`, word, ASCII letter/digit follows) for each place `char` takes in each word; a
    trailing '#' stands for an ASCII letter or digit."""
    slots = []
    for word in words:
        literal = word.removesuffix("#")
        slots += [(i, literal, literal != word) for i, letter in enumerate(literal) if letter == char]
    return tuple(slots)


def recompose(text: str) -> tuple[str, list[tuple[str, str]]]:
    """`text` with split characters put back together, and the (written, character) pairs it replaced."""
    tables = _tables()
    if not text or tables.trigger.search(text) is None:
        return text, []
    mapped = text.translate(tables.fold)
    first, compositions, context, longest = tables.first, tables.compositions, tables.context, tables.longest
    # spans: (start, end, character, bound): bound = a composition, or written with radical-supplement forms
    spans: list[tuple[int, int, str, bool]] = []
    i, n = 0, len(mapped)
    while i < n:
        if mapped[i] in first:
            for size in range(min(longest, n - i), 1, -1):
                key = mapped[i:i + size]
                char = compositions.get(key)
                if char is not None:
                    spans.append((i, i + size, char, True))
                    break
                entry = context.get(key)
                if entry is not None:
                    bound = any(_supplement(c) for c in text[i:i + size])
                    spans.append((i, i + size, entry[0], bound))
                    break
            else:
                i += 1
                continue
            i = spans[-1][1]
        else:
            i += 1
    if not spans:
        return text, []
    if not any(bound for *_, bound in spans) and not _any_licensed(text, spans, context, mapped):
        return text, []
    pieces: list[str] = []
    changes: list[tuple[str, str]] = []
    last = 0
    for start, end, char, _ in spans:
        pieces += (text[last:start], char)
        changes.append((text[start:end], char))
        last = end
    pieces.append(text[last:])
    return "".join(pieces), changes


def _any_licensed(text: str, spans: list[tuple[int, int, str, bool]],
                  context: dict[str, tuple[str, tuple[tuple[int, str, bool], ...]]], mapped: str) -> bool:
    """Does some context span's character form one of its ad words with its neighbours, every span rebuilt?"""
    squeezed: list[str] = []
    positions: list[int] = []
    last = 0
    for start, end, char, _ in spans:
        squeezed.extend(c for c in text[last:start].lower() if not c.isspace())
        positions.append(len(squeezed))
        squeezed.append(char)
        last = end
    squeezed.extend(c for c in text[last:].lower() if not c.isspace())
    joined = "".join(squeezed)
    return any(_licensed(joined, pos, context[mapped[span[0]:span[1]]][1])
               for span, pos in zip(spans, positions, strict=True))


if __name__ == "__main__":
    import time

    for arg in sys.argv[1:] or ["有意者力口彳山攵亻言bb8456详聊", "王见到了老师，努力口语"]:
        result, found = recompose(arg)
        start = time.perf_counter_ns()
        for _ in range(1000):
            recompose(arg)
        micros = (time.perf_counter_ns() - start) / 1000 / 1000
        print(f"{arg} -> {result}  {found}  ({micros:.2f} µs/call)")
