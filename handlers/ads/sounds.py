"""Ad words written by sound: homophones (薇芯 for 微信, 带款 for 贷款), pinyin (jia wei xin, dai kuan) and
initials (dk, jz, rj).

`SoundDecoder(words, lexicon=..., contacts=...).decode(light)` rewrites such spellings back to the ad word
and says what it did, so the checks read 微信 / 贷款 and the reason names the trick. The words looked for
are the curated lists below, the group's pitch words and the whole ad vocabulary (patterns.OFFER_WORDS;
words of contact such as 联系 or 电话 in pinyin and initials only). Ordinary text is protected three ways:

- a homophone is taken only when it is not itself a word and does not cut through a word of the word
  list (handlers/ads/words.txt.gz, from jieba's dictionary): 威信 (prestige), 宝马 (BMW) and
  李薇，信息 stay as they are; and not when the message also writes the ad word itself (someone talking
  about the word: 打错字了，“带款”是“贷款”); and only next to money words or an account;
- pinyin is read only as runs of whole tokens (jian zhi, jianzhi, ti e dai huan), never inside an English
  word or an id, and only when the tokens read as many syllables as the word has characters (tie is
  one syllable, not 提额);
- initials are weak: the curated ones (dk, jz) are read only when the message also carries an account or
  a phone number, because chat uses them for other things (今天 dk 了吗 = 打卡); those of the rest of the
  vocabulary only two or more together and next to a mobile number or an id (wd yq 都能做 + a phone);
  common chat abbreviations (hh, xd, ok) never.

Readings come from pypinyin's character table, shipped as handlers/ads/readings.txt.gz (the common
reading of each character, toneless; scripts/build_readings.py).
"""

from __future__ import annotations

import gzip
import io
import re
from array import array
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources

from handlers.ads.charsets import LOWER_LATIN
from handlers.ads.scan import finditer

# Ad words looked for as homophones, besides the group's pitch words (电话 would "match" chat: 沾化)...
HOMOPHONE_WORDS = ("微信", "加微信", "加微", "贷款", "网贷", "代理", "招代理", "兼职", "日结", "刷单", "赚钱", "返利",
                   "套现", "引流", "涨粉", "刷粉", "带单", "喊单", "荐股", "炒币", "博彩", "彩票", "宝妈", "花呗",
                   "信用卡")
KEPT_ONE = ("私聊", "私信", "联系")  # by sound only with one character kept, before 我 or at the end (私寥我, 嘶聊)
# ...and as pinyin, where a whole run of syllables is evidence enough.
PINYIN_WORDS = (*HOMOPHONE_WORDS, "下款", "私聊", "私我", "现金", "佣金", "扫码", "进群", "牛股", "电话", "手机",
                "加我", "黑户", "网赚", "副业", "提现", "征信")
# Two-letter initials that stand for an ad word (weak: only next to an account or a phone number).
INITIALS = {"dk": "贷款", "jz": "兼职", "rj": "日结", "sd": "刷单", "zq": "赚钱", "fl": "返利", "yl": "引流",
            "zf": "涨粉", "tx": "套现", "dl": "代理", "sl": "私聊", "bm": "宝妈", "hb": "花呗", "xyk": "信用卡",
            "bc": "博彩"}
TRICK_HOMOPHONE, TRICK_PINYIN, TRICK_INITIALS = "谐音字", "拼音", "拼音缩写"

_CJK = re.compile(r"[\u4e00-\u9fff]")
_ACCOUNT = re.compile(r"(?<![a-z0-9])(?=[a-z0-9_-]*\d)[a-z][a-z0-9_-]{4,19}(?![a-z0-9])|(?<!\d)1[3-9]\d{9}(?!\d)"
                      r"|(?<!\d)\d{6,12}(?!\d)")
# Homophones and initials are read only next to evidence that the message wants something.
_CONTEXT = re.compile(r"赚|钱|元|块|万|💰|¥|收益|日结|工资|佣金|提现|到账|私聊|找我|加我|联系|私\w?(?:我|$)")
# A mobile number or an id of letters and digits (not a bare number: 回复HS 查第7930235期 is a service text).
_PERSONAL_ACCOUNT = re.compile(r"(?<![a-z0-9])(?=[a-z0-9_-]*\d)[a-z][a-z0-9_-]{4,19}(?![a-z0-9])"
                               r"|(?<!\d)1[3-9]\d{9}(?!\d)")
_ALNUM_RUN = re.compile(r"([a-z0-9]+)")  # no word is read by sound across a number (陈姐 3袋 is not 借贷)
_JOINED_DIGITS = re.compile(r"(?<=\d)[\s-]+(?=\d)")
_LATIN_XIN = re.compile(r"(?<![a-z])(v|w|wei)([\u4e00-\u9fff])")
# Abbreviations chat uses for other things: never read as initials of an ad word.
CHAT_ABBREVIATIONS = frozenset("ok hi no so go do me my we us he it is am an at be by if in of on or to up id tv pc "
                               "vs pk hr ui qq vx wx ad cv pr ps gg mm bb dd hh hhh xd lol omg wtf nb yyds xdm jms "
                               "awsl dbq tql zqsg".split())
# A run of letter tokens separated only by spaces, apostrophes or hyphens, not part of an id, a path or a
# domain; and its tokens (a tone digit after a syllable is allowed: jian1 zhi2).
_PHRASE = re.compile(r"(?<![a-z0-9_./@:-])[a-z]+[1-5]?(?:[\s'-]+[a-z]+[1-5]?)*(?![a-z0-9_./@-])")
_TOKEN = re.compile(r"([a-z]+)[1-5]?")
_INITIAL_TOKEN = re.compile(r"(?<![a-z0-9])([a-z]{2,4})(?![a-z0-9])")
# Characters whose common reading is not the one their ad words use (代还 dai huan, 银行 yin hang).
_OTHER_READINGS = {"还": "huan", "行": "hang", "长": "chang", "重": "chong", "调": "tiao", "乐": "yue", "单": "shan",
                   "着": "zhao", "便": "pian", "率": "shuai", "传": "zhuan", "藏": "zang", "种": "zhong", "发": "fa",
                   "量": "liang", "分": "fen", "得": "dei", "系": "ji", "省": "xing", "降": "xiang", "曾": "zeng",
                   "薄": "bo", "参": "shen", "数": "shu", "觉": "jiao", "朝": "zhao", "仔": "zi", "空": "kong"}


class _Readings:
    """Character -> syllable, compact: an index into ~1,300 syllables for each code point of the main CJK
    blocks and of extensions B-H (arrays of 2-byte numbers), a small dict for the rest."""

    BASE, END = 0x3400, 0xA000
    EXT_BASE, EXT_END = 0x20000, 0x32400

    def __init__(self, text: str) -> None:
        self.syllables: list[str] = [""]
        index: dict[str, int] = {}
        self.codes = array("H", bytes(2 * (self.END - self.BASE)))
        self.ext = array("H", bytes(2 * (self.EXT_END - self.EXT_BASE)))
        self.other: dict[str, str] = {}
        for line in io.StringIO(text):
            if line.startswith("#") or len(line) < 3:
                continue
            ch, syllable = line[0], line[1:].rstrip("\n")
            n = index.get(syllable)
            if n is None:
                n = index[syllable] = len(self.syllables)
                self.syllables.append(syllable)
            code = ord(ch)
            if self.BASE <= code < self.END:
                self.codes[code - self.BASE] = n
            elif self.EXT_BASE <= code < self.EXT_END:
                self.ext[code - self.EXT_BASE] = n
            else:
                self.other[ch] = self.syllables[n]
        self.known = frozenset(self.syllables[1:])  # every syllable (to split pinyin: jianzhi -> jian zhi)

    def get(self, ch: str) -> str | None:
        code = ord(ch)
        if self.BASE <= code < self.END:
            return self.syllables[self.codes[code - self.BASE]] or None
        if self.EXT_BASE <= code < self.EXT_END:
            return self.syllables[self.ext[code - self.EXT_BASE]] or None
        return self.other.get(ch)


@lru_cache(maxsize=1)
def reading_table() -> _Readings:
    """Character -> its common toneless pinyin (handlers/ads/readings.txt.gz, from pypinyin's table)."""
    raw = resources.files("handlers.ads").joinpath("readings.txt.gz").read_bytes()
    return _Readings(gzip.decompress(raw).decode("utf-8"))


def readings(ch: str) -> tuple[str, ...]:
    """The common toneless pinyin reading of one character, as a 1-tuple (() for none): 薇 -> ("wei",)."""
    found = reading_table().get(ch)
    return (found,) if found else ()


def syllables(word: str) -> tuple[str, ...] | None:
    """The first toneless reading of each character of `word`, or None when one has none."""
    out = []
    for ch in word:
        r = readings(ch)
        if not r:
            return None
        out.append(r[0])
    return tuple(out)


@lru_cache(maxsize=1)
def word_buckets() -> dict[str, str]:
    """The word list, bucketed by first character: {first: "|word|word|"} (compact, and fast enough for
    the handful of look-ups a homophone candidate needs)."""
    raw = resources.files("handlers.ads").joinpath("words.txt.gz").read_bytes()
    buckets: dict[str, str] = {}
    current: list[str] = []  # the file is sorted: one first character's words at a time (small peak)
    for line in io.StringIO(gzip.decompress(raw).decode("utf-8")):
        word = line.rstrip("\n")
        if not word or word.startswith("#"):
            continue
        if current and current[0][0] != word[0]:
            buckets[current[0][0]] = "|" + "|".join(current) + "|"
            current = []
        current.append(word)
    if current:
        buckets[current[0][0]] = "|" + "|".join(current) + "|"
    return buckets


def is_word(text: str) -> bool:
    bucket = word_buckets().get(text[:1])
    return bucket is not None and f"|{text}|" in bucket


class SoundDecoder:
    """Finds ad words written by sound; build once per config load (from the group's pitch words)."""

    def __init__(self, words: Iterable[str] = (), keep: re.Pattern[str] | None = None,
                 lexicon: Iterable[str] = (), contacts: Iterable[str] = ()) -> None:
        """`words`: more ad words (the group's pitch words); `keep`: spellings left as written because a
        check already knows them (薇信 is a stronger sign as it stands than as 微信); `lexicon`: the ad
        vocabulary (patterns.OFFER_WORDS), read as homophones, pinyin and initials; `contacts`: words of
        contact (联系, 电话), read in pinyin and initials only (as homophones they would match ordinary chat)."""
        self.keep = keep
        words = tuple(w for w in words if 2 <= len(w) <= 4 and all(_CJK.fullmatch(c) for c in w))
        lexicon = tuple(w for w in lexicon if 2 <= len(w) <= 5 and all(_CJK.fullmatch(c) for c in w))
        targets = _keyed((*HOMOPHONE_WORDS, *KEPT_ONE, *words, *lexicon))
        self._targets = targets  # syllables -> word
        self._lengths = sorted({len(key) for key in targets}, reverse=True)
        self._firsts = frozenset(key[0] for key in targets)  # the syllables a word read by sound starts with
        lexicon += tuple(w for w in contacts if 2 <= len(w) <= 5 and all(_CJK.fullmatch(c) for c in w))
        # pinyin: the letters of the word's syllables, however they are spaced (jian zhi, jianzhi, jian1-zhi2)
        self._pinyin_words: dict[str, str] = {}
        for word in (*PINYIN_WORDS, *words, *lexicon):
            for key in _spellings(word):
                self._pinyin_words.setdefault("".join(key), word)
        # initials: the curated ones count alone; those of the rest of the vocabulary only two together
        self._initials: dict[str, str] = dict(INITIALS)
        for word in (*PINYIN_WORDS, *words, *lexicon):
            for key in _spellings(word):
                self._initials.setdefault("".join(s[0] for s in key), word)
        for common in CHAT_ABBREVIATIONS:
            self._initials.pop(common, None)

    def decode(self, light: str) -> tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]:
        """(light text with sound spellings rewritten, tricks used, (written, read as) pairs)."""
        tricks: list[str] = []
        rewrites: list[tuple[str, str]] = []
        text = light
        if LOWER_LATIN.search(text):
            text = self._decode_latin(text, tricks, rewrites)
        if not text.isascii() and (_CONTEXT.search(text) or _ACCOUNT.search(_JOINED_DIGITS.sub("", text))):
            text = "".join(piece if k % 2 else self._decode_homophones(piece, tricks, rewrites)
                           for k, piece in enumerate(_ALNUM_RUN.split(text)))
        return text, tuple(tricks), tuple(rewrites)

    def _decode_latin(self, text: str, tricks: list[str], rewrites: list[tuple[str, str]]) -> str:
        if _LATIN_XIN.search(text):  # V芯, wei心: a letter for 微 and any character read xin for 信
            def xin(m: re.Match[str]) -> str:
                if m.group(2) == "信" or readings(m.group(2)) != ("xin",):
                    return m.group(0)
                rewrites.append((m.group(0), m.group(1) + "信"))
                return m.group(1) + "信"

            text = _LATIN_XIN.sub(xin, text)
            if rewrites:
                tricks.append(TRICK_HOMOPHONE)

        out = self._decode_pinyin(text, rewrites)
        if out != text:
            tricks.append(TRICK_PINYIN)
        found = {m.group(1) for m in _INITIAL_TOKEN.finditer(out)} & self._initials.keys()
        rest = _JOINED_DIGITS.sub("", _INITIAL_TOKEN.sub(" ", out)) if found else ""
        if not (len(found) >= 2 and _PERSONAL_ACCOUNT.search(rest)):  # jk 不看 zx + a phone or an id: all
            found = found & INITIALS.keys() if _ACCOUNT.search(rest) else set()  # dk 秒下 + an account

        def initial(m: re.Match[str]) -> str:
            if m.group(1) not in found:
                return m.group(0)
            rewrites.append((m.group(1), self._initials[m.group(1)]))
            return self._initials[m.group(1)]

        if found:
            out = _INITIAL_TOKEN.sub(initial, out)
            tricks.append(TRICK_INITIALS)
        return out

    def _decode_pinyin(self, text: str, rewrites: list[tuple[str, str]]) -> str:
        """Runs of whole pinyin tokens that spell an ad word, syllable for character (ti e dai huan -> 提额
        代还, ShouJi -> 手机); a token is never cut (no match inside an English word), and a token that
        reads as fewer syllables than the word has characters is not it (tie is not ti e)."""
        pieces: list[str] = []
        last = 0
        for phrase in _PHRASE.finditer(text):
            tokens = [(m.start() + phrase.start(), m.end() + phrase.start(), m.group(1))
                      for m in _TOKEN.finditer(phrase.group(0))]
            i = 0
            while i < len(tokens):
                for j in range(min(len(tokens), i + 8), i, -1):
                    joined = "".join(t[2] for t in tokens[i:j])
                    word = self._pinyin_words.get(joined) if len(joined) <= 30 else None
                    if word is not None and sum(_fewest_syllables(t[2]) for t in tokens[i:j]) == len(word):
                        rewrites.append((text[tokens[i][0]:tokens[j - 1][1]], word))
                        pieces += (text[last:tokens[i][0]], word)
                        last = tokens[j - 1][1]
                        i = j
                        break
                else:
                    i += 1
        return "".join(pieces) + text[last:] if pieces else text

    def _decode_homophones(self, text: str, tricks: list[str], rewrites: list[tuple[str, str]]) -> str:
        where = [i for i, ch in enumerate(text) if "\u4e00" <= ch <= "\u9fff"]
        if len(where) < 2:
            return text
        chars = [text[i] for i in where]
        joined = "".join(chars)
        table = reading_table()
        # a character is read by its common (first) reading: every reading of 了 would make 死了 私聊
        syl = [table.get(ch) for ch in chars]
        if self._firsts.isdisjoint(syl):
            return text
        chosen: list[tuple[int, int, str]] = []  # (start, end) in `chars`, the word
        p = 0
        n = len(chars)
        while p < n - 1:
            hit = self._homophone_at(syl, joined, p)
            if hit is None:
                p += 1
                continue
            chosen.append((p, p + len(hit), hit))
            p += len(hit)
        if not chosen:
            return text
        out = list(text)
        for start, end, word in chosen:
            rewrites.append(("".join(chars[start:end]), word))
            for k, ch in zip(range(start, end), word, strict=True):
                out[where[k]] = ch
        if TRICK_HOMOPHONE not in tricks:
            tricks.append(TRICK_HOMOPHONE)
        return "".join(out)

    def _homophone_at(self, syl: list[str | None], joined: str, p: int) -> str | None:
        if syl[p] not in self._firsts:  # no word starts with it (nor with None)
            return None
        for k in self._lengths:
            if p + k > len(syl):
                continue
            word = self._targets.get(tuple(syl[p:p + k]))  # type: ignore[arg-type]
            if word is None:
                continue
            written = joined[p:p + k]
            kept = word not in KEPT_ONE or (any(map(str.__eq__, written, word)) and joined[p + k:p + k + 1] in "我")
            if written == word or word in joined or not kept:
                continue
            if (self.keep is not None and self.keep.fullmatch(written)) or is_word(written) \
                    or _cuts_a_word(joined, p, p + k):
                continue
            return word
        return None


def whole_words(pattern: re.Pattern[str], text: str,
                breaks: Callable[[], frozenset[int]] | None = None) -> list[str]:
    """What `pattern` finds in `text`, less the finds whose end a word of the list runs past: 带单 in 带单位 is
    not the ad word 带单, nor 代理 in 代理商. The part of that word after the find may be read otherwise: as part
    of another find (刷单日结 is 刷单 and 日结, though 单日 is a word) or of a word that starts where the find
    ends (套现金额: 金额). Only the end is looked at: what comes before an ad word is mostly a verb or a
    modifier that happens to make a word with its first character (承接引流, 申请任务). One character finds
    are kept (赚 is always 赚), and so are finds followed by a break of the written text (`breaks()`: the
    positions of `text` where spacing or punctuation stood; 上热门，点赞 is not cut by 门点)."""
    spans = [m.span() for m in finditer(pattern, text)]
    kept = []
    where: frozenset[int] | None = None
    for start, end in spans:
        if end - start >= 2 and _cut_into(text, start, end, spans):
            if breaks is None:
                continue
            where = breaks() if where is None else where
            if end not in where:
                continue
        kept.append(text[start:end])
    return kept


def _cut_into(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Does a word of the list start inside text[start:end] and run past its end into text not read otherwise?"""
    n = len(text)
    for a in range(max(start, end - 3), end):
        for b in range(end + 1, min(n, a + 4) + 1):
            if b - a < 2 or not is_word(text[a:b]):
                continue
            if any(s <= end and b <= e for s, e in spans if (s, e) != (start, end)):
                continue  # the part after the find belongs to another find
            if any(is_word(text[end:y]) for y in range(max(b, end + 2), min(n, end + 4) + 1)):
                continue  # a word starts where the find ends and takes in that part
            return True
    return False


def _spellings(word: str) -> list[tuple[str, ...]]:
    """The syllables of `word` by the common reading of each character, and with the other reading of
    the characters in _OTHER_READINGS (at most a few spellings per word)."""
    key = syllables(word)
    if key is None:
        return []
    out = [key]
    for i, ch in enumerate(word):
        other = _OTHER_READINGS.get(ch)
        if other and other != key[i]:
            out += [(*k[:i], other, *k[i + 1:]) for k in out]
    return out


@lru_cache(maxsize=4096)
def _fewest_syllables(token: str) -> int:
    """How few pinyin syllables spell `token` (0 when none do): jianzhi 2, tie 1, win 0."""
    from handlers.ads.latin_pinyin import split_syllables  # it imports this module

    return len(split_syllables(token))


def pinyin_letters(letters: str) -> bool:
    """Do `letters` (hyphens and underscores aside) spell whole pinyin syllables? (liuyu, xin-qiu; not win)"""
    return _fewest_syllables(letters.replace("-", "").replace("_", "")) > 0


def _keyed(words: Iterable[str]) -> dict[tuple[str, ...], str]:
    out: dict[tuple[str, ...], str] = {}
    for word in words:
        key = syllables(word)
        if key is not None:
            out.setdefault(key, word)
    return out


def _cuts_a_word(joined: str, start: int, end: int) -> bool:
    """Does a word of the list run across the start or the end of joined[start:end]?"""
    n = len(joined)
    for edge in (start, end):
        if edge <= 0 or edge >= n:
            continue
        for a in range(max(0, edge - 3), edge):
            for b in range(edge + 1, min(n, a + 4) + 1):
                if b - a >= 2 and is_word(joined[a:b]):
                    return True
    return False
