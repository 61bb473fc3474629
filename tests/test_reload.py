"""Hot reload: a change that validates is swapped in; a broken one is logged and the last good serves."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from rules.config import Config
from rules.reload import ConfigHolder

GOOD = "defaults:\n  rules: 第一版\n"
GOOD2 = "defaults:\n  rules: 第二版\n"
BROKEN = "defaults:\n  keywords:\n    - {match: contians, patterns: [a], reply: x}\n"


def test_reload_swaps_a_good_config_and_keeps_the_last_good_one(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD, encoding="utf-8")
    holder = ConfigHolder(Config.from_file(path), path)
    seen: list[Config] = []
    holder.listeners.append(seen.append)
    path.write_text(BROKEN, encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        assert holder.reload() is False
    assert holder.current.model.defaults.rules == "第一版"
    assert "unknown mode 'contians'" in caplog.text and "last good config keeps serving" in caplog.text
    path.write_text(GOOD2, encoding="utf-8")
    assert holder.reload() is True
    assert holder.current.model.defaults.rules == "第二版" and seen == [holder.current]
    path.unlink()
    assert holder.reload() is False and holder.current.model.defaults.rules == "第二版"


async def test_the_watcher_picks_up_changes_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD, encoding="utf-8")
    holder = ConfigHolder(Config.from_file(path), path)
    stop = asyncio.Event()
    task = asyncio.create_task(holder.watch(stop))
    await asyncio.sleep(0.3)
    try:
        path.write_text(BROKEN, encoding="utf-8")
        await asyncio.sleep(1.0)
        assert holder.current.model.defaults.rules == "第一版"
        path.write_text(GOOD2, encoding="utf-8")
        for _ in range(100):
            if holder.current.model.defaults.rules == "第二版":
                break
            await asyncio.sleep(0.1)
        assert holder.current.model.defaults.rules == "第二版"
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
