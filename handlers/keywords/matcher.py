"""Compiled keyword matchers: built once when the config loads, never per message.

Exact patterns live in a dict, `contains` patterns in one Aho-Corasick automaton, regexes are
re2 (linear time). The first rule in config order that matches wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick

from handlers.keywords.settings import KeywordRule
from rules.normalize import clean, fold
from rules.schema import compile_re2


@dataclass(frozen=True)
class KeywordHit:
    """The rule that matched, its index in config order, and the pattern text that matched."""

    index: int
    rule: KeywordRule
    matched: str


class KeywordMatcher:
    """Finds the first keyword rule (in config order) that a message matches."""

    def __init__(self, rules: Sequence[KeywordRule]) -> None:
        self.rules = tuple(rules)
        self._exact: dict[str, int] = {}
        self._automaton: Any = None
        self._regex: list[tuple[int, Any, str]] = []
        automaton = ahocorasick.Automaton()
        for index, rule in enumerate(self.rules):
            for pattern in rule.patterns:
                if rule.match == "exact":
                    self._exact.setdefault(fold(pattern), index)
                elif rule.match == "contains":
                    key = fold(pattern)
                    if not key:
                        continue
                    existing = automaton.get(key, None)
                    if existing is None or existing[0] > index:
                        automaton.add_word(key, (index, pattern))
                else:
                    self._regex.append((index, compile_re2(pattern), pattern))
        if len(automaton):
            automaton.make_automaton()
            self._automaton = automaton

    def __len__(self) -> int:
        return len(self.rules)

    def first_match(self, text: str) -> KeywordHit | None:
        """The earliest rule in config order that `text` matches, or None."""
        if not self.rules:
            return None
        folded = fold(text)
        best: tuple[int, str] | None = None
        index = self._exact.get(folded)
        if index is not None:
            best = (index, folded)
        if self._automaton is not None and folded:
            for _end, (index, pattern) in self._automaton.iter(folded):
                if best is None or index < best[0]:
                    best = (index, pattern)
                    if index == 0:
                        break
        if self._regex:
            cleaned = clean(text)
            for index, compiled, _pattern in self._regex:
                if best is not None and index > best[0]:
                    break
                m = compiled.search(cleaned)
                if m:
                    best = (index, m.group(0))
                    break
        if best is None:
            return None
        return KeywordHit(best[0], self.rules[best[0]], best[1])
