"""`finditer` for the big offer patterns, trying them only where a match can start.

`re` tries a long alternation (`patterns.RE_INTENT`: dozens of offer patterns and hundreds of words) at every
position of a text, ~0.5 µs each. The characters a match can start with are known from the pattern (every
alternative starts with a literal or a class of literals: 一天, [收出], (?:申请|领取?)...): a pattern `register`ed
here is tried only where one of them stands, with `Pattern.match` at that position, which is what `search`
does there. A pattern that could match the empty string or start with any character is left to `re`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from re import _constants, _parser  # type: ignore[attr-defined]
from typing import Any

from handlers.ads.charsets import ASTRAL, any_of

_ANY = None  # "any character may start it"
_REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT)
_ZERO_WIDTH = (_constants.ASSERT, _constants.ASSERT_NOT, _constants.AT)
Matcher = Callable[[str, int], "re.Match[str] | None"]
_SCANS: dict[re.Pattern[str], tuple[re.Pattern[str], bool, dict[str, Matcher]]] = {}


def first_chars(pattern: re.Pattern[str]) -> frozenset[int] | None:
    """The code points a match of `pattern` can start with; None when any could, or the match could be empty."""
    if pattern.flags & re.IGNORECASE:
        return None
    found, empty = _sequence(_parser.parse(pattern.pattern, pattern.flags))
    return None if found is _ANY or empty else frozenset(found)


def _sequence(items: Iterable[tuple[Any, Any]]) -> tuple[set[int] | None, bool]:
    """(first characters, whether the sequence can match the empty string)."""
    out: set[int] = set()
    for op, av in items:
        found, empty = _item(op, av)
        if found is _ANY:
            return _ANY, False
        out |= found
        if not empty:
            return out, False
    return out, True


def _item(op: object, av: Any) -> tuple[set[int] | None, bool]:
    if op is _constants.LITERAL:
        return {av}, False
    if op is _constants.IN:
        codes: set[int] = set()
        for kind, value in av:
            if kind is _constants.LITERAL:
                codes.add(value)
            elif kind is _constants.RANGE:
                codes.update(range(value[0], value[1] + 1))
            else:  # a category or a negation: too many
                return _ANY, False
        return codes, False
    if op is _constants.BRANCH:
        out: set[int] = set()
        empty = False
        for alternative in av[1]:
            found, alt_empty = _sequence(alternative)
            if found is _ANY:
                return _ANY, False
            out |= found
            empty = empty or alt_empty
        return out, empty
    if op is _constants.SUBPATTERN:
        if av[1] & re.IGNORECASE:
            return _ANY, False
        return _sequence(av[3])
    if op is _constants.ATOMIC_GROUP:
        return _sequence(av)
    if op in _REPEATS:
        low, _high, body = av
        found, empty = _sequence(body)
        return (_ANY, False) if found is _ANY else (found, empty or low == 0)
    if op in _ZERO_WIDTH:
        return set(), True  # a look-around or an anchor reads no character of the match
    return _ANY, False


def register(*patterns: re.Pattern[str]) -> None:
    """Have `finditer` and `search` try each of `patterns` only where a match can start (when that is known)."""
    for pattern in patterns:
        chars = first_chars(pattern)
        if chars:  # the BMP ones: a class past it is slow to search (see charsets); a text with others goes to re
            _SCANS[pattern] = (any_of(c for c in chars if c < 0x10000), max(chars) >= 0x10000,
                               _matchers(pattern, chars))


def _matchers(pattern: re.Pattern[str], chars: frozenset[int]) -> dict[str, Matcher]:
    """For each character a match can start with, the `match` of the pattern's top-level alternatives that can
    start with it, in their order: the same match (the first alternative that matches), fewer alternatives
    tried. A pattern with groups is kept whole (its group numbers stay)."""
    whole = dict.fromkeys(map(chr, chars), pattern.match)
    parts = _alternatives(pattern.pattern)
    if pattern.groups or len(parts) < 2:
        return whole
    try:
        firsts = [first_chars(re.compile(part, pattern.flags)) for part in parts]
    except re.error:
        return whole
    if any(f is None for f in firsts):
        return whole
    compiled: dict[tuple[int, ...], Matcher] = {}
    out: dict[str, Matcher] = {}
    for c in chars:
        picked = tuple(i for i, f in enumerate(firsts) if c in f)  # type: ignore[operator]
        if picked not in compiled:
            compiled[picked] = re.compile("|".join(parts[i] for i in picked), pattern.flags).match
        out[chr(c)] = compiled[picked]
    return out


def _alternatives(source: str) -> list[str]:
    """The top-level alternatives of a regex's source (split at each "|" outside groups and classes)."""
    parts: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 1  # the escaped character is no delimiter
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            i += 1 if source[i + 1 : i + 2] == "^" else 0
            i += 1 if source[i + 1 : i + 2] == "]" else 0  # a "]" first in a class stands for itself
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif ch == "|" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
        i += 1
    parts.append(source[start:])
    return parts


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of `pattern` in `text`, in order, as `pattern.finditer` finds them, found lazily."""
    scan = _SCANS.get(pattern)
    if scan is None or (scan[1] and ASTRAL.search(text)):
        yield from pattern.finditer(text)
        return
    starts, _astral, matchers = scan
    pos = 0
    while (start := starts.search(text, pos)) is not None:
        at = start.start()
        m = matchers[text[at]](text, at)
        if m is None:
            pos = at + 1
        else:
            yield m
            pos = m.end()  # never empty: `first_chars` leaves such patterns to re


def finditer(pattern: re.Pattern[str], text: str) -> Iterable[re.Match[str]]:
    """The matches `pattern.finditer(text)` gives (the same spans and groups; `Match.re` and `pos` may differ)."""
    return list(_matches(pattern, text))


def search(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """`pattern.search(text)` (the same span and groups; `Match.re` and `pos` may differ)."""
    return next(_matches(pattern, text), None)
