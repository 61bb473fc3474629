"""The daily check-in end to end: a real `qunbot run --adapter wechaty` process against the Node.js
puppet-service gateway (mock puppet). Members say 签到 / 我的积分 in room1 through the gateway's
control API; the test reads what the bot sent back from the gateway's record (/sent). The rate counts
room1's whole member list (the roster sent after login: 4 members besides the bot, dave silent).
Skips locally without node; under CI=true a missing node fails."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway_harness import ROOM, Gateway, bot_process, started_gateway

# check-in and points settings are the defaults (those of the shipped config.yaml); only the pace is faster
CONFIG = """
bot: {name: 群管机器人, id: qunbot_self}
outbox: {min_interval_seconds: 0.05}
defaults: {command_cooldown_seconds: 0}  # 老王 asks 我的积分 twice within the minute on purpose
"""

MEMBERS = [("wxid_alice", "Alice"), ("wxid_bob", "老王"), ("wxid_carol", "小红")]  # as in tests/gateway's world
ROOM_SIZE = 4  # room1: alice, bob, carol and dave (who never speaks); the bot is not counted
CHECKED_IN = re.compile(r"@(?P<name>\S+) 签到成功✅ 今日第 (?P<rank>\d+) 名，连续 (?P<streak>\d+) 天，"
                        r"\+(?P<points>\d+) 分，共 (?P<balance>\d+) 分。今日签到率 (?P<rate>\d+%)")
MY_POINTS = re.compile(r"@(?P<name>\S+) 你有 (?P<balance>-?\d+) 分（今日 (?P<today>[+-]?\d+)，.*），"
                       r"群内第 (?P<place>\d+) 名，等级「(?P<level>[^」]+)」")
FIRST_CHECKIN_POINTS = 5  # checkin.base_points; no streak bonus on a first day


async def members_present(db: Path, group: str, count: int, within: float = 10.0) -> None:
    """Wait until the bot's database knows `count` members present in `group` (the roster arrived)."""
    deadline = time.monotonic() + within
    found = None
    while time.monotonic() < deadline:
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                found = con.execute("select count(*) from members where group_id = ? and left_at is null",
                                    (group,)).fetchone()[0]
            finally:
                con.close()
        except sqlite3.OperationalError:  # not created or not migrated yet
            found = None
        if found == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{group}: {found} members present, expected {count}")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from started_gateway(tmp_path_factory)


class Room:
    """What the bot said in ROOM, line by line (the outbox may merge a burst of replies into one message,
    so a reply is a line, with the mentions of the message that carried it)."""

    def __init__(self, gateway: Gateway, bot: asyncio.subprocess.Process) -> None:
        self.gateway = gateway
        self.bot = bot
        self.read = 0  # messages of /sent already returned

    async def lines(self, wanted: Callable[[str], bool], count: int, within: float = 10.0) -> list[tuple[str, list]]:
        """The next `count` lines satisfying `wanted` that the bot sent into ROOM, as (line, mentions);
        fails when other lines come or time is up. Later messages stay unread for the next call."""
        found: list[tuple[str, list]] = []
        others: list[dict[str, Any]] = []
        deadline = time.monotonic() + within
        while len(found) < count:
            if self.bot.returncode is not None:
                pytest.fail(f"the bot process ended with status {self.bot.returncode}")
            sent = await self.gateway.get("/sent")
            for message in sent[self.read:]:
                self.read += 1
                lines = (message["text"] or "").splitlines() if message["room"] == ROOM else []
                matching = [(line, message["mentions"]) for line in lines if wanted(line)]
                if len(matching) < len(lines) or not lines:
                    others.append(message)
                found += matching
                if len(found) >= count:
                    break
            if len(found) < count:
                if time.monotonic() > deadline:
                    raise AssertionError(f"expected {count} replies within {within}s, got {found}; other sends: "
                                         f"{others}")
                await asyncio.sleep(0.05)
        assert not others, f"unexpected sends: {others}"
        assert len(found) == count, found
        return found

    async def say(self, user: str, text: str) -> None:
        await self.gateway.post("/say", {"from": user, "room": ROOM, "text": text})


async def test_three_check_ins_ranked_in_order_then_points_and_a_second_check_in(gateway: Gateway,
                                                                                 tmp_path: Path) -> None:
    await gateway.post("/reset")
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    async with bot_process(gateway, tmp_path, "--config", str(tmp_path / "config.yaml"),
                           "--db", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}") as bot:
        room = Room(gateway, bot)
        await members_present(tmp_path / "bot.db", ROOM, ROOM_SIZE)
        await room.say("wxid_dave", "签到率")
        [(line, _mentions)] = await room.lines(lambda line: line.startswith("今日签到"), 1)
        assert line.startswith(f"今日签到 0/{ROOM_SIZE} 人，签到率 0%"), line

        # a morning rush: three members check in one right after the other
        for user, _name in MEMBERS:
            await room.say(user, "签到")
        replies = await room.lines(lambda line: "签到成功" in line, 3)
        for rank, ((user, name), (line, mentions)) in enumerate(zip(MEMBERS, replies, strict=True), 1):
            m = CHECKED_IN.fullmatch(line)
            assert m is not None, line
            assert (m["name"], int(m["rank"]), int(m["streak"])) == (name, rank, 1), line
            assert int(m["points"]) == int(m["balance"]) == FIRST_CHECKIN_POINTS, line
            assert m["rate"] == f"{round(100 * rank / ROOM_SIZE)}%", line  # 25%, 50%, then 3 of 4: 75%
            assert user in mentions, (line, mentions)

        # 老王 asks for his points: exactly what the check-in gave
        bob, bob_name = MEMBERS[1]
        await room.say(bob, "我的积分")
        [(line, mentions)] = await room.lines(lambda line: "你有" in line, 1)
        m = MY_POINTS.fullmatch(line)
        assert m is not None, line
        assert (m["name"], int(m["balance"]), int(m["today"])) == (bob_name, FIRST_CHECKIN_POINTS,
                                                                     FIRST_CHECKIN_POINTS), line
        assert mentions == [bob]

        # a second 签到 the same day: "already", no points, the balance stays
        await room.say(bob, "签到")
        [(line, mentions)] = await room.lines(lambda line: "签" in line, 1)
        assert line.startswith(f"@{bob_name} ") and "已经签过" in line and "第 2 名" in line, line
        assert "签到成功" not in line and mentions == [bob]
        await room.say(bob, "我的积分")
        [(line, _mentions)] = await room.lines(lambda line: "你有" in line, 1)
        m = MY_POINTS.fullmatch(line)
        assert m is not None and int(m["balance"]) == FIRST_CHECKIN_POINTS, line
