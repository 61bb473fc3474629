"""Text normalisation applied before matching: what a member typed, folded to what they meant.

`fold` gives the comparable form used by keyword and trigger matching: Unicode NFKC (full-width
letters and digits become ASCII), case folded, invisible characters removed, and whitespace and
punctuation dropped, so "群 规！" and "群规" compare equal. The original text is always kept by the
caller for replies and the audit.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Zero-width and other invisible characters advertisers slip between letters.
INVISIBLE = dict.fromkeys(
    [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0,
     *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), *range(0xFE00, 0xFE10)],
)
INVISIBLE_CHARS = frozenset(map(chr, INVISIBLE))
_DROP_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"})


# one pass in C (a translate table raises and catches a KeyError for every character it keeps)
_INVISIBLE_RE = re.compile("[\x00" + "".join(map(chr, INVISIBLE)) + "]")
_ASCII_DROPPED = {i: None for i in range(128) if not (chr(i).isalnum() or chr(i) in "@#$%&*+=<>|~^`")}
MAX_KNOWN_CHARS = 65_536  # characters whose fate in `fold` is remembered (bounded: members choose them)


class _Kept(dict[int, int | None]):
    """A translate table dropping the characters of `categories`: such a character maps to None, any
    other to itself (its category looked up once, then remembered)."""

    def __init__(self, categories: frozenset[str]) -> None:
        super().__init__()
        self.categories = categories

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.category(chr(code)) in self.categories else code
        if len(self) >= MAX_KNOWN_CHARS:
            self.clear()
        self[code] = kept
        return kept


_KEPT = _Kept(_DROP_CATEGORIES)


def strip_invisible(text: str) -> str:
    """Remove zero-width, bidi-control and variation-selector characters (and NUL)."""
    return _INVISIBLE_RE.sub("", text)


def fold(text: str) -> str:
    """The comparable form of `text` (see module doc)."""
    return fold_cleaned(unicodedata.normalize("NFKC", strip_invisible(text)))


def fold_cleaned(cleaned: str) -> str:
    """`fold` of a text that is `clean` already: `fold(t) == fold_cleaned(clean(t))`."""
    text = cleaned.casefold()
    return text.translate(_ASCII_DROPPED if text.isascii() else _KEPT)


def clean(text: str) -> str:
    """NFKC with invisible characters removed, spacing and punctuation kept (for regex rules)."""
    return unicodedata.normalize("NFKC", strip_invisible(text))


try:  # OpenCC (C++ binding); without it traditional characters pass unchanged.
    import opencc as _opencc

    try:
        _T2S = _opencc.OpenCC("t2s")
    except Exception:  # pragma: no cover - older bindings want the file name
        _T2S = _opencc.OpenCC("t2s.json")
    _convert = _T2S.convert
except Exception:  # pragma: no cover - the dependency is declared; this keeps the bot up without it
    _T2S = None

    def _convert(text: str) -> str:
        return text


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese with OpenCC's t2s (identity when OpenCC is missing)."""
    return text if text.isascii() else _convert(text)


def head(text: str, within: int = 64) -> str:
    """The first letter, digit or CJK character among the first `within` characters (invisible ones
    skipped: a Hangul filler is a "letter" that `fold` drops), case-folded and simplified ('' if none):
    the character a command must start with, found without normalising the whole message. Emoji with
    skin tones and joiners take several characters each, hence the generous window."""
    for ch in text[:within]:
        if ch.isalnum() and ch not in INVISIBLE_CHARS:
            return ch.casefold() if ch.isascii() else _simplified_char(ch)
    return ""


@lru_cache(maxsize=8192)
def _simplified_char(ch: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", ch).casefold())[:1] or ch


@lru_cache(maxsize=1024)
def command_heads(*words: tuple[str, ...]) -> frozenset[str]:
    """The first characters that messages naming one of these command words start with: `head(text) not in
    command_heads(...)` turns ordinary chat away before `command_form`. Each word gives the first
    character of its form and its first letter or digit (a word of the owner's such as "+1" or "#points"
    keeps its symbol in the form, while `head` skips symbols)."""
    heads: set[str] = set()
    for form in (command_form(w) for group in words for w in group):
        if form:
            heads.add(form[0])
            heads.add(head(form, within=len(form)))
    heads.discard("")
    return frozenset(heads)


CACHED_TEXT_CHARS = 64  # caches keyed by what members send hold short texts only (bounded memory)


def command_form(text: str) -> str:
    """The form a command or trigger word is compared in: `fold` without emoji and symbols, simplified
    Chinese ("簽到 ✅!" -> "签到"). Short texts (commands, triggers) are cached; of long ones, the last
    (the handlers of one message ask about it in turn)."""
    global _last_long
    if len(text) <= CACHED_TEXT_CHARS:
        return _command_form_cached(text)
    last = _last_long
    if last[0] is text:
        return last[1]
    form = _command_form(text)
    _last_long = (text, form)  # one assignment: a reader on another thread sees a matching pair
    return form


_last_long: tuple[str | None, str] = (None, "")


@lru_cache(maxsize=4096)  # the repeated short texts (签到, 我的积分, a poll's options); chat rarely repeats
def _command_form_cached(text: str) -> str:
    return _command_form(text)


def _command_form(text: str) -> str:
    folded = fold(text)
    if not folded.isascii():
        folded = folded.translate(_NO_SYMBOLS)
    return to_simplified(folded)


@lru_cache(maxsize=4096)
def command_words(words: tuple[str, ...]) -> frozenset[str]:
    """The compared forms of configured command words."""
    return frozenset(command_form(w) for w in words)


def _meaningful(ch: str) -> bool:
    """A letter, digit or CJK character that is not invisible (emoji, punctuation, spaces are not)."""
    return ch not in INVISIBLE_CHARS and unicodedata.category(ch)[0] in "LN"


def meaningful_length(text: str) -> int:
    """Letters, digits and CJK characters in `text` (emoji, punctuation and spaces do not count)."""
    return sum(map(_meaningful, text))


def has_meaningful(text: str, count: int) -> bool:
    """`meaningful_length(text) >= count`, reading no further than needed."""
    return count <= 0 or next((True for n, _ in enumerate(filter(_meaningful, text), 1) if n >= count), False)


_SYMBOL_CATEGORIES = frozenset({"So", "Sk", "Sm", "Sc", "Mn", "Me"})
_NO_SYMBOLS = _Kept(_SYMBOL_CATEGORIES)


def split_command(text: str, words: tuple[str, ...]) -> str | None:
    """The text after a command word at its start ("加分 @张三 10 好" -> "@张三 10 好"), or None. The
    word must end there: followed by a space, an @ or nothing ("加分规则是什么" is not a command)."""
    stripped = text.replace("\u2005", " ").strip()
    stripped = strip_invisible(stripped)
    for word in sorted(words, key=len, reverse=True):
        if starts_with_word(stripped, word):
            rest = stripped[len(word):]
            if not rest or rest[0].isspace() or rest[0] in "@＠":
                return rest.strip()
    return None


def starts_with_word(text: str, word: str) -> bool:
    """`text` starts with `word`, in simplified or traditional characters (兌換 for 兑换)."""
    if text.startswith(word):
        return True
    prefix = text[:len(word)]
    return (bool(word) and not prefix.isascii() and len(prefix) == len(word)
            and to_simplified(prefix) == to_simplified(word))
