"""The core never imports a platform: no Wechaty/gRPC library in bot core, handlers, rules, storage,
scheduler; and importing the bot stays light (no matplotlib and friends at start-up)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PLATFORM_LIBS = {"wechaty", "wechaty_grpc", "wechaty_puppet", "grpclib", "betterproto", "grpc"}
HEAVY_LIBS = {"matplotlib", "numpy", "PIL", "zxingcpp"}  # opencc is light and read on every message
CORE_DIRS = ["bot", "handlers", "rules", "storage", "scheduler"]


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_core_module_imports_a_platform_library() -> None:
    offenders = []
    for folder in CORE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "adapters" in path.parts and path.name.startswith("wechaty"):
                continue  # the Wechaty adapter itself is the one place allowed to
            bad = imported_modules(path) & PLATFORM_LIBS
            if bad:
                offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert offenders == []


def test_importing_and_building_the_bot_loads_no_platform_or_heavy_library() -> None:
    code = (
        "import sys, bot.cli, bot.core, bot.runner, bot.adapters.replay, bot.adapters.console\n"
        "import handlers, scheduler.live\n"
        "from handlers import FEATURES; FEATURES\n"
        "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    loaded = set(out.split())
    assert not loaded & PLATFORM_LIBS
    assert not loaded & HEAVY_LIBS


def test_caches_keyed_by_member_text_hold_short_texts_only() -> None:
    from handlers.ads.folds import _normalized_cached, normalize_for_ads
    from rules.normalize import _command_form_cached, command_form

    long_text = "签到" * 5_000
    before = (_command_form_cached.cache_info().currsize, _normalized_cached.cache_info().currsize)
    assert command_form(long_text) == "签到" * 5_000
    assert normalize_for_ads(long_text + "x")
    assert (_command_form_cached.cache_info().currsize, _normalized_cached.cache_info().currsize) == before
    hits = _command_form_cached.cache_info().hits
    command_form("签到 ✅ 缓存测试")
    command_form("签到 ✅ 缓存测试")
    assert _command_form_cached.cache_info().hits == hits + 1  # a short text is cached


def test_of_long_texts_only_the_last_is_remembered_and_only_for_that_very_text() -> None:
    from rules import normalize

    first, second = "簽到！" * 40, "打卡" * 40
    assert normalize.command_form(first) == "签到" * 40
    assert normalize.command_form(first) == "签到" * 40  # the handlers of one message ask in turn
    assert normalize._last_long[0] is first
    assert normalize.command_form(second) == "打卡" * 40
    assert normalize._last_long[0] is second  # one entry: the first text is let go
    same_text_other_object = "".join(["簽到！"] * 40)
    assert normalize.command_form(same_text_other_object) == "签到" * 40


def test_has_meaningful_agrees_with_meaningful_length() -> None:
    import random

    from rules.normalize import has_meaningful, meaningful_length

    chars = ["a", "1", "中", "😀", " ", "\u200b", "\u3164", "!", "\x00", "Ａ", "٣", "\ufe0f"]
    rng = random.Random(3)
    for _ in range(5_000):
        text = "".join(rng.choice(chars) for _ in range(rng.randrange(14)))
        for count in range(-1, 9):
            assert has_meaningful(text, count) == (meaningful_length(text) >= count), (text, count)


def test_a_command_after_emoji_a_hangul_filler_or_a_word_with_a_symbol_passes_the_first_character_filter() -> None:
    from rules.normalize import command_form, command_heads, head

    cases = [(("签到",), "👍🏻" * 6 + "签到"), (("签到",), "👨‍👩‍👧‍👦" * 2 + "签到"), (("签到",), "\u3164签到"),
             (("签到",), "簽到！"), (("+1",), "+1"), (("#points",), "#POINTS"), (("我的积分",), "\u2005我的積分")]
    for words, text in cases:
        assert command_form(text) in {command_form(w) for w in words}, text
        assert head(text) in command_heads(words), text
    assert head("今天天气不错") not in command_heads(("签到", "打卡"))


def test_sqlite_times_of_the_hour_repeated_in_autumn_stay_an_hour_apart() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from storage.dialect import _sqlite_datetime

    first = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York"))  # EDT
    assert _sqlite_datetime(first) == "2026-11-01 05:30:00.000000"
    assert _sqlite_datetime(first.replace(fold=1)) == "2026-11-01 06:30:00.000000"  # EST, equal to `first` in Python


def test_fold_drops_by_category_and_remembers_a_bounded_number_of_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    import unicodedata

    from rules import normalize

    def by_hand(text: str) -> str:  # the definition: NFKC, case folded, invisible and spacing/punctuation gone
        text = unicodedata.normalize("NFKC", text.translate(normalize.INVISIBLE).replace("\x00", "")).casefold()
        if text.isascii():
            return "".join(ch for ch in text if ch.isalnum() or ch in "@#$%&*+=<>|~^`")
        return "".join(ch for ch in text if unicodedata.category(ch) not in normalize._DROP_CATEGORIES)

    texts = ["群 规！", "Ａｂｃ！？\u3000ｘ", "a_b-c (d) [e] @me", "\u200b签\u00ad到\x00", "😀 «好» — ok…",
             "ﬁ ß İ e\u0301"]
    for text in texts:
        assert normalize.fold(text) == by_hand(text), text
        assert normalize.fold_cleaned(normalize.clean(text)) == normalize.fold(text), text
    assert normalize.fold("群 规！") == "群规"
    monkeypatch.setattr(normalize, "MAX_KNOWN_CHARS", 8)
    rare = "".join(chr(cp) for cp in range(0x4E00, 0x4E40)) + "。，"
    assert normalize.fold(rare) == by_hand(rare) == rare[:-2]
    assert len(normalize._KEPT) <= 8  # characters are what members choose: the table stays bounded
