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
- a "free" split (米青 -> 精, 贝才 -> 财, 言十 -> 计, 女子 -> 好 ...; generated from the table for every
  character of the ad vocabulary) is rebuilt only where it completes a vocabulary word with its neighbours,
  literal or rebuilt themselves (米青准米分 -> 精准粉, 兼耳只 -> 兼职), never on its own (米青神, 女子的).
  A split that is itself a word (女子, 上下) needs a word of 3+ characters that cuts no word of the list
  at its edges (加女子友 -> 加好友; 参加女子友谊赛 stays). Context entries take part with their own words
  and the vocabulary words of 3+ characters (米青准米分 -> 精准粉);
- matching runs left to right and takes the longest sequence (彳山攵亻言 -> 微信, not 彳山 + ...);
- a digit 1, a stroke 丨 or a bar | before 言 弋 壬 尔 昔 氏 stands for 亻 (v1言, 丨言 -> 信), not after
  another digit (11言 stays).
A message without any bound component or split sequence is returned at once (two regex searches).
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from handlers.ads.patterns import trie_regex
from handlers.ads.sounds import is_word

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
# Right parts that 1 / 丨 / | stand before for 亻 (1言 信, 1弋 代, 1壬 任, 1尔 你, 1昔 借, 1氏 低); not 用 立 直 ...,
# which start ordinary words after a number (第1用户).
_PERSON_RIGHTS = "言弋壬尔昔氏"


_FOLDABLE = re.compile(f"[{_SUPPLEMENT_RANGE}{_KANGXI_RANGE}{''.join(_KATAKANA)}]")


class _Tables(NamedTuple):
    compositions: dict[str, str]
    context: dict[str, tuple[str, tuple[tuple[int, str, bool], ...]]]  # key -> (character, word slots)
    first: frozenset[str]  # first characters of all keys, in the table's forms
    longest: int
    trigger: re.Pattern[str]  # anything that could start a recomposition
    person: re.Pattern[str]  # 1 / 丨 / | written for 亻 before the right part of a 亻 composition
    fold: dict[int, str]  # str.translate map: supplement and Kangxi forms -> table forms
    free: dict[str, tuple[tuple[str, tuple[tuple[int, str, bool], ...]], ...]]  # split -> (character, slots)
    common: dict[str, str]  # free splits met in ordinary text -> "chat" (a bigram of chat) or "word" (a word)
    find: re.Pattern[str]  # a free or context split (a trie: a search costs little more than one of a few)


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
    rights = sorted({key[1:] for key in compositions if key[0] == "亻" and key[1] in _PERSON_RIGHTS}, key=len,
                    reverse=True)
    person = re.compile(r"(?<![0-9])[1丨|](?=(?:" + "|".join(map(re.escape, rights)) + "))")
    by_char: dict[str, list[str]] = {}
    for word in data.get("words", ()):
        for letter in set(word):
            by_char.setdefault(letter, []).append(word)
    slots = {c: (c, _word_slots(c, words)) for c, words in by_char.items()}  # shared by the splits of c
    free = {key: tuple(slots.get(c, (c, ())) for c in chars) for key, (chars, _) in data.get("free", {}).items()}
    # a context entry also completes the longer vocabulary words (米青准米分 = 精准粉), not the two-character
    # ones its own list leaves out on purpose (老王见金价 is no 现金)
    free.update({key: ((char, own + tuple(s for s in slots.get(char, ("", ()))[1] if len(s[1]) > 2)),)
                 for key, (char, own) in context.items()})
    common = {key: kind for key, (_, kind) in data.get("free", {}).items() if kind}
    find = re.compile(trie_regex(list(free)))
    return _Tables(compositions, context, frozenset(k[0] for k in keys), max(map(len, keys)), trigger, person, fold,
                   free, common, find)


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
    out, changes = _recompose_bound(text)
    more_out, more = _recompose_free(out)
    return more_out, changes + more


def _recompose_bound(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Compositions, and context entries licensed by one of them or by one of their words."""
    tables = _tables()
    person = bool(text) and tables.person.search(text) is not None
    if not text or (not person and tables.trigger.search(text) is None):
        return text, []
    mapped = (tables.person.sub("亻", text) if person else text).translate(tables.fold)
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


class _Split(NamedTuple):
    start: int
    end: int
    chars: tuple[tuple[str, tuple[tuple[int, str, bool], ...]], ...]  # (character, its word slots)
    common: str  # "" (rare in ordinary text), "chat" or "word"


def _recompose_free(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Free (and not yet rebuilt context) splits that complete one of their words with their neighbours."""
    tables = _tables()
    if not text:
        return text, []
    mapped = text.translate(tables.fold) if _FOLDABLE.search(text) else text
    found = tables.find.search(mapped)
    if found is None:
        return text, []
    splits: list[_Split] = []
    while found is not None:  # overlapping finds: search again from the next character
        key = found.group(0)
        splits.append(_Split(found.start(), found.end(), tables.free[key], tables.common.get(key, "")))
        found = tables.find.search(mapped, found.start() + 1)
    starts: dict[int, list[_Split]] = {}
    ends: dict[int, list[_Split]] = {}
    for split in splits:
        starts.setdefault(split.start, []).append(split)
        ends.setdefault(split.end, []).append(split)
    chosen: dict[_Split, str] = {}
    for split in splits:
        if split in chosen:
            continue
        for char, slots in split.chars:
            used = next((u for slot in slots if (u := _complete(mapped, split, char, slot, starts, ends))), None)
            if used:
                chosen.update(used)
                break
    if not chosen:
        return text, []
    pieces: list[str] = []
    changes: list[tuple[str, str]] = []
    last = 0
    for split in sorted(chosen):
        if split.start < last:
            continue  # overlaps a split already rebuilt
        pieces += (text[last:split.start], chosen[split])
        changes.append((text[split.start:split.end], chosen[split]))
        last = split.end
    pieces.append(text[last:])
    return "".join(pieces), changes


def _complete(mapped: str, split: _Split, char: str, slot: tuple[int, str, bool],
              starts: dict[int, list[_Split]], ends: dict[int, list[_Split]]) -> dict[_Split, str] | None:
    """The splits (with their characters) that write `slot`'s word around `split` read as `char`, or None.
    Whitespace between the characters is skipped; a neighbour split counts only when the word is one of its
    own. When a split is common in ordinary text, no word of the list may run across an edge of the word or
    of a split (私人言论 is no 私信, 这才是现实 no 提现); when it is a word itself, the word needs 3+ characters."""
    offset, word, alnum_after = slot
    used = {split: char}
    left = _walk(mapped, split.start, word[:offset][::-1], -1, ends, word, used)
    if left is None:
        return None
    right = _walk(mapped, split.end, word[offset + 1:], 1, starts, word, used)
    if right is None:
        return None
    if alnum_after:
        after = _skip(mapped, right, 1)
        if after >= len(mapped) or not (mapped[after].isascii() and mapped[after].isalnum()):
            return None
    if any(s.common for s in used):
        if any(s.common == "word" for s in used) and len(word) < 3:
            return None
        edges = {left, right, *(e for s in used for e in (s.start, s.end))}
        if any(_crossed(mapped, edge) for edge in edges):
            return None
    return used


def _walk(mapped: str, pos: int, letters: str, step: int, splits: dict[int, list[_Split]], word: str,
          used: dict[_Split, str]) -> int | None:
    """Match `letters` from `pos` going `step` (+1 right, -1 left), literally or by splits (recorded in
    `used`); the position reached, or None."""
    for letter in letters:
        here = _skip(mapped, pos if step > 0 else pos - 1, step)
        if 0 <= here < len(mapped) and mapped[here].lower() == letter:
            pos = here + 1 if step > 0 else here
            continue
        edge = here if step > 0 else here + 1
        found = next((s for s in splits.get(edge, ()) for c, slots in s.chars
                      if c == letter and any(w == word for _, w, _ in slots)), None)
        if found is None:
            return None
        used[found] = letter
        pos = found.end if step > 0 else found.start
    return pos


def _skip(mapped: str, pos: int, step: int) -> int:
    while 0 <= pos < len(mapped) and mapped[pos].isspace():
        pos += step
    return pos


def _crossed(mapped: str, edge: int) -> bool:
    """Does a word of the list (2-4 characters) run across `edge` of the text as written?"""
    for a in range(max(0, edge - 3), edge):
        for b in range(edge + 1, min(len(mapped), a + 4) + 1):
            if b - a >= 2 and is_word(mapped[a:b]):
                return True
    return False


if __name__ == "__main__":
    import time

    for arg in sys.argv[1:] or ["有意者力口彳山攵亻言bb8456详聊", "王见到了老师，努力口语"]:
        result, found = recompose(arg)
        start = time.perf_counter_ns()
        for _ in range(1000):
            recompose(arg)
        micros = (time.perf_counter_ns() - start) / 1000 / 1000
        print(f"{arg} -> {result}  {found}  ({micros:.2f} µs/call)")
