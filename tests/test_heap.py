"""bot/heap.py: with glibc's thresholds fixed, large blocks a bot frees go back to the system."""

from __future__ import annotations

import platform

import pytest

from bot.heap import give_back_large_blocks


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_freed_large_blocks_go_back_to_the_system_once_the_thresholds_are_fixed() -> None:
    assert give_back_large_blocks()
    del bytearray(1 << 20)[:]  # a freed 1 MiB block: without the fix, glibc would raise its threshold to it
    before = _rss_mb()
    blocks, pins = [], []
    for _ in range(150):  # 150 blocks of 300 KB, each followed by a small block that stays (no trim at the top)
        blocks.append(bytearray(300_000))
        pins.append(bytearray(1000))  # over 512 bytes: from malloc, not from Python's own pools
    grown = _rss_mb()
    del blocks
    after = _rss_mb()
    assert grown - before > 35, (before, grown)
    assert after - before < 10, f"{after - before:.1f} MB of 45 freed stayed with the process"
