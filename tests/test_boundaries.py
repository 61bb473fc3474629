"""The core never imports a platform: no Wechaty/gRPC library in bot core, handlers, rules, storage,
scheduler; and importing the bot stays light (no matplotlib and friends at start-up)."""

from __future__ import annotations

import ast
import subprocess
import sys

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
