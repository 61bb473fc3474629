"""Generated disguises of ad lines, and harmless transforms of ordinary lines, for training the classifier.

`Augmenter(pool).disguise(text, family, rnd)` writes an ad the way evaders do (homophones, split
characters, reversed text, pinyin, emoji, look-alike letters, numerals, contacts, invites ...);
`Augmenter(pool).harmless(text, transform, rnd)` changes an ordinary line only in ways ordinary people
do too (traditional characters, emoji, line breaks, spacing, full-width), so that "disguised" is not
learnt as "ad". `augment_rows` makes the rows `train_model` adds to the corpus.

Every substitute comes from a table, never from an evaluation set: homophones from the reading table
(handlers/ads/readings.txt.gz) among the characters common in the word list (words.txt.gz), splits from
components.json, emoji from Unicode (NFKC) and the folds' emoji map, look-alikes from Unicode (NFKC) and
the folds' homoglyph map, traditional characters from OpenCC. Each substitute belongs to one of two
disjoint pools, "train" or "eval" (by a hash of the pair), so a model trained on the "train" pool can be
measured on disguises it never saw. Output is a function of (text, pool, seed): no global random state.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from handlers.ads import folds
from handlers.ads.components import DATA_PATH as COMPONENTS_PATH
from handlers.ads.sounds import HOMOPHONE_WORDS, INITIALS, PINYIN_WORDS, readings, word_buckets
from rules.normalize import to_simplified

FAMILIES = ("homophone", "split", "reversed", "rtl", "vertical", "pinyin", "initials", "traditional", "emoji",
            "spacing", "fullwidth", "homoglyph", "numbers", "contact", "invite")
# Besides the five, two that ordinary chat does as much as ads: typing pinyin without an input
# method, and numbering a list (接龙) — without them the model learns "letters and numbers = ad".
HARMLESS = ("traditional", "emoji", "linebreaks", "spacing", "fullwidth", "pinyin", "numbering")
POOLS = ("train", "eval")

_CJK = re.compile(r"[\u4e00-\u9fff]")
_CLAUSE = re.compile(r"[^，。！？；,.!?;\s]{4,}")
_DIGIT_RUN = re.compile(r"\d{5,}")
_OPENCC = {"train": ("s2t", "s2hk"), "eval": ("s2tw", "s2twp")}
_SEPARATORS = {"train": (" ", "*", "·", "-", "丶", "~", "  ", "|"), "eval": ("/", "_", "•", "#", "、", " . ", "+")}
_PINYIN_STYLES = {"train": ("", " ", "'"), "eval": ("-", "  ", "_")}
# Short lead-ins for a contact or an invite, written for this generator (not taken from any test set).
_CONTACT = {
    "train": ("加Q{qq}", "扣扣：{qq}", "QQ {qq}", "tg：@{name}", "飞机 @{name}", "邮箱 {email}", "vx：{wx}",
              "微：{wx}", "联系我 {wx}", "telegram @{name}", "私信 {email}"),
    "eval": ("企鹅号{qq}", "Q号 {qq}", "电报 @{name}", "TG @{name}", "发邮件到 {email}", "v信 {wx}", "加我 {wx}",
             "详询 {qq}"),
}
_INVITE = {
    "train": ("进群{qq}", "群号：{qq}", "扫码进群", "入群私聊", "拉你进群", "加群领资料 {qq}", "邀请你加入群聊"),
    "eval": ("速进群 {qq}", "群：{qq} 入群有福利", "进裙 {qq}", "扫我进内部群", "点击链接加入群聊"),
}
_MAILS = ("qq.com", "163.com", "gmail.com", "outlook.com", "126.com", "foxmail.com")
_NUMERALS = {"train": ("〇一二三四五六七八九", "零一二三四五六七八九"),
             "eval": ("零壹贰叁肆伍陆柒捌玖", "〇幺二三四五六七八九")}
_DECOR = tuple(chr(cp) for cp in (*range(0x1F600, 0x1F640), *range(0x1F44A, 0x1F450), 0x1F389, 0x1F525, 0x2728))


def in_pool(key: str, pool: str) -> bool:
    """Does the substitution `key` (e.g. original + substitute) belong to `pool`? About 1 in 4 is "eval"."""
    evaluated = hashlib.sha1(key.encode("utf-8")).digest()[0] % 4 == 0
    return evaluated == (pool == "eval")


def row_random(text: str, seed: int, salt: str = "") -> random.Random:
    """A random stream that depends only on the text, the seed and the salt."""
    return random.Random(hashlib.sha1(f"{seed}\x00{salt}\x00{text}".encode()).digest())


@lru_cache(maxsize=1)
def _common_chars() -> Counter[str]:
    """Characters by the number of words of the word list they are in (a cheap commonness measure)."""
    count: Counter[str] = Counter()
    for bucket in word_buckets().values():
        for word in bucket.split("|"):
            count.update(set(word))
    return Counter({c: n for c, n in count.items() if n >= 10 and _CJK.fullmatch(c)})


@lru_cache(maxsize=2)
def _homophones(pool: str) -> dict[str, tuple[str, ...]]:
    common = _common_chars()
    by_sound: dict[str, list[str]] = defaultdict(list)
    for ch in sorted(common, key=lambda c: (-common[c], c)):
        r = readings(ch)
        if r:
            by_sound[r[0]].append(ch)
    out: dict[str, tuple[str, ...]] = {}
    for chars in by_sound.values():
        for ch in chars:
            subs = tuple(x for x in chars if x != ch and in_pool(ch + x, pool))[:10]
            if subs:
                out[ch] = subs
    return out


@lru_cache(maxsize=2)
def _splits(pool: str) -> dict[str, tuple[str, ...]]:
    """Character -> the ways components.json writes it in parts (compositions and context entries)."""
    data = json.loads(COMPONENTS_PATH.read_text(encoding="utf-8"))
    found: dict[str, list[str]] = defaultdict(list)
    for parts, char in sorted(data["compositions"].items()):
        found[char].append(parts)
    for parts, (char, _words) in sorted(data["context"].items()):
        found[char].append(parts)
    return {c: tuple(p for p in parts if in_pool(c + p, pool)) for c, parts in found.items()
            if any(in_pool(c + p, pool) for p in parts)}


@lru_cache(maxsize=2)
def _lookalikes(pool: str) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(character -> emoji that stand for it, ASCII letter/digit -> look-alikes), both from Unicode's NFKC
    and the folds' maps (what a reader and the folds both read as that character)."""
    emoji: dict[str, list[str]] = defaultdict(list)
    alike: dict[str, list[str]] = defaultdict(list)
    for cp in (*range(0x2460, 0x2500), *range(0x3280, 0x32B1), *range(0xFF10, 0xFF5B), *range(0x1D400, 0x1D800),
               *range(0x1F100, 0x1F110), *range(0x1F200, 0x1F260)):
        ch = chr(cp)
        nfkc = unicodedata.normalize("NFKC", ch)
        if len(nfkc) != 1:
            continue
        if _CJK.fullmatch(nfkc):
            emoji[to_simplified(nfkc)].append(ch)
        elif nfkc.isascii() and nfkc.isalnum():
            alike[nfkc.lower()].append(ch)
    for ch, word in folds._EMOJI_WORDS.items():
        if len(word) == 1:
            emoji[word].append(ch)
    for ch, letter in folds._HOMOGLYPHS.items():
        alike[letter].append(ch)

    def pick(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
        return {k: tuple(x for x in v if in_pool(k + x, pool)) for k, v in table.items()
                if any(in_pool(k + x, pool) for x in v)}

    return pick(emoji), pick(alike)


@lru_cache(maxsize=4)
def _opencc(config: str) -> Callable[[str], str]:
    import opencc

    try:
        return opencc.OpenCC(config).convert
    except Exception:  # pragma: no cover - older bindings want the file name
        return opencc.OpenCC(config + ".json").convert


def ad_words(rows: Iterable[tuple[str, bool]], k: int = 800, min_count: int = 8) -> tuple[str, ...]:
    """The character bigrams most typical of the ad lines (by smoothed log-odds of document frequency),
    plus the sound decoder's ad words: where an evader would disguise a line."""
    spam: Counter[str] = Counter()
    ham: Counter[str] = Counter()
    n_spam = n_ham = 0
    for text, is_ad in rows:
        grams = {text[i : i + 2] for i in range(len(text) - 1) if _CJK.match(text, i) and _CJK.match(text, i + 1)}
        if is_ad:
            spam.update(grams)
            n_spam += 1
        else:
            ham.update(grams)
            n_ham += 1
    scored = sorted(((math.log((spam[g] + 1) / (n_spam + 1)) - math.log((ham[g] + 1) / (n_ham + 1)), g)
                     for g in spam if spam[g] >= min_count), reverse=True)
    picked = [g for score, g in scored if score >= math.log(4)][:k]
    return tuple(sorted({*picked, *HOMOPHONE_WORDS, *PINYIN_WORDS, *INITIALS.values()}))


class Augmenter:
    """Disguises and harmless transforms drawn from one pool of substitutes ("train" or "eval")."""

    def __init__(self, pool: str = "train", words: Iterable[str] = ()) -> None:
        if pool not in POOLS:
            raise ValueError(f"pool is one of {POOLS}")
        self.pool = pool
        self.words = tuple(sorted(set(words) | set(HOMOPHONE_WORDS) | set(PINYIN_WORDS), key=lambda w: (-len(w), w)))
        self._words_re = re.compile("|".join(map(re.escape, self.words)))

    # -- where to disguise --------------------------------------------------------------------------

    def spans(self, text: str, rnd: random.Random, most: int = 3) -> list[tuple[int, int]]:
        """Up to `most` spans of ad words in `text` (or one random run of Chinese characters)."""
        found = [(m.start(), m.end()) for m in self._words_re.finditer(text)]
        if found:
            return sorted(rnd.sample(found, min(most, len(found))))
        cjk = [m.span() for m in re.finditer(r"[\u4e00-\u9fff]{2,}", text)]
        if not cjk:
            return []
        start, end = rnd.choice(cjk)
        at = rnd.randrange(start, end - 1)
        return [(at, min(end, at + rnd.choice((2, 2, 3))))]

    @staticmethod
    def _each(text: str, spans: Sequence[tuple[int, int]], rewrite: Callable[[str], str]) -> str:
        out, last = [], 0
        for start, end in spans:
            out += [text[last:start], rewrite(text[start:end])]
            last = end
        return "".join(out) + text[last:]

    # -- the families --------------------------------------------------------------------------------

    def disguise(self, text: str, family: str, rnd: random.Random) -> str:
        """`text` written with the evasion `family` (unchanged when the family has nothing to work on)."""
        return getattr(self, "_" + family)(text, rnd)

    def _homophone(self, text: str, rnd: random.Random) -> str:
        table = _homophones(self.pool)
        return self._each(text, self.spans(text, rnd), lambda s: "".join(
            rnd.choice(table[c]) if c in table and rnd.random() < 0.75 else c for c in s))

    def _split(self, text: str, rnd: random.Random) -> str:
        table = _splits(self.pool)
        return "".join(rnd.choice(table[c]) if c in table and rnd.random() < 0.7 else c for c in text)

    def _reversed(self, text: str, rnd: random.Random) -> str:
        clauses = list(_CLAUSE.finditer(text))
        if rnd.random() < 0.6 or not clauses:
            return text[::-1]
        m = rnd.choice(clauses)
        return text[: m.start()] + m.group(0)[::-1] + text[m.end() :]

    def _rtl(self, text: str, rnd: random.Random) -> str:
        clauses = list(_CLAUSE.finditer(text))
        if not clauses:
            return "\u202e" + text[::-1]
        m = rnd.choice(clauses)
        end = "\u202c" if rnd.random() < 0.5 else "\u2069"
        opener = "\u202e" if end == "\u202c" else "\u2067"
        return text[: m.start()] + opener + m.group(0)[::-1] + end + text[m.end() :]

    def _vertical(self, text: str, rnd: random.Random) -> str:
        if rnd.random() < 0.5:  # the whole message down the screen, one to three characters a line
            size = rnd.choice((1, 2, 3))
            body = text[:60]
            return "\n".join(body[i : i + size] for i in range(0, len(body), size)) + text[60:]
        cuts = [s + 1 for s, e in self.spans(text, rnd) if e - s >= 2]
        cuts += [m.start() + rnd.randrange(1, len(m.group(0))) for m in _DIGIT_RUN.finditer(text)]
        for at in sorted(set(cuts), reverse=True):
            text = text[:at] + "\n" + text[at:]
        return text

    def _pinyin(self, text: str, rnd: random.Random) -> str:
        sep = rnd.choice(_PINYIN_STYLES[self.pool])
        upper = self.pool == "eval" and rnd.random() < 0.5

        def spell(span: str) -> str:
            syl = [readings(c)[0] if readings(c) else c for c in span]
            syl = [s.capitalize() for s in syl] if upper else syl
            return " " + sep.join(syl) + " "

        return self._each(text, self.spans(text, rnd), spell)

    def _initials(self, text: str, rnd: random.Random) -> str:
        upper = (self.pool == "eval") == (rnd.random() < 0.7)
        spell = "".join if not upper else lambda parts: "".join(parts).upper()
        return self._each(text, self.spans(text, rnd),
                          lambda s: " " + spell(readings(c)[0][0] if readings(c) else c for c in s) + " ")

    def _traditional(self, text: str, rnd: random.Random) -> str:
        return _opencc(rnd.choice(_OPENCC[self.pool]))(text)

    def _emoji(self, text: str, rnd: random.Random) -> str:
        table = _lookalikes(self.pool)[0]
        out = "".join(rnd.choice(table[c]) if c in table and rnd.random() < 0.6 else c for c in text)
        return out if out != text or rnd.random() < 0.5 else out + rnd.choice(_DECOR)

    def _spacing(self, text: str, rnd: random.Random) -> str:
        sep = rnd.choice(_SEPARATORS[self.pool])
        if rnd.random() < 0.3:
            return sep.join(text[:80]) + text[80:]
        return self._each(text, self.spans(text, rnd), sep.join)

    def _fullwidth(self, text: str, rnd: random.Random) -> str:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and rnd.random() < 0.9 else c for c in text)

    def _homoglyph(self, text: str, rnd: random.Random) -> str:
        table = _lookalikes(self.pool)[1]
        if not any(c.isascii() and c.isalnum() for c in text):
            text = self._contact(text, rnd)
        return "".join(rnd.choice(table[c.lower()]) if c.lower() in table and rnd.random() < 0.6 else c
                       for c in text)

    def _numbers(self, text: str, rnd: random.Random) -> str:
        """Phone numbers and ids (runs of 5 digits or more) in numerals or styled digits; prices and dates
        stay as they are, as evaders leave them."""
        if not _DIGIT_RUN.search(text):
            text = self._add(text, rnd.choice(_CONTACT[self.pool][:2]), rnd)  # a QQ number
        numerals = rnd.choice(_NUMERALS[self.pool])
        styled = _lookalikes(self.pool)[1]
        if rnd.random() < 0.6:
            return _DIGIT_RUN.sub(lambda m: "".join(numerals[int(c)] for c in m.group(0)), text)
        return _DIGIT_RUN.sub(lambda m: "".join(rnd.choice(styled[c]) if c in styled else c for c in m.group(0)), text)

    def _contact(self, text: str, rnd: random.Random) -> str:
        return self._add(text, rnd.choice(_CONTACT[self.pool]), rnd)

    def _invite(self, text: str, rnd: random.Random) -> str:
        return self._add(text, rnd.choice(_INVITE[self.pool]), rnd)

    def _add(self, text: str, template: str, rnd: random.Random) -> str:
        letters = "abcdefghijklmnopqrstuvwxyz"
        name = rnd.choice(letters) + "".join(rnd.choice(letters + "0123456789_") for _ in range(rnd.randint(5, 10)))
        phrase = template.format(qq=str(rnd.randint(10_000, 3_999_999_999)), name=name,
                                 wx=name.replace("_", "") + str(rnd.randint(10, 9999)),
                                 email=f"{name}@{rnd.choice(_MAILS)}")
        if rnd.random() < 0.3 and len(text) > 20:  # in the middle, between two clauses' worth of text
            at = rnd.randint(10, min(60, len(text) - 5))
            return text[:at] + "，" + phrase + "，" + text[at:]
        return phrase + "，" + text if rnd.random() < 0.4 else text + " " + phrase

    # -- harmless transforms of ordinary lines ------------------------------------------------------

    def harmless(self, text: str, transform: str, rnd: random.Random) -> str:
        """`text` changed the way ordinary chat changes it: still not an ad."""
        if transform == "traditional":
            return self._traditional(text, rnd)
        if transform == "emoji":
            table = _lookalikes(self.pool)[0]
            out = "".join(rnd.choice(table[c]) if c in table and rnd.random() < 0.3 else c for c in text)
            return out + "".join(rnd.choice(_DECOR) for _ in range(rnd.randint(1, 3)))
        if transform == "linebreaks":
            return re.sub(r"(?<=[，。！？,!?])", "\n", text) if rnd.random() < 0.5 else "\n".join(_chunks(text, rnd))
        if transform == "spacing":
            return re.sub(r"(?<=[\u4e00-\u9fff])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?=[\u4e00-\u9fff])", " ", text) \
                if rnd.random() < 0.5 else " ".join(_chunks(text, rnd))
        if transform == "fullwidth":
            return self._fullwidth(text, rnd)
        if transform == "pinyin":  # the whole line, as typed without an input method
            sep = rnd.choice(_PINYIN_STYLES[self.pool])
            return re.sub(r"[\u4e00-\u9fff]+", lambda m: sep.join(readings(c)[0] if readings(c) else c
                                                                  for c in m.group(0)) + " ", text).strip()
        if transform == "numbering":
            parts = [p for p in re.split(r"[，。；！？,;!?\n]+", text) if p.strip()]
            mark = rnd.choice(("{}. ", "{}、", "{}) ", "{} "))
            return "\n".join(mark.format(i + 1) + part for i, part in enumerate(parts))
        raise ValueError(f"unknown transform {transform!r}")


def _chunks(text: str, rnd: random.Random) -> list[str]:
    out, i = [], 0
    while i < len(text):
        step = rnd.randint(4, 12)
        out.append(text[i : i + step])
        i += step
    return out


def augment_rows(rows: Sequence[tuple[str, bool]], *, pool: str = "train", seed: int = 0, per_ad: int = 1,
                 ham_share: float = 0.25, words: Iterable[str] | None = None,
                 ) -> list[tuple[str, bool, int, str]]:
    """Generated rows (text, is_ad, index of the row it came from, family/transform): `per_ad` disguises
    of each ad row (one to two families each) and one harmless transform of `ham_share` of the ham rows."""
    augmenter = Augmenter(pool, ad_words(rows) if words is None else words)
    out: list[tuple[str, bool, int, str]] = []
    for i, (text, is_ad) in enumerate(rows):
        rnd = row_random(text, seed, pool)
        if is_ad:
            for k in range(per_ad):
                family = FAMILIES[(int(hashlib.sha1(text.encode()).hexdigest()[:6], 16) + k) % len(FAMILIES)]
                made = augmenter.disguise(text, family, rnd)
                if rnd.random() < 0.4:
                    second = rnd.choice(FAMILIES)
                    made = augmenter.disguise(made, second, rnd)
                    family += "+" + second
                if made != text:
                    out.append((made, True, i, family))
        elif rnd.random() < ham_share:
            transform = rnd.choice(HARMLESS)
            made = augmenter.harmless(text, transform, rnd)
            if made != text:
                out.append((made, False, i, transform))
    return out
