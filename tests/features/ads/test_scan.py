"""`handlers.ads.scan`: the registered patterns, tried only where a match can start, find what `re` finds."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from handlers.ads import patterns, scan

DATA = Path(__file__).resolve().parents[2] / "data"
DEVELOPMENT = ("chat_challenge.jsonl", "chat_challenge_v5.jsonl", "chat_challenge_v9.jsonl", "hostile_review.jsonl",
               "ad_evasions.jsonl")


def _texts() -> list[str]:
    texts = [json.loads(line)["text"] for name in DEVELOPMENT for line in (DATA / name).open(encoding="utf-8")]
    rng = random.Random(7)
    pool = "".join(texts)
    # pieces glued at random: matches across odd boundaries, astral characters, empty and one-character texts
    texts += ["".join(rng.choice(pool) for _ in range(rng.randrange(0, 60))) + rng.choice(["", "𝟏𝟐𝟑", "🈶"])
              for _ in range(3_000)]
    return texts


def _spans(matches: object) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in matches]  # type: ignore[attr-defined]


def test_every_registered_pattern_finds_the_same_matches_as_re() -> None:
    registered = [p for p in vars(patterns).values() if isinstance(p, re.Pattern) and p in scan._SCANS]
    assert len(registered) >= 8
    for text in _texts():
        for pattern in registered:
            assert _spans(scan.finditer(pattern, text)) == _spans(pattern.finditer(text)), (pattern.pattern[:40], text)
            found, expected = scan.search(pattern, text), pattern.search(text)
            assert (found and (found.span(), found.groups())) == (expected and (expected.span(), expected.groups()))


def test_first_chars_of_a_pattern_that_may_match_empty_or_start_anywhere_are_unknown() -> None:
    assert scan.first_chars(re.compile("a|b*")) is None
    assert scan.first_chars(re.compile(".x")) is None
    assert scan.first_chars(re.compile("(?:加|扫)[我码]|微信")) == frozenset(map(ord, "加扫微"))


def test_text_left_out_of_opencc_is_text_opencc_leaves_as_it_is() -> None:
    from handlers.ads.charsets import simplified
    from rules.normalize import to_simplified

    cjk = [chr(c) for c in range(0x3400, 0xA000)] + [chr(c) for c in range(0xF900, 0xFB00)]
    for text in cjk + _texts()[:2_000]:
        assert simplified(text) == to_simplified(text), text
