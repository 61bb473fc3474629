"""Fast tests for "does this text hold any of these characters", for the folds' hot paths.

A regex character class that reaches past the Basic Multilingual Plane is slow: `re` checks every
non-BMP range of it one by one for each character of the text (a class of styled digits took 17 µs on a
40-character message, its BMP part alone 0.2 µs). So a class is split: its BMP part is searched as one
class, and any character past the BMP (rare in chat) sends the text the slow, exact way. Likewise
`str.translate` with a dict looks every character up (and raises inside for each one it keeps): when the
text holds no key of the table, the translation is the text itself; and OpenCC is called only for a text with
a character its t2s conversion may change (`simplified`, `t2s_chars`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from re import _constants, _parser  # type: ignore[attr-defined]

from handlers.ads import t2s_chars
from rules.normalize import to_simplified

ASTRAL = re.compile("[\U00010000-\U0010ffff]")
LOWER_LATIN = re.compile("[a-z]")  # `any("a" <= c <= "z" for c in text)` in one C pass
_BMP_END = 0x10000


def class_body(codes: Iterable[int]) -> str:
    """The body of a regex character class matching exactly the code points `codes` (ranges merged)."""
    spans: list[list[int]] = []
    for cp in sorted(set(codes)):
        if spans and spans[-1][1] == cp - 1:
            spans[-1][1] = cp
        else:
            spans.append([cp, cp])
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in spans)


def any_of(codes: Iterable[int]) -> re.Pattern[str]:
    """A regex matching one character of `codes` (nothing when there are none)."""
    body = class_body(codes)
    return re.compile(f"[{body}]" if body else "(?!)")


def bmp_class(body: str) -> re.Pattern[str]:
    """`[body]` cut to the BMP: on a text without characters past it, it finds what `[body]` finds."""
    codes: list[int] = []
    parsed = _parser.parse(f"[{body}]")[0]  # the class as `re` reads it: literals and ranges
    for op, av in parsed[1] if parsed[0] is _constants.IN else [parsed]:
        if op is _constants.LITERAL:
            codes.append(av)
        elif op is _constants.RANGE:
            codes.extend(range(av[0], min(av[1], _BMP_END - 1) + 1))
        else:  # pragma: no cover - the folds' classes hold nothing else
            raise ValueError(f"unsupported class item {op}")
    return any_of(c for c in codes if c < _BMP_END)


def translator(table: Mapping[int, str | int | None]) -> Callable[[str], str]:
    """`text.translate(table)`, skipped when `text` holds none of the table's keys."""
    keys = any_of(k for k in table if k < _BMP_END)
    astral = any(k >= _BMP_END for k in table)

    def translate(text: str) -> str:
        if keys.search(text) is None and not (astral and ASTRAL.search(text) is not None):
            return text
        return text.translate(table)

    return translate


# a character OpenCC's t2s may change, or a lone surrogate (OpenCC's UTF-8 encoding raises on it, as it should)
_T2S_KEYS = any_of([*(ord(c) for c in t2s_chars.CHARS if c < "\U00010000"), *range(0xD800, 0xE000)])
_T2S_KNOWN = t2s_chars.installed() == t2s_chars.OPENCC  # the list is OpenCC's own only for that version


def simplified(text: str) -> str:
    """`to_simplified(text)`, without calling OpenCC for a text it would return unchanged (see `t2s_chars`)."""
    if _T2S_KNOWN and _T2S_KEYS.search(text) is None and ASTRAL.search(text) is None:
        return text
    return to_simplified(text)
