"""End to end through the real protocol: the bot (Wechaty adapter) against the Node.js puppet-service
gateway backed by the mock puppet. Skips locally without node; under CI=true a missing node fails."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.adapters.wechaty import WechatyPlatform
from bot.app import Runtime
from bot.clock import SystemClock
from bot.events import Action
from bot.runner import serve
from rules.config import Config
from rules.reload import ConfigHolder
from tests.conftest import ROOT
from tests.gateway_harness import BOT, ROOM, ROOM2, TOKEN, Gateway, started_gateway

CONFIG = """
bot: {name: 群管机器人, id: qunbot_self, media_dir: MEDIA}
outbox: {min_interval_seconds: 0.05}
wechaty: {heartbeat_timeout_seconds: 10, reconnect_max_seconds: 1, member_name_ttl_seconds: 0}
defaults:
  rules: 友善交流，不发广告
  admins: [wxid_alice]
  operators: [wxid_carol]
  welcome:
    text: "欢迎 @{user_name} 加入{group_name}！{rules}"
    name_format: {example: 名字-城市, pattern: '[^-]+-[^-]+'}
    rename_thanks: "谢谢 @{user_name} 改好群昵称"
    batch_seconds: 2   # joins within 2 s (60 by default) share one message: the tests need not wait a minute
  keywords:
    - {name: 群规, match: question, patterns: [群规], reply: "{rules}", mention: true, cooldown_seconds: 0}
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from started_gateway(tmp_path_factory)


class LiveBot:
    """The real bot serving the gateway in this process."""

    def __init__(self, gateway: Gateway, tmp: Path, token: str = TOKEN, wechaty: str = "", config: str = CONFIG
                 ) -> None:
        text = config.replace("MEDIA", str(tmp / "media"))  # another config text: keep its bot and wechaty lines
        if wechaty:  # more wechaty settings, e.g. "roster_interval_seconds: 1"
            text = text.replace("member_name_ttl_seconds: 0}", f"member_name_ttl_seconds: 0, {wechaty}}}")
        self.config = Config.from_text(text)
        self.db = tmp / "bot.db"
        self.platform = WechatyPlatform(gateway.endpoint, token, self.config.model.wechaty, tmp / "media",
                                        SystemClock())
        self.stop = asyncio.Event()
        self.runtime: Runtime | None = None
        self.task: asyncio.Task[int] | None = None

    async def __aenter__(self) -> LiveBot:
        ready = asyncio.Event()

        def started(rt: Runtime) -> None:
            self.runtime = rt
            ready.set()

        self.task = asyncio.create_task(serve(self.platform, ConfigHolder(self.config),
                                              f"sqlite+aiosqlite:///{self.db}", SystemClock(), self.stop,
                                              started=started))
        await asyncio.wait_for(ready.wait(), 10)
        for _ in range(200):  # logged in: the login event named the bot
            if self.platform.self_id == BOT:
                break
            await asyncio.sleep(0.05)
        assert self.platform.self_id == BOT
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 15)

    def rows(self, sql: str, *params: object) -> list[tuple]:
        con = sqlite3.connect(self.db, timeout=5)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def members(self, group: str) -> dict[str, str | None]:
        """The members of `group` present in the database (not left), with their names."""
        return dict(self.rows("select user_id, display_name from members where group_id = ? and left_at is null",
                              group))

    async def wait_members(self, group: str, wanted: dict[str, str | None] | int, within: float = 10.0
                           ) -> dict[str, str | None]:
        """Poll until the members present in `group` are `wanted` (or that many)."""
        deadline = time.monotonic() + within
        while True:
            members = self.members(group)
            if members == wanted or (isinstance(wanted, int) and len(members) == wanted):
                return members
            if time.monotonic() > deadline:
                raise AssertionError(f"members of {group}: {members}, expected {wanted}")
            await asyncio.sleep(0.05)


@pytest.fixture
async def live(gateway: Gateway, tmp_path: Path) -> AsyncIterator[LiveBot]:
    await gateway.post("/reset")
    async with LiveBot(gateway, tmp_path) as bot:
        yield bot


def png_bytes(width: int = 64, height: int = 64) -> bytes:
    import struct

    raw = b"".join(b"\x00" + bytes((x * 3 + y) % 256 for x in range(width * 3)) for y in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


async def test_keyword_reply_in_the_room_with_the_mention(gateway: Gateway, live: LiveBot) -> None:
    sent_id = (await gateway.post("/say", {"from": "wxid_alice", "room": ROOM, "text": "群规"}))["id"]
    reply = await gateway.wait_sent(lambda m: m["room"] == ROOM and "友善交流" in (m["text"] or ""))
    assert reply["mentions"] == ["wxid_alice"] and reply["text"].startswith("@Alice ")
    await asyncio.sleep(0.3)
    assert live.rows(f"select type, user_id from events where id = '{sent_id}'") == [("text", "wxid_alice")]
    # the bot's own reply comes back as a message event and is ignored
    assert live.rows("select count(*) from events where user_id = 'qunbot_self'") == [(0,)]
    await gateway.post("/say", {"from": "wxid_bob", "room": ROOM, "text": "请问群规是什么？"})
    asked = await gateway.wait_sent(lambda m: m["room"] == ROOM and "友善交流" in (m["text"] or "")
                                    and m["mentions"] == ["wxid_bob"])
    assert asked["text"].startswith("@老王 ")


async def test_welcome_on_join_and_thanks_after_a_rename(gateway: Gateway, live: LiveBot) -> None:
    await gateway.post("/join", {"room": ROOM, "members": [{"id": "wxid_new", "name": "新人"}],
                                 "inviter": "wxid_alice"})
    welcome = await gateway.wait_sent(lambda m: "欢迎 @新人" in (m["text"] or ""))
    assert welcome["room"] == ROOM and welcome["mentions"] == ["wxid_new"] and "名字-城市" in welcome["text"]
    await gateway.post("/rename", {"room": ROOM, "member": "wxid_new", "alias": "新人-北京"})
    await gateway.post("/say", {"from": "wxid_new", "room": ROOM, "text": "大家好"})
    thanks = await gateway.wait_sent(lambda m: "改好群昵称" in (m["text"] or ""))
    assert thanks["text"] == "谢谢 @新人-北京 改好群昵称"
    assert live.rows("select inviter from (select json_extract(payload, '$.inviter') as inviter, type from events)"
                     " where type = 'join'") == [("wxid_alice",)]
    assert live.rows("select count(*) from events where type = 'rename' and user_id = 'wxid_new'") == [(1,)]


async def test_three_joins_within_the_window_get_one_reminder_message(gateway: Gateway, live: LiveBot) -> None:
    for n, name in enumerate(["阿强", "阿珍", "小李"]):
        await gateway.post("/join", {"room": ROOM, "members": [{"id": f"wxid_j{n}", "name": name}],
                                     "inviter": "wxid_alice"})
        await asyncio.sleep(0.2)
    message = await gateway.wait_sent(lambda m: m["room"] == ROOM and len(m["mentions"] or []) == 3)
    assert message["mentions"] == ["wxid_j0", "wxid_j1", "wxid_j2"]
    assert message["text"] == ("欢迎 @阿强 @阿珍 @小李 加入运营测试群！友善交流，不发广告\n"
                               "@阿强 @阿珍 @小李 请按「名字-城市」的格式修改群昵称，方便大家认识你～")
    await asyncio.sleep(2.5)  # a window's length more: nothing else goes to the room
    assert [m["text"] for m in await gateway.get("/sent") if m["room"] == ROOM] == [message["text"]]
    assert live.rows("select count(*) from timers") == [(0,)]
    assert live.rows("select count(*) from welcome_queue") == [(0,)]
    assert live.rows("select user_id, count from rename_reminders order by user_id") == [
        ("wxid_j0", 1), ("wxid_j1", 1), ("wxid_j2", 1)]


async def test_an_image_arrives_intact_where_handlers_can_read_it(gateway: Gateway, live: LiveBot,
                                                                  tmp_path: Path) -> None:
    data = png_bytes(200, 150) + os.urandom(30_000)  # over 20 KB: the service streams it
    source = tmp_path / "poster.png"
    source.write_bytes(data)
    message_id = (await gateway.post("/image", {"from": "wxid_bob", "room": ROOM, "path": str(source)}))["id"]
    for _ in range(100):
        rows = live.rows(f"select json_extract(payload, '$.path') from events where id = '{message_id}'")
        if rows:
            break
        await asyncio.sleep(0.05)
    [(path,)] = rows
    assert await asyncio.to_thread(Path(path).read_bytes) == data
    assert Path(path).is_relative_to(tmp_path / "media")


async def test_a_kick_removes_the_member_and_a_kick_the_bot_cannot_do_goes_to_operators(
        gateway: Gateway, live: LiveBot) -> None:
    assert live.runtime is not None
    await live.runtime.outbox.submit([
        ("k1", Action(action="kick", rule="test/kick", group=ROOM, user="wxid_dave", reason="广告")),
        ("k2", Action(action="kick", rule="test/kick", group=ROOM2, user="wxid_eve", reason="广告")),
    ])
    for _ in range(100):
        members = (await gateway.get(f"/members?room={ROOM}"))["members"]
        if "wxid_dave" not in members:
            break
        await asyncio.sleep(0.05)
    assert "wxid_dave" not in members
    assert "wxid_eve" in (await gateway.get(f"/members?room={ROOM2}"))["members"]
    note = await gateway.wait_sent(lambda m: m["to"] == "wxid_carol" and "wxid_eve" in (m["text"] or ""))
    assert "请手动将「wxid_eve」移出群" in note["text"]  # a direct kick carries no names: the ids stand in
    for _ in range(100):  # the kick comes back as a leave, removed by the bot
        rows = live.rows("select json_extract(payload, '$.removed_by') from events where type = 'leave'")
        if rows:
            break
        await asyncio.sleep(0.05)
    assert rows == [(BOT,)]


async def test_an_owner_command_works_in_a_private_chat(gateway: Gateway, live: LiveBot) -> None:
    said = (await gateway.post("/say", {"from": "wxid_bob", "room": ROOM, "text": "群规"}))["id"]
    await gateway.wait_sent(lambda m: m["room"] == ROOM and "友善交流" in (m["text"] or ""))
    await asyncio.sleep(0.2)
    await gateway.post("/say", {"from": "wxid_alice", "text": f"/why {said}"})
    answer = await gateway.wait_sent(lambda m: m["to"] == "wxid_alice" and not m["room"])
    assert f"事件 {said}" in answer["text"] and "keywords/群规" in answer["text"]


async def test_reconnect_after_the_gateway_restarts_handles_nothing_twice(gateway: Gateway, tmp_path: Path) -> None:
    await gateway.post("/reset")
    async with LiveBot(gateway, tmp_path) as bot:
        await gateway.post("/say", {"from": "wxid_alice", "room": ROOM, "text": "群规"})
        await gateway.wait_sent(lambda m: "友善交流" in (m["text"] or ""))
        connects = bot.platform.connects
        await asyncio.to_thread(gateway.restart)  # the world and the logs start afresh
        for _ in range(200):
            if bot.platform.connects > connects and bot.platform.self_id == BOT:
                break
            await asyncio.sleep(0.05)
        assert bot.platform.connects > connects
        await gateway.post("/say", {"from": "wxid_bob", "room": ROOM, "text": "群规"})
        await gateway.wait_sent(lambda m: "@老王" in (m["text"] or ""))
        connects = bot.platform.connects
        await gateway.post("/drop")  # and a dropped stream mid-conversation
        for _ in range(200):
            if bot.platform.connects > connects:
                break
            await asyncio.sleep(0.05)
        await gateway.post("/say", {"from": "wxid_carol", "room": ROOM, "text": "群规"})
        await gateway.wait_sent(lambda m: "@小红" in (m["text"] or ""), within=15)
        await asyncio.sleep(0.5)
        texts = [(e, u) for e, u in bot.rows("select type, user_id from events where type = 'text'")]
        assert sorted(texts) == [("text", "wxid_alice"), ("text", "wxid_bob"), ("text", "wxid_carol")]
        sent = [m for m in await gateway.get("/sent") if "友善交流" in (m["text"] or "")]
        assert len(sent) == 2  # bob's and carol's since the restart; nothing answered twice


def run_cli(env: dict[str, str], tmp: Path, seconds: float = 20) -> subprocess.CompletedProcess:
    (tmp / "config.yaml").write_text("bot: {database: 'sqlite+aiosqlite:///bot.db'}\n", encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "bot.cli", "run", "--adapter", "wechaty"], cwd=tmp,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=seconds)


def test_a_wrong_token_is_reported_in_one_clear_line(gateway: Gateway, tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_cli({"WECHATY_PUPPET_SERVICE_ENDPOINT": gateway.endpoint,
                      "WECHATY_PUPPET_SERVICE_TOKEN": "wrong_token"}, tmp_path)
    assert result.returncode == 1 and time.monotonic() - started < 15
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("qunbot:")]
    assert len(lines) == 1 and "refused the token" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_endpoint_is_reported_in_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_cli({"WECHATY_PUPPET_SERVICE_ENDPOINT": f"127.0.0.1:{port}",
                      "WECHATY_PUPPET_SERVICE_TOKEN": TOKEN}, tmp_path)
    assert result.returncode == 1
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("qunbot:")]
    assert len(lines) == 1 and "cannot reach the Wechaty puppet service" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_shuts_the_process_down_within_seconds(gateway: Gateway, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("bot: {database: 'sqlite+aiosqlite:///bot.db'}\n", encoding="utf-8")
    env = {**os.environ, "WECHATY_PUPPET_SERVICE_ENDPOINT": gateway.endpoint, "WECHATY_PUPPET_SERVICE_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--adapter", "wechaty"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (tmp_path / "bot.db").exists():
            time.sleep(0.1)
        time.sleep(1.0)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        assert time.monotonic() - started < 3
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


def test_the_extra_is_optional_with_a_one_line_hint(tmp_path: Path) -> None:
    code = ("import sys, builtins\n"
            "real = builtins.__import__\n"
            "def fake(name, *a, **k):\n"
            "    if name.startswith('grpclib') or name.startswith('wechaty_grpc'): raise ImportError(name=name)\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = fake\n"
            "from bot.cli import main\n"
            "sys.exit(main(['run', '--adapter', 'wechaty']))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("qunbot: the wechaty adapter needs the extra: "
                                                             "pip install 'qunbot[wechat]'")
    assert "Traceback" not in result.stderr
    _ = (hashlib, json)


async def test_a_group_invite_qr_poster_from_a_stranger_then_a_red_packet_then_removal(
        gateway: Gateway, live: LiveBot, tmp_path: Path) -> None:
    from tests.qr_images import poster

    image = poster(tmp_path / "poster.jpg", "https://weixin.qq.com/g/AnotherGroup42")  # another group's invite
    await gateway.post("/join", {"room": ROOM, "members": [{"id": "wxid_spam", "name": "推广小张"}]})
    await gateway.post("/image", {"from": "wxid_spam", "room": ROOM, "path": str(image)})
    prompt = await gateway.wait_sent(lambda m: "发广告要发红包" in (m["text"] or ""))
    assert prompt["mentions"] == ["wxid_spam"] and prompt["room"] == ROOM
    await gateway.post("/red_packet", {"from": "wxid_spam", "room": ROOM})
    await gateway.wait_sent(lambda m: "红包🧧" in (m["text"] or "") and "就算啦" in (m["text"] or ""))
    for n in range(3):
        await gateway.post("/url", {"from": "wxid_spam", "room": ROOM, "url": f"http://t.cn/ad{n}",
                                    "title": "点击领取", "description": "限时"})
        await asyncio.sleep(0.3)
    for _ in range(100):
        if "wxid_spam" not in (await gateway.get(f"/members?room={ROOM}"))["members"]:
            break
        await asyncio.sleep(0.1)
    assert "wxid_spam" not in (await gateway.get(f"/members?room={ROOM}"))["members"]
    report = await gateway.wait_sent(lambda m: m["to"] == "wxid_carol" and "【广告】" in (m["text"] or ""))
    assert "第 3 次" in report["text"]


# -- rosters: the room's member list, silent members included ----------------------------------------

ROOM1_MEMBERS = {"wxid_alice": "Alice", "wxid_bob": "老王", "wxid_carol": "小红", "wxid_dave": "Dave"}  # not the bot


async def test_after_login_every_room_s_members_are_known_and_the_rate_counts_them(gateway: Gateway,
                                                                                    live: LiveBot) -> None:
    assert await live.wait_members(ROOM, ROOM1_MEMBERS) == ROOM1_MEMBERS
    assert await live.wait_members(ROOM2, {"wxid_alice": "Alice", "wxid_eve": "广告哥"})
    assert live.rows("select count(*) from members where user_id = ?", BOT) == [(0,)]
    rosters = live.rows("select id, json_extract(payload, '$.complete') from events where type = 'roster' "
                        "and group_id = ?", ROOM)
    assert len(rosters) == 1 and rosters[0][0].startswith(f"roster:{ROOM}:") and rosters[0][1] == 1, rosters
    # 签到率 counts everyone in the room, the silent included, the bot not
    await gateway.post("/say", {"from": "wxid_dave", "room": ROOM, "text": "签到率"})
    answer = await gateway.wait_sent(lambda m: m["room"] == ROOM and "签到率" in (m["text"] or ""))
    assert answer["text"].startswith("今日签到 0/4 人，签到率 0%"), answer


async def test_members_changed_without_join_or_leave_events_are_synced_on_the_dirty_signal(
        gateway: Gateway, live: LiveBot) -> None:
    await live.wait_members(ROOM, ROOM1_MEMBERS)
    # dave is gone and 阿飞 is in, but the puppet says only that the room is dirty
    await gateway.post("/members", {"room": ROOM, "members": ["wxid_alice", "wxid_bob", "wxid_carol",
                                                               {"id": "wxid_frank", "name": "阿飞"}]})
    expected = {"wxid_alice": "Alice", "wxid_bob": "老王", "wxid_carol": "小红", "wxid_frank": "阿飞"}
    assert await live.wait_members(ROOM, expected) == expected
    assert live.rows("select left_at is not null from members where group_id = ? and user_id = 'wxid_dave'",
                     ROOM) == [(1,)]
    # no join or leave came from the platform; dave's leave, found by the roster, is recorded as such
    assert live.rows("select type, user_id, json_extract(payload, '$.via') from events "
                     "where type in ('join', 'leave')") == [("leave", "wxid_dave", "roster")]
    rosters = live.rows("select count(*) from events where type = 'roster' and group_id = ?", ROOM)[0][0]
    assert rosters == 2
    # a dirty signal that changes a name only: a rename, no roster; a join: the join, no roster
    await gateway.post("/rename", {"room": ROOM, "member": "wxid_bob", "alias": "老王-上海"})
    await gateway.post("/join", {"room": ROOM, "members": [{"id": "wxid_gina", "name": "Gina"}]})
    for _ in range(100):
        renames = live.rows("select json_extract(payload, '$.user_name') from events "
                            "where type = 'rename' and user_id = 'wxid_bob'")
        if renames and live.members(ROOM).get("wxid_gina"):
            break
        await asyncio.sleep(0.05)
    assert renames == [("老王-上海",)]
    await asyncio.sleep(1.0)  # the join's dirty signal has settled and been looked at
    assert live.rows("select count(*) from events where type = 'roster' and group_id = ?", ROOM) == [(rosters,)]
    assert live.members(ROOM) == {**expected, "wxid_bob": "老王-上海", "wxid_gina": "Gina"}


async def test_rosters_come_again_every_interval(gateway: Gateway, tmp_path: Path) -> None:
    await gateway.post("/reset")
    async with LiveBot(gateway, tmp_path, wechaty="roster_interval_seconds: 1") as bot:
        await bot.wait_members(ROOM, ROOM1_MEMBERS)
        # no event and no dirty signal at all: the next round finds it
        await gateway.post("/members", {"room": ROOM, "members": ["wxid_alice", "wxid_bob"], "dirty": False})
        await bot.wait_members(ROOM, {"wxid_alice": "Alice", "wxid_bob": "老王"}, within=5)
        assert bot.platform.rosters >= 4  # two rooms, twice or more


async def test_a_500_member_room_with_a_member_whose_name_cannot_be_fetched(gateway: Gateway,
                                                                            tmp_path: Path) -> None:
    await gateway.post("/reset")
    big = "big@chatroom"
    members = [{"id": f"wxid_m{i:03}", "name": f"成员{i:03}"} for i in range(500)]
    await gateway.post("/room", {"id": big, "topic": "五百人大群", "owner": "wxid_alice", "members": members,
                                 "unreadable": ["wxid_m007"]})
    started = time.monotonic()
    async with LiveBot(gateway, tmp_path) as bot:
        known = await bot.wait_members(big, 500, within=30)
        took = time.monotonic() - started
        assert known["wxid_m007"] is None and known["wxid_m499"] == "成员499"
        assert sum(name is None for name in known.values()) == 1
        [(complete, group_name)] = bot.rows("select json_extract(payload, '$.complete'), "
                                            "json_extract(payload, '$.group_name') from events "
                                            "where type = 'roster' and group_id = ?", big)
        assert complete == 1 and group_name == "五百人大群"
        # the stream was not held up meanwhile: the room still answers
        await gateway.post("/say", {"from": "wxid_alice", "room": ROOM, "text": "群规"})
        await gateway.wait_sent(lambda m: m["room"] == ROOM and "友善交流" in (m["text"] or ""))
    print(f"500-member roster through the gateway in {took:.2f}s (from the bot's start)")


# -- rosters without the gateway: a fake puppet service, to see concurrency and ordering --------------

class FakePuppet:
    """Just enough of the PuppetStub: an event stream fed by the test, rooms with slow member payloads."""

    def __init__(self, rooms: dict[str, list[str]]) -> None:
        from types import SimpleNamespace

        self.ns = SimpleNamespace
        self.rooms = rooms
        self.queue: asyncio.Queue = asyncio.Queue()
        self.in_flight = self.most_in_flight = 0
        self.broken = {"wxid_m007"}
        self.failing_rooms: set[str] = set()
        self.fetching = asyncio.Event()  # set once the big room's names are being fetched
        self.messages: dict[str, object] = {}

    def push(self, kind: int, **payload: object) -> None:
        self.queue.put_nowait(self.ns(type=kind, payload=json.dumps(payload)))

    async def event(self) -> AsyncIterator[object]:
        while True:
            yield await self.queue.get()

    async def start(self) -> object:
        return self.ns()

    async def room_list(self) -> object:
        return self.ns(ids=list(self.rooms))

    async def room_payload(self, id: str) -> object:
        if id in self.failing_rooms:
            raise ConnectionError("room payload unavailable")
        return self.ns(topic=f"topic of {id}", member_ids=list(self.rooms[id]), owner_id="", admin_ids=[])

    async def room_member_list(self, id: str) -> object:
        return self.ns(member_ids=[])

    async def room_member_payload(self, id: str, member_id: str) -> object:
        roster = member_id.startswith("wxid_m")  # the big room's own (not the join's, fetched by the stream)
        self.in_flight += roster
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.fetching.set()
        try:
            await asyncio.sleep(0.002)
            if member_id in self.broken:
                raise ConnectionError("no payload")
            return self.ns(room_alias="别名" if member_id == "wxid_m001" else "", name=f"name of {member_id}")
        finally:
            self.in_flight -= roster

    async def message_payload(self, id: str) -> object:
        return self.messages[id]

    async def contact_payload(self, id: str) -> object:
        return self.ns(name=id)


async def test_rosters_fetch_names_a_few_at_a_time_apply_joins_seen_meanwhile_and_never_block_the_stream(
        tmp_path: Path) -> None:
    from bot.adapters.wechaty_inbound import ROSTER_CONCURRENCY
    from bot.adapters.wechaty_wire import EVENT

    me = "wxid_me"
    big = [me, *(f"wxid_m{i:03}" for i in range(500))]
    fake = FakePuppet({"big@chatroom": big, "small@chatroom": [me, "wxid_a", "wxid_b"],
                       "partial@chatroom": ["wxid_a"], "broken@chatroom": [me, "wxid_a"]})
    fake.failing_rooms.add("broken@chatroom")
    config = Config.from_text("wechaty: {member_name_ttl_seconds: 300}")
    platform = WechatyPlatform("127.0.0.1:1", TOKEN, config.model.wechaty, tmp_path / "media", SystemClock())

    async def connect() -> None:
        platform._stub = fake  # type: ignore[assignment]

    platform._connect = connect  # type: ignore[method-assign]
    got: list = []

    async def read() -> None:
        async for event in platform.events():
            got.append(event)
            if sum(e.type == "roster" for e in got) == 3:
                platform.stop()

    reader = asyncio.create_task(read())
    fake.push(EVENT["login"], contactId=me)
    await asyncio.wait_for(fake.fetching.wait(), 5)
    # while the big room's names are fetched: a message in another room, a join and a leave in the big one
    fake.messages["msg1"] = fake.ns(from_id="wxid_a", room_id="small@chatroom", type=7, text="在吗",
                                    mention_ids=[], timestamp=0)
    fake.push(EVENT["message"], messageId="msg1")
    fake.push(EVENT["room_join"], roomId="big@chatroom", inviteeIdList=["wxid_late"], inviterId="wxid_m000",
              timestamp=1)
    fake.push(EVENT["room_leave"], roomId="big@chatroom", removeeIdList=["wxid_m010"], removerId="wxid_m010",
              timestamp=2)
    await asyncio.wait_for(reader, 10)

    kinds = [(e.type, e.group) for e in got]
    assert kinds.index(("text", "small@chatroom")) < kinds.index(("roster", "big@chatroom"))  # not held up
    assert kinds.index(("join", "big@chatroom")) < kinds.index(("roster", "big@chatroom"))
    rosters = {e.group: e for e in got if e.type == "roster"}
    assert set(rosters) == {"big@chatroom", "small@chatroom", "partial@chatroom"}  # broken: no roster, the rest go
    roster = rosters["big@chatroom"]
    names = {m.id: m.name for m in roster.members}
    assert me not in names and roster.complete and roster.group_name == "topic of big@chatroom"
    assert "wxid_late" in names and "wxid_m010" not in names and len(names) == 500  # the join and the leave seen
    assert names["wxid_m007"] is None and names["wxid_m001"] == "别名" and names["wxid_m002"] == "name of wxid_m002"
    assert 1 < fake.most_in_flight <= ROSTER_CONCURRENCY
    assert rosters["partial@chatroom"].complete is False  # the list lacks the bot itself: not the whole room
    assert roster.id.startswith("roster:big@chatroom:") and len({e.id for e in got}) == len(got)
    await platform.close()
