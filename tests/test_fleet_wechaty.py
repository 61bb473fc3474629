"""Two real bot processes (`qunbot run --adapter wechaty --account a|b`) on one PostgreSQL, each logged in
to its own Wechaty mock gateway whose world has the same rooms: a message both accounts receive is
answered once; the holder killed with SIGKILL, its room is taken over within the lease; restarted, it
does not take the room back while the other account serves it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway_harness import ROOM, TOKEN, Gateway, started_gateway

LEASE = 3.0
QUESTION = "请问怎么报名"
ANSWER = "私聊群主报名"


@pytest.fixture
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Gateway]]:
    first = started_gateway(tmp_path_factory)
    gw_a = next(first)
    second = started_gateway(tmp_path_factory)
    gw_b = next(second)
    try:
        yield gw_a, gw_b
    finally:
        for gen in (second, first):
            next(gen, None)


async def start_bot(config: Path, db_url: str, account: str, gateway: Gateway, workdir: Path
                    ) -> asyncio.subprocess.Process:
    env = {**os.environ, "GW_TOKEN": TOKEN, "QUNBOT_LOG": "WARNING"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--adapter", "wechaty", "--config", str(config), "--db", db_url,
        "--account", account, cwd=workdir, env=env)
    for _ in range(150):
        if (await gateway.get("/health")).get("loggedIn"):
            break
        assert proc.returncode is None, "the bot stopped"
        await asyncio.sleep(0.1)
    return proc


async def answers(gateway: Gateway) -> list[dict[str, Any]]:
    return [m for m in await gateway.get("/sent") if m["room"] == ROOM and m["text"] == ANSWER]


async def until(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_two_accounts_answer_once_and_a_killed_accounts_room_is_taken_over(
        gateways: tuple[Gateway, Gateway], pg_url: str, tmp_path: Path) -> None:
    gw_a, gw_b = gateways
    for gw in gateways:
        await gw.post("/reset")
    config = tmp_path / "config.yaml"
    config.write_text(f"""
bot: {{id: qunbot_self, media_dir: {tmp_path / 'media'}, reports_dir: {tmp_path / 'reports'}}}
outbox: {{min_interval_seconds: 0}}
fleet: {{lease_seconds: {LEASE}}}
accounts:
  - {{id: a, endpoint: "{gw_a.endpoint}", token: "${{GW_TOKEN}}"}}
  - {{id: b, endpoint: "{gw_b.endpoint}", token: "${{GW_TOKEN}}"}}
defaults:
  keywords:
    - {{name: 报名, match: contains, patterns: [怎么报名], reply: "{ANSWER}", cooldown_seconds: 0}}
""", encoding="utf-8")
    bots = {"a": await start_bot(config, pg_url, "a", gw_a, tmp_path),
            "b": await start_bot(config, pg_url, "b", gw_b, tmp_path)}
    try:
        await asyncio.sleep(1.5)  # both streams open; the rosters after the logins claimed the rooms
        for gw in gateways:  # the same message reaches both accounts (each platform has its own id for it)
            await gw.post("/say", {"from": "wxid_alice", "room": ROOM, "text": QUESTION})

        async def one_answer() -> bool:
            return len(await answers(gw_a)) + len(await answers(gw_b)) >= 1

        await until(one_answer, 10, "an answer")
        await asyncio.sleep(1.0)
        counts = {"a": len(await answers(gw_a)), "b": len(await answers(gw_b))}
        assert sorted(counts.values()) == [0, 1], counts  # answered once, by one account
        holder = "a" if counts["a"] else "b"
        heir = "b" if holder == "a" else "a"
        heir_gw = gw_b if heir == "b" else gw_a

        bots[holder].send_signal(signal.SIGKILL)  # no clean stop: its lease must run out
        await bots[holder].wait()
        killed = time.monotonic()
        said = 0
        while not await answers(heir_gw):
            assert time.monotonic() - killed < LEASE * 4 / 3 + 5, "the room was not taken over"
            await heir_gw.post("/say", {"from": "wxid_bob", "room": ROOM, "text": QUESTION})
            said += 1
            await asyncio.sleep(0.25)
        takeover = time.monotonic() - killed
        print(f"\ntakeover after SIGKILL: {takeover:.2f}s (lease {LEASE}s, {said} message(s) said meanwhile)")
        assert LEASE / 3 <= takeover <= LEASE * 4 / 3 + 1.5
        await asyncio.sleep(1.0)
        assert len(await answers(heir_gw)) <= 2  # the messages of the gap went unanswered, none twice

        # the killed account comes back: the room stays with the heir, and is answered once
        bots[holder] = await start_bot(config, pg_url, holder, gw_a if holder == "a" else gw_b, tmp_path)
        await asyncio.sleep(1.5)
        before = {k: len(await answers(g)) for k, g in (("a", gw_a), ("b", gw_b))}
        for gw in gateways:
            await gw.post("/say", {"from": "wxid_carol", "room": ROOM, "text": QUESTION})

        async def one_more() -> bool:
            return len(await answers(heir_gw)) > before[heir]

        await until(one_more, 10, "the heir's answer")
        await asyncio.sleep(1.0)
        after = {k: len(await answers(g)) for k, g in (("a", gw_a), ("b", gw_b))}
        assert after[heir] == before[heir] + 1 and after[holder] == before[holder]
    finally:
        for proc in bots.values():
            if proc.returncode is None:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 15)
    assert all(p.returncode in (0, -signal.SIGKILL) for p in bots.values())
