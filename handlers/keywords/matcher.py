"""Compiled keyword matchers: built once when the config loads, never per message.

Exact patterns live in a dict, `contains` and `question` patterns in one Aho-Corasick automaton,
regexes are re2 (linear time). The first rule in config order that matches wins; a rule with a length
cap (every `question`, or `max_chars`) does not answer a longer message, and a `question` answers the
pattern alone or a message that reads as a question (请问群规是什么？ 群规在哪 有群规吗), not a remark
that mentions it (群规说不能发广告).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick

from handlers.keywords.settings import KeywordRule
from rules.normalize import clean, fold, fold_cleaned
from rules.schema import compile_re2


@dataclass(frozen=True)
class KeywordHit:
    """The rule that matched, its index in config order, and the pattern text that matched."""

    index: int
    rule: KeywordRule
    matched: str


QUESTION_MARKS = ("?", "？", "吗", "么", "呢", "哪", "啥", "什么", "怎么", "如何", "请问", "谁", "几", "多少",
                  "是不是", "有没有", "求", "咋", "嘛")


def is_question(text: str) -> bool:
    """Whether a message reads as a question (a question mark or a question word)."""
    return any(mark in text for mark in QUESTION_MARKS)


class KeywordMatcher:
    """Finds the first keyword rule (in config order) that a message matches."""

    def __init__(self, rules: Sequence[KeywordRule]) -> None:
        self.rules = tuple(rules)
        self._exact: dict[str, list[int]] = {}
        self._automaton: Any = None
        self._regex: list[tuple[int, Any, str]] = []
        self._caps = [rule.length_cap for rule in self.rules]
        self._capped = any(cap is not None for cap in self._caps)
        contains: dict[str, list[tuple[int, str]]] = {}
        for index, rule in enumerate(self.rules):
            for pattern in rule.patterns:
                if rule.match == "exact":
                    self._exact.setdefault(fold(pattern), []).append(index)
                elif rule.match in ("contains", "question"):
                    key = fold(pattern)
                    if key:
                        contains.setdefault(key, []).append((index, pattern))
                else:
                    self._regex.append((index, compile_re2(pattern), pattern))
        if contains:
            automaton = ahocorasick.Automaton()
            for key, hits in contains.items():  # every rule of a word, in config order (a capped one may not answer)
                automaton.add_word(key, tuple(hits))
            automaton.make_automaton()
            self._automaton = automaton

    def __len__(self) -> int:
        return len(self.rules)

    def first_match(self, text: str) -> KeywordHit | None:
        """The earliest rule in config order that `text` matches, or None."""
        if not self.rules:
            return None
        cleaned = clean(text)  # what the regex rules read, and the start of the folded form
        folded = fold_cleaned(cleaned)
        length = len(text.strip()) if self._capped else 0
        caps, rules = self._caps, self.rules
        asking: list[bool] = []  # computed once, when a question rule needs it

        def allowed(index: int, key: str = "") -> bool:
            cap = caps[index]
            if cap is not None and length > cap:
                return False
            if rules[index].match != "question" or key == folded:
                return True
            if not asking:
                asking.append(is_question(text))
            return asking[0]

        best: tuple[int, str] | None = None
        for index in self._exact.get(folded, ()):
            if allowed(index):
                best = (index, folded)
                break
        if self._automaton is not None and folded:
            for _end, hits in self._automaton.iter(folded):
                index, pattern = next(((i, p) for i, p in hits if allowed(i, fold(p))), (-1, ""))
                if index >= 0 and (best is None or index < best[0]):
                    best = (index, pattern)
                    if index == 0:
                        break
        if self._regex:
            for index, compiled, _pattern in self._regex:
                if best is not None and index > best[0]:
                    break
                if not allowed(index):
                    continue
                m = compiled.search(cleaned)
                if m:
                    best = (index, m.group(0))
                    break
        if best is None:
            return None
        return KeywordHit(best[0], self.rules[best[0]], best[1])
