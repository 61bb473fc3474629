"""Ad detection's folds: undo the tricks advertisers use to slip past keyword filters.

`analyse_for_ads` gives two forms of a message plus the tricks it found (see the section comment
below); `normalize_for_ads` is its flat form, the one the contact, pitch and classifier checks read.
`python -m handlers.ads.folds "text"` prints the forms.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from handlers.ads.charsets import ASTRAL, LOWER_LATIN, bmp_class, simplified, translator
from handlers.ads.digits import SYMBOL_DIGIT_CHARS, sound_digits, symbol_digits
from rules.normalize import INVISIBLE

# ---------------------------------------------------------------------------------------------
# Ad detection: undo the tricks advertisers use to slip past keyword filters.
#
# `analyse_for_ads` gives two forms of a message plus the tricks it found:
#   light: NFKC, invisible and combining characters removed, homoglyphs and styled digits folded,
#          emoji that stand for letters replaced, lower case, traditional -> simplified (OpenCC),
#          contacts written in Chinese numerals turned into digits; spacing and punctuation kept
#          (the link check needs the dots of www．xx．com);
#   flat:  `light` with every space, punctuation mark and symbol between characters dropped, except
#          a '.' or '@' between two ASCII letters/digits (domains, e-mail); this is
#          `normalize_for_ads(text)`, the form the contact, pitch and classifier checks read.
# The caller keeps the original text for the audit and the reply.
# ---------------------------------------------------------------------------------------------


# Zero-width / invisible characters that are not in `INVISIBLE` above (braille blank, tags, ...).
_ZERO_WIDTH = "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c\u200d\u200e\u200f" \
    "\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f\u2800\u3164\ufeff\uffa0"

# Emoji and dingbats that stand for a letter, a word or a digit.
_EMOJI_WORDS = {
    "➕": "加", "✚": "加", "✙": "加", "✛": "加", "✜": "加", "🞡": "加", "🞢": "加", "🞣": "加",
    "√": "v", "✓": "v", "✔": "v", "∨": "v", "🗸": "v",
    "○": "o", "◯": "o", "⭕": "o", "⚪": "o", "〇": "〇",
    "✌": "v", "💰": "钱", "💴": "钱", "💵": "钱", "💸": "钱", "💲": "钱", "🤑": "钱", "📞": "电话", "☎": "电话",
    "📲": "手机", "📱": "手机", "🏠": "家", "🏡": "家", "🆓": "免费", "🎰": "博彩", "✈": "飞机",
    # pictures read as the character or word they show (☀️结 is 日结, 🐧 is QQ's penguin, 📈粉 is 涨粉)
    "☀": "日", "🌞": "日", "🌙": "月", "🐧": "企鹅", "✉": "信", "💌": "信", "📧": "邮箱", "🧧": "红包", "💳": "卡",
    "🐂": "牛", "🐻": "熊", "📈": "涨", "📉": "跌", "🚗": "车", "🚙": "车", "🚘": "车", "⛏": "挖", "⏰": "时",
    "🤱": "宝妈", "🆕": "新",
}
for _heart in "❤♥♡❥❣💗💓💕💖💘💙💚💛💜🖤🧡💝💟🤍🤎💞":
    _EMOJI_WORDS[_heart] = "心"

# Styled digits that NFKC leaves alone: dingbat / double / sans-serif circled digits.
_STYLED_DIGITS: dict[str, str] = {}
for _start, _first in ((0x2776, 1), (0x2780, 1), (0x278A, 1), (0x24F5, 1), (0x24EB, 11)):
    for _i in range(10):
        _STYLED_DIGITS[chr(_start + _i)] = str(_first + _i)
_STYLED_DIGITS.update({"⓿": "0", "🄋": "0", "🄌": "0", "🔟": "10"})

# Cyrillic and Greek letters that look like Latin ones (both cases; after NFKC).
_HOMOGLYPHS = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ѵ": "v", "ѡ": "w", "һ": "h", "ӏ": "l", "ɡ": "g", "ո": "n", "ս": "u",
    "А": "a", "В": "b", "Е": "e", "Ё": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c",
    "Т": "t", "У": "y", "Х": "x", "І": "i", "Ї": "i", "Ј": "j", "Ѕ": "s", "Ԁ": "d", "Ԛ": "q", "Ԝ": "w",
    "Ѵ": "v", "Ѡ": "w", "Һ": "h", "Ӏ": "l",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n", "Ο": "o",
    "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x", "Ϲ": "c",
}
# Cherokee (capital and small forms) and Lisu letters drawn like Latin capitals.
for _latin, _cherokee in zip("abcdeghijklmprstvwz", "ᎪᏴᏟᎠᎬᏀᎻᏆᎫᏦᏞᎷᏢᎡᏚᎢᏙᎳᏃ", strict=True):
    _HOMOGLYPHS[_cherokee] = _HOMOGLYPHS[_cherokee.lower()] = _latin
_HOMOGLYPHS.update(zip("ꓮꓐꓚꓓꓰꓝꓖꓧꓲꓙꓗꓡꓟꓠꓳꓑꓣꓢꓔꓴꓦꓪꓫꓬꓜ", "abcdefghijklmnoprstuvwxyz", strict=True))

# Variant characters OpenCC's t2s leaves alone (Japanese shinjitai, ad-specific variants).
_VARIANTS = {"単": "单", "売": "卖", "発": "发", "広": "广", "楽": "乐", "気": "气", "転": "转", "婇": "彩",
             "徴": "征", "験": "验", "仮": "假", "実": "实", "圧": "压", "済": "济", "営": "营"}
# Financial numerals that ordinary text (almost) never uses: always digits.
_FINANCIAL = {"壹": "1", "贰": "2", "弍": "2", "叁": "3", "弎": "3", "柒": "7", "捌": "8", "玖": "9"}
# Numerals that are digits only inside a run of at least five (a phone number or id spelt out).
# 洞 幺 两 拐 勾 are the radio readings of 0 1 2 7 9.
_RUN_NUMERALS = {"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
                 "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6", "七": "7", "拐": "7", "八": "8", "九": "9",
                 "勾": "9"}
# Digits spelt out in English or pinyin, five or more in a row (a phone number or an id read aloud).
_DIGIT_WORDS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                "seven": "7", "eight": "8", "nine": "9", "ling": "0", "dong": "0", "yao": "1", "yi": "1", "er": "2",
                "liang": "2", "san": "3", "si": "4", "wu": "5", "liu": "6", "qi": "7", "guai": "7", "ba": "8",
                "jiu": "9", "gou": "9"}
# ... and in the languages a phone number is read aloud in to pass a filter (German, Spanish, French, Italian,
# Portuguese and Russian in Latin letters), as the folds leave them (ü is v, as in pinyin); five in a row. Not
# Japanese: its ni, shi and go are pinyin and English words.
for _words in ("null eins zwei drei vier fvnf sechs sieben acht neun",
               "cero uno dos tres cuatro cinco seis siete ocho nueve",
               "zero un deux trois quatre cinq six sept huit neuf",
               "zero uno due tre quattro cinque sei sette otto nove",
               "zero um dois tres quatro cinco seis sete oito nove",
               "nol odin dva tri chetyre pyat shest sem vosem devyat"):
    for _digit, _word in enumerate(_words.split()):
        _DIGIT_WORDS.setdefault(_word, str(_digit))
_DIGIT_WORDS.update({"fuenf": "5", "funf": "5", "zwo": "2"})


# Every character of any script with a decimal digit value (Thai ๑, Arabic-Indic ٣, Devanagari ३, dingbat ❶ ...)
# but the ASCII and full-width digits (NFKC's): a number written in them is written not to be read by a filter.
_OTHER_DIGITS = tuple(cp for cp in range(0x80, 0x20000) if unicodedata.digit(chr(cp), None) is not None
                      and not 0xFF10 <= cp <= 0xFF19 and not 0x3400 <= cp < 0xA000)
_SYMBOL_DIGIT_SET = frozenset(SYMBOL_DIGIT_CHARS)

_LETTER_FORM = re.compile(r"LATIN (?:LETTER SMALL CAPITAL|SMALL LETTER SCRIPT|SMALL LETTER DOTLESS) ([A-Z])")


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    # Format, control, private-use, combining and variation characters: gone.
    for cp in (*range(0x0000, 0x3400), *range(0xA000, 0x10000), *range(0x1D100, 0x1D200), *range(0xE0000, 0xE0080),
               *range(0xE0100, 0xE01F0)):
        ch = chr(cp)
        if ch in "\t\n\r":
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cf", "Cc", "Co", "Mn", "Me") or (cat == "Cn" and cp >= 0xE0000):
            table[cp] = None
    for ch in _ZERO_WIDTH:
        table[ord(ch)] = None
    table.update({cp: None for cp in INVISIBLE})
    # Regional indicators and negative circled / squared Latin capitals: letters.
    for base in (0x1F1E6, 0x1F150, 0x1F170):
        for i in range(26):
            table[base + i] = chr(ord("a") + i)
    for cp in (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)):
        # Latin letters with accents or tone marks (pinyin written jiā wēi xìn): the bare letter; ü is v, as
        # toneless pinyin writes it
        parts = unicodedata.normalize("NFD", chr(cp))
        if parts[0].isascii() and parts[0].isalpha() and all(unicodedata.category(c) == "Mn" for c in parts[1:]):
            table[cp] = "v" if parts[0] in "uU" and "\u0308" in parts else parts[0].lower()
    for cp in (*range(0x0250, 0x02B0), *range(0x1D00, 0x1D80), *range(0xA720, 0xA800)):
        # small capitals and other Latin letter forms NFKC leaves alone (ᴠ, ʜ, ɡ)
        m = _LETTER_FORM.fullmatch(unicodedata.name(chr(cp), ""))
        if m:
            table[cp] = m.group(1).lower()
    for cp in _OTHER_DIGITS:  # ❶ ➀ ⓵ 🄁 ๑ ٣ ३: the digit
        table[cp] = str(unicodedata.digit(chr(cp)))
    for cp in range(0x3021, 0x302A):  # Suzhou (Hangzhou) numerals 〡〢〣 ... 〩: numbers only
        table[cp] = str(int(unicodedata.numeric(chr(cp))))
    for cp in range(0x1FBF0, 0x1FBFA):  # segmented digits 🯰-🯹
        table[cp] = str(cp - 0x1FBF0)
    # Pictures of a count of one to nine: counting rods (units and tens) 𝍠-𝍱, mahjong tiles of characters,
    # bamboos and circles 🀇-🀡, die faces ⚀-⚅
    for first, count in ((0x1D360, 9), (0x1D369, 9), (0x1F007, 9), (0x1F010, 9), (0x1F019, 9), (0x2680, 6)):
        for i in range(count):
            table[first + i] = str(i + 1)
    for src in (_EMOJI_WORDS, _STYLED_DIGITS, _HOMOGLYPHS):
        table.update({ord(k): v for k, v in src.items()})
    return table


_TABLE = _build_table()
_fold_chars = translator(_TABLE)  # `translate(_TABLE)`, skipped when no character of the table is there (most chat)
# Digits that NFKC would spell out with punctuation (⒈ -> "1.", ⑴ -> "(1)", 🄂 -> "1,"): digits, before NFKC.
# Parenthesised and circled ideographs ㈠-㈨ ㊀-㊈ (NFKC: "(一)", 一): the digit, before NFKC.
_pre_nfkc = translator(str.maketrans({**{chr(cp): re.sub(r"\D", "", unicodedata.normalize("NFKC", chr(cp)))
                                         for cp in (*range(0x2474, 0x249C), *range(0x1F100, 0x1F10B))},
                                      **{chr(base + i): str(i + 1) for base in (0x3220, 0x3280) for i in range(9)}}))
_post_t2s = translator(str.maketrans({**_VARIANTS, **_FINANCIAL}))

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_DIGITISH = re.compile(r"(?<![a-z])[0-9o〇l]{6,}(?![a-z])")
_NUMERAL_RUN = re.compile("[0-9" + "".join(_RUN_NUMERALS) + r"](?:[\s\-_.·•*/|~,，、]{0,2}[0-9"
                          + "".join(_RUN_NUMERALS) + "]){4,}")
_PLUS_WORD = re.compile(r"(?<!/)\+(?=\s*[^\d\s+\-.,，。!！?？)）])")
_PLUS_BETWEEN = re.compile(f"(?<=[{_CJK}])\\+(?=[{_CJK}])")
_SPELT_DIGITS = re.compile(r"(?<![a-z])(?:{w})(?:[\s,，、.\-]*(?:{w})){{4,}}(?![a-z])".format(
    w="|".join(sorted(_DIGIT_WORDS, key=len, reverse=True))))
_DIGIT_WORD = re.compile("|".join(sorted(_DIGIT_WORDS, key=len, reverse=True)))
_WORD_GAPS = re.compile(r"[\s,，、.\-]+")
_FLAT_DROP = re.compile(r"(?:[^\w.@]|_)+")
_FLAT_DOTS = re.compile(r"(?:(?<![a-z0-9])[.@]|[.@](?![a-z0-9]))+")
_RUN_TABLE = str.maketrans(_RUN_NUMERALS)

# Tricks, looked for in the NFKC form of the original.
_ZW_CLASS = "".join(sorted(set(_ZERO_WIDTH) | {chr(cp) for cp in INVISIBLE} | {"\ufe0f", "\ufe0e"}))
_TRICK_INVISIBLE = re.compile(f"[\\w{_CJK}][{re.escape(_ZW_CLASS)}]+[\\w{_CJK}]")
_LOOKALIKE = re.escape("".join(_HOMOGLYPHS))
_TRICK_HOMOGLYPH = re.compile(f"[A-Za-z0-9{_CJK}][{_LOOKALIKE}]|[{_LOOKALIKE}][A-Za-z0-9{_CJK}]")
_STYLED_SOURCE = re.escape("".join(_STYLED_DIGITS)) + "\u2460-\u249b\u24ea\u3251-\u325f\u32b1-\u32bf" \
    "\U0001d7ce-\U0001d7ff\U0001f100-\U0001f10a\u00b2\u00b3\u00b9\u2070-\u2079\u2080-\u2089\u3021-\u3029" \
    "\u3220-\u3228\u3280-\u3288\U0001d360-\U0001d371\U0001f007-\U0001f021\u2680-\u2685\U0001fbf0-\U0001fbf9" \
    + "".join(_FINANCIAL)
_STYLED_SOURCE += re.escape("".join(chr(cp) for cp in _OTHER_DIGITS if cp > 0x3A0 and not 0x2070 <= cp <= 0x2089))
_TRICK_STYLED = re.compile(f"[{_STYLED_SOURCE}]")
_TRICK_STYLED_BMP = bmp_class(_STYLED_SOURCE)  # the same on a text with no character past the BMP, 80 times faster
_SEP = r"[.*·•/\\|_\-~^`'\"#=+]"
_TRICK_SPACED = re.compile(f"(?:[{_CJK}]\\s*{_SEP}[\\s{_SEP[1:-1]}]*){{2,}}[{_CJK}]|(?:[{_CJK}]\\s+){{3,}}[{_CJK}]")
# Combining marks left on ASCII letters or digits once composed (x̣, 4̣, 1⃞; not é or ǎ, which compose, nor the
# keycap of 1⃣): letters and digits dressed up to pass a filter.
_TRICK_MARKED = re.compile("[A-Za-z0-9][\u0300-\u036f\u20d0-\u20e2\u20e4-\u20ff]")
_MARKS = "\u0300-\u036f\u20d0-\u20ff"
_ANY_MARK = re.compile(f"[{_MARKS}]")  # most texts have none: no composing, no search
_MARKED_ID = re.compile(f"(?=[A-Za-z{_MARKS}]*[0-9])[A-Za-z0-9{_MARKS}]+")  # an id has digits: Z̷a̷l̷g̷o̷ is none
# Fillers put between characters that ordinary text uses as characters or that fold to letters (see
# `_drop_interleaved`); plain symbols between characters (兼*职, 兼★职) need no such care: `flatten` drops them.
_SEPARATORS = frozenset("丶丨丿乀ヽ・○◯√✓✔❤♥♡❥❣💗💓💕💖💘💙💚💛💜🖤🧡💝💟🤍🤎💞")
_SEP_BETWEEN = re.compile(f"(?<=\\w)([{''.join(sorted(_SEPARATORS))}])\ufe0f?(?=\\w)")
_TRICK_EMOJI = re.compile("[➕✚✙✛✜🞡🞢🞣\U0001f1e6-\U0001f1ff\U0001f150-\U0001f169\U0001f170-\U0001f189]"
                          "|[微威薇维唯vVｖＶ][❤♥♡❥❣💗💓💕💖💘💙💚💛💜🖤🧡💝💟🤍🤎💞]")

TRICK_INVISIBLE = "零宽字符"
TRICK_HOMOGLYPH = "形近字母"
TRICK_STYLED = "花式数字"
TRICK_NUMERALS = "中文数字号码"
TRICK_SPELT = "外文或拼音写的数字号码"
TRICK_SOUND_DIGITS = "谐音数字号码"
TRICK_SPACED = "字间插符号"
TRICK_EMOJI = "表情代字"
TRICK_BIDI = "反向排版"
TRICK_VERTICAL = "竖排断行"
# Tricks that disguise the digits of a number (a phone, a QQ or an id written so a filter cannot read it).
DIGIT_TRICKS = frozenset((TRICK_STYLED, TRICK_NUMERALS, TRICK_SPELT, TRICK_SOUND_DIGITS))
# Tricks that hide what a text says from a filter (symbols or invisible characters between characters, look-alike
# letters, a right-to-left span): an account that shows only once they are undone was hidden on purpose.
HIDING_TRICKS = DIGIT_TRICKS | {TRICK_SPACED, TRICK_INVISIBLE, TRICK_HOMOGLYPH, TRICK_BIDI}

# A right-to-left override (or embedding/isolate) shows the characters after it in reverse order, up to
# its end mark (or the end of the line): an advertiser writes "8899iuh加" so readers see "加hui9988".
# The span is reversed back before the controls are dropped, so the checks read what people see.
_BIDI_SPAN = re.compile("[\u202e\u202b\u2067]([^\u202c\u2069\n]*)(?:[\u202c\u2069]|$)", re.M)


class AdsText(NamedTuple):
    """A message prepared for the ad checks (see the section comment above)."""

    original: str
    light: str
    flat: str
    tricks: tuple[str, ...]


_WORDY_NUMERALS = "陆伍肆洞拐勾"  # also ordinary words (大陆, 队伍, 放肆): not the first digit after a character


def _numeral_run(m: re.Match[str]) -> str:
    run = m.group(0)
    keep = ""
    before = m.string[m.start() - 1] if m.start() else ""
    if (run[0] in _WORDY_NUMERALS and "\u3400" <= before <= "\u9fff") or (before and before in "十百千万亿"):
        keep, run = run[0], run[1:]  # 队伍, 两百五: a word or an amount, not the first digit of a number
    digits = sum(ch.isdigit() or ch in _RUN_NUMERALS for ch in run)
    return keep + (run.translate(_RUN_TABLE) if digits >= 5 and not run.isascii() else run)


def _digitish(m: re.Match[str]) -> str:
    run = m.group(0)
    if sum(ch.isdigit() for ch in run) < 4:
        return run
    return run.replace("o", "0").replace("〇", "0").replace("l", "1")


@lru_cache(maxsize=16)  # the same light form is flattened again by the detector (bounded: members write it)
def flatten(light: str) -> str:
    """Drop spaces, punctuation and symbols between characters (keeps '.'/'@' inside ASCII words)."""
    light = _FLAT_DROP.sub("", light)
    return _FLAT_DOTS.sub("", light) if "." in light or "@" in light else light  # most text has neither


def flat_breaks(light: str) -> frozenset[int]:
    """The positions of `flatten(light)` where `light` had spacing or punctuation (兼职 日结 -> {2}): an ad
    word followed by another clause is not cut by a word that would span the two (上热门 点赞: 门点)."""
    breaks: list[int] = []
    n = 0
    pieces = _FLAT_DROP.split(light)
    for k, piece in enumerate(pieces):
        if k and n:
            breaks.append(n)
        n += len(piece)
    joined = "".join(pieces)
    if "." in joined or "@" in joined:
        dropped = [(m.start(), m.end()) for m in _FLAT_DOTS.finditer(joined)]
        shift = [(start, end - start) for start, end in dropped]
        breaks = [b - sum(size for start, size in shift if start < b) for b in breaks]
        breaks += [start - sum(size for st, size in shift if st < start) for start, _ in shift]
    return frozenset(breaks)


def _drop_interleaved(text: str) -> tuple[str, bool]:
    """Drop a filler that stands between characters again and again (引丶流丶涨丶粉, 兼❤职❤日❤结): a stroke or
    a symbol that would otherwise be read as a character or a letter (❤ is 心, ○ is o)."""
    found = _SEP_BETWEEN.findall(text)
    if len(found) < 2:
        return text, False
    seps = {sep for sep in set(found) if found.count(sep) >= 2}
    if not seps:
        return text, False
    return _SEP_BETWEEN.sub(lambda m: "" if m.group(1) in seps else m.group(0), text), True


def _spelt_digits(m: re.Match[str]) -> str:
    """Digit words as digits, word by word where they are spaced (seis siete: not sei + s); a word that is
    several run together (dostres) is read as written."""
    return "".join(_DIGIT_WORDS.get(w) or _DIGIT_WORD.sub(lambda d: _DIGIT_WORDS[d.group(0)], w)
                   for w in _WORD_GAPS.split(m.group(0)))


def _light(nfkc: str) -> tuple[str, str | None]:
    text = _fold_chars(nfkc).lower()
    if not text.isascii():
        text = _post_t2s(simplified(text))
    if "+" in text:
        if len(_PLUS_BETWEEN.findall(text)) >= 2:  # 贷+款+秒+批: a filler between characters, not 加
            text = _PLUS_BETWEEN.sub("", text)
        text = _PLUS_WORD.sub("加", text)
    if any(map(str.isdigit, text)):
        text = _DIGITISH.sub(_digitish, text)
    converted = None
    if LOWER_LATIN.search(text):
        before = text
        text = _SPELT_DIGITS.sub(_spelt_digits, text)
        converted = TRICK_SPELT if text != before else None
    if not _SYMBOL_DIGIT_SET.isdisjoint(text):
        before = text
        text = symbol_digits(text)
        converted = TRICK_STYLED if text != before else converted
    if not text.isascii():
        before = text
        text = _NUMERAL_RUN.sub(_numeral_run, text)
        sounded = sound_digits(text)
        converted = TRICK_SOUND_DIGITS if sounded != text else TRICK_NUMERALS if text != before else converted
        text = sounded
    return text, converted


def _own_script_digit(digit: str, text: str) -> bool:
    """A digit of a script the text is written in (๓๕๐ in Thai text): how that script writes numbers."""
    block = ord(digit) >> 7
    return ord(digit) > 0x3A0 and any(c.isalpha() and ord(c) >> 7 == block for c in text)


def _vertical(text: str) -> bool:
    """Many lines of one to three characters: text written down the screen (or ids broken over lines)
    so that no line holds a word a filter knows. Poems and lists have longer lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return len(lines) >= 4 and sum(len(line) <= 4 for line in lines) >= 0.7 * len(lines)


def analyse_for_ads(text: str) -> AdsText:
    """The light and flat forms of `text` and the evasion tricks it uses (see the section comment)."""
    seen = text
    bidi = not text.isascii() and _BIDI_SPAN.search(text) is not None
    if bidi:
        seen = _BIDI_SPAN.sub(lambda m: m.group(1)[::-1], text)
    nfkc = unicodedata.normalize("NFKC", seen if seen.isascii() else _pre_nfkc(seen))
    interleaved = False
    if not _SEPARATORS.isdisjoint(nfkc):
        nfkc, interleaved = _drop_interleaved(nfkc)
    light, numerals = _light(nfkc)
    tricks: list[str] = [TRICK_BIDI] if bidi else []
    if not text.isascii():
        if _TRICK_INVISIBLE.search(nfkc):
            tricks.append(TRICK_INVISIBLE)
        marked = [m for token in _MARKED_ID.findall(unicodedata.normalize("NFC", text))
                  for m in _TRICK_MARKED.findall(token)] if _ANY_MARK.search(text) else []
        if _TRICK_HOMOGLYPH.search(nfkc) or len(marked) >= 3:
            tricks.append(TRICK_HOMOGLYPH)
        styled = _TRICK_STYLED if ASTRAL.search(text) else _TRICK_STYLED_BMP
        if len([c for c in styled.findall(text) if not _own_script_digit(c, text)]) >= 2 \
                or sum(m[0].isdigit() for m in marked) >= 3:
            tricks.append(TRICK_STYLED)
        if _TRICK_EMOJI.search(nfkc):
            tricks.append(TRICK_EMOJI)
    if numerals:
        tricks.append(numerals)
    if interleaved or _TRICK_SPACED.search(nfkc):
        tricks.append(TRICK_SPACED)
    if text.count("\n") >= 3 and _vertical(text):
        tricks.append(TRICK_VERTICAL)
    return AdsText(text, light, flatten(light), tuple(tricks))


CACHED_TEXT_CHARS = 200  # the cache below is keyed by what members send: short texts only


def normalize_for_ads(text: str) -> str:
    """The form every ad text check reads: see the section comment. Keep `text` for the audit."""
    return _normalized_cached(text) if len(text) <= CACHED_TEXT_CHARS else analyse_for_ads(text).flat


@lru_cache(maxsize=4096)
def _normalized_cached(text: str) -> str:
    return analyse_for_ads(text).flat


if __name__ == "__main__":  # pragma: no cover
    for arg in sys.argv[1:]:
        print(analyse_for_ads(arg))
